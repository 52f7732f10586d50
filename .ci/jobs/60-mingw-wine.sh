# Windows: cross-compile the suite and the examples with mingw-w64 (-O0, no -g: debug information
# makes the statically linked .exe files large and slow to link), run the tests under wine.
# Every test a Windows system cannot run says "skipped: <what>, because <why>"; they are listed
# at the end of the job.
need_base
need g++-mingw-w64-x86-64-posix wine64 cmake ninja-build doctest-dev procps  # procps: pgrep
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
# One wineserver for the whole run. Wine starts its own as Debian's `wineserver -p0`, which exits as
# soon as its last program ends; a test started while it shuts down fails to start ("wine client
# error: recvmsg: Connection reset by peer", or an exit status with nothing printed). So: wait for
# wineboot's server to end (a persistent one cannot start while it runs: `wineserver -p` exits 2),
# then start the persistent one (-p), and check that it is the one running.
wineserver_bin=$(command -v wineserver || echo /usr/lib/wine/wineserver64)
timeout 120 "$wineserver_bin" -w || echo "wineserver -w exited with $?"
"$wineserver_bin" -p || { echo "could not start a persistent wineserver (wineserver -p exited with $?)"; exit 1; }
trap '"$wineserver_bin" -k 2>/dev/null || true' EXIT  # stopped however the job ends
# Wine's services (services.exe, winedevice.exe...) start with the server's first program and
# inherit its output. Started here with none, they cannot hold a test's output pipe open.
timeout 300 "$wine_bin" wineboot >/dev/null 2>&1 || echo "wineboot exited with $?"
# servers: the wineservers of this prefix, "PID ARGS" each
servers() {
    local pid
    for pid in $(pgrep wineserver); do
        tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qxF "WINEPREFIX=$WINEPREFIX" &&
            echo "$pid $(tr '\0' ' ' <"/proc/$pid/cmdline")"
    done
    return 0
}
server=$(servers)
echo "wineserver: $server"
if [ "$(printf '%s\n' "$server" | grep -c ' -p $')" != 1 ] || [ "$(printf '%s\n' "$server" | wc -l)" != 1 ]; then
    echo "expected one persistent wineserver for $WINEPREFIX, found: ${server:-none}"
    exit 1
fi
ctest --test-dir "$build" --output-on-failure -j2 --timeout 300
after=$(servers)
[ "$after" = "$server" ] || echo "note: the wineserver changed during the run; now: ${after:-none}"
section "skipped on Windows"
grep -h "MESSAGE: skipped:" "$build/Testing/Temporary/LastTest.log" | sed 's/^.*tests\///' | sort -u || true
