# MQTT: mqtt_pub and mqtt_sub against mosquitto, mosquitto_pub and mosquitto_sub (Debian:
# mosquitto, mosquitto-clients), both directions at QoS 0 and 1.
add_dependencies(sockframe_peer_programs sockframe_example_mqtt_pub sockframe_example_mqtt_sub)
foreach(_direction to-sub from-pub)
  foreach(_qos 0 1)
    add_test(NAME peer_mqtt_${_direction}_qos${_qos}
             COMMAND ${Python3_EXECUTABLE} "${SOCKFRAME_PEERS_DIR}/mqtt_peer.py"
                     --examples "$<TARGET_FILE_DIR:sockframe_example_mqtt_pub>"
                     --direction ${_direction} --qos ${_qos})
    set_tests_properties(peer_mqtt_${_direction}_qos${_qos} PROPERTIES LABELS peers TIMEOUT 120)
  endforeach()
endforeach()
