#!/usr/bin/env bash
# sockframe's demo: a framed echo over loopback. Builds examples/framed_echo, starts its server,
# pipelines length-prefixed frames through it with the client (which checks every echo), then
# does the same with the line codec, uppercased, and ends with a table: frames/s and MB/s of the
# framed echo at 64 B and 4 KiB beside the same echo written with recv/send, measured in the same
# run (benchmarks/echo_bench.cpp). Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")"
. .ci/lib.sh
need cmake ninja-build g++

cmake -S . -B build/demo -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DSOCKFRAME_BUILD_TESTS=OFF -DSOCKFRAME_BUILD_EXAMPLES=ON -DSOCKFRAME_INSTALL=OFF \
      -DSOCKFRAME_BUILD_BENCHMARKS=ON >/dev/null
cmake --build build/demo --target framed_echo sockframe_echo_bench
echo_bin=build/demo/examples/framed_echo

server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; true' EXIT

run_pair() {  # run_pair "serve options" "send options"
    exec 3< <(exec "$echo_bin" serve $1)
    server=$!
    read -r -t 30 ready port <&3 || { echo "the server did not start" >&2; exit 1; }
    [ "$ready" = READY ] || { echo "unexpected server output: $ready $port" >&2; exit 1; }
    echo "\$ framed_echo serve $1            # READY $port"
    echo "\$ framed_echo send $2 --host 127.0.0.1 --port $port"
    "$echo_bin" send $2 --host 127.0.0.1 --port "$port"
    kill "$server"; exec 3<&-; server=""
}

run_pair "--codec len:4" "--codec len:4 --count 100000 --sizes 16,128,1024,65536"
run_pair "--codec line --upper" "--codec line --expect-upper --count 1000 --sizes 1,20,300"

echo
echo "\$ sockframe_echo_bench --sizes 64,4096"
build/demo/benchmarks/sockframe_echo_bench --sizes 64,4096
