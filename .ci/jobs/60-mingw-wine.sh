# Windows: cross-compile the suite and the examples with mingw-w64 (-O0, no -g: debug information
# makes the statically linked .exe files large and slow to link), run the tests under wine.
# Every test a Windows system cannot run says "skipped: <what>, because <why>"; they are listed
# at the end of the job.
need_base
need g++-mingw-w64-x86-64-posix wine64 cmake ninja-build doctest-dev
build=build/mingw-wine
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-O0 \
      -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/mingw-w64-x86_64.cmake
cmake --build "$build"
# A private wine prefix, no display, no Mono/Gecko installers, no wine diagnostics.
export WINEPREFIX="$PWD/$build/wineprefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" WINEARCH=win64
unset DISPLAY WAYLAND_DISPLAY
wine_bin=$(command -v wine64 || echo /usr/lib/wine/wine64)
[ -x "$wine_bin" ] || wine_bin=$(command -v wine)
timeout 300 "$wine_bin" wineboot --init >/dev/null 2>&1 || echo "wineboot --init exited with $? (the tests show whether wine works)"
# One wineserver for the whole run (-p: it stays up between programs). Otherwise it exits when the
# last wine process ends, and a test started while it shuts down fails to start ("wine client
# error: recvmsg: Connection reset by peer").
wineserver_bin=$(command -v wineserver || echo /usr/lib/wine/wineserver64)
if [ -x "$wineserver_bin" ]; then
    "$wineserver_bin" -p || echo "wineserver -p exited with $?"
    trap '"$wineserver_bin" -k 2>/dev/null || true' EXIT  # stopped however the job ends
fi
ctest --test-dir "$build" --output-on-failure -j2 --timeout 300
section "skipped on Windows"
grep -h "MESSAGE: skipped:" "$build/Testing/Temporary/LastTest.log" | sed 's/^.*tests\///' | sort -u || true
