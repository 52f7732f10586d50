#!/usr/bin/env python3
"""Records a sockframe_bench run and renders its figures into the docs.

  python3 tools/render_bench.py record BENCH [BENCH-ARGS...]
      runs BENCH --json with the given arguments and writes docs/bench/sockframe_bench.json:
      the benchmark's own JSON array plus the machine, the command and the date.
  python3 tools/render_bench.py render
      rewrites the tables between the markers
          <!-- bench:summary:begin --> ... <!-- bench:summary:end -->   (README.md)
          <!-- bench:full:begin --> ... <!-- bench:full:end -->         (docs/performance.md)
      from that file. No figure in the docs is typed by hand.
  python3 tools/render_bench.py record-resp-decode BENCH [BENCH-ARGS...]
      runs sockframe_resp_decode_bench --json and writes docs/bench/resp_decode.json, rendered
      between <!-- bench:resp_decode:begin --> ... <!-- bench:resp_decode:end --> (docs/resp.md);
      with valgrind installed, also each workload and measure once under callgrind (--only,
      --rounds 1): instructions per frame of each decoder (both feeds together).
  python3 tools/render_bench.py record-resp-server RESP_SERVER [RESP_BENCH-ARGS...]
      runs benchmarks/resp_bench.py against that resp_server and writes docs/bench/resp_server.json,
      rendered between <!-- bench:resp_server:begin --> ... <!-- bench:resp_server:end -->.
  python3 tools/render_bench.py check
      fails (exit 1) if rendering would change a file: CI's docs job runs it.

Ratios are ratios of the medians (the benchmark's --json holds medians only); the benchmark's own
table prints the medians of the per-repeat ratios, which differ from these by the noise.
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
DATA = os.path.join(ROOT, "docs", "bench", "sockframe_bench.json")
TARGETS = {"summary": os.path.join(ROOT, "README.md"), "full": os.path.join(ROOT, "docs", "performance.md")}
# Other benchmarks' files and where they are rendered (only once the file has been recorded).
RESP_DECODE = os.path.join(ROOT, "docs", "bench", "resp_decode.json")
RESP_SERVER = os.path.join(ROOT, "docs", "bench", "resp_server.json")
RESP_DOC = os.path.join(ROOT, "docs", "resp.md")


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
    if not argv:
        sys.exit("usage: render_bench.py record BENCH [ARGS...]")
    cmd = [argv[0], "--json"] + argv[1:]
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    results = json.loads(out)
    doc = {
        "command": " ".join(["sockframe_bench"] + argv[1:]),
        "date": datetime.date.today().isoformat(),
        "machine": "%d CPUs of %s, %s %s" % (os.cpu_count() or 0, cpu_model(), platform.system(), platform.release()),
        "results": results,
    }
    os.makedirs(os.path.dirname(DATA), exist_ok=True)
    with open(DATA, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print("wrote", os.path.relpath(DATA, ROOT), "(%d rows)" % len(results))


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
    save(RESP_DECODE, {"command": " ".join(["sockframe_resp_decode_bench"] + argv[1:]),
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
    tmp = RESP_SERVER + ".tmp"
    script = os.path.join(ROOT, "benchmarks", "resp_bench.py")
    subprocess.run([sys.executable, script, "--server", argv[0], "--json", tmp] + argv[1:], check=True)
    with open(tmp) as f:
        rows = json.load(f)
    os.remove(tmp)
    save(RESP_SERVER, {"command": " ".join(["benchmarks/resp_bench.py", "--server", "resp_server"] + argv[1:]),
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
    ratios = {r["test"]: r["ratio_resp_server_to_redis"] for r in rows if "ratio_resp_server_to_redis" in r}
    out = ["| test | redis-server requests/s | resp_server requests/s | resp_server ÷ redis-server |",
           "|---|---:|---:|---:|"]
    command = ""
    for test, ratio_value in ratios.items():
        out.append("| %s | %s | %s | %.2f |" % (test, human(rps.get((test, "redis-server"), 0)),
                                              human(rps.get((test, "resp_server"), 0)), ratio_value))
    for r in rows:
        if r.get("test") == "cpu_seconds_per_million_requests":
            command = r.get("command", "")
            out.append("| CPU s per million requests | %.2f | %.2f | %.2f (redis ÷ resp_server) |" % (
                r["redis-server"], r["resp_server"], r["ratio_redis_to_resp_server_cpu"]))
    out += ["", "Measured %s on %s: `%s`, each server in turn for every round (`%s`; requests/s are "
            "medians over the rounds). Rendered by `tools/render_bench.py` from "
            "`docs/bench/resp_server.json`." % (doc["date"], doc["machine"], doc["command"], command)]
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


def footer(doc):
    return ("Measured %s on %s: `%s` (medians; ratios are ratios of the medians). "
            "Rendered by `tools/render_bench.py` from `docs/bench/sockframe_bench.json`."
            % (doc["date"], doc["machine"], doc["command"]))


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


def rendered():
    with open(DATA) as f:
        doc = json.load(f)
    changes = {}
    for name, path in TARGETS.items():
        with open(path) as f:
            text = f.read()
        begin, end = "<!-- bench:%s:begin -->" % name, "<!-- bench:%s:end -->" % name
        pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
        if not pattern.search(text):
            sys.exit("%s: no %s ... %s markers" % (path, begin, end))
        table = summary(doc) if name == "summary" else full(doc)
        new = pattern.sub(lambda _: begin + "\n" + table + "\n" + end, text)
        changes[path] = (text, new)
    for name, data, render in (("resp_decode", RESP_DECODE, resp_decode_table),
                               ("resp_server", RESP_SERVER, resp_server_table)):
        if not os.path.exists(data):
            continue
        with open(data) as f:
            doc = json.load(f)
        path = RESP_DOC
        text = changes[path][1] if path in changes else open(path).read()
        old = changes[path][0] if path in changes else text
        begin, end = "<!-- bench:%s:begin -->" % name, "<!-- bench:%s:end -->" % name
        pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
        if not pattern.search(text):
            sys.exit("%s: no %s ... %s markers" % (path, begin, end))
        new = pattern.sub(lambda _: begin + "\n" + render(doc) + "\n" + end, text)
        changes[path] = (old, new)
    return changes


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
