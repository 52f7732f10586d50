# libFuzzer (clang + ASan + UBSan): every target in tests/fuzz replays its seed corpus (ctest
# label "fuzz"), then fuzzes for a bounded time from a scratch copy of it. A crash leaves its
# input under build/fuzz/artifacts and fails the job. About 8 s per target, two targets at a time
# (CI time: the suite stays under 40 minutes).
need_base
need clang libclang-rt-14-dev
build=build/fuzz
cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DSOCKFRAME_BUILD_FUZZERS=ON -DSOCKFRAME_BUILD_TESTS=OFF -DSOCKFRAME_BUILD_EXAMPLES=OFF \
      -DSOCKFRAME_INSTALL=OFF -DSOCKFRAME_BUILD_CONSUMER_TESTS=OFF -DSOCKFRAME_BUILD_BENCHMARKS=OFF -DSOCKFRAME_BUILD_TOOLS=OFF
cmake --build "$build"
ctest --test-dir "$build" -L fuzz --output-on-failure -j2
seconds=${SOCKFRAME_FUZZ_SECONDS:-8}
rm -rf "$build/corpus" "$build/artifacts" "$build/logs"
mkdir -p "$build/artifacts"
targets=$(cd tests/fuzz && ls fuzz_*.cpp | sed 's/^fuzz_//; s/\.cpp$//')
# fuzz_one TARGET: fuzzes one target from a scratch copy of its corpus; its summary goes to
# $build/logs/TARGET.log. Two targets run at a time (libFuzzer uses one core each).
fuzz_one() {
    local target=$1
    mkdir -p "$build/corpus/$target"
    cp tests/fuzz/corpus/"$target"/* "$build/corpus/$target/"
    # -rss_limit_mb / -malloc_limit_mb: no input may make the decoders' process grow large. A
    # small ASan quarantine keeps freed buffers from filling the RSS budget (the default 256 MB
    # quarantine alone took the peak to ~400 MB).
    ASAN_OPTIONS=quarantine_size_mb=32 timeout $((seconds + 60)) "$build/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -max_len=4096 \
        -rss_limit_mb=512 -malloc_limit_mb=64 -print_final_stats=1 \
        -artifact_prefix="$build/artifacts/$target-" "$build/corpus/$target" 2>&1 |
        grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|Done)|ERROR|SUMMARY|fuzz check failed|runtime error" \
            >"$build/logs/$target.log" || true
}
export -f fuzz_one
export build seconds
mkdir -p "$build/logs"
section "fuzzing ${seconds}s per target, two at a time"
printf '%s\n' $targets | xargs -P 2 -I '{}' bash -c 'fuzz_one "$1"' _ '{}'
for target in $targets; do
    echo "fuzz_$target:"
    sed 's/^/  /' "$build/logs/$target.log"
done
if [ -n "$(ls "$build/artifacts" 2>/dev/null)" ]; then
    echo "a fuzz target found a failing input:" >&2
    ls -l "$build/artifacts" >&2
    exit 1
fi
