#!/usr/bin/env python3
"""Records benchmark runs and renders their figures into the docs.

  python3 tools/render_bench.py record [--name NAME] [--json-file] BENCH [BENCH-ARGS...]
      runs BENCH with the given arguments and --json, and writes docs/bench/NAME.json (NAME:
      sockframe_bench by default): the benchmark's own JSON (an array, or one object per line) plus
      the machine, the command and the date. --json-file: BENCH writes its JSON to the file named
      after --json (benchmarks/resp_bench.py) rather than to standard output. A BENCH ending in .py
      runs under this Python.
  python3 tools/render_bench.py render
      rewrites every table between markers <!-- bench:TABLE:begin --> ... <!-- bench:TABLE:end -->
      (TABLES below says which page and which recorded file each one is) from those files
      (docs/bench/include_time.json is written by `python3 tools/include_time.py --record FILE`).
      No figure in the docs is typed by hand.
  python3 tools/render_bench.py record-resp-decode BENCH [BENCH-ARGS...]
      runs sockframe_resp_decode_bench --json and writes docs/bench/resp_decode.json; with valgrind
      installed, also each workload and measure once under callgrind (--only, --rounds 1):
      instructions per frame of each decoder (both feeds together).
  python3 tools/render_bench.py record-resp-server RESP_SERVER [RESP_BENCH-ARGS...]
      runs benchmarks/resp_bench.py against that resp_server and writes docs/bench/resp_server.json.
  python3 tools/render_bench.py check
      fails (exit 1) if rendering would change a file: CI's docs job runs it.

Ratios are the benchmark's own where it reports them (medians of per-repeat ratios); otherwise
ratios of the medians, which differ from the benchmark's own table by the noise.
"""
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH_DIR = os.path.join(ROOT, "docs", "bench")


def data_path(name):
    return os.path.join(BENCH_DIR, name + ".json")


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def record(argv):
    name, json_file = "sockframe_bench", False
    while argv and argv[0].startswith("--"):
        if argv[0] == "--name" and len(argv) > 1:
            name, argv = argv[1], argv[2:]
        elif argv[0] == "--json-file":
            json_file, argv = True, argv[1:]
        else:
            sys.exit("render_bench.py record: unknown option " + argv[0])
    if not argv:
        sys.exit("usage: render_bench.py record [--name NAME] [--json-file] BENCH [ARGS...]")
    runner = [sys.executable] if argv[0].endswith(".py") else []
    if json_file:
        fd, out_path = tempfile.mkstemp(suffix=".json")
        os.close(fd)
        try:
            subprocess.run(runner + argv + ["--json", out_path], check=True, stdout=subprocess.DEVNULL)
            with open(out_path) as f:
                out = f.read()
        finally:
            os.unlink(out_path)
    else:
        out = subprocess.run(runner + argv + ["--json"], check=True, stdout=subprocess.PIPE, text=True).stdout
    try:
        results = json.loads(out)
    except ValueError:  # one JSON object per line
        results = [json.loads(line) for line in out.splitlines() if line.strip()]
    doc = {
        "command": " ".join([os.path.basename(argv[0])] + argv[1:]),
        "date": datetime.date.today().isoformat(),
        "machine": "%d CPUs of %s, %s %s" % (os.cpu_count() or 0, cpu_model(), platform.system(), platform.release()),
        "results": results,
    }
    os.makedirs(BENCH_DIR, exist_ok=True)
    with open(data_path(name), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print("wrote", os.path.relpath(data_path(name), ROOT), "(%d rows)" % len(results))


def machine():
    return "%d CPUs of %s, %s %s" % (os.cpu_count() or 0, cpu_model(), platform.system(), platform.release())


def save(path, doc):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print("wrote", os.path.relpath(path, ROOT), "(%d rows)" % len(doc["results"]))


def record_resp_decode(argv):
    if not argv:
        sys.exit("usage: render_bench.py record-resp-decode BENCH [ARGS...]")
    out = subprocess.run([argv[0], "--json"] + argv[1:], check=True, stdout=subprocess.PIPE, text=True).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    if shutil.which("valgrind") and shutil.which("callgrind_annotate"):
        for key in sorted({(r["workload"], r["measure"]) for r in rows}):
            counts = callgrind_counts(argv[0], "%s:%s" % key)
            frames = next(r["frames"] for r in rows if (r["workload"], r["measure"]) == key)
            for r in rows:
                if (r["workload"], r["measure"]) == key and counts:
                    # each decoder runs both feeds once: 2 * frames frames
                    r["hand_instructions_per_frame"] = round(counts["hand_frames"] / (2 * frames), 1)
                    r["sockframe_instructions_per_frame"] = round(counts["codec_frames"] / (2 * frames), 1)
    save(data_path("resp_decode"), {"command": " ".join(["sockframe_resp_decode_bench"] + argv[1:]),
                       "date": datetime.date.today().isoformat(), "machine": machine(), "results": rows})


def callgrind_counts(bench, only):
    """Inclusive instruction counts of the bench's two decoder loops, one run of `only`."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, bench, "--rounds", "1",
                        "--only", only], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        text = subprocess.run(["callgrind_annotate", "--inclusive=yes", out], check=True, stdout=subprocess.PIPE,
                              text=True).stdout
    counts = {}
    for line in text.splitlines():
        for name in ("hand_frames", "codec_frames"):
            if "::%s(" % name in line and name not in counts:
                counts[name] = int(line.split()[0].replace(",", ""))
    return counts if len(counts) == 2 else None


def record_resp_server(argv):
    if not argv:
        sys.exit("usage: render_bench.py record-resp-server RESP_SERVER [RESP_BENCH-ARGS...]")
    tmp = data_path("resp_server") + ".tmp"
    script = os.path.join(ROOT, "benchmarks", "resp_bench.py")
    subprocess.run([sys.executable, script, "--server", argv[0], "--json", tmp] + argv[1:], check=True)
    with open(tmp) as f:
        rows = json.load(f)
    os.remove(tmp)
    save(data_path("resp_server"), {"command": " ".join(["benchmarks/resp_bench.py", "--server", "resp_server"] + argv[1:]),
                       "date": datetime.date.today().isoformat(), "machine": machine(), "results": rows})


def resp_decode_table(doc):
    out = ["| workload | measure | feed | hand-written ns/frame | sockframe ns/frame | hand ÷ sockframe time "
           "| instructions/frame hand / sockframe (both feeds) |",
           "|---|---|---|---:|---:|---:|---:|"]
    for r in doc["results"]:
        measure = "frames + children" if r["measure"] == "args" else r["measure"]
        ir = ""
        if "hand_instructions_per_frame" in r:
            ir = "%.0f / %.0f = %.2f" % (r["hand_instructions_per_frame"], r["sockframe_instructions_per_frame"],
                                        r["hand_instructions_per_frame"] / r["sockframe_instructions_per_frame"])
        out.append("| %s | %s | %s | %.1f | %.1f | %.2f | %s |" % (
            r["workload"], measure, r["feed"], r["hand_ns_per_frame"], r["sockframe_ns_per_frame"],
            r["ratio_hand_to_sockframe_time"], ir))
    out += ["", "Measured %s on %s: `%s` (medians over the rounds; the ratio is the median of the "
            "per-round ratios, ≥ 1: sockframe as fast or faster). Rendered by `tools/render_bench.py` "
            "from `docs/bench/resp_decode.json`." % (doc["date"], doc["machine"], doc["command"])]
    return "\n".join(out)


def resp_server_table(doc):
    rows = doc["results"]
    rps = {(r["test"], r["server"]): r["requests_per_s"] for r in rows if "requests_per_s" in r}
    out = ["| test | redis-server requests/s | resp_server requests/s | resp_server ÷ redis-server "
           "| resp_server `--busy-poll 0` requests/s | `--busy-poll 0` ÷ redis-server |",
           "|---|---:|---:|---:|---:|---:|"]
    command = ""
    for r in rows:
        if "ratio_resp_server_to_redis" in r:
            test = r["test"]
            out.append("| %s | %s | %s | %.2f | %s | %.2f |" % (
                test, human(rps.get((test, "redis-server"), 0)), human(rps.get((test, "resp_server"), 0)),
                r["ratio_resp_server_to_redis"], human(rps.get((test, "resp_server_no_busy_poll"), 0)),
                r["ratio_no_busy_poll_to_redis"]))
    for r in rows:
        if r.get("test") == "cpu_seconds_per_million_requests":
            command = r.get("command", "")
            out.append("| CPU s per million requests | %.2f | %.2f | %.2f (redis ÷ resp_server) | %.2f | |" % (
                r["redis-server"], r["resp_server"], r["ratio_redis_to_resp_server_cpu"],
                r["resp_server_no_busy_poll"]))
        elif r.get("test") == "client_cpu_seconds_per_million_requests":
            out.append("| redis-benchmark's own CPU s per million requests, against each | %.2f | %.2f | | %.2f | |" % (
                r["redis-server"], r["resp_server"], r["resp_server_no_busy_poll"]))
    out += ["", "Measured %s on %s: `%s`, the three servers back to back for each test of every round, the "
            "first of them rotating (`%s`; requests/s are medians over the rounds, each ratio "
            "the median of the per-round ratios). Rendered by "
            "`tools/render_bench.py` from `docs/bench/resp_server.json`." % (
                doc["date"], doc["machine"], doc["command"], command)]
    return "\n".join(out)


def human(x):
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if x >= div:
            return "%.3g %s" % (x / div, unit)
    return "%.3g" % x


def index(results):
    return {(r["workload"], r["size"], r["impl"]): r for r in results}


def ratio(rows, key, impl, base, field="msgs_per_s"):
    a, b = rows.get(key + (impl,)), rows.get(key + (base,))
    if not a or not b or not b.get(field):
        return None
    return a[field] / b[field]


def fmt_ratio(x):
    if x is None:
        return "–"
    return "%.2f" % x if x < 10 else "%.0f" % x


def keys(results, workloads):
    seen = []
    for r in results:
        k = (r["workload"], r["size"])
        if r["workload"] in workloads and k not in seen:
            seen.append(k)
    return seen


def footer(doc, name="sockframe_bench", note="medians; ratios are ratios of the medians"):
    return ("Measured %s on %s: `%s` (%s). "
            "Rendered by `tools/render_bench.py` from `docs/bench/%s.json`."
            % (doc["date"], doc["machine"], doc["command"], note, name))


def summary(doc):
    rows = index(doc["results"])
    out = ["| payload | sockframe frames/s | sockframe MB/s | raw syscall loop frames/s | sockframe ÷ raw | sockframe ÷ Asio |",
           "|---:|---:|---:|---:|---:|---:|"]
    for wl, size in keys(doc["results"], ("stream",)):
        sf = rows.get((wl, size, "sockframe"))
        raw = rows.get((wl, size, "raw"))
        if not sf or not raw:
            continue
        out.append("| %d B | %s | %.0f | %s | %s | %s |" % (
            size, human(sf["msgs_per_s"]), sf.get("mb_per_s", 0), human(raw["msgs_per_s"]),
            fmt_ratio(ratio(rows, (wl, size), "sockframe", "raw")),
            fmt_ratio(ratio(rows, (wl, size), "sockframe", "asio"))))
    out += ["", footer(doc)]
    return "\n".join(out)


def full(doc):
    rows = index(doc["results"])
    impls = []
    for r in doc["results"]:
        if r["impl"] not in impls:
            impls.append(r["impl"])
    out = ["| workload | size | impl | msgs/s | MB/s | p50 µs | p99 µs | allocs/msg | ÷ raw |",
           "|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    for wl, size in keys(doc["results"], ("stream", "pingpong", "pingpong_same_cpu", "udp", "udp_batched")):
        for impl in impls:
            r = rows.get((wl, size, impl))
            if not r:
                continue
            out.append("| %s | %d | %s | %s | %s | %s | %s | %.3f | %s |" % (
                wl, size, impl, human(r["msgs_per_s"]),
                "%.0f" % r["mb_per_s"] if "mb_per_s" in r else "",
                "%.1f" % r["p50_us"] if "p50_us" in r else "",
                "%.1f" % r["p99_us"] if "p99_us" in r else "",
                r["allocs_per_msg"], fmt_ratio(ratio(rows, (wl, size), impl, "raw"))))
    out += ["", footer(doc)]
    return "\n".join(out)


def num(x, digits=3):
    """A figure for a table: thousands separated, three significant digits below 1000."""
    if x is None:
        return "–"
    if abs(x) >= 1000:
        return "{:,.0f}".format(x)
    return "%.*g" % (digits, x)


def server(doc):
    rows = doc["results"]
    impls = []
    for r in rows:
        if r["impl"] not in impls:
            impls.append(r["impl"])
    others = [i for i in impls if i != "raw"]
    out = ["| workload | raw frames/s | " + " | ".join("%s ÷ raw" % i for i in others) +
           " | sockframe p99 ÷ raw | KiB per connection (" + ", ".join(impls) + ") |",
           "|---|---:|" + "---:|" * len(others) + "---:|---|"]
    workloads = []
    for r in rows:
        if r["workload"] not in workloads:
            workloads.append(r["workload"])
    by = {(r["workload"], r["impl"]): r for r in rows}
    for w in workloads:
        raw = by.get((w, "raw"), {})
        cells = [w, num(raw.get("frames_per_s"))]
        cells += ["%.2f" % by[(w, i)]["ratio_to_raw"] if "ratio_to_raw" in by.get((w, i), {}) else "–"
                  for i in others]
        sf = by.get((w, "sockframe"), {})
        cells.append("%.2f" % sf["p99_ratio_to_raw"] if "p99_ratio_to_raw" in sf else "–")
        cells.append(" / ".join("%.2f" % by[(w, i)]["kib_per_conn"] if (w, i) in by else "–" for i in impls))
        out.append("| " + " | ".join(cells) + " |")
    busy = [r["server_busy"] for r in rows if "server_busy" in r]
    note = "medians of the per-repeat ratios to raw; KiB per connection is the VmRSS growth divided by the connections"
    if busy:
        note += "; the server threads were busy %.0f–%.0f %% of each window" % (100 * min(busy), 100 * max(busy))
    return "\n".join(out + ["", footer(doc, "server_bench", note)])


def datagrams(doc):
    rows = index(doc["results"])
    impls = []
    for r in doc["results"]:
        if r["impl"] not in impls:
            impls.append(r["impl"])
    out = ["| workload | size | impl | datagrams or frames/s | MB/s | ÷ raw |", "|---|---:|---|---:|---:|---:|"]
    for wl, size in keys(doc["results"], ("udp_batched", "udp_gso", "sendfile")):
        for impl in impls:
            r = rows.get((wl, size, impl))
            if not r:
                continue
            out.append("| %s | %s | %s | %s | %s | %s |" % (
                wl, "%d MiB" % (size >> 20) if size >= 1 << 20 else "%d B" % size, impl, human(r["msgs_per_s"]), "%.0f" % r["mb_per_s"] if "mb_per_s" in r else "",
                fmt_ratio(ratio(rows, (wl, size), impl, "raw"))))
    return "\n".join(out + ["", footer(doc, "sockframe_bench_datagrams")])


def mqtt_ws(doc):
    out = ["| workload (1 MiB of frames) | sockframe frames/s | hand-written frames/s | ratio |", "|---|---:|---:|---:|"]
    for r in doc["results"]:
        out.append("| %s | %s | %s | %.2f |" % (r["workload"], human(r["sockframe_frames_per_s"]),
                                              human(r["hand_frames_per_s"]), r["ratio"]))
    note = "ratio: median of the per-repeat ratios sockframe ÷ hand-written, above 1: sockframe faster"
    return "\n".join(out + ["", footer(doc, "proto_decode_bench_mqtt_ws", note)])


def text_protocols(doc):
    out = ["| format | codec MB/s (best) | hand-written MB/s (best) | ratio of the bests | median of per-repeat ratios |",
           "|---|---:|---:|---:|---:|"]
    for r in doc["results"]:
        out.append("| %s | %.0f | %.0f | %.2f | %.2f |" % (r["format"], r["codec_mb_per_s"], r["hand_mb_per_s"],
                                                          r["best_ratio"], r["median_ratio"]))
    note = "codec speed ÷ hand-written speed, the target is ≥ 0.9"
    return "\n".join(out + ["", footer(doc, "proto_decode_bench_text", note)])


def tls(doc):
    out = ["| | raw OpenSSL MB/s | tls_stream + framed MB/s | right ÷ left |", "|---|---:|---:|---:|"]
    tail = []
    for r in doc["results"]:
        if r["row"] == "frames":
            spread = " (%.2f–%.2f)" % (r["ratio_min"], r["ratio_max"]) if "ratio_min" in r else ""
            out.append("| %s B frames (%s) | %.1f | %.1f | %.2f%s |" % (
                "{:,}".format(r["size"]), "{:,}".format(r["frames"]), r["raw_mb_per_s"], r["framed_mb_per_s"],
                r["ratio"], spread))
        elif r["row"] == "ktls":
            out.append("| kTLS off / on, %s B frames | %.1f (off) | %.1f (on) | %.2f |" % (
                "{:,}".format(r["size"]), r["off_mb_per_s"], r["on_mb_per_s"], r["ratio"]))
            tail.append("kTLS %s." % ("engaged" if r["engaged"] else "not engaged (no tls ULP: the on row is a "
                                                                      "user-space fallback)"))
        elif r["row"] == "handshakes":
            out.append("| full handshakes/s, one client | %.0f (openssl s_server) | %.0f (tls_listener) | %.2f |" % (
                r["s_server_per_s"], r["sockframe_per_s"], r["ratio"]))
            tail.append("%s." % r["openssl"])
    repeats = [r["repeats"] for r in doc["results"] if "repeats" in r]
    note = ("frames: medians over %d alternating repeats, the ratio the median of the per-repeat ratios "
            "(their range in brackets); kTLS: best of three" % repeats[0]) if repeats else \
        "best of three alternating rounds"
    return "\n".join(out + ["", " ".join(tail + [footer(doc, "tls_bench", note)])])


INCLUDE_CASES = {
    "asio": "`#include <asio.hpp>` (standalone)",
    "full": "`#include <sockframe/sockframe.hpp>`",
    "single": "the single header",
    "core": "core: `socket.hpp` + `framed.hpp` + `length_prefix.hpp`",
    "empty": "an empty file",
    "full_sep": "`sockframe.hpp`, separate compilation",
    "core_sep": "core, separate compilation",
}


def include_table(doc):
    out = ["| translation unit | wall s | × Asio (wall) | CPU s | × Asio (CPU) |",
           "|---|---:|---:|---:|---:|"]
    for r in doc["rows"]:
        out.append("| %s | %.3f | %s | %.3f | %s |" % (
            INCLUDE_CASES.get(r["case"], r["case"]), r["seconds"],
            "%.2f" % r["x_asio"] if "x_asio" in r else "–", r.get("cpu_seconds", 0.0),
            "%.2f" % r["cpu_x_asio"] if "cpu_x_asio" in r else "–"))
    out += ["", "Measured %s on %s with %s: `%s` (medians; each ratio is the median of the per-round "
            "ratios). Rendered by `tools/render_bench.py` from `docs/bench/include_time.json`."
            % (doc["date"], doc["machine"], doc["compiler"], doc["command"])]
    return "\n".join(out)


# table name -> (recorded file under docs/bench/, page, renderer)
TABLES = {
    "summary": ("sockframe_bench", "README.md", summary),
    "full": ("sockframe_bench", "docs/performance.md", full),
    "server": ("server_bench", "docs/server.md", server),
    "resp_decode": ("resp_decode", "docs/resp.md", resp_decode_table),
    "resp_server": ("resp_server", "docs/resp.md", resp_server_table),
    "datagrams": ("sockframe_bench_datagrams", "docs/datagrams.md", datagrams),
    "mqtt_ws": ("proto_decode_bench_mqtt_ws", "docs/websocket.md", mqtt_ws),
    "text_protocols": ("proto_decode_bench_text", "docs/protocols.md", text_protocols),
    "tls": ("tls_bench", "docs/tls.md", tls),
    "include": ("include_time", "docs/performance.md", include_table),
}


def rendered():
    docs, texts = {}, {}
    for table, (name, page, render) in TABLES.items():
        if name not in docs:
            with open(data_path(name)) as f:
                docs[name] = json.load(f)
        path = os.path.join(ROOT, page)
        if path not in texts:
            with open(path) as f:
                texts[path] = [f.read(), None]
        text = texts[path][1] if texts[path][1] is not None else texts[path][0]
        begin, end = "<!-- bench:%s:begin -->" % table, "<!-- bench:%s:end -->" % table
        pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
        if not pattern.search(text):
            sys.exit("%s: no %s ... %s markers" % (page, begin, end))
        table_text = render(docs[name])
        texts[path][1] = pattern.sub(lambda _: begin + "\n" + table_text + "\n" + end, text)
    return {path: (old, new) for path, (old, new) in texts.items()}


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("record", "record-resp-decode", "record-resp-server", "render",
                                                "check"):
        sys.exit(__doc__)
    if sys.argv[1] == "record":
        record(sys.argv[2:])
        return
    if sys.argv[1] == "record-resp-decode":
        record_resp_decode(sys.argv[2:])
        return
    if sys.argv[1] == "record-resp-server":
        record_resp_server(sys.argv[2:])
        return
    stale = []
    for path, (old, new) in rendered().items():
        if old == new:
            continue
        stale.append(os.path.relpath(path, ROOT))
        if sys.argv[1] == "render":
            with open(path, "w") as f:
                f.write(new)
    if sys.argv[1] == "check" and stale:
        sys.exit("out of date (run python3 tools/render_bench.py render): " + ", ".join(stale))
    for path in stale:
        print("rendered", path)


if __name__ == "__main__":
    main()
