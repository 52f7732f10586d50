#!/usr/bin/env python3
"""resp_server against redis-server under redis-benchmark, in one run.

  benchmarks/resp_bench.py --server build/rel/examples/resp_server [--requests 1000000]
                           [--pipeline 16] [--tests ping,set,get] [--rounds 3] [--json out.json]
                           [--pin]

Starts redis-server (persistence off, one I/O thread), resp_server as it runs by default (busy
polling for 50 microseconds after each burst of work) and resp_server with `--busy-poll 0` on free
loopback ports, then runs `redis-benchmark -P <pipeline> -n <requests> -t <test> --csv` for each
of the tests against each server, the three back to back and the first of them rotating, for
several rounds (the machine is shared and its speed drifts over seconds: rotating spreads that
over all), and prints one JSON row per test and server (median requests/s over the rounds) and
the ratios to redis-server (the median of the per-round ratios); also each server's CPU time per
million requests (from /proc, Linux), which other load on the machine disturbs much less than
requests/s, and the same for redis-benchmark itself against each server (on two CPUs the client
is often the one that sets the pace). The servers are stopped by their PIDs at the end.
"""
import argparse
import json
import os
import resource
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


def cpu_seconds(pid):
    """User + system CPU time of a process (all its threads), from /proc (Linux)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds():
    """User + system CPU time of the children waited for so far (the redis-benchmark runs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def pinned(cpu, opts):
    """`taskset -c CPU` with --pin (servers on CPU 1, redis-benchmark on CPU 0), else nothing."""
    return ["taskset", "-c", str(cpu)] if opts.pin else []


def bench(port, opts, tests):
    argv = pinned(0, opts) + ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-P", str(opts.pipeline), "-n",
            str(opts.requests), "-t", tests, "--csv"]
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
    parser.add_argument("--pin", action="store_true",
                        help="the servers on CPU 1 and redis-benchmark on CPU 0 (taskset): the same "
                             "placement for all, and no migrations between the two CPUs")
    opts = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="resp_bench_")
    redis_port = free_port()
    redis, _ = start(pinned(1, opts) + ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                      "--appendonly", "no", "--io-threads", "1", "--dir", tmp, "--logfile", ""],
                     lambda line: redis_port if "Ready to accept connections" in line else None)
    variants = {"resp_server": [], "resp_server_no_busy_poll": ["--busy-poll", "0"]}  # extra arguments
    names = ["redis-server"] + list(variants)
    ours = []  # (name, port, process)
    results = {name: {} for name in names}
    cpu = {name: [] for name in names}  # server CPU seconds per million requests
    client_cpu = {name: [] for name in names}  # redis-benchmark's, against each
    tests = len(opts.tests.split(","))
    try:
        for name, extra in variants.items():
            proc, port = start(pinned(1, opts) + [opts.server, "--port", "0"] + extra,
                               lambda line: int(line.split()[1]) if line.startswith("READY ") else None)
            ours.append((name, port, proc))
        servers = [("redis-server", redis_port, redis)] + ours
        for r in range(opts.rounds):
            used = {name: 0.0 for name in names}
            client_used = {name: 0.0 for name in names}
            # Test by test, the servers back to back (about a second each), the first of them
            # rotating: the machine's speed drifts over seconds, and each server should meet as
            # much of it as the others.
            for k, group in enumerate(opts.tests.split(",")):
                first = (r + k) % len(servers)
                for name, port, proc in servers[first:] + servers[:first]:
                    before = cpu_seconds(proc.pid)
                    client_before = children_cpu_seconds()
                    for test, rps in bench(port, opts, group).items():
                        results[name].setdefault(test, []).append(rps)
                    used[name] += cpu_seconds(proc.pid) - before
                    client_used[name] += children_cpu_seconds() - client_before
            for name in used:
                cpu[name].append(used[name] * 1e6 / (opts.requests * (tests + 1)))  # ping runs twice
                client_cpu[name].append(client_used[name] * 1e6 / (opts.requests * (tests + 1)))
    finally:
        for _, _, proc in ours:
            stop(proc)
        stop(redis)
        shutil.rmtree(tmp, ignore_errors=True)

    rows = []
    command = "redis-benchmark -P %d -n %d -t TEST --csv, TEST in %s" % (opts.pipeline, opts.requests, opts.tests)
    ratio_keys = {"resp_server": "ratio_resp_server_to_redis",
                  "resp_server_no_busy_poll": "ratio_no_busy_poll_to_redis"}
    for test in results["redis-server"]:
        ratio_row = {"bench": "resp_server", "test": test}
        for name in names:
            samples = results[name].get(test, [])
            rows.append({"bench": "resp_server", "test": test, "server": name,
                         "requests_per_s": statistics.median(samples) if samples else 0.0,
                         "samples": samples, "command": command})
            if name in ratio_keys:
                # the median of the per-round ratios: the servers ran back to back for each test,
                # so a round's ratio is what the machine's drift disturbs least
                per_round = [m / b for b, m in zip(results["redis-server"][test], samples) if b]
                ratio_row[ratio_keys[name]] = statistics.median(per_round) if per_round else 0
        rows.append(ratio_row)
    # CPU time per request is far less sensitive than requests/s to other load on the machine
    server_row = {"bench": "resp_server", "test": "cpu_seconds_per_million_requests", "command": command}
    client_row = {"bench": "resp_server", "test": "client_cpu_seconds_per_million_requests", "command": command}
    for name in names:
        server_row[name] = statistics.median(cpu[name])
        client_row[name] = statistics.median(client_cpu[name])
    server_row["ratio_redis_to_resp_server_cpu"] = (
        server_row["redis-server"] / server_row["resp_server"] if server_row["resp_server"] else 0)
    rows += [server_row, client_row]
    for row in rows:
        print(json.dumps(row))
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
