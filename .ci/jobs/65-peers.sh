# The protocol codecs and their example programs against the real programs that speak each
# protocol (tests/peers, ctest label "peers"): g++, C++20, Release.
need_base
need redis-server redis-tools mosquitto mosquitto-clients haproxy python3-websockets curl socat openssl
cmake -S . -B build/peers -G Ninja -DCMAKE_CXX_COMPILER=g++ -DCMAKE_CXX_STANDARD=20 -DCMAKE_BUILD_TYPE=Release \
      -DSOCKFRAME_BUILD_PEER_TESTS=ON -DSOCKFRAME_BUILD_CONSUMER_TESTS=OFF -DSOCKFRAME_INSTALL=OFF -DSOCKFRAME_BUILD_BENCHMARKS=OFF
cmake --build build/peers --target sockframe_peer_programs
ctest --test-dir build/peers -L peers --output-on-failure -j2
