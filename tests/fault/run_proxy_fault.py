#!/usr/bin/env python3
"""Network faults between clients and `framed_echo serve`, through tests/fault/fault_proxy.py.

    run_proxy_fault.py FRAMED_ECHO [--clients N] [--frames N] [--seed S] [--self-check]

Starts `framed_echo serve --codec len:4` and a fault proxy in front of it (latency with jitter,
a bandwidth limit, writes sliced into random small pieces, stalls, a slow close, and a reset of a
share of the connections after a random number of bytes, so mostly inside a frame). Then N
clients (100 by default) each pipeline their frames (4-byte big-endian length, seeded sizes and
contents) through the proxy while reading the echoes, half-close, and read to the end. It checks:
  - every complete frame a client receives is the next one it sent, byte for byte (nothing short,
    corrupt, reordered, duplicated or extra), on every connection, reset or not;
  - a connection the proxy did not reset gets every echo back, then a clean end of stream;
  - a connection the proxy reset is seen by its client as an error (connection reset, or the end
    of the stream before every echo), never as a complete exchange; and the clients that saw an
    error are exactly the connections the proxy reset;
  - the server is still running and serves a client sent straight to it afterwards.
--self-check also has the proxy flip one byte in some connections (something TCP never does) and
passes only if those connections then fail, at least one of them on a corrupt frame, and no other
does: proof that the checks above would see a corrupt frame.
Bounded in time (every wait has a deadline, the whole run well under 60 s); every process and
socket is closed before exit. Python 3 standard library only; Linux or any POSIX system.
"""
import argparse
import asyncio
import os
import random
import signal
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEADLINE = 45.0  # seconds for the clients, all together


def payload(client, seq, size):
    """Frame `seq` of `client`: its numbers first, then bytes that depend on both."""
    head = struct.pack(">IIH", client, seq, size & 0xFFFF)[:size]
    rng = random.Random(client * 1_000_003 + seq)
    return head + rng.randbytes(size - len(head))


def frame_sizes(seed, client, frames):
    rng = random.Random(seed * 7919 + client)
    # mostly small frames, some large enough to span many slices and reads
    return [rng.choice((0, 1, 3, 10, 64, 200)) if rng.random() < 0.7 else rng.randint(200, 3000)
            for _ in range(frames)]


class ClientResult:
    def __init__(self, client):
        self.client = client
        self.port = None
        self.received = 0
        self.complete = False  # every echo, then a clean end of stream
        self.error = None      # how the connection failed, if it did
        self.corrupt = None    # a wrong frame: the one thing never allowed


async def run_client(client, port, sizes, result):
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError as e:
        result.error = f"connect: {e}"
        return
    result.port = writer.get_extra_info("sockname")[1]
    expected = [payload(client, i, n) for i, n in enumerate(sizes)]

    async def send():
        try:
            for i, body in enumerate(expected):
                writer.write(struct.pack(">I", len(body)) + body)
                if i % 8 == 7:
                    await writer.drain()
            await writer.drain()
            writer.write_eof()
        except (ConnectionError, OSError) as e:
            return f"send: {type(e).__name__}"
        return None

    async def receive():
        buf = bytearray()
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                buf += data
                while len(buf) >= 4:
                    n = struct.unpack(">I", buf[:4])[0]
                    if result.received >= len(expected):
                        result.corrupt = f"an extra frame header ({n} bytes) after every echo"
                        return "corrupt"
                    if n != len(expected[result.received]):
                        result.corrupt = (f"frame {result.received}: length {n}, sent "
                                          f"{len(expected[result.received])}")
                        return "corrupt"
                    if len(buf) < 4 + n:
                        break
                    if bytes(buf[4:4 + n]) != expected[result.received]:
                        result.corrupt = f"frame {result.received}: payload differs"
                        return "corrupt"
                    del buf[:4 + n]
                    result.received += 1
        except (ConnectionError, OSError) as e:
            return f"receive: {type(e).__name__}"
        if result.received == len(expected) and not buf:
            return None
        return f"end of stream after {result.received} of {len(expected)} echoes (+{len(buf)} bytes)"

    send_task = asyncio.ensure_future(send())
    try:
        receive_error = await receive()
    finally:
        send_error = await send_task
        writer.transport.abort()
    if receive_error is None and send_error is None:
        result.complete = True
    else:
        result.error = receive_error or send_error


def die_with_parent():
    """In the child, Linux only: SIGKILL when this test's process dies, however it dies (a ctest
    timeout included), so that no server or proxy outlives it."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def start(cmd, what):
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            preexec_fn=die_with_parent if sys.platform.startswith("linux") else None)
    line = read_line(proc, 10.0)
    if not line.startswith("READY "):
        stop(proc)
        raise SystemExit(f"FAIL {what} did not start: {line!r}")
    return proc, int(line.split()[1])


def read_line(proc, timeout):
    import selectors
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    try:
        if not sel.select(timeout):
            return ""
        return proc.stdout.readline().strip()
    finally:
        sel.close()


def stop(proc, sig=signal.SIGTERM):
    """Stops a process (signal, then kill after 5 s) and returns the rest of its output."""
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        out, _ = proc.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out or ""


async def clients(port, n, frames, seed):
    results = [ClientResult(c) for c in range(n)]
    tasks = [run_client(c, port, frame_sizes(seed, c, frames), results[c]) for c in range(n)]
    await asyncio.wait_for(asyncio.gather(*tasks), DEADLINE)
    return results


def self_check(results, reset_ports, corrupt_ports):
    """With bytes flipped on purpose: a flip in a payload must be caught as a corrupt frame (one in
    a length field may instead stall or close the connection: an error then, never a success)."""
    caught = {r.port for r in results if r.corrupt}
    flipped = corrupt_ports - reset_ports
    passed = {r.port for r in results if r.complete} & flipped
    if not caught or caught - corrupt_ports or passed:
        print(f"FAIL self-check: flipped {sorted(flipped)}, caught {sorted(caught)}, "
              f"complete despite a flip {sorted(passed)}")
        return 1
    print(f"OK self-check: {len(flipped)} connection(s) with a flipped byte, none complete, "
          f"{len(caught)} caught as a corrupt frame")
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("framed_echo")
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--self-check", action="store_true")
    args = ap.parse_args()
    started = time.monotonic()

    server, server_port = start([args.framed_echo, "serve", "--codec", "len:4", "--max-frame", "65536"],
                                "framed_echo serve")
    proxy = None
    failures = []
    try:
        proxy, proxy_port = start(
            [sys.executable, os.path.join(HERE, "fault_proxy.py"), "--upstream", f"127.0.0.1:{server_port}",
             "--seed", str(args.seed), "--latency", "3", "--jitter", "3", "--bandwidth", "400000",
             "--slice-average", "24", "--slice-variation", "23", "--slice-delay", "0.2",
             "--stall-probability", "0.02", "--stall", "40", "--slow-close", "30",
             "--reset-share", "0.25", "--reset-after", "1:4000"]
            + (["--corrupt-share", "0.1"] if args.self_check else []),
            "fault_proxy.py")
        results = asyncio.run(clients(proxy_port, args.clients, args.frames, args.seed))
        proxy_out = stop(proxy)
        proxy = None
        reset_ports = {int(line.split()[1]) for line in proxy_out.splitlines() if line.startswith("RESET ")}
        corrupt_ports = {int(line.split()[1]) for line in proxy_out.splitlines() if line.startswith("CORRUPT ")}
        if args.self_check:
            return self_check(results, reset_ports, corrupt_ports)

        for r in results:
            tag = f"client {r.client} (port {r.port})"
            if r.corrupt:
                failures.append(f"{tag}: {r.corrupt}")
            elif r.port in reset_ports and r.complete:
                failures.append(f"{tag}: reset by the proxy, yet every echo and a clean end arrived")
            elif r.port not in reset_ports and not r.complete:
                failures.append(f"{tag}: not reset, yet {r.error}")
        errors = sum(1 for r in results if not r.complete)
        echoed = sum(r.received for r in results)
        if not reset_ports:
            failures.append("the proxy reset no connection: the test tested nothing")
        if errors == len(results):
            failures.append("every connection failed")

        # the server is still there, and serves a client straight (no proxy)
        if server.poll() is not None:
            failures.append(f"framed_echo serve exited ({server.returncode})")
        else:
            check = ClientResult(args.clients)
            asyncio.run(asyncio.wait_for(run_client(args.clients, server_port,
                                                    frame_sizes(args.seed, args.clients, 20), check), 10))
            if not check.complete:
                failures.append(f"a direct client after the faults: {check.error or check.corrupt}")
    except asyncio.TimeoutError:
        failures.append(f"the clients did not finish within {DEADLINE} s")
        errors = echoed = 0
        reset_ports = set()
    finally:
        if proxy is not None:
            stop(proxy)
        stop(server)

    elapsed = time.monotonic() - started
    if failures:
        for f in failures[:20]:
            print("FAIL", f)
        print(f"FAIL {len(failures)} problem(s) in {elapsed:.1f} s")
        return 1
    print(f"OK {args.clients} clients through the fault proxy: {len(reset_ports)} reset, each seen as an error; "
          f"{args.clients - errors} complete; {echoed} frames echoed intact and in order ({elapsed:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
