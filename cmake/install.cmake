# Install rules, included by CMakeLists.txt when SOCKFRAME_INSTALL is ON (the default only when
# sockframe is the top-level project). Installs the headers, the exported target
# sockframe::sockframe with its config and version files, and sockframe.pc. Never tests, examples
# or benchmarks; sfcat (tools/) installs itself into bin/ when SOCKFRAME_BUILD_TOOLS is ON. With the
# tools off, the install tree is include/ and share/ only (architecture independent) -- except on
# Windows, where sockframe.pc names ws2_32 in its Libs line and so goes to lib/pkgconfig (vcpkg's
# post-build checks reject a .pc with a Libs line in share/pkgconfig).
#
#   <prefix>/include/sockframe/...
#   <prefix>/share/cmake/sockframe/sockframe{Config,ConfigVersion,Targets}.cmake
#   <prefix>/share/pkgconfig/sockframe.pc        (Windows: <prefix>/lib/pkgconfig/sockframe.pc)

include(CMakePackageConfigHelpers)

set(SOCKFRAME_INSTALL_CMAKEDIR "${CMAKE_INSTALL_DATADIR}/cmake/sockframe"
    CACHE STRING "Where sockframe's CMake package files are installed (relative to the prefix)")
if(WIN32)
  set(_sockframe_pkgconfigdir "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
else()
  set(_sockframe_pkgconfigdir "${CMAKE_INSTALL_DATADIR}/pkgconfig")
endif()
set(SOCKFRAME_INSTALL_PKGCONFIGDIR "${_sockframe_pkgconfigdir}"
    CACHE STRING "Where sockframe.pc is installed (relative to the prefix)")
mark_as_advanced(SOCKFRAME_INSTALL_CMAKEDIR SOCKFRAME_INSTALL_PKGCONFIGDIR)

install(TARGETS sockframe EXPORT sockframeTargets)
# The static library of separate compilation, when asked for (SOCKFRAME_SEPARATE_COMPILATION=ON).
if(SOCKFRAME_SEPARATE_COMPILATION AND TARGET sockframe_compiled)
  install(TARGETS sockframe_compiled EXPORT sockframeTargets)
endif()
# Always the headers of include/ (the single header is for copying, not for installing).
install(DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}/include/"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
        FILES_MATCHING PATTERN "*.hpp")
install(EXPORT sockframeTargets
        NAMESPACE sockframe::
        FILE sockframeTargets.cmake
        DESTINATION "${SOCKFRAME_INSTALL_CMAKEDIR}")

# The TLS target (sockframe::tls, links OpenSSL::SSL) in its own export set: the package config
# loads it only when OpenSSL is found, so that OpenSSL never becomes a requirement of the core.
if(TARGET sockframe_tls)
  install(TARGETS sockframe_tls EXPORT sockframeTlsTargets)
  install(EXPORT sockframeTlsTargets
          NAMESPACE sockframe::
          FILE sockframeTlsTargets.cmake
          DESTINATION "${SOCKFRAME_INSTALL_CMAKEDIR}")
endif()

# find_dependency for whatever the target links that is itself a CMake package. Today that is
# nothing: the only link is ws2_32 on Windows, a system library.
get_target_property(_sockframe_links sockframe INTERFACE_LINK_LIBRARIES)
set(SOCKFRAME_CONFIG_DEPENDENCIES "")
if(_sockframe_links AND "Threads::Threads" IN_LIST _sockframe_links)
  string(APPEND SOCKFRAME_CONFIG_DEPENDENCIES "find_dependency(Threads)\n")
endif()

configure_package_config_file(
  "${CMAKE_CURRENT_LIST_DIR}/sockframeConfig.cmake.in"
  "${CMAKE_CURRENT_BINARY_DIR}/sockframeConfig.cmake"
  INSTALL_DESTINATION "${SOCKFRAME_INSTALL_CMAKEDIR}")
write_basic_package_version_file(
  "${CMAKE_CURRENT_BINARY_DIR}/sockframeConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}"
  COMPATIBILITY SameMajorVersion
  ARCH_INDEPENDENT)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/sockframeConfig.cmake"
              "${CMAKE_CURRENT_BINARY_DIR}/sockframeConfigVersion.cmake"
        DESTINATION "${SOCKFRAME_INSTALL_CMAKEDIR}")

# pkg-config: relocatable (paths relative to the .pc file), so `cmake --install --prefix` works.
if(IS_ABSOLUTE "${SOCKFRAME_INSTALL_PKGCONFIGDIR}")
  set(SOCKFRAME_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH _sockframe_up "/root/${SOCKFRAME_INSTALL_PKGCONFIGDIR}" "/root")
  string(REGEX REPLACE "/$" "" _sockframe_up "${_sockframe_up}")
  set(SOCKFRAME_PC_PREFIX "\${pcfiledir}/${_sockframe_up}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(SOCKFRAME_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(SOCKFRAME_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
# Header-only: the consumer's own objects call Winsock, so ws2_32 belongs in Libs (not only
# Libs.private, which pkg-config reports for --static alone).
# Without a library to link there is no Libs line at all (the file is then architecture independent).
set(SOCKFRAME_PC_LIBS_LINE "")
if(WIN32)
  set(SOCKFRAME_PC_LIBS_LINE "Libs: -lws2_32")
endif()
configure_file("${CMAKE_CURRENT_LIST_DIR}/sockframe.pc.in" "${CMAKE_CURRENT_BINARY_DIR}/sockframe.pc" @ONLY)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/sockframe.pc" DESTINATION "${SOCKFRAME_INSTALL_PKGCONFIGDIR}")
