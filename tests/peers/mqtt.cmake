# MQTT: mqtt_pub and mqtt_sub against mosquitto, mosquitto_pub and mosquitto_sub (Debian:
# mosquitto, mosquitto-clients), both directions at QoS 0, 1 and 2; a Will delivered when the
# client drops; mqtt_peer_check's UNSUBSCRIBE stopping delivery, and its MQTT 5 clients exchanging
# properties through the broker.
add_executable(sockframe_mqtt_peer_check "${SOCKFRAME_PEERS_DIR}/mqtt_peer_check.cpp")
target_link_libraries(sockframe_mqtt_peer_check PRIVATE sockframe::sockframe sockframe_warnings)
add_dependencies(sockframe_peer_programs sockframe_example_mqtt_pub sockframe_example_mqtt_sub sockframe_mqtt_peer_check)
add_test(NAME peer_mqtt_will
         COMMAND ${Python3_EXECUTABLE} "${SOCKFRAME_PEERS_DIR}/mqtt_peer.py"
                 --examples "$<TARGET_FILE_DIR:sockframe_example_mqtt_pub>" --direction will)
foreach(_check unsubscribe v5)
  add_test(NAME peer_mqtt_${_check}
           COMMAND ${Python3_EXECUTABLE} "${SOCKFRAME_PEERS_DIR}/mqtt_peer.py"
                   --checker $<TARGET_FILE:sockframe_mqtt_peer_check> --direction ${_check})
  set_tests_properties(peer_mqtt_${_check} PROPERTIES LABELS peers TIMEOUT 120)
endforeach()
set_tests_properties(peer_mqtt_will PROPERTIES LABELS peers TIMEOUT 120)
foreach(_direction to-sub from-pub)
  foreach(_qos 0 1 2)
    add_test(NAME peer_mqtt_${_direction}_qos${_qos}
             COMMAND ${Python3_EXECUTABLE} "${SOCKFRAME_PEERS_DIR}/mqtt_peer.py"
                     --examples "$<TARGET_FILE_DIR:sockframe_example_mqtt_pub>"
                     --direction ${_direction} --qos ${_qos})
    set_tests_properties(peer_mqtt_${_direction}_qos${_qos} PROPERTIES LABELS peers TIMEOUT 120)
  endforeach()
endforeach()
