# PROXY protocol: haproxy (send-proxy, send-proxy-v2) in front of `framed_echo serve
# --proxy-protocol` (also with TLS behind the header: `send-proxy ssl`); a direct connection without
# a header must be refused.
find_program(SOCKFRAME_HAPROXY haproxy PATHS /usr/sbin /usr/local/sbin)
if(SOCKFRAME_HAPROXY)
  add_dependencies(sockframe_peer_programs sockframe_example_framed_echo)
  foreach(_version 1 2)
    add_test(NAME peers_proxy_haproxy_v${_version}
             COMMAND ${Python3_EXECUTABLE} ${SOCKFRAME_PEERS_DIR}/proxy.py
                     --framed-echo $<TARGET_FILE:sockframe_example_framed_echo>
                     --haproxy ${SOCKFRAME_HAPROXY} --version ${_version})
    set_tests_properties(peers_proxy_haproxy_v${_version} PROPERTIES LABELS peers TIMEOUT 60)
    # the same with TLS behind the header (haproxy's `send-proxy ssl`), when framed_echo has TLS
    if(TARGET sockframe::tls)
      add_test(NAME peers_proxy_haproxy_v${_version}_tls
               COMMAND ${Python3_EXECUTABLE} ${SOCKFRAME_PEERS_DIR}/proxy.py
                       --framed-echo $<TARGET_FILE:sockframe_example_framed_echo>
                       --haproxy ${SOCKFRAME_HAPROXY} --version ${_version} --tls)
      set_tests_properties(peers_proxy_haproxy_v${_version}_tls PROPERTIES LABELS "peers;tls" TIMEOUT 60)
    endif()
  endforeach()
else()
  message(STATUS "sockframe: haproxy not found, the PROXY protocol peer tests are skipped")
endif()
