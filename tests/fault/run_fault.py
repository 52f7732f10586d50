#!/usr/bin/env python3
"""Fault injection against `framed_echo serve` (one poller thread, non-blocking framed connections).

    run_fault.py FRAMED_ECHO [CASE...]

Each case attacks a running server (resets mid-frame, half-close, one byte at a time, slowloris,
oversized and overflowing lengths, garbage, connection storms, descriptor exhaustion, SIGSTOP /
SIGCONT storms that make the poller's wait fail with EINTR) and then
checks that:
  - the server process is still running,
  - a well-behaved client is still served, within a bounded time, and every frame it sent is
    echoed exactly once, in order (then the server closes after the client's half-close),
  - the server's memory (VmRSS from /proc/<pid>/status) stays bounded.

Python standard library only; Linux only (it reads /proc). Every wait has a deadline, every loop a
count, no sleep is used to synchronise, and every process and socket is closed before exit.
"""
import os
import random
import resource
import select
import socket
import struct
import subprocess
import sys
import threading
import time

DEADLINE = 20.0          # seconds any one wait may take
MAX_FRAME = 65536        # --max-frame given to the servers
# Sanitizer builds (ASan redzones and quarantine, TSan shadow) use several times the memory of a
# plain build: their CI job scales the memory bounds by this factor.
MEMORY_FACTOR = int(os.environ.get("SOCKFRAME_FAULT_MEMORY_FACTOR", "1"))
RSS_GROWTH_LIMIT_KB = 64 * 1024 * MEMORY_FACTOR


# ---- codecs (what framed_echo speaks) ----------------------------------------------------------

def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def encode(spec, payload):
    if spec == "len:4":
        return struct.pack(">I", len(payload)) + payload
    if spec == "len:8":
        return struct.pack(">Q", len(payload)) + payload
    if spec == "varint":
        return varint(len(payload)) + payload
    if spec == "line":
        return payload + b"\n"
    if spec == "netstring":
        return str(len(payload)).encode() + b":" + payload + b","
    raise ValueError(spec)


def decode(spec, buf):
    """(frames, rest) for the complete frames at the front of buf."""
    frames = []
    while True:
        if spec in ("len:4", "len:8"):
            w = 4 if spec == "len:4" else 8
            if len(buf) < w:
                break
            n = int.from_bytes(buf[:w], "big")
            if len(buf) < w + n:
                break
            frames.append(bytes(buf[w:w + n]))
            buf = buf[w + n:]
        elif spec == "varint":
            n, shift, i = 0, 0, 0
            while i < len(buf):
                n |= (buf[i] & 0x7F) << shift
                shift += 7
                i += 1
                if not buf[i - 1] & 0x80:
                    break
            else:
                break
            if len(buf) < i + n:
                break
            frames.append(bytes(buf[i:i + n]))
            buf = buf[i + n:]
        elif spec == "line":
            j = buf.find(b"\n")
            if j < 0:
                break
            frames.append(bytes(buf[:j]))
            buf = buf[j + 1:]
        elif spec == "netstring":
            j = buf.find(b":")
            if j < 0:
                break
            n = int(buf[:j])
            if len(buf) < j + 1 + n + 1:
                break
            frames.append(bytes(buf[j + 1:j + 1 + n]))
            buf = buf[j + 2 + n:]
        else:
            raise ValueError(spec)
    return frames, buf


def payloads(spec, count, seed, max_size=2000):
    rng = random.Random(seed)
    out = []
    for i in range(count):
        size = rng.choice([0, 1, 7, 100, max_size])
        body = bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(size))
        out.append(b"%06d" % i + body)  # a sequence number: order and uniqueness are visible
    return out


# ---- the server under test ---------------------------------------------------------------------

class Server:
    """framed_echo serve: started, checked, killed and reaped on exit."""

    def __init__(self, framed_echo, spec, nofile=None, argv=None):
        self.spec = spec
        preexec = None
        if nofile is not None:
            def preexec():
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
        if argv is None:
            argv = [framed_echo, "serve", "--codec", spec, "--max-frame", str(MAX_FRAME)]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, preexec_fn=preexec)
        ready, _, _ = select.select([self.proc.stdout], [], [], DEADLINE)
        line = self.proc.stdout.readline() if ready else ""
        if not line.startswith("READY "):
            self.close()
            raise RuntimeError("server did not start: %r" % line)
        self.port = int(line.split()[1])
        self.base_rss_kb = self.rss_kb()

    def alive(self):
        return self.proc.poll() is None

    def status(self, field):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        raise KeyError(field)

    def status_letter(self):
        with open("/proc/%d/stat" % self.proc.pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]

    def rss_kb(self):
        return self.status("VmRSS")

    def cpu_seconds(self):
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def open_fds(self):
        return len(os.listdir("/proc/%d/fd" % self.proc.pid))

    def connect(self, timeout=DEADLINE):
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)
        self.proc.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def until(server, what, predicate, timeout=DEADLINE):
    """Polls predicate (bounded by timeout, with a short select-based pause between tries); fails
    at once if the server exits."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not server.alive():
            raise AssertionError("the server exited with %s while waiting for %s" % (server.proc.returncode, what))
        if predicate():
            return True
        select.select([], [], [], 0.02)
    raise AssertionError("timed out waiting for " + what)


def good_client(server, count=50, seed=1, byte_by_byte=False, max_size=2000):
    """Sends count frames, half-closes, reads every echo; checks exactly-once, in order, then EOF.
    Returns the seconds it took."""
    start = time.monotonic()
    frames = payloads(server.spec, count, seed, max_size)
    wire = b"".join(encode(server.spec, p) for p in frames)
    s = server.connect()
    try:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setblocking(False)
        got, buf, sent, eof = [], b"", 0, False
        end = time.monotonic() + DEADLINE
        while not eof:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError("good client: %d of %d echoes after %ss" % (len(got), count, DEADLINE))
            want_write = sent < len(wire)
            r, w, _ = select.select([s], [s] if want_write else [], [], left)
            if w:
                step = 1 if byte_by_byte else 65536
                sent += s.send(wire[sent:sent + step])
                if sent == len(wire):
                    s.shutdown(socket.SHUT_WR)  # half-close: the server echoes everything, then closes
            if r:
                chunk = s.recv(65536)
                if not chunk:
                    eof = True
                buf += chunk
                new, buf = decode(server.spec, buf)
                got += new
        if got != frames:
            dup = len(got) - len(set(got))
            raise AssertionError("good client: %d echoes for %d frames (%d duplicated), or out of order"
                                 % (len(got), count, dup))
        if buf:
            raise AssertionError("good client: %d stray bytes after the last echo" % len(buf))
    finally:
        s.close()
    return time.monotonic() - start


def reset(sock):
    """Closes with SO_LINGER 0: the peer sees a TCP RST, not a FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def closed_by_server(sock, timeout=DEADLINE):
    """True once the server closed this connection (EOF or reset), whatever it sent before."""
    sock.settimeout(timeout)
    end = time.monotonic() + timeout
    try:
        while time.monotonic() < end:
            if not sock.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False
    return False


# ---- cases -------------------------------------------------------------------------------------

def case_reset_mid_frame(fe):
    """Peers that reset (RST) in the middle of a frame, header or payload, many times."""
    with Server(fe, "len:4") as srv:
        for i in range(50):
            s = srv.connect()
            frame = encode("len:4", b"x" * 1000)
            s.sendall(frame[:2 if i % 2 else 500])  # inside the header, inside the payload
            reset(s)
        good_client(srv)
        return srv, check_after(srv)


def case_half_close(fe):
    """A client that shuts down its sending side after its last frame gets every echo, then EOF."""
    with Server(fe, "len:4") as srv:
        for seed in range(5):
            good_client(srv, count=200, seed=seed)
        return srv, check_after(srv)


def case_one_byte_at_a_time(fe):
    """Frames delivered one byte per segment (TCP_NODELAY) are reassembled exactly."""
    with Server(fe, "len:4") as srv:
        good_client(srv, count=20, byte_by_byte=True, max_size=100)
    with Server(fe, "varint") as srv:
        good_client(srv, count=20, byte_by_byte=True, max_size=200)
    with Server(fe, "line") as srv:
        good_client(srv, count=20, byte_by_byte=True, max_size=100)
        return srv, check_after(srv)


def case_slowloris(fe):
    """300 connections that each send part of a frame and go idle; a good client is served
    promptly meanwhile, and memory stays bounded."""
    with Server(fe, "len:4") as srv:
        base = srv.rss_kb()
        idle = []
        try:
            for i in range(300):
                s = srv.connect()
                if i % 2:  # a header promising 1000 bytes, and a few of them
                    s.sendall(struct.pack(">I", 1000) + b"y" * (i % 50))
                else:      # nearly a whole max-size frame: the server must buffer it
                    s.sendall(struct.pack(">I", MAX_FRAME) + b"z" * (MAX_FRAME - 100))
                idle.append(s)
            until(srv, "the server to accept every idle connection", lambda: srv.open_fds() >= 300)
            took = good_client(srv, count=100)
            if took > 5.0:
                raise AssertionError("good client took %.1fs beside 300 idle connections" % took)
            # 150 connections hold ~64 KiB each: ~10 MiB is expected, bounded by
            # connections x max_frame_bytes.
            bound_kb = (300 * (MAX_FRAME + 4) // 1024 + 8 * 1024) * MEMORY_FACTOR
            grown = srv.rss_kb() - base
            print("       slowloris: VmRSS %d -> %d KiB (+%d KiB; bound %d KiB)" % (base, base + grown, grown, bound_kb))
            if grown > bound_kb:
                raise AssertionError("VmRSS grew by %d KiB for 300 idle connections" % grown)
        finally:
            for s in idle:
                s.close()
        until(srv, "the server to close the idle connections", lambda: srv.open_fds() < 20)
        return srv, check_after(srv)


def case_bad_lengths(fe):
    """Oversized and overflowing lengths close that connection only: 0xFFFFFFFF with len:4,
    2^63 and 2^64-1 with len:8, an 11-byte and a 2^64-overflowing varint, a 30-digit netstring."""
    attacks = [("len:4", struct.pack(">I", 0xFFFFFFFF) + b"xxxx"),
               ("len:4", struct.pack(">I", MAX_FRAME + 1)),
               ("len:8", struct.pack(">Q", 1 << 63) + b"x"),
               ("len:8", struct.pack(">Q", (1 << 64) - 1)),
               ("varint", b"\xff" * 11),
               ("varint", b"\xff" * 9 + b"\x02"),
               ("varint", varint(MAX_FRAME + 1)),
               ("netstring", b"9" * 30 + b":"),
               ("netstring", b"05:hello,")]
    last = None
    for spec, wire in attacks:
        with Server(fe, spec) as srv:
            bad = srv.connect()
            bad.sendall(wire)
            if not closed_by_server(bad):
                raise AssertionError("%s: the server kept a connection that sent %r" % (spec, wire[:12]))
            bad.close()
            good_client(srv)
            last = (srv, check_after(srv))
    return last


def case_garbage(fe):
    """Random bytes, in random chunk sizes, to servers of every framing kind."""
    rng = random.Random(7)
    last = None
    for spec in ("len:4", "len:8", "varint", "line", "netstring"):
        with Server(fe, spec) as srv:
            base = srv.rss_kb()
            for i in range(30):
                s = srv.connect()
                try:
                    blob = bytes(rng.getrandbits(8) for _ in range(rng.choice([1, 10, 1000, 20000])))
                    s.sendall(blob)
                except (ConnectionResetError, BrokenPipeError):
                    pass  # the server may close before all of it arrived
                if i % 3 == 0:
                    reset(s)
                else:
                    s.close()
            good_client(srv, count=30)
            grown = srv.rss_kb() - base
            if grown > RSS_GROWTH_LIMIT_KB:
                raise AssertionError("%s: VmRSS grew by %d KiB on garbage" % (spec, grown))
            last = (srv, check_after(srv))
    return last


def case_connection_storm(fe):
    """1000 connects and closes (some with a partial frame, some reset) in quick succession."""
    with Server(fe, "len:4") as srv:
        for i in range(1000):
            s = srv.connect()
            if i % 4 == 1:
                s.sendall(struct.pack(">I", 10) + b"abc")
            if i % 4 == 2:
                reset(s)
            else:
                s.close()
        good_client(srv)
        until(srv, "the server to close the storm's connections", lambda: srv.open_fds() < 20)
        return srv, check_after(srv)


def case_fd_exhaustion(fe):
    """RLIMIT_NOFILE 64: accept hits EMFILE while clients hold connections. The server must not
    spin (CPU time over one second of EMFILE stays well under a core) nor die, and serves a good
    client once descriptors are free again."""
    with Server(fe, "len:4", nofile=64) as srv:
        hogs = []
        try:
            for _ in range(100):  # beyond the limit: the rest wait in the listen backlog
                hogs.append(srv.connect())
            until(srv, "the server to run out of descriptors", lambda: srv.open_fds() >= 60)
            cpu0, wall0 = srv.cpu_seconds(), time.monotonic()
            select.select([], [], [], 1.0)  # a measurement window, not synchronisation
            busy = (srv.cpu_seconds() - cpu0) / (time.monotonic() - wall0)
            if busy > 0.5:
                raise AssertionError("the server spins at EMFILE: %.0f%% CPU" % (busy * 100))
            if not srv.alive():
                raise AssertionError("the server died at EMFILE")
        finally:
            for s in hogs:
                s.close()
        took = good_client(srv)
        if took > 10.0:
            raise AssertionError("good client took %.1fs after EMFILE" % took)
        return srv, check_after(srv)


def case_fd_exhaustion_chat_server(fe):
    """The same EMFILE attack on the other poller-based framed server, examples/chat_server (its
    protocol: a 4-byte length-prefixed name, answered by "welcome <name>")."""
    chat = os.path.join(os.path.dirname(fe), "chat_server" + os.path.splitext(fe)[1])
    if not os.path.exists(chat):
        raise AssertionError("chat_server not found next to framed_echo: " + chat)
    with Server(fe, "len:4", nofile=64, argv=[chat, "0"]) as srv:
        hogs = []
        try:
            for _ in range(100):
                hogs.append(srv.connect())
            until(srv, "the server to run out of descriptors", lambda: srv.open_fds() >= 60)
            cpu0, wall0 = srv.cpu_seconds(), time.monotonic()
            select.select([], [], [], 1.0)  # a measurement window, not synchronisation
            busy = (srv.cpu_seconds() - cpu0) / (time.monotonic() - wall0)
            if busy > 0.5:
                raise AssertionError("chat_server spins at EMFILE: %.0f%% CPU" % (busy * 100))
        finally:
            for s in hogs:
                s.close()
        c = srv.connect()
        try:
            c.sendall(encode("len:4", b"alice"))
            buf = b""
            end = time.monotonic() + DEADLINE
            while not decode("len:4", buf)[0] and time.monotonic() < end:
                chunk = c.recv(4096)
                if not chunk:
                    break
                buf += chunk
            frames = decode("len:4", buf)[0]
            if not frames or frames[0] != b"welcome alice":
                raise AssertionError("chat_server after EMFILE answered %r" % frames[:1])
        finally:
            c.close()
        return srv, check_after(srv)


def case_stop_continue(fe):
    """SIGSTOP / SIGCONT, 100 times, while a good client is mid-conversation: on Linux every
    stop-and-continue makes a blocked epoll_wait / poll return EINTR, with no handler installed,
    so the poller's retry is exercised in the real server. No frame is lost or repeated."""
    import signal
    import threading
    with Server(fe, "len:4") as srv:
        result = {}

        def client():
            try:
                result["took"] = good_client(srv, count=300, seed=3)
            except Exception as e:  # noqa: BLE001 - reported by the main thread
                result["error"] = e

        t = threading.Thread(target=client)
        t.start()
        try:
            for _ in range(100):
                os.kill(srv.proc.pid, signal.SIGSTOP)
                until(srv, "the server to stop", lambda: srv.status_letter() == "T")
                os.kill(srv.proc.pid, signal.SIGCONT)
                until(srv, "the server to continue", lambda: srv.status_letter() != "T")
        finally:
            os.kill(srv.proc.pid, signal.SIGCONT)
            t.join(DEADLINE * 2)
        if t.is_alive():
            raise AssertionError("the good client did not finish")
        if "error" in result:
            raise result["error"]
        good_client(srv)
        return srv, check_after(srv)


def case_large_pipelined_frames(fe):
    """With the default limits, a client that pipelines frames as large as the default high-water
    mark (4 MiB) without reading gets every echo, whole: the server pushes back by not reading,
    it does not drop the client."""
    argv = [fe, "serve", "--codec", "len:4"]
    with Server(fe, "len:4", argv=argv) as srv:
        s = srv.connect()
        frames = [bytes([65 + i]) * (4 << 20) for i in range(3)]
        sender = threading.Thread(target=lambda: s.sendall(b"".join(encode("len:4", f) for f in frames)))
        sender.start()
        got = b""
        want = sum(4 + len(f) for f in frames)
        deadline = time.monotonic() + DEADLINE
        while len(got) < want and time.monotonic() < deadline:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            got += chunk
        sender.join(DEADLINE)
        s.close()
        if got != b"".join(encode("len:4", f) for f in frames):
            raise AssertionError("echo of %d bytes, expected %d" % (len(got), want))
        return srv, check_after(srv)


def check_after(srv):
    """The server is up and its memory grew by less than RSS_GROWTH_LIMIT_KB since it started."""
    if not srv.alive():
        raise AssertionError("the server exited with %s" % srv.proc.returncode)
    rss = srv.rss_kb()
    if rss - srv.base_rss_kb > RSS_GROWTH_LIMIT_KB:
        raise AssertionError("VmRSS grew from %d to %d KiB" % (srv.base_rss_kb, rss))
    return rss


CASES = {
    "reset_mid_frame": case_reset_mid_frame,
    "half_close": case_half_close,
    "one_byte_at_a_time": case_one_byte_at_a_time,
    "slowloris": case_slowloris,
    "bad_lengths": case_bad_lengths,
    "garbage": case_garbage,
    "connection_storm": case_connection_storm,
    "fd_exhaustion": case_fd_exhaustion,
    "stop_continue": case_stop_continue,
    "fd_exhaustion_chat_server": case_fd_exhaustion_chat_server,
    "large_pipelined_frames": case_large_pipelined_frames,
}


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    if not sys.platform.startswith("linux"):
        print("skipped: fault injection, because it reads /proc (Linux only)")
        return 0
    fe = argv[1]
    names = argv[2:] or list(CASES)
    failed = []
    for name in names:
        start = time.monotonic()
        try:
            _, rss = CASES[name](fe)
            print("ok     %-20s %5.1fs  server VmRSS at the end %d KiB" % (name, time.monotonic() - start, rss))
        except Exception as e:  # noqa: BLE001 - report every case
            failed.append(name)
            print("FAILED %-20s %5.1fs  %s: %s" % (name, time.monotonic() - start, type(e).__name__, e))
        sys.stdout.flush()
    print("%d passed, %d failed" % (len(names) - len(failed), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
