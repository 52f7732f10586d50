# Included by CMakeLists.txt when SOCKFRAME_USE_SINGLE_HEADER is ON.
#
# The tests include the header under test first (<sockframe/socket.hpp>, ...). So that they compile
# against single_include/ alone, with include/ nowhere on the include path, every header but the
# umbrella gets a one-line forwarding header in the build tree that includes the single header.
# The forwarding headers are build-tree only: nothing here is installed.

set(_sockframe_shim_dir "${CMAKE_CURRENT_BINARY_DIR}/sockframe_single_header_shims")
file(GLOB_RECURSE _sockframe_headers CONFIGURE_DEPENDS RELATIVE "${CMAKE_CURRENT_SOURCE_DIR}/include"
     "${CMAKE_CURRENT_SOURCE_DIR}/include/sockframe/*.hpp")
foreach(_header IN LISTS _sockframe_headers)
  if(_header STREQUAL "sockframe/iostream.hpp")
    # Not in the single header (it brings <istream>/<ostream>): the header itself, whose sockframe
    # includes then resolve to the shims.
    configure_file("${CMAKE_CURRENT_SOURCE_DIR}/include/${_header}" "${_sockframe_shim_dir}/${_header}" COPYONLY)
  elseif(NOT _header STREQUAL "sockframe/sockframe.hpp")
    configure_file("${CMAKE_CURRENT_LIST_DIR}/single_header_shim.hpp.in" "${_sockframe_shim_dir}/${_header}" COPYONLY)
  endif()
endforeach()
if(NOT EXISTS "${CMAKE_CURRENT_SOURCE_DIR}/single_include/sockframe/sockframe.hpp")
  message(FATAL_ERROR "SOCKFRAME_USE_SINGLE_HEADER=ON but single_include/sockframe/sockframe.hpp is missing: "
                      "run `python3 tools/amalgamate.py`")
endif()
target_include_directories(sockframe INTERFACE $<BUILD_INTERFACE:${_sockframe_shim_dir}>)
