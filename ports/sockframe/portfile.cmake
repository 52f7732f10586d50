# vcpkg port of sockframe (header-only). The install tree it relies on is tested by
# `tests/consumers/run.sh vcpkg`, which repeats these steps without vcpkg.
set(VCPKG_BUILD_TYPE release) # header-only: one configuration

# Filled in at release (docs/releasing.md): REPO (owner/name on GitHub) and the SHA512 of the
# v${VERSION} tag's tarball (`vcpkg install sockframe` prints the expected one when this is wrong).
# Nothing but the headers is built: tests, examples, tools and benchmarks are off, so no compiler
# warning and no optional dependency (Asio) can break or slow an install.
vcpkg_from_github(
    OUT_SOURCE_PATH SOURCE_PATH
    REPO OWNER/sockframe
    REF "v${VERSION}"
    SHA512 0
    HEAD_REF main
)

# Feature tls: the sockframe::tls target (OpenSSL). Without it the TLS headers are installed but
# no target links OpenSSL.
vcpkg_check_features(OUT_FEATURE_OPTIONS FEATURE_OPTIONS FEATURES tls SOCKFRAME_TLS)

vcpkg_cmake_configure(
    SOURCE_PATH "${SOURCE_PATH}"
    OPTIONS
        ${FEATURE_OPTIONS}
        -DSOCKFRAME_BUILD_TESTS=OFF
        -DSOCKFRAME_BUILD_EXAMPLES=OFF
        -DSOCKFRAME_BUILD_BENCHMARKS=OFF
        -DSOCKFRAME_BUILD_TOOLS=OFF
        -DSOCKFRAME_BUILD_CONSUMER_TESTS=OFF
        -DSOCKFRAME_BUILD_FUZZERS=OFF
        -DSOCKFRAME_WERROR=OFF
        -DSOCKFRAME_INSTALL=ON
)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup(CONFIG_PATH share/cmake/sockframe)
vcpkg_fixup_pkgconfig()

file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/debug")

file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
