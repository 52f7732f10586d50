#!/usr/bin/env python3
"""ws_echo and ws_client against Python's websockets library (Debian python3-websockets, 10.x
legacy asyncio API).

    websocket_peer.py --examples DIR --case {echo,client}

echo:   websockets clients against ws_echo: text, binary, empty, fragmented and large messages,
        ping/pong, a close code round trip, invalid UTF-8 (close 1007, also across fragments), a
        message above the maximum (close 1009), and many clients at once.
client: ws_client against a websockets echo server: its output compared exactly.

Every process this starts is stopped by its PID. Exit 0 on success, 1 with a message otherwise.
"""

import argparse
import asyncio
import os
import random
import subprocess
import sys

import websockets

TIMEOUT = 60


def fail(message):
    raise AssertionError(message)


def check(condition, message):
    if not condition:
        fail(message)


async def round_trip(ws, message):
    await ws.send(message)
    reply = await asyncio.wait_for(ws.recv(), TIMEOUT)
    check(type(reply) is type(message if not isinstance(message, list) else message[0]),
          f"reply of another type: {type(reply)}")
    expected = message if not isinstance(message, list) else message[0][:0].join(message)
    check(reply == expected, f"echo differs: sent {len(expected)}, got {len(reply)}: {reply[:60]!r}")


async def echo_case(port):
    uri = f"ws://127.0.0.1:{port}/echo"
    rng = random.Random(6455)
    async with websockets.connect(uri, max_size=None) as ws:
        for m in ["hello", "", "h\u00e9llo w\u00f6rld \u2603 \U0001F600", bytes(range(256)), b""]:
            await round_trip(ws, m)
        await round_trip(ws, ["frag", "m\u00e9nt", "ed"])  # a fragmented text message
        await round_trip(ws, [b"\x00" * 10, b"\xff" * 10, b"\x80"])
        await round_trip(ws, rng.randbytes(8 << 20))
        await round_trip(ws, "\u00e9\u20ac" * (1 << 19))  # 2.5 MiB of two- and three-byte characters
        await round_trip(ws, ["\u20ac" * 70000, "x", "\u00e9" * 40000])
        pong = await ws.ping(b"are you there")
        await asyncio.wait_for(pong, TIMEOUT)
        await round_trip(ws, "after ping")
        await ws.close(4000, "bye")
        check(ws.close_code == 4000, f"close code {ws.close_code}, expected 4000")
        check(ws.close_reason == "bye", f"close reason {ws.close_reason!r}")
    async with websockets.connect(uri) as ws:
        await ws.close()
        check(ws.close_code == 1000, f"close code {ws.close_code}, expected 1000")

    # invalid UTF-8 in a text message: the server closes with 1007
    async with websockets.connect(uri) as ws:
        await ws.write_frame(True, 0x1, b"bad \xc3\x28")
        await asyncio.wait_for(ws.wait_closed(), TIMEOUT)
        check(ws.close_code == 1007, f"invalid UTF-8: close code {ws.close_code}, expected 1007")
    # ... split so that each fragment alone looks fine until the second one
    async with websockets.connect(uri) as ws:
        await ws.write_frame(False, 0x1, b"ok \xe2\x82")
        await ws.write_frame(True, 0x0, b"(")
        await asyncio.wait_for(ws.wait_closed(), TIMEOUT)
        check(ws.close_code == 1007, f"invalid UTF-8 across fragments: close code {ws.close_code}")
    # above ws_echo's 16 MiB maximum: 1009
    async with websockets.connect(uri) as ws:
        try:
            await ws.send(b"z" * ((16 << 20) + 1))
        except websockets.ConnectionClosed:
            pass
        await asyncio.wait_for(ws.wait_closed(), TIMEOUT)
        check(ws.close_code == 1009, f"oversized message: close code {ws.close_code}, expected 1009")

    # many clients at once, their messages interleaved
    async def client(i):
        async with websockets.connect(uri) as ws:
            for j in range(20):
                await round_trip(ws, f"client {i} message {j}" if j % 2 else f"{i}:{j}".encode())
    await asyncio.wait_for(asyncio.gather(*(client(i) for i in range(16))), TIMEOUT)


def run_echo(examples):
    # ws_echo's stderr (one line per failed connection) goes to the test's log
    server = subprocess.Popen([os.path.join(examples, "ws_echo"), "--port", "0"], stdout=subprocess.PIPE)
    try:
        line = server.stdout.readline().decode()
        check(line.startswith("READY "), f"ws_echo printed {line!r}")
        asyncio.run(echo_case(int(line.split()[1])))
    finally:
        server.terminate()
        try:
            server.wait(5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


async def client_case(examples):
    received = []

    async def echo(ws, path=None):
        async for message in ws:
            received.append("text" if isinstance(message, str) else "binary")
            await ws.send(message)

    async with websockets.serve(echo, "127.0.0.1", 0, max_size=None) as server:
        port = server.sockets[0].getsockname()[1]
        client = os.path.join(examples, "ws_client")

        async def run(args, expected, types):
            received.clear()
            proc = await asyncio.create_subprocess_exec(client, "--port", str(port), *args,
                                                        stdout=asyncio.subprocess.PIPE,
                                                        stderr=asyncio.subprocess.PIPE)
            try:
                out, err = await asyncio.wait_for(proc.communicate(), TIMEOUT)
            except asyncio.TimeoutError:
                proc.kill()
                await proc.wait()
                fail(f"ws_client {args[:4]} did not finish")
            check(proc.returncode == 0, f"ws_client exited {proc.returncode}: {err!r}")
            check(out == expected, f"ws_client printed {out[:200]!r}, expected {expected[:200]!r}")
            check(received == types, f"the server received {received}, expected {types}")

        await run(["--ping", "abc", "--close", "4001", "--reason", "bye", "hello", "w\u00f6rld", ""],
                  "PONG abc\nhello\nw\u00f6rld\n\nCLOSED 4001 bye\n".encode(), ["text"] * 3)
        await run(["--binary", "--fragment", "3", "abcdefghij", "xy"], b"abcdefghij\nxy\nCLOSED 1000 \n",
                  ["binary"] * 2)
        big = "".join(random.Random(4).choice("abc\u00e9\u20ac") for _ in range(40000))
        await run(["--fragment", "1000", big], (big + "\nCLOSED 1000 \n").encode(), ["text"])
        await run(["--path", "/some/path?x=1", "--close", "1001", "one"], b"one\nCLOSED 1001 \n", ["text"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", required=True)
    parser.add_argument("--case", choices=["echo", "client"], required=True)
    args = parser.parse_args()
    print(f"websockets {websockets.__version__}")
    try:
        if args.case == "echo":
            run_echo(args.examples)
        else:
            asyncio.run(client_case(args.examples))
    except Exception as e:  # noqa: BLE001 - reported as the test's failure
        print(f"FAIL: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
