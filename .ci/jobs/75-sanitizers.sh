# Sanitizers and valgrind:
#   1. the whole suite (tests, examples, interop, fault injection) under ASan + UBSan (clang,
#      -fno-sanitize-recover=all: the first report fails the test);
#   2. the threaded tests and the examples under TSan;
#   3. valgrind memcheck on the examples (--error-exitcode=1 --leak-check=full).
# -O0: clang takes three times as long to compile an instrumented unit at -O1, far more than the
# tests gain in speed. Line tables are all the reports need (file and line of each frame).
# Consumer tests are covered by 50-consumers, the benchmarks by 70-bench-smoke.
need_base
need clang libclang-rt-14-dev valgrind iproute2  # iproute2: the multicast tests make a veth pair

common=(-G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=
        -DSOCKFRAME_BUILD_CONSUMER_TESTS=OFF
        -DSOCKFRAME_INSTALL=OFF -DSOCKFRAME_BUILD_BENCHMARKS=OFF)

section "ASan + UBSan: the whole suite"
# Every UBSan check but vptr: the vptr check tests that an object is readable by writing it to a
# pipe, which fails while every descriptor is in use (the EMFILE tests), and then reports valid
# std::error_category objects as bad.
san="-O0 -gline-tables-only -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize=vptr -fno-sanitize-recover=all"
cmake -S . -B build/asan "${common[@]}" -DCMAKE_CXX_FLAGS="$san" \
      -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined"
cmake --build build/asan
ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 SOCKFRAME_FAULT_MEMORY_FACTOR=4 \
    ctest --test-dir build/asan --output-on-failure -j2

section "TSan: threaded tests and the examples"
tsan="-O0 -gline-tables-only -fno-omit-frame-pointer -fsanitize=thread"
cmake -S . -B build/tsan "${common[@]}" -DCMAKE_CXX_FLAGS="$tsan" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread"
examples=$(cd examples && ls *.cpp | sed 's/\.cpp$//; s/^/sockframe_example_/')
cmake --build build/tsan --target sockframe_test_framed sockframe_test_socket sockframe_test_listener \
      sockframe_test_poller sockframe_test_iostream sockframe_test_hardening sockframe_test_event_loop sockframe_test_server $examples
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 SOCKFRAME_FAULT_MEMORY_FACTOR=8 \
    ctest --test-dir build/tsan --output-on-failure -j2 \
          -R '^(framed|socket|listener|poller|iostream|hardening|event_loop|server|example_.*|interop_framed_echo_python|fault_framed_echo)$'

section "valgrind memcheck: the examples"
# Every example scenario runs its programs under valgrind (run_example.py's emulator); each
# valgrind writes a log, and any memory error or definite leak in any log fails the job (a server
# stopped by the scenario writes its errors as they happen). framed_echo serve and send are also
# run to a clean exit (memcheck_examples.py), where --error-exitcode=1 decides.
logs="$PWD/build/valgrind/memcheck"
rm -rf "$logs" && mkdir -p "$logs"
vg="valgrind;--error-exitcode=1;--leak-check=full;--errors-for-leak-kinds=definite;--log-file=$logs/%p.log"
cmake -S . -B build/valgrind -G Ninja -DCMAKE_CXX_COMPILER=g++ -DCMAKE_BUILD_TYPE=Debug \
      -DSOCKFRAME_BUILD_CONSUMER_TESTS=OFF -DSOCKFRAME_INSTALL=OFF -DSOCKFRAME_BUILD_BENCHMARKS=OFF \
      -DCMAKE_CROSSCOMPILING_EMULATOR="$vg"
cmake --build build/valgrind --target $examples
ctest --test-dir build/valgrind --output-on-failure -j2 -R '^example_'
bad=$(grep -lE "Invalid (read|write|free)|uninitialised|Mismatched free|definitely lost: [1-9]|ERROR SUMMARY: [1-9]" "$logs"/*.log || true)
if [ -n "$bad" ]; then
    cat $bad >&2
    exit 1
fi
echo "memcheck: $(ls "$logs" | wc -l) example processes, no memory error, no definite leak"
timeout 900 python3 tests/fault/memcheck_examples.py build/valgrind/examples/framed_echo
