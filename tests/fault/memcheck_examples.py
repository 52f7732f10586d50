#!/usr/bin/env python3
"""The examples under valgrind memcheck: framed_echo serve (through good, oversized, reset and
truncated clients, then a clean exit with --exit-after) and framed_echo send.

    memcheck_examples.py FRAMED_ECHO

Each run under valgrind must exit 0 (--error-exitcode=1 --leak-check=full: any memory error or
definite leak fails it). Every wait is bounded; every process is reaped.
"""
import socket
import struct
import subprocess
import sys

VALGRIND = ["valgrind", "--quiet", "--error-exitcode=1", "--leak-check=full",
            "--errors-for-leak-kinds=definite", "--track-fds=no"]
TIMEOUT = 300


def start(argv):
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()  # bounded: the server prints READY or exits
    if not line.startswith("READY "):
        proc.kill()
        proc.wait(timeout=30)
        raise RuntimeError("server did not start: %r" % line)
    return proc, int(line.split()[1])


def main(fe):
    failures = []
    # 1. the server under valgrind, four connections, then a clean exit
    server, port = start(VALGRIND + [fe, "serve", "--codec", "len:4", "--max-frame", "100000", "--exit-after", "4"])
    try:
        r = subprocess.run([fe, "send", "--codec", "len:4", "--host", "127.0.0.1", "--port", str(port),
                            "--count", "50", "--sizes", "0,1,1000,70000"], stdout=subprocess.PIPE, text=True,
                           timeout=TIMEOUT)
        if r.stdout.strip() != "OK 50":
            failures.append("send to the server under valgrind: " + r.stdout.strip())
        for wire, how in ((struct.pack(">I", 0xFFFFFFFF), "close"), (struct.pack(">I", 10) + b"abc", "reset"),
                          (struct.pack(">I", 10) + b"abc", "close")):
            s = socket.create_connection(("127.0.0.1", port), timeout=60)
            s.sendall(wire)
            if how == "reset":
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                s.shutdown(socket.SHUT_WR)
                try:
                    s.recv(1)  # until the server closes it
                except OSError:
                    pass
            s.close()
        code = server.wait(timeout=TIMEOUT)
        if code != 0:
            failures.append("framed_echo serve under valgrind exited with %d" % code)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=30)
        server.stdout.close()
    # 2. the client under valgrind, against a native server
    server, port = start([fe, "serve", "--codec", "varint", "--max-frame", "100000"])
    try:
        r = subprocess.run(VALGRIND + [fe, "send", "--codec", "varint", "--host", "127.0.0.1", "--port", str(port),
                                       "--count", "30", "--sizes", "0,5,70000"], stdout=subprocess.PIPE, text=True,
                           timeout=TIMEOUT)
        if r.returncode != 0 or r.stdout.strip() != "OK 30":
            failures.append("framed_echo send under valgrind: exit %d, %s" % (r.returncode, r.stdout.strip()))
    finally:
        server.kill()
        server.wait(timeout=30)
        server.stdout.close()
    for f in failures:
        print("FAILED", f)
    print("memcheck: %s" % ("clean" if not failures else "%d failures" % len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
