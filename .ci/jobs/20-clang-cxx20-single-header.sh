# clang++, C++20, Release, against the single header: single_include/ must match what
# tools/amalgamate.py generates from include/, and the whole suite and the examples pass against it
# with include/ nowhere on the include path. (Job 10 builds the suite against include/ with g++.)
need_base
need clang iproute2  # iproute2: the multicast tests make a veth pair in their own network namespace
python3 tools/amalgamate.py --check
build=build/clang-cxx20-single-header
rm -rf "$build"
cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_CXX_STANDARD=20 -DCMAKE_BUILD_TYPE=Release \
      -DSOCKFRAME_USE_SINGLE_HEADER=ON -DSOCKFRAME_BUILD_CONSUMER_TESTS=OFF \
      -DSOCKFRAME_BUILD_BENCHMARKS=OFF  # the consumer projects run in job 50, the benchmarks in job 70
cmake --build "$build"
# Proof from the compiler's own dependency lists: no object read a header of include/sockframe/,
# and the single header was read.
deps=$(ninja -C "$build" -t deps)
if grep -E "(^|[ /])include/sockframe/" <<<"$deps" | grep -v single_include; then
    echo "error: built against include/sockframe/ instead of the single header" >&2
    exit 1
fi
grep -q "single_include/sockframe/sockframe.hpp" <<<"$deps" || { echo "error: the single header was not used" >&2; exit 1; }
echo "single header: every object reads single_include/sockframe/sockframe.hpp, none reads include/sockframe/"
ctest --test-dir "$build" --output-on-failure -j2
