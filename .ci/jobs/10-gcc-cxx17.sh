# g++, C++17, Debug: the whole suite and the examples. No -g (CMAKE_CXX_FLAGS_DEBUG=-O0): CI reads
# no debug information, and it costs g++ over a fifth of the build.
need_base
need iproute2  # the multicast tests make a veth pair in their own network namespace
cmake -S . -B build/gcc-cxx17 -G Ninja -DCMAKE_CXX_COMPILER=g++ -DCMAKE_CXX_STANDARD=17 -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-O0 \
      -DSOCKFRAME_BUILD_CONSUMER_TESTS=OFF -DSOCKFRAME_BUILD_BENCHMARKS=OFF  # consumers: job 50, benchmarks: job 70
cmake --build build/gcc-cxx17
ctest --test-dir build/gcc-cxx17 --output-on-failure -j2
