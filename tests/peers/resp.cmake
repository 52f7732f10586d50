# RESP against redis-server, redis-cli and redis-benchmark (Debian: redis-server redis-tools).
find_package(Threads REQUIRED)
add_executable(sockframe_resp_peer_check "${SOCKFRAME_PEERS_DIR}/resp_peer_check.cpp")
target_link_libraries(sockframe_resp_peer_check PRIVATE sockframe::sockframe sockframe_warnings Threads::Threads)
add_dependencies(sockframe_peer_programs sockframe_resp_peer_check sockframe_example_resp_client
                 sockframe_example_resp_server)
set(_resp_peers "${SOCKFRAME_PEERS_DIR}/resp_peers.py")
# resp_client's output byte for byte against redis-cli --no-raw and redis-cli -3 --no-raw
add_test(NAME peers_resp_redis_cli
         COMMAND "${Python3_EXECUTABLE}" "${_resp_peers}" cli --client $<TARGET_FILE:sockframe_example_resp_client>)
# 100,000 pipelined INCRs and a 16 MiB value through resp_codec against redis-server
add_test(NAME peers_resp_redis_server
         COMMAND "${Python3_EXECUTABLE}" "${_resp_peers}" check --checker $<TARGET_FILE:sockframe_resp_peer_check>)
# redis-benchmark against resp_server, every test it must run
add_test(NAME peers_resp_server_benchmark
         COMMAND "${Python3_EXECUTABLE}" "${_resp_peers}" benchmark --server $<TARGET_FILE:sockframe_example_resp_server>)
# resp_server's replies against redis-server's for the same commands
add_test(NAME peers_resp_server_replies
         COMMAND "${Python3_EXECUTABLE}" "${_resp_peers}" server --server $<TARGET_FILE:sockframe_example_resp_server>)
set_tests_properties(peers_resp_redis_cli peers_resp_redis_server peers_resp_server_benchmark
                     peers_resp_server_replies PROPERTIES LABELS peers TIMEOUT 600)
