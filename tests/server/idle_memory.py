#!/usr/bin/env python3
"""Server memory per idle connection: VmRSS growth of `framed_echo serve` (framed_server on one
event loop) holding many idle loopback connections.

    idle_memory.py FRAMED_ECHO [CONNECTIONS]

Two figures, each (VmRSS after - VmRSS before) / CONNECTIONS (default 10000):
  - never used: the connections are open and have sent nothing;
  - after one echo: each has sent one 64-byte frame and read its echo, then gone idle; measured
    once the server's sweep (every second) has had time to give back the idle buffers.
Needs CONNECTIONS + 200 descriptors in this process and the server (RLIMIT_NOFILE is raised to
the hard limit when it is lower). Waits are bounded; every process and socket is closed on exit.
"""
import os
import resource
import socket
import struct
import subprocess
import sys
import time

DEADLINE = 120.0


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def until(what, predicate, timeout=DEADLINE):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.05)
    raise RuntimeError("timed out waiting for " + what)


def read_exact(sock, n):
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise RuntimeError("server closed a connection")
        data += chunk
    return bytes(data)


def main(framed_echo, count):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = count + 200
    if soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            print("SKIP: RLIMIT_NOFILE hard limit %d < %d" % (hard, need))
            return 0
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    server = subprocess.Popen([framed_echo, "serve", "--codec", "len:4"], stdout=subprocess.PIPE, text=True)
    socks = []
    try:
        line = server.stdout.readline().split()
        if len(line) != 2 or line[0] != "READY":
            raise RuntimeError("server did not start: %r" % line)
        port = int(line[1])
        base_fds = open_fds(server.pid)
        time.sleep(0.2)
        before = rss_kib(server.pid)
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
            socks.append(s)
        until("the server to accept every connection", lambda: open_fds(server.pid) >= base_fds + count)
        time.sleep(0.5)
        idle = rss_kib(server.pid)
        payload = b"x" * 64
        frame = struct.pack(">I", len(payload)) + payload
        for s in socks:
            s.sendall(frame)
        for s in socks:
            if read_exact(s, len(frame)) != frame:
                raise RuntimeError("wrong echo")
        used = rss_kib(server.pid)
        time.sleep(2.5)  # two sweeps: every connection has been idle for a whole interval
        settled = rss_kib(server.pid)
        print("connections:                    %d" % count)
        print("server VmRSS before:            %d KiB" % before)
        print("never used:  VmRSS %d KiB, %.3f KiB per connection" % (idle, (idle - before) / count))
        print("right after one echo each:      %d KiB, %.3f KiB per connection" % (used, (used - before) / count))
        print("idle again (buffers released):  %d KiB, %.3f KiB per connection" % (settled, (settled - before) / count))
        return 0
    finally:
        for s in socks:
            s.close()
        server.kill()
        server.wait(timeout=DEADLINE)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 10000))
