#!/usr/bin/env python3
"""A fault-injecting TCP proxy for tests (loopback): clients connect to it, it connects each one to
the upstream server and relays both directions through a chain of faults.

    fault_proxy.py --upstream HOST:PORT [--listen HOST:PORT] [--seed N] [fault options]

Faults (each off unless given; each applies to both directions unless its name says otherwise):
  --latency MS, --jitter MS     every chunk is delivered MS +/- JITTER ms after it arrived (order is
                                kept: a chunk never overtakes the one before it)
  --bandwidth BYTES_PER_S       each direction of each connection is limited to this rate
  --slice-average N             writes are cut into pieces of N +/- VARIATION bytes (at least 1),
  --slice-variation N           each written on its own, DELAY ms apart
  --slice-delay MS
  --stall-probability P         before a chunk, with probability P, the direction stops for MS ms
  --stall MS
  --slow-close MS               an end of stream (or error) is passed on MS ms late
  --reset-share P               a share P of the connections is reset (RST on both sides, through
  --reset-after MIN:MAX         SO_LINGER 0) once MIN..MAX bytes (uniform) have gone upstream; the
                                byte that crosses the mark is not forwarded, so the cut falls
                                anywhere, mostly inside a frame
  --corrupt-share P             NOT a network fault (TCP never does it): a share P of the
                                connections has one upstream byte flipped, silently. For checking
                                that a test catches what it must ("CORRUPT <client port>")

Output (stdout, one line each, flushed): "READY <port>" once listening; "RESET <client port>
<bytes>" when a connection is reset; "DONE <connections> <resets>" on exit. It runs until SIGTERM,
SIGINT or (when its standard input is a pipe) the end of that pipe. One seeded generator per connection (from --seed and
the connection's accept order) draws every random choice, so a run can be repeated.

Python 3 standard library only (asyncio).
"""
import argparse
import asyncio
import os
import random
import signal
import socket
import stat
import struct
import sys


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--upstream", required=True, help="HOST:PORT of the server")
    p.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT to listen on (default 127.0.0.1:0)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--latency", type=float, default=0.0, help="ms")
    p.add_argument("--jitter", type=float, default=0.0, help="ms")
    p.add_argument("--bandwidth", type=float, default=0.0, help="bytes/s per direction per connection")
    p.add_argument("--slice-average", type=int, default=0)
    p.add_argument("--slice-variation", type=int, default=0)
    p.add_argument("--slice-delay", type=float, default=0.0, help="ms")
    p.add_argument("--stall-probability", type=float, default=0.0)
    p.add_argument("--stall", type=float, default=0.0, help="ms")
    p.add_argument("--slow-close", type=float, default=0.0, help="ms")
    p.add_argument("--reset-share", type=float, default=0.0)
    p.add_argument("--reset-after", default="1:65536", help="MIN:MAX upstream bytes")
    p.add_argument("--corrupt-share", type=float, default=0.0)
    a = p.parse_args(argv)
    lo, _, hi = a.reset_after.partition(":")
    a.reset_after = (int(lo), int(hi or lo))
    if a.reset_after[0] < 1 or a.reset_after[1] < a.reset_after[0]:
        p.error("--reset-after: want 1 <= MIN <= MAX")
    return a


def split_hostport(text):
    host, _, port = text.rpartition(":")
    return host or "127.0.0.1", int(port)


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


EOF = object()  # end of stream, in a direction's queue after the last chunk


class Connection:
    """One client and its upstream connection: two directions, each a reader and a writer task
    joined by a bounded queue (so a slow direction holds the sender back, as TCP would)."""

    def __init__(self, proxy, index, client_reader, client_writer):
        self.proxy = proxy
        self.opts = proxy.opts
        self.rng = random.Random(self.opts.seed * 1_000_003 + index)
        self.client_reader, self.client_writer = client_reader, client_writer
        self.upstream_writer = None
        self.client_port = client_writer.get_extra_info("peername")[1]
        self.reset_at = None
        if self.opts.reset_share > 0 and self.rng.random() < self.opts.reset_share:
            self.reset_at = self.rng.randint(*self.opts.reset_after)
        self.corrupt_at = None
        if self.opts.corrupt_share > 0 and self.rng.random() < self.opts.corrupt_share:
            self.corrupt_at = self.rng.randint(*self.opts.reset_after) - 1
        self.upstream_bytes = 0
        self.was_reset = False
        self.tasks = []

    async def run(self):
        try:
            up_host, up_port = split_hostport(self.opts.upstream)
            upstream_reader, self.upstream_writer = await asyncio.open_connection(up_host, up_port)
        except OSError:
            self.abort()
            return
        for s in (self.client_writer, self.upstream_writer):
            sock = s.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        up = asyncio.Queue(maxsize=64)
        down = asyncio.Queue(maxsize=64)
        self.tasks = [
            asyncio.ensure_future(self.read(self.client_reader, up, upstream=True)),
            asyncio.ensure_future(self.write(up, self.upstream_writer)),
            asyncio.ensure_future(self.read(upstream_reader, down, upstream=False)),
            asyncio.ensure_future(self.write(down, self.client_writer)),
        ]
        try:
            await asyncio.gather(*self.tasks)
        except asyncio.CancelledError:
            pass
        finally:
            self.close()

    def due(self):
        """When a chunk arriving now is to be delivered (loop time, seconds)."""
        loop = asyncio.get_running_loop()
        delay = self.opts.latency
        if self.opts.jitter:
            delay += self.rng.uniform(-self.opts.jitter, self.opts.jitter)
        return loop.time() + max(0.0, delay) / 1000.0

    async def read(self, reader, queue, upstream):
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                if upstream and self.reset_at is not None:
                    room = self.reset_at - self.upstream_bytes
                    if len(data) >= room:  # the cut: forward up to the mark, then reset both sides
                        if room > 1:
                            await queue.put((self.due(), data[:room - 1]))
                        await self.reset_after_queue(queue)
                        return
                if upstream and self.corrupt_at is not None:
                    at = self.corrupt_at - self.upstream_bytes
                    if 0 <= at < len(data):
                        data = data[:at] + bytes([data[at] ^ 0x20]) + data[at + 1:]
                        say(f"CORRUPT {self.client_port} {self.corrupt_at}")
                if upstream:
                    self.upstream_bytes += len(data)
                await queue.put((self.due(), data))
        except (ConnectionError, OSError):
            # an error stays an error on the other side (after the slow close): RST there too
            await asyncio.sleep(self.opts.slow_close / 1000.0)
            self.reset_quietly()
            return
        await queue.put((self.due() + self.opts.slow_close / 1000.0, EOF))

    async def reset_after_queue(self, queue):
        # let what was forwarded before the mark leave first (bounded: a few latencies)
        loop = asyncio.get_running_loop()
        limit = loop.time() + 2.0 + 4 * (self.opts.latency + self.opts.jitter + self.opts.stall) / 1000.0
        while not queue.empty() and loop.time() < limit:
            await asyncio.sleep(0.001)
        self.reset()

    async def write(self, queue, writer):
        loop = asyncio.get_running_loop()
        last = 0.0
        try:
            while True:
                when, data = await queue.get()
                when = max(when, last)  # never overtake the chunk before
                last = when
                wait = when - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if data is EOF:
                    if writer.can_write_eof():
                        writer.write_eof()
                    await writer.drain()
                    return
                if self.opts.stall_probability and self.rng.random() < self.opts.stall_probability:
                    await asyncio.sleep(self.opts.stall / 1000.0)
                for piece in self.pieces(data):
                    writer.write(piece)
                    await writer.drain()
                    if self.opts.bandwidth:
                        await asyncio.sleep(len(piece) / self.opts.bandwidth)
                    elif self.opts.slice_delay and len(piece) < len(data):
                        await asyncio.sleep(self.opts.slice_delay / 1000.0)
                last = max(last, loop.time())
        except (ConnectionError, OSError):
            # the other side is gone: so is this connection
            self.reset_quietly()

    def pieces(self, data):
        if self.opts.slice_average <= 0:
            return [data]
        out, at = [], 0
        while at < len(data):
            n = self.opts.slice_average + self.rng.randint(-self.opts.slice_variation, self.opts.slice_variation)
            n = max(1, n)
            out.append(data[at:at + n])
            at += n
        return out

    def abort_writer(self, writer):
        if writer is None:
            return
        sock = writer.get_extra_info("socket")
        try:
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        writer.transport.abort()

    def reset(self):
        if self.was_reset:
            return
        self.was_reset = True
        self.proxy.resets += 1
        say(f"RESET {self.client_port} {self.reset_at}")
        self.reset_quietly()

    def reset_quietly(self):
        self.abort_writer(self.client_writer)
        self.abort_writer(self.upstream_writer)
        for t in self.tasks:
            if t is not asyncio.current_task():
                t.cancel()

    def abort(self):
        self.abort_writer(self.client_writer)

    def close(self):
        for w in (self.client_writer, self.upstream_writer):
            if w is not None and not w.transport.is_closing():
                w.close()


class Proxy:
    def __init__(self, opts):
        self.opts = opts
        self.accepted = 0
        self.resets = 0
        self.connections = set()

    async def on_client(self, reader, writer):
        index = self.accepted
        self.accepted += 1
        conn = Connection(self, index, reader, writer)
        self.connections.add(conn)
        try:
            await conn.run()
        finally:
            self.connections.discard(conn)

    async def main(self):
        loop = asyncio.get_running_loop()
        stop = loop.create_future()

        def finish(*_):
            if not stop.done():
                stop.set_result(None)

        for signo in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signo, finish)
        # when stdin is a pipe, its end stops the proxy too (the parent went away)
        try:
            if stat.S_ISFIFO(os.fstat(sys.stdin.fileno()).st_mode):
                loop.add_reader(sys.stdin.fileno(), lambda: None if os.read(sys.stdin.fileno(), 4096) else finish())
        except (OSError, ValueError):
            pass
        host, port = split_hostport(self.opts.listen)
        server = await asyncio.start_server(self.on_client, host, port, backlog=1024)
        say(f"READY {server.sockets[0].getsockname()[1]}")
        await stop
        server.close()
        for conn in list(self.connections):
            conn.reset_quietly()
        await asyncio.sleep(0)
        say(f"DONE {self.accepted} {self.resets}")


def main(argv=None):
    opts = parse_args(sys.argv[1:] if argv is None else argv)
    asyncio.run(Proxy(opts).main())
    return 0


if __name__ == "__main__":
    sys.exit(main())
