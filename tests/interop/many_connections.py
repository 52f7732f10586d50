#!/usr/bin/env python3
"""framed_echo serve holds thousands of concurrent pipelining connections on one poller thread.

    many_connections.py FRAMED_ECHO [CONNECTIONS]

Opens CONNECTIONS (default 3000) TCP connections to one server and keeps them all open. In each of
three rounds every connection sends two length-prefixed frames before any echo is read (pipelined),
then every echo is read back and checked. Prints the server's resident memory before and after, and
the memory per idle connection. Every process and socket is closed before exit; waits are bounded.
"""
import os
import resource
import socket
import struct
import subprocess
import sys
import time


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


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
    if hard != resource.RLIM_INFINITY and hard < need:
        print("skipped: RLIMIT_NOFILE hard limit %d < %d needed" % (hard, need))
        return 0
    if soft != resource.RLIM_INFINITY and soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))  # the server inherits it
    server = subprocess.Popen([framed_echo, "serve", "--codec", "len:4"], stdout=subprocess.PIPE, text=True)
    sockets = []
    try:
        line = server.stdout.readline()
        if not line.startswith("READY "):
            raise RuntimeError("server did not start: %r" % line)
        port = int(line.split()[1])
        before = rss_kib(server.pid)
        deadline = time.monotonic() + 120
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            sockets.append(s)
        for rnd in range(3):
            for i, s in enumerate(sockets):
                a = b"%d-%d-a" % (rnd, i)
                b = b"%d-%d-bb" % (rnd, i)
                s.sendall(struct.pack(">I", len(a)) + a + struct.pack(">I", len(b)) + b)
            for i, s in enumerate(sockets):
                for expected in (b"%d-%d-a" % (rnd, i), b"%d-%d-bb" % (rnd, i)):
                    (n,) = struct.unpack(">I", read_exact(s, 4))
                    got = read_exact(s, n)
                    if got != expected:
                        raise RuntimeError("connection %d: got %r, expected %r" % (i, got, expected))
            if time.monotonic() > deadline:
                raise RuntimeError("too slow: over 120 s")
        after = rss_kib(server.pid)
        if server.poll() is not None:
            raise RuntimeError("server exited")
        print("connections: %d open at once, 3 pipelined rounds of 2 frames each, all echoed" % count)
        print("server RSS: %d KiB before, %d KiB with every connection open and idle" % (before, after))
        print("memory per idle connection: %.1f KiB (user space, besides kernel socket buffers)"
              % ((after - before) / count))
        print("1 passed, 0 failed")
        return 0
    finally:
        for s in sockets:
            s.close()
        if server.poll() is None:
            server.kill()
        server.wait(timeout=30)
        server.stdout.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3000))
