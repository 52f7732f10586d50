# HTTP/1.1 chunked transfer coding: curl sends chunked bodies to chunked_echo_http (decoded by the
# chunked codec) and receives its chunked replies.
find_program(SOCKFRAME_CURL curl)
if(SOCKFRAME_CURL)
  add_dependencies(sockframe_peer_programs sockframe_example_chunked_echo_http)
  add_test(NAME peers_chunked_curl
           COMMAND ${Python3_EXECUTABLE} ${SOCKFRAME_PEERS_DIR}/chunked.py
                   --server $<TARGET_FILE:sockframe_example_chunked_echo_http> --curl ${SOCKFRAME_CURL})
  set_tests_properties(peers_chunked_curl PROPERTIES LABELS peers TIMEOUT 90)
else()
  message(STATUS "sockframe: curl not found, the chunked peer test is skipped")
endif()
