#!/usr/bin/env python3
"""haproxy (send-proxy / send-proxy-v2, mode tcp) in front of `framed_echo serve --proxy-protocol`.

    proxy.py --framed-echo PATH --haproxy PATH --version 1|2 [--tls]

With --tls, framed_echo serves TLS (a self-signed certificate made with the openssl command) and
haproxy talks to it with `send-proxy[-v2] ssl verify none`: the PROXY header in clear text,
then the TLS handshake on the same connection; the hand-written header is followed by a TLS
handshake made with Python's ssl module.

Starts framed_echo on a free loopback port, then haproxy with a generated configuration that
relays a free port to it with a PROXY header of the given version. A client sends 4-byte
big-endian length-prefixed frames through haproxy and checks every echo, and that framed_echo's
"PROXY <src-ip> <src-port> <dst-ip> <dst-port>" line names the client's own address and port and
haproxy's frontend. Then a direct connection without a header must be refused (closed without an
echo, reported on stderr). Both processes are stopped by PID; the configuration file is removed.
"""
import argparse
import os
import queue
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time

DEADLINE = 30.0  # seconds for the whole test


def fail(why):
    print("FAIL " + why)
    sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lines_of(stream, into):
    for line in iter(stream.readline, ""):
        into.put(line.rstrip("\n"))
    into.put(None)


def next_line(q, until, what):
    left = until - time.monotonic()
    if left <= 0:
        fail("timed out waiting for " + what)
    try:
        line = q.get(timeout=left)
    except queue.Empty:
        fail("timed out waiting for " + what)
    if line is None:
        fail("framed_echo exited before " + what)
    return line


def read_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def connect_with_retry(port, until):
    """haproxy binds its frontend shortly after it starts: retry refused connects, bounded."""
    attempts = 0
    while True:
        attempts += 1
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=5)
        except ConnectionRefusedError:
            if attempts >= 200 or time.monotonic() > until:
                fail("haproxy never accepted on port %d" % port)
            time.sleep(0.05)  # waiting for a peer program to bind, not for a result


def echo_frames(sock, count):
    payloads = [os.urandom(n) for n in (0, 1, 100, 5000, 70000)][:count]
    for p in payloads:
        sock.sendall(struct.pack(">I", len(p)) + p)
    for i, p in enumerate(payloads):
        head = read_exact(sock, 4)
        if head is None:
            fail("connection closed before echo %d" % i)
        (n,) = struct.unpack(">I", head)
        body = read_exact(sock, n)
        if body != p:
            fail("echo %d differs (%d bytes, expected %d)" % (i, n, len(p)))
    return len(payloads)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--framed-echo", required=True)
    ap.add_argument("--haproxy", required=True)
    ap.add_argument("--version", choices=("1", "2"), required=True)
    ap.add_argument("--tls", action="store_true")
    args = ap.parse_args()
    until = time.monotonic() + DEADLINE

    command = [args.framed_echo, "serve", "--codec", "len:4", "--port", "0", "--proxy-protocol"]
    pki = None
    if args.tls:
        pki = tempfile.mkdtemp(prefix="sockframe-proxy-tls-")
        cert, key = os.path.join(pki, "cert.pem"), os.path.join(pki, "key.pem")
        made = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                               "-nodes", "-keyout", key, "-out", cert, "-subj", "/CN=localhost", "-days", "1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if made.returncode != 0:
            shutil.rmtree(pki)
            fail("openssl req could not make a certificate")
        command += ["--tls-cert", cert, "--tls-key", key]
    echo = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = queue.Queue(), queue.Queue()
    threading.Thread(target=lines_of, args=(echo.stdout, out), daemon=True).start()
    threading.Thread(target=lines_of, args=(echo.stderr, err), daemon=True).start()
    haproxy = None
    config = None
    try:
        ready = next_line(out, until, "READY")
        if not ready.startswith("READY "):
            fail("unexpected first line: " + ready)
        echo_port = int(ready.split()[1])
        front = free_port()
        send = "send-proxy" if args.version == "1" else "send-proxy-v2"
        if args.tls:
            send += " ssl verify none"
        fd, config = tempfile.mkstemp(prefix="sockframe-haproxy-", suffix=".cfg")
        with os.fdopen(fd, "w") as f:
            f.write("global\n  maxconn 64\n"
                    "defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 30s\n  timeout server 30s\n"
                    "listen relay\n  bind 127.0.0.1:%d\n  server s1 127.0.0.1:%d %s\n" % (front, echo_port, send))
        haproxy = subprocess.Popen([args.haproxy, "-db", "-f", config],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        # Through haproxy: the PROXY line names this client, and every frame comes back intact.
        client = connect_with_retry(front, until)
        with client:
            client.settimeout(10)
            me = client.getsockname()
            n = echo_frames(client, 5)
            line = next_line(out, until, "the PROXY line")
            expected = "PROXY %s %d 127.0.0.1 %d" % (me[0], me[1], front)
            if line != expected:
                fail("got '%s', expected '%s'" % (line, expected))
        print("OK via haproxy %s: %d frames echoed, %s" % (send, n, line))

        # Directly, no header: refused (closed without an echo) and reported.
        with socket.create_connection(("127.0.0.1", echo_port), timeout=10) as direct:
            try:
                direct.sendall(struct.pack(">I", 5) + b"hello")
                got = direct.recv(100)
            except (ConnectionResetError, BrokenPipeError):
                got = b""
            if got:
                fail("a connection without a PROXY header was answered: %r" % got)
        why = next_line(err, until, "the refusal on stderr")
        if "refused" not in why or "PROXY" not in why:
            fail("unexpected stderr line: " + why)
        print("OK direct connection refused: " + why)

        # A v1 header written by hand (a trusted loopback peer): the addresses it names are shown.
        with socket.create_connection(("127.0.0.1", echo_port), timeout=10) as forged:
            forged.settimeout(10)
            forged.sendall(b"PROXY TCP6 2001:db8::7 ::1 65535 443\r\n")
            if args.tls:
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                with ctx.wrap_socket(forged) as secured:
                    echo_frames(secured, 5)
                    secured.unwrap()  # close_notify: framed_echo sees end-of-stream
            else:
                echo_frames(forged, 3)
            line = next_line(out, until, "the hand-written header's PROXY line")
            if line != "PROXY 2001:db8::7 65535 ::1 443":
                fail("hand-written header gave '%s'" % line)
        print("OK hand-written v1 header: " + line)
    finally:
        for p in (haproxy, echo):
            if p is not None and p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        if config is not None:
            os.unlink(config)
        if pki is not None:
            shutil.rmtree(pki)
    return 0


if __name__ == "__main__":
    sys.exit(main())
