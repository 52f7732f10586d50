# Benchmark smoke run: sockframe_bench and sockframe_server_bench build (Release, with standalone
# Asio) and their --quick --json runs print JSON arrays with the documented schemas; ./demo.sh runs
# to its table. No timing is checked: the numbers of a shared CI machine mean nothing.
need_base
need libasio-dev
self_contained sockframe/asio.hpp
build=build/bench
cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=g++ -DCMAKE_BUILD_TYPE=Release \
      -DSOCKFRAME_BUILD_TESTS=OFF -DSOCKFRAME_BUILD_EXAMPLES=OFF -DSOCKFRAME_INSTALL=OFF \
      -DSOCKFRAME_BUILD_BENCHMARKS=ON
cmake --build "$build" --target sockframe_bench sockframe_server_bench \
      sockframe_proto_decode_bench_mqtt_ws proto_decode_bench_text sockframe_resp_decode_bench
timeout 120 "$build/benchmarks/sockframe_bench" --quick --json > "$build/bench.json"
python3 - "$build/bench.json" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
assert isinstance(rows, list) and rows, "expected a non-empty JSON array"
allowed = {"workload", "size", "impl", "msgs_per_s", "mb_per_s", "p50_us", "p99_us", "allocs_per_msg"}
required = {"workload", "size", "impl", "msgs_per_s", "allocs_per_msg"}
for row in rows:
    keys = set(row)
    assert required <= keys, f"missing {required - keys} in {row}"
    assert keys <= allowed, f"unexpected {keys - allowed} in {row}"
    assert isinstance(row["workload"], str) and isinstance(row["impl"], str), row
    assert isinstance(row["size"], int), row
    for k in keys - {"workload", "impl", "size"}:
        assert isinstance(row[k], (int, float)), f"{k} is not a number in {row}"
seen = {(r["workload"], r["impl"]) for r in rows}
for workload in ("stream", "pingpong", "pingpong_same_cpu", "udp", "udp_batched"):
    for impl in ("sockframe", "raw", "asio") if workload != "udp_batched" else ("sockframe", "raw"):
        assert (workload, impl) in seen, f"no row for {workload}/{impl}"
assert {r["size"] for r in rows if r["workload"] == "stream"} == {16, 128, 1024, 65536}
# Datagram batches and offload at 64 and 1200 bytes, and the 64 MiB file frame, each against raw.
for workload, sizes in (("udp_batched", (64, 1200)), ("udp_gso", (64, 1200)), ("sendfile", (67108864,))):
    for size in sizes:
        for impl in ("sockframe", "raw"):
            assert (workload, size, impl) in {(r["workload"], r["size"], r["impl"]) for r in rows}, \
                f"no row for {workload}/{size}/{impl}"
# Every stream size has the default-settings row and the raw_big baseline it is compared with,
# and the composed (checked) and type-erased (any_codec) codecs' rows; ping-pong has the latter two.
cells = {(r["workload"], r["size"], r["impl"]) for r in rows}
stream_impls = ("sockframe", "sockframe_default", "sockframe_checked", "sockframe_any", "raw", "raw_big", "asio")
for size in (16, 128, 1024, 65536):
    for impl in stream_impls:
        assert ("stream", size, impl) in cells, f"no row for stream/{size}/{impl}"
for workload in ("pingpong", "pingpong_same_cpu"):
    for impl in ("sockframe_checked", "sockframe_any"):
        assert (workload, impl) in seen, f"no row for {workload}/{impl}"
print(f"sockframe_bench --quick --json: {len(rows)} rows, schema ok")
PY

# sockframe_server_bench: every workload has a row for every server, with exactly the documented
# keys (the idle workload runs with 1000 connections under --quick).
# The same with every server running at once, driven in turns (--interleave).
timeout 120 "$build/benchmarks/sockframe_server_bench" --quick --json > "$build/server_bench.json"
timeout 120 "$build/benchmarks/sockframe_server_bench" --quick --json --interleave 0.05 \
    > "$build/server_bench_interleaved.json"
for file in "$build/server_bench.json" "$build/server_bench_interleaved.json"; do
python3 - "$file" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
assert isinstance(rows, list) and rows, "expected a non-empty JSON array"
keys = {"workload", "impl", "frames_per_s", "p50_us", "p99_us", "rss_mib", "connections", "kib_per_conn",
        "server_busy", "ratio_to_raw", "p99_ratio_to_raw"}  # the ratios: when raw ran (it does here)
for row in rows:
    assert set(row) == keys, f"keys {sorted(row)} in {row}"
    assert isinstance(row["workload"], str) and isinstance(row["impl"], str), row
    for k in keys - {"workload", "impl"}:
        assert isinstance(row[k], (int, float)) and row[k] >= 0, f"{k} in {row}"
    assert row["frames_per_s"] > 0, f"no frame echoed in {row}"
seen = {(r["workload"], r["impl"]) for r in rows}
for workload in ("pingpong_512", "pingpong_64", "stream_512", "stream_16", "idle_10k"):
    # sockframe_coro: the benchmark is built as C++20 (g++ here has it)
    for impl in ("raw", "sockframe", "sockframe_coro", "sockframe_loop", "asio", "asio_batched"):
        assert (workload, impl) in seen, f"no row for {workload}/{impl}"
print(f"sockframe_server_bench --quick --json ({sys.argv[1].rsplit('/', 1)[-1]}): {len(rows)} rows, schema ok")
PY
done

# The in-memory decode benchmarks' --json (what tools/render_bench.py renders into docs/): the
# documented keys, one row per workload.
for bench in sockframe_proto_decode_bench_mqtt_ws proto_decode_bench_text; do
    timeout 120 "$build/benchmarks/$bench" --quick --json > "$build/$bench.json"
done
timeout 120 "$build/benchmarks/sockframe_resp_decode_bench" --rounds 1 --json > "$build/resp_decode_bench.json"
python3 - "$build" <<'PY'
import json, os, sys
build = sys.argv[1]
def rows_of(name):
    text = open(os.path.join(build, name + ".json")).read()
    try:
        return json.loads(text)
    except ValueError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
for name, keys, count in (
        ("sockframe_proto_decode_bench_mqtt_ws", {"workload", "sockframe_frames_per_s", "hand_frames_per_s", "ratio", "repeats"}, 15),
        ("proto_decode_bench_text", {"format", "codec_mb_per_s", "hand_mb_per_s", "best_ratio", "median_ratio", "repeats"}, 5),
        ("resp_decode_bench", {"bench", "workload", "measure", "feed", "frames", "hand_ns_per_frame",
                               "sockframe_ns_per_frame", "ratio_hand_to_sockframe_time"}, 12)):
    rows = rows_of(name)
    assert len(rows) == count, f"{name}: {len(rows)} rows, expected {count}"
    for row in rows:
        assert set(row) == keys, f"{name}: keys {sorted(row)}"
    print(f"{name} --json: {len(rows)} rows, schema ok")
PY
# The README's first command, as a newcomer runs it (it builds and runs sockframe_echo_bench): both
# echoes report every frame back, and the table has its two rows, each ending with a ratio.
section "./demo.sh"
timeout 600 ./demo.sh > build/demo.txt 2>&1 || { cat build/demo.txt; echo "./demo.sh failed" >&2; exit 1; }
for want in '^OK 100000$' '^OK 1000$' '^\| 64 B .*\| +[0-9.]+ \|$' '^\| 4096 B .*\| +[0-9.]+ \|$'; do
    grep -Eq "$want" build/demo.txt || { cat build/demo.txt; echo "./demo.sh: no line matching $want" >&2; exit 1; }
done
echo "./demo.sh: both echoes and the table"
