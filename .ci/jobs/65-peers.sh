# The protocol codecs and their example programs against the real programs that speak each
# protocol (tests/peers, ctest label "peers"): g++, C++20, Release.
need_base
need redis-server redis-tools mosquitto mosquitto-clients haproxy python3-websockets curl socat openssl
cmake -S . -B build/peers -G Ninja -DCMAKE_CXX_COMPILER=g++ -DCMAKE_CXX_STANDARD=20 -DCMAKE_BUILD_TYPE=Release \
      -DSOCKFRAME_BUILD_PEER_TESTS=ON -DSOCKFRAME_BUILD_CONSUMER_TESTS=OFF -DSOCKFRAME_INSTALL=OFF -DSOCKFRAME_BUILD_BENCHMARKS=OFF
cmake --build build/peers --target sockframe_peer_programs
ctest --test-dir build/peers -L peers --output-on-failure -j2
# benchmarks/resp_bench.py runs (one short round against redis-server; figures are not checked)
python3 benchmarks/resp_bench.py --server build/peers/examples/resp_server --rounds 1 --requests 20000 \
    --json build/peers/resp_bench.json > /dev/null
python3 -c "import json,sys; rows=json.load(open(sys.argv[1])); assert any('ratio_resp_server_to_redis' in r for r in rows), rows; print('resp_bench.py: %d rows' % len(rows))" build/peers/resp_bench.json
