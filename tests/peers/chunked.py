#!/usr/bin/env python3
"""curl against chunked_echo_http: chunked request bodies decoded, chunked replies received.

    chunked.py --server PATH --curl PATH

Starts chunked_echo_http on a free loopback port. curl sends a random file as a chunked body
(-H 'Transfer-Encoding: chunked' --data-binary @file) and writes the chunked reply to a file,
which must equal the original; then the same with a Content-Length body (curl receiving a chunked
reply only); then an empty chunked body. The server's "BODY" lines must report the sizes and a
reply cut into several chunks. The server is stopped by PID, the files are removed.
"""
import argparse
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time

DEADLINE = 60.0


def fail(why):
    print("FAIL " + why)
    sys.exit(1)


def lines_of(stream, into):
    for line in iter(stream.readline, ""):
        into.put(line.rstrip("\n"))
    into.put(None)


def next_line(q, until, what):
    try:
        line = q.get(timeout=max(0.0, until - time.monotonic()))
    except queue.Empty:
        fail("timed out waiting for " + what)
    if line is None:
        fail("chunked_echo_http exited before " + what)
    return line


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--curl", required=True)
    args = ap.parse_args()
    until = time.monotonic() + DEADLINE
    server = subprocess.Popen([args.server, "--port", "0", "--chunk", "1000"], stdout=subprocess.PIPE, text=True)
    out = queue.Queue()
    threading.Thread(target=lines_of, args=(server.stdout, out), daemon=True).start()
    try:
        with tempfile.TemporaryDirectory(prefix="sockframe-chunked-") as tmp:
            ready = next_line(out, until, "READY")
            if not ready.startswith("READY "):
                fail("unexpected first line: " + ready)
            url = "http://127.0.0.1:%s/echo" % ready.split()[1]
            cases = [("chunked request", 300001, ["-H", "Transfer-Encoding: chunked"]),
                     ("content-length request", 123457, []),
                     ("empty chunked request", 0, ["-H", "Transfer-Encoding: chunked"])]
            for name, size, extra in cases:
                sent = os.path.join(tmp, "sent.bin")
                got = os.path.join(tmp, "got.bin")
                head = os.path.join(tmp, "head.txt")
                with open(sent, "wb") as f:
                    f.write(os.urandom(size))
                cmd = [args.curl, "-sS", "--max-time", "30", "-o", got, "-D", head] + extra + \
                      ["--data-binary", "@" + sent, url]
                r = subprocess.run(cmd, capture_output=True, text=True, timeout=40)
                if r.returncode != 0:
                    fail("%s: curl exited %d: %s" % (name, r.returncode, r.stderr.strip()))
                with open(head) as f:
                    headers = f.read().lower()
                if "transfer-encoding: chunked" not in headers:
                    fail("%s: the reply was not chunked: %r" % (name, headers))
                with open(sent, "rb") as a, open(got, "rb") as b:
                    if a.read() != b.read():
                        fail("%s: the body curl wrote differs from the one sent (%d bytes, got %d)"
                             % (name, size, os.path.getsize(got)))
                line = next_line(out, until, "the BODY line")
                fields = line.split()
                if len(fields) != 4 or fields[0] != "BODY" or int(fields[1]) != size:
                    fail("%s: server said '%s'" % (name, line))
                received, replied = int(fields[2]), int(fields[3])
                if extra and size > 0 and received < 1:
                    fail("%s: no chunk decoded: '%s'" % (name, line))
                if replied != (size + 999) // 1000:
                    fail("%s: reply not cut into 1000-byte chunks: '%s'" % (name, line))
                print("OK %s: %d bytes, %d chunks decoded, %d chunks sent" % (name, size, received, replied))
    finally:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
