#!/usr/bin/env python3
"""sfcat against framed_echo serve and against Python peers: every codec, both directions,
TCP, UDP and Unix sockets, every output format, and the exit codes.

    run_sfcat.py SFCAT FRAMED_ECHO

The Python peers (stdlib only) frame bytes themselves, so each test checks sfcat's bytes on the
wire, not only that sfcat agrees with itself. Every process started here is stopped and reaped,
every file removed, every wait bounded.
"""
import base64
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading

SFCAT, FRAMED_ECHO = sys.argv[1], sys.argv[2]
TIMEOUT = 60
SPECS = ["len:1", "len:2", "len:2:le", "len:4", "len:4:le", "len:8", "len:8:le", "varint", "line",
         "delim:\\r\\n", "delim:$_", "fixed:16", "netstring"]

failures = []
checks = 0


def expect(what, got, wanted):
    global checks
    checks += 1
    if got != wanted:
        failures.append("%s: got %r, wanted %r" % (what, got, wanted))
        print("FAILED", what, "-> got", repr(got)[:300], "wanted", repr(wanted)[:300])


# ---- the codecs, written independently of sockframe -----------------------------------------

def unescape(s):
    return s.encode().decode("unicode_escape").encode("latin-1")


def encode(spec, payload):
    if spec.startswith("len:"):
        parts = spec.split(":")
        width = int(parts[1])
        order = "<" if len(parts) > 2 and parts[2] == "le" else ">"
        return struct.pack(order + {1: "B", 2: "H", 4: "I", 8: "Q"}[width], len(payload)) + payload
    if spec == "varint":
        n, out = len(payload), bytearray()
        while True:
            b = n & 0x7F
            n >>= 7
            out.append(b | (0x80 if n else 0))
            if not n:
                return bytes(out) + payload
    if spec == "line":
        return payload + b"\n"
    if spec.startswith("delim:"):
        return payload + unescape(spec[6:])
    if spec.startswith("fixed:"):
        assert len(payload) == int(spec[6:])
        return payload
    if spec == "netstring":
        return b"%d:" % len(payload) + payload + b","
    raise ValueError(spec)


class Decoder:
    """Frames out of a byte stream, for one spec."""

    def __init__(self, spec):
        self.spec, self.buf = spec, b""

    def feed(self, data):
        self.buf += data
        frames = []
        while True:
            f = self.one()
            if f is None:
                return frames
            frames.append(f)

    def one(self):
        s, b = self.spec, self.buf
        if s.startswith("len:"):
            parts = s.split(":")
            w = int(parts[1])
            if len(b) < w:
                return None
            n = int.from_bytes(b[:w], "little" if len(parts) > 2 and parts[2] == "le" else "big")
            if len(b) < w + n:
                return None
            self.buf = b[w + n:]
            return b[w:w + n]
        if s == "varint":
            n = shift = i = 0
            while True:
                if i >= len(b):
                    return None
                n |= (b[i] & 0x7F) << shift
                shift += 7
                i += 1
                if not b[i - 1] & 0x80:
                    break
            if len(b) < i + n:
                return None
            self.buf = b[i + n:]
            return b[i:i + n]
        if s == "line" or s.startswith("delim:"):
            d = b"\n" if s == "line" else unescape(s[6:])
            k = b.find(d)
            if k < 0:
                return None
            self.buf = b[k + len(d):]
            p = b[:k]
            return p[:-1] if s == "line" and p.endswith(b"\r") else p
        if s.startswith("fixed:"):
            n = int(s[6:])
            if len(b) < n:
                return None
            self.buf = b[n:]
            return b[:n]
        if s == "netstring":
            k = b.find(b":")
            if k < 0 or len(b) < k + 1 + int(b[:k]) + 1:
                return None
            n = int(b[:k])
            self.buf = b[k + 2 + n:]
            return b[k + 1:k + 1 + n]
        raise ValueError(s)


def payloads_for(spec, count=5):
    """Printable lines the codec can carry (sfcat sends each stdin line as one frame)."""
    if spec.startswith("fixed:"):
        n = int(spec[6:])
        return [("%02d" % i + "abcdefghijklmnopqrstuvwxyz" * 3)[:n].encode() for i in range(count)]
    base = [b"hello", b"", b"a longer frame with spaces, commas: and colons", b"x" * 300, b"last"]
    if spec == "len:1":
        base[3] = b"x" * 200
    if spec == "delim:$_":
        base[2] = b"a longer frame with $ and _ apart"
    return (base * (count // len(base) + 1))[:count]


# ---- running sfcat --------------------------------------------------------------------------

def sfcat(args, stdin=b"", timeout=TIMEOUT):
    r = subprocess.run([SFCAT] + args, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    return r.returncode, r.stdout, r.stderr.decode(errors="replace")


class Listening:
    """sfcat --listen ...: started, its address read from stderr; killed and reaped on exit."""

    def __init__(self, args, stdin=b""):
        self.proc = subprocess.Popen([SFCAT, "--listen"] + args, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.watchdog = threading.Timer(TIMEOUT, self.proc.kill)
        self.watchdog.start()
        line = self.proc.stderr.readline().decode()  # bounded: sfcat prints it or exits
        if not line.startswith("sfcat: listening on "):
            self.close()
            raise RuntimeError("sfcat did not listen: %r" % line)
        self.address = line[len("sfcat: listening on "):].split()[0]
        self.stdin_data = stdin

    def port(self):
        return int(self.address.rsplit(":", 1)[1])

    def finish(self):
        """Writes the input, closes stdin, waits for the exit: (status, stdout, stderr)."""
        out, err = self.proc.communicate(self.stdin_data, timeout=TIMEOUT)
        return self.proc.returncode, out, err.decode(errors="replace")

    def close(self):
        self.watchdog.cancel()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if pipe and not pipe.closed:
                pipe.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class FramedEcho:
    def __init__(self, spec):
        self.proc = subprocess.Popen([FRAMED_ECHO, "serve", "--codec", spec], stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("READY "):
            self.close()
            raise RuntimeError("framed_echo did not start: %r" % line)
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


class PeerServer:
    """A one-connection TCP or Unix server on a thread: runs handler(conn), then closes."""

    def __init__(self, handler, family=socket.AF_INET, path=None):
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(TIMEOUT)
        self.sock.bind(path if path else ("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = None if path else self.sock.getsockname()[1]
        self.result = None
        self.error = None

        def run():
            try:
                conn, _ = self.sock.accept()
                conn.settimeout(TIMEOUT)
                with conn:
                    self.result = handler(conn)
            except Exception as e:  # reported by the test
                self.error = e

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def join(self):
        self.thread.join(TIMEOUT)
        self.sock.close()
        if self.error:
            raise self.error
        return self.result

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.sock.close()
        self.thread.join(TIMEOUT)


def read_frames(conn, spec, n=None):
    """Frames from a connection until n frames or end-of-stream."""
    dec, frames = Decoder(spec), []
    while n is None or len(frames) < n:
        data = conn.recv(65536)
        if not data:
            break
        frames += dec.feed(data)
    return frames


def lines_of(payloads):
    return b"".join(p + b"\n" for p in payloads)


# ---- the tests --------------------------------------------------------------------------------

def test_framed_echo():
    """Connect direction, against framed_echo serve: what goes out comes back, every codec."""
    for spec in SPECS:
        payloads = payloads_for(spec)
        with FramedEcho(spec) as echo:
            rc, out, err = sfcat(["--codec", spec, "127.0.0.1", str(echo.port)], lines_of(payloads))
            expect("framed_echo %s: exit" % spec, (rc, err), (0, ""))
            expect("framed_echo %s: echoes" % spec, out, lines_of(payloads))
            # --count stops after N frames even though more input follows
            rc, out, err = sfcat(["--codec", spec, "--count", "2", "127.0.0.1", str(echo.port)],
                                 lines_of(payloads))
            expect("framed_echo %s --count 2" % spec, (rc, out), (0, lines_of(payloads[:2])))


def test_python_server():
    """Connect direction, against a Python server that checks sfcat's bytes and answers with
    binary frames: text, --hex and --json output."""
    binary = [bytes(range(256))[:40], b"\x00\xff\x10", b"ok", b""]
    for spec in SPECS:
        sent = payloads_for(spec, 3)
        replies = binary if not (spec == "line" or spec.startswith("delim:") or spec.startswith("fixed:")) else None
        if replies is None:  # codecs that cannot carry every byte: printable replies
            replies = [p for p in payloads_for(spec, 3)]
        for fmt in ("text", "--hex", "--json"):
            def handler(conn, spec=spec, n=len(sent), replies=replies):
                got = read_frames(conn, spec)  # until sfcat half-closes at the end of its input
                conn.sendall(b"".join(encode(spec, r) for r in replies))
                return got

            with PeerServer(handler) as server:
                args = ["--codec", spec] + ([] if fmt == "text" else [fmt]) + ["127.0.0.1", str(server.port)]
                rc, out, err = sfcat(args, lines_of(sent))
                got = server.join()
            expect("python server %s %s: frames sent" % (spec, fmt), got, sent)
            if fmt == "text":
                wanted = lines_of(replies)
            elif fmt == "--hex":
                wanted = b"".join(r.hex().encode() + b"\n" for r in replies)
            else:
                wanted = b"".join(b'{"len":%d,"data":"%s"}\n' % (len(r), base64.b64encode(r)) for r in replies)
            expect("python server %s %s: output" % (spec, fmt), (rc, out, err), (0, wanted, ""))


def test_listen():
    """Listen direction: a Python client connects to sfcat --listen, every codec."""
    for spec in SPECS:
        to_client = payloads_for(spec, 4)
        from_client = list(reversed(payloads_for(spec, 4)))
        with Listening(["--codec", spec, "--timeout", "30", "127.0.0.1", "0"], lines_of(to_client)) as s:
            result = {}

            def client():
                with socket.create_connection(("127.0.0.1", s.port()), timeout=TIMEOUT) as c:
                    c.sendall(b"".join(encode(spec, p) for p in from_client))
                    result["got"] = read_frames(c, spec, len(to_client))
                    c.shutdown(socket.SHUT_WR)

            t = threading.Thread(target=client, daemon=True)
            t.start()
            rc, out, err = s.finish()
            t.join(TIMEOUT)
        expect("listen %s: exit" % spec, (rc, err), (0, ""))
        expect("listen %s: frames received" % spec, out, lines_of(from_client))
        expect("listen %s: frames sent" % spec, result.get("got"), to_client)


def test_unix():
    """unix:PATH in both directions."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "peer.sock")

        def handler(conn):
            got = read_frames(conn, "len:4")
            conn.sendall(b"".join(encode("len:4", p) for p in reversed(got)))
            return got

        with PeerServer(handler, socket.AF_UNIX, path) as server:
            rc, out, err = sfcat(["--codec", "len:4", "unix:" + path], b"one\ntwo\n")
            got = server.join()
        expect("unix connect: sent", got, [b"one", b"two"])
        expect("unix connect: output", (rc, out, err), (0, b"two\none\n", ""))

        path2 = os.path.join(d, "sfcat.sock")
        with Listening(["--codec", "varint", "--timeout", "30", "unix:" + path2], b"from sfcat\n") as s:
            result = {}

            def client():
                with socket.socket(socket.AF_UNIX) as c:
                    c.settimeout(TIMEOUT)
                    c.connect(path2)
                    c.sendall(encode("varint", b"from python"))
                    result["got"] = read_frames(c, "varint", 1)
                    c.shutdown(socket.SHUT_WR)

            t = threading.Thread(target=client, daemon=True)
            t.start()
            rc, out, err = s.finish()
            t.join(TIMEOUT)
            got = result.get("got")
        expect("unix listen: socket file removed", os.path.exists(path2), False)
        expect("unix listen: sent", got, [b"from sfcat"])
        expect("unix listen: output", (rc, out, err), (0, b"from python\n", ""))


def test_udp():
    """--udp both directions: each frame is one datagram."""
    for spec in ("len:4", "len:2:le", "varint", "line", "netstring"):
        payloads = payloads_for(spec, 3)
        srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        srv.settimeout(TIMEOUT)
        srv.bind(("127.0.0.1", 0))
        got = []

        def echo(spec=spec, n=len(payloads)):
            for _ in range(n):
                data, peer = srv.recvfrom(65536)
                got.append(data)
                srv.sendto(data, peer)  # a datagram back, unchanged

        t = threading.Thread(target=echo, daemon=True)
        t.start()
        rc, out, err = sfcat(["--udp", "--codec", spec, "--count", str(len(payloads)), "--timeout", "30",
                              "127.0.0.1", str(srv.getsockname()[1])], lines_of(payloads))
        t.join(TIMEOUT)
        srv.close()
        expect("udp connect %s: datagrams" % spec, got, [encode(spec, p) for p in payloads])
        expect("udp connect %s: output" % spec, (rc, out, err), (0, lines_of(payloads), ""))

    # listen: the first datagram names the peer; sfcat answers it with its input
    with Listening(["--udp", "--codec", "len:4", "--count", "2", "--timeout", "30", "127.0.0.1", "0"],
                   b"reply\n") as s:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as c:
            c.settimeout(TIMEOUT)
            c.connect(("127.0.0.1", s.port()))
            c.send(encode("len:4", b"first"))
            s.proc.stdin.write(s.stdin_data)
            s.proc.stdin.close()
            reply = c.recv(65536)
            c.send(encode("len:4", b"second"))
            out, err = s.proc.stdout.read(), b""
            s.proc.wait(timeout=TIMEOUT)
            rc = s.proc.returncode
    expect("udp listen: reply", reply, encode("len:4", b"reply"))
    expect("udp listen: output", (rc, out), (0, b"first\nsecond\n"))


def test_inputs():
    """--file and --hex-input."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "input.txt")
        with open(path, "wb") as f:
            f.write(b"00ff10\nde ad be ef\n\n")
        with FramedEcho("len:4") as echo:
            rc, out, err = sfcat(["--codec", "len:4", "--hex-input", "--hex", "--file", path, "127.0.0.1",
                                  str(echo.port)])
            expect("--file --hex-input", (rc, out, err), (0, b"00ff10\ndeadbeef\n\n", ""))
            rc, out, err = sfcat(["--codec", "len:4", "--hex-input", "127.0.0.1", str(echo.port)], b"0g\n")
            expect("--hex-input: not hex", (rc, "not hex" in err), (1, True))
            rc, out, err = sfcat(["--codec", "len:4", "--file", os.path.join(d, "missing"), "127.0.0.1",
                                  str(echo.port)])
            expect("--file missing", rc, 1)


def test_exit_codes():
    # 1: connection refused (a port that was free a moment ago and is closed now)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rc, out, err = sfcat(["--codec", "len:4", "127.0.0.1", str(port)])
    expect("refused: exit 1 with a message", (rc, "connect" in err), (1, True))

    # 1: a framing error (a length above --max-frame), message on stderr, frames before it printed
    def oversized(conn):
        conn.sendall(encode("len:4", b"fine") + struct.pack(">I", 1 << 20))
        read_frames(conn, "len:4")

    with PeerServer(oversized) as server:
        rc, out, err = sfcat(["--codec", "len:4", "--max-frame", "1024", "127.0.0.1", str(server.port)])
        server.join()
    expect("framing error: exit", (rc, out), (1, b"fine\n"))
    expect("framing error: message", "receive" in err and len(err) > 10, True)

    # 1: the peer closes inside a frame
    def truncated(conn):
        conn.sendall(struct.pack(">I", 10) + b"abc")

    with PeerServer(truncated) as server:
        rc, out, err = sfcat(["--codec", "len:4", "127.0.0.1", str(server.port)])
        server.join()
    expect("truncated: exit 1", (rc, err != ""), (1, True))

    # 1: a frame the codec cannot send (a fixed:4 line of 3 bytes)
    with FramedEcho("fixed:4") as echo:
        rc, out, err = sfcat(["--codec", "fixed:4", "127.0.0.1", str(echo.port)], b"abcd\nabc\n")
    expect("unencodable: exit 1", (rc, "send" in err), (1, True))

    # 3: the peer says nothing for --timeout
    release = threading.Event()

    def silent(conn):
        release.wait(TIMEOUT)

    with PeerServer(silent) as server:
        proc = subprocess.Popen([SFCAT, "--codec", "len:4", "--timeout", "0.3", "127.0.0.1", str(server.port)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = proc.communicate(timeout=TIMEOUT)  # stdin closed at once: sfcat half-closes, then waits
        release.set()
        server.join()
    expect("timeout: exit 3", (proc.returncode, b"timed out" in err), (3, True))

    # 3: nobody connects to a listener within --timeout
    with Listening(["--codec", "line", "--timeout", "0.3", "127.0.0.1", "0"]) as s:
        rc, out, err = s.finish()
    expect("listen timeout: exit 3", rc, 3)

    # 3: UDP, no answer within --timeout while --count is not reached
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as quiet:
        quiet.bind(("127.0.0.1", 0))
        quiet.settimeout(TIMEOUT)
        rc, out, err = sfcat(["--udp", "--codec", "len:4", "--count", "1", "--timeout", "0.3", "127.0.0.1",
                              str(quiet.getsockname()[1])], b"anyone?\n")
        expect("udp timeout: exit 3", rc, 3)
        expect("udp timeout: the datagram went out", quiet.recv(100), encode("len:4", b"anyone?"))

    # 2: usage errors
    for args in (["127.0.0.1", "1"], ["--codec", "len:3", "127.0.0.1", "1"], ["--codec", "line"],
                 ["--codec", "line", "--count", "x", "h", "1"], ["--codec", "line", "--timeout", "0", "h", "1"],
                 ["--codec", "line", "--bogus", "h", "1"], ["--udp", "--codec", "line", "unix:/tmp/x"]):
        rc, out, err = sfcat(args)
        expect("usage %s: exit 2" % " ".join(args), (rc, "usage:" in err), (2, True))


def test_peer_closes_first():
    """The peer sends a frame and half-closes before sfcat's input has ended: sfcat prints the
    frame, still sends the input that comes within --timeout, and exits 0 once it has ended."""
    def handler(conn):
        conn.sendall(encode("len:4", b"first"))
        conn.shutdown(socket.SHUT_WR)
        return read_frames(conn, "len:4")  # until sfcat half-closes

    with PeerServer(handler) as server:
        proc = subprocess.Popen([SFCAT, "--codec", "len:4", "--timeout", "30", "127.0.0.1", str(server.port)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        watchdog = threading.Timer(TIMEOUT, proc.kill)
        watchdog.start()
        try:
            printed = proc.stdout.readline()  # bounded by the watchdog
            try:  # the input comes only after sfcat has seen the peer's frame (and its end-of-stream)
                os.write(proc.stdin.fileno(), b"late one\nlate two\n")
            except BrokenPipeError:
                pass  # sfcat already gone: the frames below are missing
            proc.stdin.close()
            proc.stdin = None
            out, err = proc.communicate(timeout=TIMEOUT)
            got = server.join()
        finally:
            watchdog.cancel()
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)
    expect("peer closes first: printed", printed, b"first\n")
    expect("peer closes first: the input still sent", got, [b"late one", b"late two"])
    expect("peer closes first: exit", (proc.returncode, err), (0, b""))

    # an input that never ends does not keep sfcat past --timeout once the peer has closed
    with PeerServer(lambda conn: conn.sendall(encode("len:4", b"bye"))) as server:
        proc = subprocess.Popen([SFCAT, "--codec", "len:4", "--timeout", "0.5", "127.0.0.1", str(server.port)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            status = proc.wait(timeout=TIMEOUT)  # stdin stays open all along
            out, err = proc.stdout.read(), proc.stderr.read()
            server.join()
        except subprocess.TimeoutExpired:
            status, out, err = "still running", b"", b""
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)
            for pipe in (proc.stdin, proc.stdout, proc.stderr):
                pipe.close()
    expect("peer closes, input open: exit at end-of-stream", (status, out, err), (0, b"bye\n", b""))


for test in (test_framed_echo, test_python_server, test_listen, test_unix, test_udp, test_inputs,
             test_exit_codes, test_peer_closes_first):
    print("==", test.__name__)
    try:
        test()
    except Exception as e:  # a crash in one test is a failure, the others still run
        failures.append("%s raised %r" % (test.__name__, e))
        print("FAILED", test.__name__, "raised", repr(e))

print("%d checks, %d failures" % (checks, len(failures)))
sys.exit(1 if failures else 0)
