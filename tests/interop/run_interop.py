#!/usr/bin/env python3
"""framed_echo against the Python peers in peers.py, both directions, every codec.

    run_interop.py FRAMED_ECHO

Every process started here is stopped and reaped before exit, and every wait is bounded.
"""
import os
import socket
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = [sys.executable, os.path.join(HERE, "peers.py")]
SPECS = ["len:1", "len:2", "len:2:le", "len:4", "len:4:le", "len:8", "len:8:le", "varint", "line",
         "delim:\\r\\n", "delim:$_", "fixed:16"]
TIMEOUT = 120


class Server:
    """A server process that prints READY <port>; killed and reaped on exit."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()  # bounded: the server prints READY or exits
        if not line.startswith("READY "):
            self.close()
            raise RuntimeError("server did not start: %r (%s)" % (line, " ".join(argv)))
        self.port = int(line.split()[1])

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)
        self.proc.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def run(argv):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=TIMEOUT)
    return r.returncode, r.stdout.strip()


failures = []
checks = 0


def expect(what, got, wanted):
    global checks
    checks += 1
    if got != wanted:
        failures.append("%s: got %r, wanted %r" % (what, got, wanted))
        print("FAILED", what, "->", got)
    else:
        print("ok    ", what)


def sizes_for(spec):
    if spec.startswith("fixed"):
        return "16"
    if spec.startswith("len:1"):
        return "0,1,7,200,255"
    if spec.startswith("len:2"):
        return "0,1,7,200,1000,65535"
    return "0,1,7,200,1000,70000"


def main(framed_echo):
    for spec in SPECS:
        sizes = sizes_for(spec)
        # Python client -> sockframe server (whole writes, then byte by byte, then uppercased)
        with Server([framed_echo, "serve", "--codec", spec]) as s:
            base = PEERS + ["send", "--codec", spec, "--port", str(s.port), "--sizes", sizes]
            expect("python -> framed_echo %s" % spec, run(base + ["--count", "60"]), (0, "OK 60"))
            small = "16" if spec.startswith("fixed") else "0,3,40"
            expect("python byte-by-byte -> framed_echo %s" % spec,
                   run(PEERS + ["send", "--codec", spec, "--port", str(s.port), "--sizes", small,
                                "--count", "20", "--byte-by-byte"]), (0, "OK 20"))
        with Server([framed_echo, "serve", "--codec", spec, "--upper"]) as s:
            expect("python -> framed_echo --upper %s" % spec,
                   run(PEERS + ["send", "--codec", spec, "--port", str(s.port), "--sizes", sizes, "--count", "10",
                                "--expect-upper"]), (0, "OK 10"))
        # sockframe client -> Python server
        with Server(PEERS + ["serve", "--codec", spec]) as s:
            expect("framed_echo -> python %s" % spec,
                   run([framed_echo, "send", "--codec", spec, "--host", "127.0.0.1", "--port", str(s.port),
                        "--count", "60", "--sizes", sizes, "--seed", "7"]), (0, "OK 60"))
        with Server(PEERS + ["serve", "--codec", spec, "--upper"]) as s:
            expect("framed_echo --expect-upper -> python %s" % spec,
                   run([framed_echo, "send", "--codec", spec, "--host", "127.0.0.1", "--port", str(s.port),
                        "--count", "10", "--sizes", sizes, "--expect-upper"]), (0, "OK 10"))

    # A framing error closes that connection only; the server keeps serving.
    with Server([framed_echo, "serve", "--codec", "len:4", "--max-frame", "100"]) as s:
        bad = socket.create_connection(("127.0.0.1", s.port), timeout=30)
        bad.sendall(struct.pack(">I", 0xFFFFFFFF) + b"xxxx")
        expect("oversized length closes the connection", bad.recv(1), b"")
        bad.close()
        expect("server still serves after a framing error",
               run(PEERS + ["send", "--codec", "len:4", "--port", str(s.port), "--sizes", "100", "--count", "5"]),
               (0, "OK 5"))
        expect("a frame over --max-frame is refused by the sender's own codec",
               run([framed_echo, "send", "--codec", "len:4", "--max-frame", "100", "--host", "127.0.0.1",
                    "--port", str(s.port), "--count", "1", "--sizes", "101"])[0], 1)
    # A peer that closes early makes `send` fail, not hang.
    with Server(PEERS + ["serve", "--codec", "len:2"]) as s:
        code, out = run([framed_echo, "send", "--codec", "len:4", "--host", "127.0.0.1", "--port", str(s.port),
                         "--count", "3", "--sizes", "70000"])
        expect("send reports a peer that closes early", (code, out.startswith("FAIL")), (1, True))
    # Usage errors exit 2.
    expect("bad codec spec is a usage error", run([framed_echo, "serve", "--codec", "len:3"])[0], 2)
    expect("send without --count is a usage error",
           run([framed_echo, "send", "--codec", "line", "--host", "h", "--port", "1", "--sizes", "1"])[0], 2)

    print("%d passed, %d failed" % (checks - len(failures), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
