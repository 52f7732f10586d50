#!/usr/bin/env python3
"""Measures what `#include <sockframe/...>` costs to compile, against `#include <asio.hpp>`.

    python3 tools/include_time.py [--compiler g++] [--std c++17] [--repeats 7] [--json]
                                  [--record docs/bench/include_time.json]

Each case is a translation unit holding only its includes, compiled to an object file
(`-c -O0`, what an edit-compile cycle pays). The cases run interleaved, `repeats` rounds, in one
run of this script; each figure is the median of its rounds, and each ratio the median of the
per-round ratios to Asio (so a machine that speeds up or slows down favours none). Asio is the
standalone header of Debian's libasio-dev (ASIO_STANDALONE). The printed figures are wall-clock;
--json and --record also give the compiler's CPU time (user + system), which a busy machine
disturbs less. --record writes the rows, the machine, the command and the date to a JSON file
that tools/render_bench.py renders into docs/performance.md.

Cases:
  asio        #include <asio.hpp>
  full        #include <sockframe/sockframe.hpp>                 (include/)
  single      the single header, single_include/sockframe/sockframe.hpp
  core        #include <sockframe/socket.hpp>, <sockframe/framed.hpp>, <sockframe/length_prefix.hpp>
  empty       an empty file (the compiler's own start-up, shown for scale)
  full_sep    full, with SOCKFRAME_SEPARATE_COMPILATION (what each unit pays; src/sockframe.cpp
              is compiled once more per program)
  core_sep    core, with SOCKFRAME_SEPARATE_COMPILATION
"""
import argparse
import datetime
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CASES = {
    "asio": ("#define ASIO_STANDALONE\n#include <asio.hpp>\n", []),
    "full": ("#include <sockframe/sockframe.hpp>\n", ["-I", os.path.join(ROOT, "include")]),
    "single": ("#include <sockframe/sockframe.hpp>\n", ["-I", os.path.join(ROOT, "single_include")]),
    "core": ("#include <sockframe/socket.hpp>\n#include <sockframe/framed.hpp>\n#include <sockframe/length_prefix.hpp>\n",
             ["-I", os.path.join(ROOT, "include")]),
    "empty": ("", []),
    "full_sep": ("#include <sockframe/sockframe.hpp>\n",
                 ["-DSOCKFRAME_SEPARATE_COMPILATION", "-I", os.path.join(ROOT, "include")]),
    "core_sep": ("#include <sockframe/socket.hpp>\n#include <sockframe/framed.hpp>\n#include <sockframe/length_prefix.hpp>\n",
                 ["-DSOCKFRAME_SEPARATE_COMPILATION", "-I", os.path.join(ROOT, "include")]),
}


def compile_once(compiler, std, source, flags, workdir):
    obj = os.path.join(workdir, "out.o")
    cmd = [compiler, "-std=" + std, "-O0", "-c", "-x", "c++", source, "-o", obj] + flags
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        sys.exit("compile failed: %s\n%s" % (" ".join(cmd), r.stderr[:2000]))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--compiler", default="g++")
    ap.add_argument("--std", default="c++17")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--cases", default="asio,full,single,core,empty,full_sep,core_sep")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--record", metavar="FILE", help="also write the rows and the run's details to FILE (JSON)")
    args = ap.parse_args()
    names = [c for c in args.cases.split(",") if c]
    for n in names:
        if n not in CASES:
            sys.exit("unknown case %s (known: %s)" % (n, ", ".join(CASES)))
    times = {n: [] for n in names}
    cpus = {n: [] for n in names}
    with tempfile.TemporaryDirectory() as work:
        sources = {}
        for n in names:
            path = os.path.join(work, n + ".cpp")
            with open(path, "w") as f:
                f.write(CASES[n][0])
            sources[n] = path
        for n in names:  # warm the file cache once
            compile_once(args.compiler, args.std, sources[n], CASES[n][1], work)
        for r in range(args.repeats):
            order = names if r % 2 == 0 else list(reversed(names))
            for n in order:
                wall, cpu = compile_once(args.compiler, args.std, sources[n], CASES[n][1], work)
                times[n].append(wall)
                cpus[n].append(cpu)
    rows = []
    for n in names:
        row = {"case": n, "seconds": statistics.median(times[n]), "cpu_seconds": statistics.median(cpus[n])}
        if "asio" in times and n != "asio":
            row["x_asio"] = statistics.median(t / a for t, a in zip(times[n], times["asio"]))
            row["cpu_x_asio"] = statistics.median(t / a for t, a in zip(cpus[n], cpus["asio"]) if a > 0)
        rows.append(row)
    if args.record:
        version = subprocess.run([args.compiler, "--version"], stdout=subprocess.PIPE, text=True).stdout
        doc = {
            "command": "python3 tools/include_time.py --compiler %s --std %s --repeats %d --cases %s"
                       % (args.compiler, args.std, args.repeats, ",".join(names)),
            "compiler": version.splitlines()[0] if version else args.compiler,
            "date": datetime.date.today().isoformat(),
            "machine": "%d CPUs, %s %s" % (os.cpu_count() or 0, platform.system(), platform.release()),
            "rows": rows,
        }
        with open(args.record, "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    print("%s -std=%s -O0 -c, %d rounds, medians (x asio: median of the per-round ratios)"
          % (args.compiler, args.std, args.repeats))
    for row in rows:
        ratio = "%.2f" % row["x_asio"] if "x_asio" in row else "-"
        print("  %-9s %7.3f s   x asio %s" % (row["case"], row["seconds"], ratio))


if __name__ == "__main__":
    main()
