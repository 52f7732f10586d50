# framed_echo over TLS (serve --tls-cert/--tls-key, send --tls [--ca] [--sni] [--insecure]) against
# itself and Python's ssl module, with certificates made by the openssl command at run time.
# Only when framed_echo was built with TLS (OpenSSL found).
if(TARGET sockframe::tls AND TARGET sockframe_example_framed_echo)
  add_test(NAME peers_tls_framed_echo
           COMMAND "${Python3_EXECUTABLE}" "${SOCKFRAME_PEERS_DIR}/tls_framed_echo.py"
                   $<TARGET_FILE:sockframe_example_framed_echo>)
  set_tests_properties(peers_tls_framed_echo PROPERTIES TIMEOUT 300 LABELS "peers;tls")
  add_dependencies(sockframe_peer_programs sockframe_example_framed_echo)
endif()
