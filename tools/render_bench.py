#!/usr/bin/env python3
"""Records a sockframe_bench run and renders its figures into the docs.

  python3 tools/render_bench.py record BENCH [BENCH-ARGS...]
      runs BENCH --json with the given arguments and writes docs/bench/sockframe_bench.json:
      the benchmark's own JSON array plus the machine, the command and the date.
  python3 tools/render_bench.py render
      rewrites the tables between the markers
          <!-- bench:summary:begin --> ... <!-- bench:summary:end -->   (README.md)
          <!-- bench:full:begin --> ... <!-- bench:full:end -->         (docs/performance.md)
      from that file, and
          <!-- bench:include:begin --> ... <!-- bench:include:end -->   (docs/performance.md)
      from docs/bench/include_time.json, which `python3 tools/include_time.py --record FILE`
      writes. No figure in the docs is typed by hand.
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
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "docs", "bench", "sockframe_bench.json")
INCLUDE_DATA = os.path.join(ROOT, "docs", "bench", "include_time.json")
TARGETS = {"summary": os.path.join(ROOT, "README.md"), "full": os.path.join(ROOT, "docs", "performance.md"),
           "include": os.path.join(ROOT, "docs", "performance.md")}


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


def rendered():
    with open(DATA) as f:
        doc = json.load(f)
    with open(INCLUDE_DATA) as f:
        include_doc = json.load(f)
    changes = {}
    for name, path in TARGETS.items():
        with open(path) as f:
            text = f.read()
        if path in changes:
            text = changes[path][1]
        begin, end = "<!-- bench:%s:begin -->" % name, "<!-- bench:%s:end -->" % name
        pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
        if not pattern.search(text):
            sys.exit("%s: no %s ... %s markers" % (path, begin, end))
        if name == "include":
            table = include_table(include_doc)
        else:
            table = summary(doc) if name == "summary" else full(doc)
        new = pattern.sub(lambda _: begin + "\n" + table + "\n" + end, text)
        changes[path] = (changes[path][0] if path in changes else text, new)
    return changes


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("record", "render", "check"):
        sys.exit(__doc__)
    if sys.argv[1] == "record":
        record(sys.argv[2:])
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
