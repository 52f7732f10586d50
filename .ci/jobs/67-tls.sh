# TLS (include/sockframe/tls.hpp, tls/): tls_stream over both backends (OpenSSL 3 and Mbed TLS),
# tests against openssl s_server / s_client and Python's ssl, framed_echo over TLS, and the TLS
# headers under strict warnings, coroutines over TLS (test_tls_coro, always C++20), PROXY + TLS behind
# haproxy, and sfcat --tls (tests/sfcat/run_sfcat_tls.py). Only the TLS targets are built, once:
# g++, C++17 (test_tls_coro as C++20), Release; clang++ compiles the TLS headers under the strict
# warnings above.
need_base
need clang libssl-dev libmbedtls-dev openssl python3 haproxy
self_contained sockframe/tls.hpp $(cd include && find sockframe/tls -name '*.hpp' | sort)
for cxx in g++ clang++; do
    for std in 17 20; do
        echo "strict: $cxx -std=c++$std"
        "$cxx" -std=c++$std -c -o /dev/null -Iinclude "${strict_warnings[@]}" $(strict_extra "$cxx") tests/tls/strict_tls.cpp
    done
done
build=build/tls-g++-cxx17
cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=g++ -DCMAKE_CXX_STANDARD=17 -DCMAKE_BUILD_TYPE=Release \
      -DSOCKFRAME_BUILD_PEER_TESTS=ON -DSOCKFRAME_BUILD_CONSUMER_TESTS=OFF -DSOCKFRAME_INSTALL=OFF \
      -DSOCKFRAME_BUILD_BENCHMARKS=OFF
cmake --build "$build" --target sockframe_test_tls sockframe_test_tls_coro sockframe_example_framed_echo sfcat
ctest --test-dir "$build" -L tls --output-on-failure -j2
# sfcat built without TLS (as where OpenSSL is absent): --tls is exit status 1, "built without TLS"
g++ -std=c++17 -O0 -Wall -Wextra -Wpedantic -Werror -Iinclude -pthread -o build/sfcat-no-tls tools/sfcat.cpp
set +e
message=$(build/sfcat-no-tls --tls --codec line 127.0.0.1 9 2>&1 </dev/null)
status=$?
set -e
[ "$status" = 1 ] && [[ "$message" == *"built without TLS"* ]] ||
    { echo "sfcat without TLS: --tls gave status $status: $message"; exit 1; }
echo "sfcat without TLS: --tls says so (status 1)"
