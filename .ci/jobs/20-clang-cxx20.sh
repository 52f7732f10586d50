# clang++, C++20, Release: the whole suite and the examples.
need_base
need clang iproute2  # iproute2: the multicast tests make a veth pair in their own network namespace
cmake -S . -B build/clang-cxx20 -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_CXX_STANDARD=20 -DCMAKE_BUILD_TYPE=Release \
      -DSOCKFRAME_BUILD_CONSUMER_TESTS=OFF  # the consumer projects run in job 50
cmake --build build/clang-cxx20
ctest --test-dir build/clang-cxx20 --output-on-failure -j2
