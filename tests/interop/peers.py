#!/usr/bin/env python3
"""Python (stdlib only) framing peers for sockframe's interoperability tests.

    peers.py serve --codec SPEC [--upper]          echo server; prints "READY <port>"
    peers.py send  --codec SPEC --port P --count N --sizes A,B [--byte-by-byte] [--expect-upper]

SPEC is framed_echo's: len:W[:be|le] | varint | line | delim:STRING | fixed:N. Frames are written
with struct.pack and read with asyncio's readexactly / readuntil, the way Python services do it.
"""
import argparse
import asyncio
import random
import struct
import sys

WIDTHS = {1: "B", 2: "H", 4: "I", 8: "Q"}
LIMIT = 1 << 20  # asyncio's default 64 KiB line limit is smaller than the frames sent here


def unescape(text):
    return text.encode("latin-1").decode("unicode_escape").encode("latin-1")


class Codec:
    def __init__(self, spec):
        self.spec = spec
        parts = spec.split(":", 1)
        self.kind = parts[0]
        if self.kind == "len":
            fields = parts[1].split(":")
            self.width = int(fields[0])
            order = fields[1] if len(fields) > 1 else "be"
            self.fmt = (">" if order == "be" else "<") + WIDTHS[self.width]
        elif self.kind == "delim":
            self.delim = unescape(parts[1])
        elif self.kind == "fixed":
            self.size = int(parts[1])
        elif self.kind not in ("varint", "line"):
            raise SystemExit("bad codec " + spec)

    def encode(self, payload):
        if self.kind == "len":
            return struct.pack(self.fmt, len(payload)) + payload
        if self.kind == "varint":
            n, out = len(payload), bytearray()
            while True:
                byte = n & 0x7F
                n >>= 7
                out.append(byte | (0x80 if n else 0))
                if not n:
                    return bytes(out) + payload
        if self.kind == "line":
            return payload + b"\n"
        if self.kind == "delim":
            return payload + self.delim
        return payload  # fixed

    async def read(self, reader):
        """The next payload, or None at a clean end of stream."""
        try:
            if self.kind == "len":
                (n,) = struct.unpack(self.fmt, await reader.readexactly(self.width))
                return await reader.readexactly(n)
            if self.kind == "varint":
                n = shift = 0
                while True:
                    b = (await reader.readexactly(1))[0]
                    n |= (b & 0x7F) << shift
                    shift += 7
                    if not b & 0x80:
                        return await reader.readexactly(n)
            if self.kind == "line":
                line = await reader.readuntil(b"\n")
                return line[:-2] if line.endswith(b"\r\n") else line[:-1]
            if self.kind == "delim":
                return (await reader.readuntil(self.delim))[: -len(self.delim)]
            return await reader.readexactly(self.size)
        except asyncio.IncompleteReadError as e:
            if e.partial:
                raise
            return None

    def avoid(self):
        if self.kind == "line":
            return b"\r\n"
        if self.kind == "delim":
            return self.delim
        return b""


def upper(data):
    return bytes(c - 32 if 97 <= c <= 122 else c for c in data)


async def serve(args):
    codec = Codec(args.codec)

    async def client(reader, writer):
        try:
            while True:
                payload = await codec.read(reader)
                if payload is None:
                    break
                writer.write(codec.encode(upper(payload) if args.upper else payload))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(client, args.host, 0, limit=LIMIT)
    port = server.sockets[0].getsockname()[1]
    print("READY", port, flush=True)
    async with server:
        await server.serve_forever()


async def send(args):
    codec = Codec(args.codec)
    rng = random.Random(args.seed)
    sizes = [int(s) for s in args.sizes.split(",")]
    avoid = codec.avoid()
    payloads = []
    for i in range(args.count):
        data = bytearray()
        while len(data) < sizes[i % len(sizes)]:
            b = rng.randrange(256)
            if b not in avoid:
                data.append(b)
        payloads.append(bytes(data))
    reader, writer = await asyncio.wait_for(asyncio.open_connection(args.host, args.port, limit=LIMIT), 10)

    async def produce():
        for p in payloads:
            wire = codec.encode(p)
            if args.byte_by_byte:
                for i in range(len(wire)):
                    writer.write(wire[i : i + 1])
                    await writer.drain()
            else:
                writer.write(wire)
                await writer.drain()

    producer = asyncio.ensure_future(produce())
    for i, p in enumerate(payloads):
        got = await asyncio.wait_for(codec.read(reader), 30)
        expected = upper(p) if args.expect_upper else p
        if got is None:
            print("FAIL peer closed after", i, "frames")
            return 1
        if got != expected:
            print("FAIL frame", i, "differs:", len(got), "bytes, expected", len(expected))
            return 1
    await producer
    writer.close()
    print("OK", args.count)
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["serve", "send"])
    parser.add_argument("--codec", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--upper", action="store_true")
    parser.add_argument("--expect-upper", action="store_true")
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--sizes", default="10")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--byte-by-byte", action="store_true")
    args = parser.parse_args()
    if args.mode == "serve":
        try:
            asyncio.run(serve(args))
        except KeyboardInterrupt:
            pass
        return 0
    return asyncio.run(send(args))


if __name__ == "__main__":
    sys.exit(main())
