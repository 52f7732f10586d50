#!/usr/bin/env python3
"""framed_echo over TLS: `serve --tls-cert/--tls-key` against `send --tls`, every codec, and the
verification failures `send` must report as `FAIL <reason>` (exit 1): a CA it does not trust, an
expired certificate, a host name the certificate does not name; --insecure alone accepts them.
Also Python's ssl module as a client of the TLS server. Certificates are made here with the
openssl command in a temporary directory removed at the end.

usage: tls_framed_echo.py FRAMED_ECHO"""
import os
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import tempfile

BIN = sys.argv[1]
TIMEOUT = 60
failures = []


def run(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_pki(d):
    def key(name):
        run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", f"{d}/{name}.key")

    for ca in ("ca", "other_ca"):
        key(ca)
        run("openssl", "req", "-x509", "-new", "-key", f"{d}/{ca}.key", "-subj", f"/CN={ca}", "-days", "2",
            "-out", f"{d}/{ca}.pem")
    for name, issuer, days in (("server", "ca", "2"), ("expired", "ca", "-1"), ("foreign", "other_ca", "2")):
        key(name)
        with open(f"{d}/{name}.ext", "w") as f:
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        run("openssl", "req", "-new", "-key", f"{d}/{name}.key", "-subj", "/CN=localhost", "-out", f"{d}/{name}.csr")
        run("openssl", "x509", "-req", "-in", f"{d}/{name}.csr", "-CA", f"{d}/{issuer}.pem", "-CAkey",
            f"{d}/{issuer}.key", "-CAcreateserial", "-days", days, "-out", f"{d}/{name}.pem", "-extfile",
            f"{d}/{name}.ext")


class server:
    def __init__(self, d, cert, codec):
        self.p = subprocess.Popen([BIN, "serve", "--codec", codec, "--host", "127.0.0.1", "--port", "0",
                                   "--tls-cert", f"{d}/{cert}.pem", "--tls-key", f"{d}/{cert}.key"],
                                  stdout=subprocess.PIPE, text=True)
        line = self.p.stdout.readline().split()
        assert line and line[0] == "READY", line
        self.port = line[1]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.p.kill()  # stopped by its PID
        self.p.wait()


def send(port, codec, *extra, sizes="0,1,100,5000,70000", count="200"):
    r = subprocess.run([BIN, "send", "--codec", codec, "--host", "127.0.0.1", "--port", port, "--count", count,
                        "--sizes", sizes, "--tls", *extra], capture_output=True, text=True, timeout=TIMEOUT)
    return r.returncode, r.stdout.strip()


def expect(what, got, code, prefix, words=()):
    rc, out = got
    ok = rc == code and out.startswith(prefix) and all(w in out.lower() for w in words)
    print(("ok   " if ok else "FAIL ") + what + ": " + repr(out) + f" (exit {rc})")
    if not ok:
        failures.append(what)


def main():
    d = tempfile.mkdtemp(prefix="sockframe-tls-echo-")
    try:
        make_pki(d)
        for codec, sizes in (("len:4", None), ("len:2:le", "0,1,100,5000,65535"), ("len:8", None),
                             ("varint", None), ("line", "1,100,5000"), ("delim:||", "0,1,100,5000"),
                             ("fixed:64", "64")):
            with server(d, "server", codec) as s:
                extra = {} if sizes is None else {"sizes": sizes}
                expect(f"echo {codec}", send(s.port, codec, "--ca", f"{d}/ca.pem", **extra), 0, "OK")
        with server(d, "server", "len:4") as s:
            expect("verified by IP address", send(s.port, "len:4", "--ca", f"{d}/ca.pem", "--sni", "127.0.0.1"),
                   0, "OK")
            expect("system store does not know the test CA", send(s.port, "len:4"), 1, "FAIL",
                   ("verify", "issuer"))
            expect("wrong host name", send(s.port, "len:4", "--ca", f"{d}/ca.pem", "--sni", "elsewhere.test"), 1,
                   "FAIL", ("verify", "hostname mismatch"))
            expect("--insecure alone", send(s.port, "len:4", "--insecure"), 0, "OK")
            # Python's ssl module as a client of the same server
            ctx = ssl.create_default_context(cafile=f"{d}/ca.pem")
            with ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(s.port)), timeout=TIMEOUT),
                                 server_hostname="localhost") as t:
                t.sendall(struct.pack(">I", 5) + b"hello")
                got = b""
                while len(got) < 9:
                    got += t.recv(9 - len(got))
                ok = got == struct.pack(">I", 5) + b"hello"
                print(("ok   " if ok else "FAIL ") + "python ssl client: " + repr(got))
                if not ok:
                    failures.append("python ssl client")
        with server(d, "expired", "len:4") as s:
            expect("expired certificate", send(s.port, "len:4", "--ca", f"{d}/ca.pem"), 1, "FAIL",
                   ("verify", "expired"))
            expect("expired, --insecure", send(s.port, "len:4", "--insecure"), 0, "OK")
        with server(d, "foreign", "len:4") as s:
            expect("certificate from another CA", send(s.port, "len:4", "--ca", f"{d}/ca.pem"), 1, "FAIL",
                   ("verify",))
    finally:
        shutil.rmtree(d, ignore_errors=True)
    if failures:
        print("failed:", ", ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
