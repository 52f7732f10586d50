# WebSocket: ws_echo and ws_client against Python's websockets library (Debian:
# python3-websockets). The interpreter used is the first that can import it: CMake's Python, else
# the system's /usr/bin/python3 (where the Debian package installs it).
add_dependencies(sockframe_peer_programs sockframe_example_ws_echo sockframe_example_ws_client)
set(_sockframe_ws_python "")
foreach(_candidate IN ITEMS "${Python3_EXECUTABLE}" /usr/bin/python3)
  if(NOT _sockframe_ws_python AND EXISTS "${_candidate}")
    execute_process(COMMAND "${_candidate}" -c "import websockets" RESULT_VARIABLE _rc OUTPUT_QUIET ERROR_QUIET)
    if(_rc EQUAL 0)
      set(_sockframe_ws_python "${_candidate}")
    endif()
  endif()
endforeach()
if(NOT _sockframe_ws_python)
  message(WARNING "no Python with the websockets module (Debian: python3-websockets): the WebSocket peer tests will fail")
  set(_sockframe_ws_python "${Python3_EXECUTABLE}")
endif()
foreach(_case echo client)
  add_test(NAME peer_websocket_${_case}
           COMMAND "${_sockframe_ws_python}" "${SOCKFRAME_PEERS_DIR}/websocket_peer.py"
                   --examples "$<TARGET_FILE_DIR:sockframe_example_ws_echo>" --case ${_case})
  set_tests_properties(peer_websocket_${_case} PROPERTIES LABELS peers TIMEOUT 180)
endforeach()
