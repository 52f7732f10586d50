# Consumer tests (tests/consumers/run.sh): sockframe used as each way in documented in
# the README, "Getting sockframe", as C++17 and C++20. Here every tool is installed and a skipped test is a
# failure. Nothing needs building first: each test configures and builds its own consumer.
need_base
need clang meson pkg-config git
rm -rf build/consumers
cmake -S . -B build/consumers -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DSOCKFRAME_BUILD_EXAMPLES=OFF >/dev/null
SOCKFRAME_CONSUMER_STRICT=1 ctest --test-dir build/consumers -L consumer --output-on-failure -j2
