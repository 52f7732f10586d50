#!/usr/bin/env python3
"""sfcat --tls against framed_echo serve's TLS mode, against openssl s_server and s_client, and
against itself (TCP and Unix), both directions; certificate verification failures and usage
errors give the documented exit codes.

    run_sfcat_tls.py SFCAT FRAMED_ECHO

Certificates are made here with `openssl req` (a self-signed one for localhost / 127.0.0.1, and
an unrelated one that must be refused). Every process started here is stopped and reaped, every
file removed, every wait bounded.
"""
import os
import selectors
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

SFCAT, FRAMED_ECHO = sys.argv[1], sys.argv[2]
TIMEOUT = 30
failures = []
checks = 0
procs = []


def expect(what, got, wanted):
    global checks
    checks += 1
    if got != wanted:
        failures.append("%s: got %r, wanted %r" % (what, got, wanted))
        print("FAILED", what, "-> got", repr(got)[:300], "wanted", repr(wanted)[:300])


def expect_in(what, needle, haystack):
    global checks
    checks += 1
    if needle not in haystack:
        failures.append("%s: %r not in %r" % (what, needle, haystack))
        print("FAILED", what, "->", repr(needle), "not in", repr(haystack)[:300])


def start(argv, **kw):
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    procs.append(p)
    return p


def finish(p, timeout=TIMEOUT):
    """Closes p's input, waits for it (bounded) and returns (exit status, rest of stdout, stderr)."""
    if not p.stdin.closed:
        p.stdin.close()
    out = read_until(p.stdout, lambda d: False, timeout)
    err = read_until(p.stderr, lambda d: False, 5)
    try:
        return p.wait(timeout=5), out, err
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return "timeout", out, err


def read_until(stream, done, timeout=TIMEOUT):
    """Reads stream (a pipe) until done(bytes so far) or end-of-file or the time is up."""
    sel = selectors.DefaultSelector()
    sel.register(stream, selectors.EVENT_READ)
    data = b""
    end = time.monotonic() + timeout
    try:
        while not done(data):
            left = end - time.monotonic()
            if left <= 0 or not sel.select(left):
                break
            chunk = os.read(stream.fileno(), 65536)
            if not chunk:
                break
            data += chunk
    finally:
        sel.close()
    return data


def listening_address(p):
    line = read_until(p.stderr, lambda d: d.endswith(b"\n")).decode(errors="replace")
    prefix = "sfcat: listening on "
    if not line.startswith(prefix):
        raise RuntimeError("sfcat --listen said %r" % line)
    return line[len(prefix):].split()[0]


def len4(payload):
    return struct.pack(">I", len(payload)) + payload


def sfcat(args, stdin=b""):
    r = subprocess.run([SFCAT] + args, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=TIMEOUT)
    return r.returncode, r.stdout, r.stderr.decode(errors="replace")


def make_cert(directory, name, cn):
    cert, key = os.path.join(directory, name + ".pem"), os.path.join(directory, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=" + cn,
                    "-addext", "subjectAltName=DNS:%s,IP:127.0.0.1" % cn, "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=TIMEOUT)
    return cert, key


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    tmp = tempfile.mkdtemp(prefix="sfcat_tls_")
    try:
        cert, key = make_cert(tmp, "server", "localhost")
        other, _ = make_cert(tmp, "other", "localhost")

        # ---- sfcat connecting to framed_echo serve (TLS): every line echoed, then end-of-stream
        echo = start([FRAMED_ECHO, "serve", "--codec", "len:4", "--tls-cert", cert, "--tls-key", key])
        ready = read_until(echo.stdout, lambda d: d.endswith(b"\n")).decode()
        expect("framed_echo serve ready", ready.startswith("READY "), True)
        port = ready.split()[1]
        lines = b"hello\n\na longer line, with: punctuation\n" + b"x" * 5000 + b"\nlast\n"
        rc, out, err = sfcat(["--tls", "--cafile", cert, "--codec", "len:4", "--timeout", "20", "localhost", port],
                             lines)
        expect("echo via localhost: status (%s)" % err.strip(), rc, 0)
        expect("echo via localhost: output", out, lines)
        rc, out, err = sfcat(["--tls", "--cafile", cert, "--json", "--count", "1", "--codec", "len:4", "127.0.0.1",
                              port], b"abc\n")
        expect("echo via 127.0.0.1 --json --count 1: status (%s)" % err.strip(), rc, 0)
        expect("echo via 127.0.0.1 --json --count 1: output", out, b'{"len":3,"data":"YWJj"}\n')

        # verification: refused certificates are exit 1 with the reason
        rc, out, err = sfcat(["--tls", "--codec", "len:4", "--timeout", "20", "localhost", port], b"hello\n")
        expect("system store only: status", rc, 1)
        expect_in("system store only: reason", "self", err)
        rc, out, err = sfcat(["--tls", "--cafile", other, "--codec", "len:4", "--timeout", "20", "localhost", port],
                             b"hello\n")
        expect("another CA: status", rc, 1)
        expect_in("another CA: says it is the handshake", "TLS handshake", err)
        rc, out, err = sfcat(["--tls", "--cafile", cert, "--servername", "example.org", "--codec", "len:4",
                              "--timeout", "20", "127.0.0.1", port], b"hello\n")
        expect("wrong name: status", rc, 1)
        expect_in("wrong name: reason", "hostname mismatch", err)
        rc, out, err = sfcat(["--tls", "--insecure", "--codec", "len:4", "--timeout", "20", "localhost", port],
                             b"hello\n")
        expect("--insecure: status (%s)" % err.strip(), rc, 0)
        expect("--insecure: output", out, b"hello\n")
        echo.terminate()
        finish(echo)

        # ---- sfcat connecting to openssl s_server: frames both ways in one session
        sport = free_port()
        server = start(["openssl", "s_server", "-accept", "127.0.0.1:%d" % sport, "-cert", cert, "-key", key,
                        "-naccept", "1"])
        accepted = read_until(server.stdout, lambda d: b"ACCEPT\n" in d, 10)
        expect("s_server accepts", b"ACCEPT" in accepted, True)
        client = start([SFCAT, "--tls", "--cafile", cert, "--codec", "len:4", "--hex", "--timeout", "20",
                        "localhost", str(sport)])
        server.stdin.write(len4(b"\x00\x01from s_server"))
        server.stdin.flush()
        got = read_until(client.stdout, lambda d: d.endswith(b"\n"))
        expect("s_server -> sfcat", got, b"0001" + b"from s_server".hex().encode() + b"\n")
        client.stdin.write(b"from sfcat\n")
        client.stdin.flush()
        # s_server prints the session's parameters, then the bytes it received
        got = read_until(server.stdout, lambda d: len4(b"from sfcat") in d)
        expect("sfcat -> s_server", len4(b"from sfcat") in got, True)
        client.stdin.close()  # close_notify: s_server answers with its own, sfcat reads end-of-stream
        rc, _, err = finish(client)
        expect("sfcat after s_server closed: status (%s)" % err.decode(errors="replace").strip(), rc, 0)
        server.terminate()
        finish(server)

        # ---- sfcat --listen --tls with openssl s_client: frames both ways
        listener = start([SFCAT, "--listen", "--tls", "--cert", cert, "--key", key, "--codec", "line",
                          "--timeout", "20", "127.0.0.1", "0"])
        address = listening_address(listener)
        host, lport = address.rsplit(":", 1)
        peer = start(["openssl", "s_client", "-connect", "%s:%s" % (host, lport), "-CAfile", cert,
                      "-verify_return_error", "-servername", "localhost", "-quiet"])
        peer.stdin.write(b"from s_client\n")
        peer.stdin.flush()
        got = read_until(listener.stdout, lambda d: d.endswith(b"\n"))
        expect("s_client -> sfcat --listen", got, b"from s_client\n")
        listener.stdin.write(b"from the listener\n")
        listener.stdin.flush()
        got = read_until(peer.stdout, lambda d: d.endswith(b"\n"))
        expect("sfcat --listen -> s_client", got, b"from the listener\n")
        listener.stdin.close()  # close_notify: s_client answers with its own and ends
        finish(peer)
        rc, _, err = finish(listener)
        expect("sfcat --listen after s_client left: status (%s)" % err.decode(errors="replace").strip(), rc, 0)

        # ---- sfcat --listen --tls and sfcat --tls, TCP and Unix, both directions, end-of-stream
        for family in ("tcp", "unix"):
            if family == "unix":
                path = os.path.join(tmp, "s.sock")
                target, listen_args = ["unix:" + path], ["unix:" + path]
            else:
                listen_args = ["127.0.0.1", "0"]
            listener = start([SFCAT, "--listen", "--tls", "--cert", cert, "--key", key, "--codec", "varint",
                              "--timeout", "20"] + listen_args)
            address = listening_address(listener)
            if family == "tcp":
                target = address.rsplit(":", 1)
            to_listener, to_client = b"one\ntwo\n\n", b"three\n" + b"y" * 3000 + b"\n"
            # each side sends its lines, then close_notify, and prints the other's until end-of-stream
            listener.stdin.write(to_client)
            listener.stdin.close()
            rc, out, err = sfcat(["--tls", "--cafile", cert, "--servername", "localhost", "--codec", "varint",
                                  "--timeout", "20"] + list(target), to_listener)
            lrc, lout, lerr = finish(listener)
            expect("%s: client status (%s)" % (family, err.strip()), rc, 0)
            expect("%s: listener status (%s)" % (family, lerr.decode(errors="replace").strip()), lrc, 0)
            expect("%s: client -> listener" % family, lout, to_listener)
            expect("%s: listener -> client" % family, out, to_client)

        # ---- the listener's close_notify comes before the client's input: the client prints what
        # came, still sends its input (it comes at once), then both end with status 0
        listener = start([SFCAT, "--listen", "--tls", "--cert", cert, "--key", key, "--codec", "varint",
                          "--timeout", "20", "127.0.0.1", "0"])
        host, lport = listening_address(listener).rsplit(":", 1)
        listener.stdin.write(b"early\n")
        listener.stdin.close()
        client = start([SFCAT, "--tls", "--cafile", cert, "--servername", "localhost", "--codec", "varint",
                        "--timeout", "20", host, lport])
        printed = read_until(client.stdout, lambda d: d.endswith(b"\n"))
        expect("listener closes first: client printed", printed, b"early\n")
        try:
            os.write(client.stdin.fileno(), b"late one\nlate two\n")
        except BrokenPipeError:
            pass  # the client already gone: the listener's output below misses the lines
        crc, _, cerr = finish(client)
        lrc, lout, lerr = finish(listener)
        expect("listener closes first: client status (%s)" % cerr.decode(errors="replace").strip(), crc, 0)
        expect("listener closes first: listener status (%s)" % lerr.decode(errors="replace").strip(), lrc, 0)
        expect("listener closes first: the client's input still sent", lout, b"late one\nlate two\n")

        # ---- a client that does not speak TLS: the listener says so, status 1
        listener = start([SFCAT, "--listen", "--tls", "--cert", cert, "--key", key, "--codec", "line",
                          "--timeout", "20", "127.0.0.1", "0"])
        host, lport = listening_address(listener).rsplit(":", 1)
        with socket.create_connection((host, int(lport)), timeout=TIMEOUT) as s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n" * 4)
            rc, _, err = finish(listener)
        expect("plain client: status", rc, 1)
        expect_in("plain client: reason", "TLS handshake", err.decode(errors="replace"))

        # ---- a server that never answers the handshake: --timeout is status 3
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen(1)  # the kernel completes the TCP connection; nobody speaks TLS
            rc, _, err = sfcat(["--tls", "--insecure", "--codec", "line", "--timeout", "0.5", "127.0.0.1",
                                str(silent.getsockname()[1])])
        expect("silent server: status", rc, 3)
        expect_in("silent server: reason", "TLS handshake", err)

        # ---- usage errors (exit 2)
        for args in (["--cafile", cert, "--codec", "line", "127.0.0.1", "1"],
                     ["--insecure", "--codec", "line", "127.0.0.1", "1"],
                     ["--tls", "--udp", "--codec", "line", "127.0.0.1", "1"],
                     ["--listen", "--tls", "--codec", "line", "127.0.0.1", "0"],
                     ["--tls", "--cert", cert, "--key", key, "--codec", "line", "127.0.0.1", "1"],
                     ["--tls", "--codec", "line", "unix:" + os.path.join(tmp, "none")]):
            rc, _, err = sfcat(args)
            expect("usage %s: status" % " ".join(a if a not in (cert, key) else "F" for a in args), rc, 2)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()
            for f in (p.stdin, p.stdout, p.stderr):
                f.close()
        shutil.rmtree(tmp, ignore_errors=True)

    print("%d checks, %d failed" % (checks, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
