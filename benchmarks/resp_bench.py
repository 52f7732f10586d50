#!/usr/bin/env python3
"""resp_server against redis-server under redis-benchmark, in one run.

  benchmarks/resp_bench.py --server build/rel/examples/resp_server [--requests 1000000]
                           [--pipeline 16] [--tests ping,set,get] [--rounds 3] [--json out.json]

Starts redis-server (persistence off, one I/O thread) and resp_server on free loopback ports,
then runs `redis-benchmark -P <pipeline> -n <requests> -t <tests> --csv` against each in turn,
alternating for several rounds (the machine is shared: alternating spreads its noise over both),
and prints one JSON row per test and server (median requests/s over the rounds) and the ratio
resp_server / redis-server. Both servers are stopped by their PIDs at the end.
"""
import argparse
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(argv, ready):
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for _ in range(1000):
        line = proc.stdout.readline()
        if not line:
            break
        port = ready(line)
        if port:
            return proc, port
    proc.kill()
    proc.wait()
    sys.exit("%s did not start" % argv[0])


def stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def bench(port, opts):
    argv = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-P", str(opts.pipeline), "-n",
            str(opts.requests), "-t", opts.tests, "--csv"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=3600, check=True).stdout
    rows = {}
    for line in out.splitlines()[1:]:
        cells = [c.strip('"') for c in line.split(",")]
        rows[cells[0]] = float(cells[1])
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True, help="the resp_server program")
    parser.add_argument("--requests", type=int, default=1000000)
    parser.add_argument("--pipeline", type=int, default=16)
    parser.add_argument("--tests", default="ping,set,get")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", help="also write the rows to this file")
    opts = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="resp_bench_")
    redis_port = free_port()
    redis, _ = start(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                      "--appendonly", "no", "--io-threads", "1", "--dir", tmp, "--logfile", ""],
                     lambda line: redis_port if "Ready to accept connections" in line else None)
    ours, ours_port = start([opts.server, "--port", "0"],
                            lambda line: int(line.split()[1]) if line.startswith("READY ") else None)
    results = {"redis-server": {}, "resp_server": {}}
    try:
        for _ in range(opts.rounds):
            for name, port in (("redis-server", redis_port), ("resp_server", ours_port)):
                for test, rps in bench(port, opts).items():
                    results[name].setdefault(test, []).append(rps)
    finally:
        stop(ours)
        stop(redis)
        shutil.rmtree(tmp, ignore_errors=True)

    rows = []
    command = "redis-benchmark -P %d -n %d -t %s --csv" % (opts.pipeline, opts.requests, opts.tests)
    for test in results["redis-server"]:
        base = statistics.median(results["redis-server"][test])
        mine = statistics.median(results["resp_server"].get(test, [0.0]))
        for name, value, samples in (("redis-server", base, results["redis-server"][test]),
                                     ("resp_server", mine, results["resp_server"].get(test, []))):
            rows.append({"bench": "resp_server", "test": test, "server": name, "requests_per_s": value,
                         "samples": samples, "command": command})
        rows.append({"bench": "resp_server", "test": test, "ratio_resp_server_to_redis": mine / base if base else 0})
    for row in rows:
        print(json.dumps(row))
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
