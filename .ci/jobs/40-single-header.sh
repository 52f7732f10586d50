# Single header: single_include/ must match what tools/amalgamate.py generates from include/, and
# the whole suite passes against it (g++, C++20) with include/ nowhere on the include path.
need_base
python3 tools/amalgamate.py --check
rm -rf build/single-header
cmake -S . -B build/single-header -G Ninja -DCMAKE_CXX_COMPILER=g++ -DCMAKE_CXX_STANDARD=20 \
      -DCMAKE_BUILD_TYPE=Debug -DSOCKFRAME_USE_SINGLE_HEADER=ON -DSOCKFRAME_BUILD_CONSUMER_TESTS=OFF
cmake --build build/single-header
# Proof from the compiler's own dependency lists: no object read a header of include/sockframe/,
# and the single header was read.
deps=$(ninja -C build/single-header -t deps)
if grep -E "(^|[ /])include/sockframe/" <<<"$deps" | grep -v single_include; then
    echo "error: built against include/sockframe/ instead of the single header" >&2
    exit 1
fi
grep -q "single_include/sockframe/sockframe.hpp" <<<"$deps" || { echo "error: the single header was not used" >&2; exit 1; }
echo "single header: every object reads single_include/sockframe/sockframe.hpp, none reads include/sockframe/"
ctest --test-dir build/single-header --output-on-failure -j2
