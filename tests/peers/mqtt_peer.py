#!/usr/bin/env python3
"""mqtt_pub and mqtt_sub against mosquitto and its own clients (mosquitto_pub, mosquitto_sub).

    mqtt_peer.py --examples DIR --direction {to-sub,from-pub} --qos {0,1,2}
    mqtt_peer.py --examples DIR --direction will
    mqtt_peer.py --checker mqtt_peer_check --direction unsubscribe
    mqtt_peer.py --checker mqtt_peer_check --direction v5

to-sub:      mosquitto_pub -> broker -> mqtt_sub       (mqtt_sub's stdout compared exactly; at QoS
             2 mqtt_sub subscribes at QoS 2 and answers PUBREC / PUBCOMP)
from-pub:    mqtt_pub      -> broker -> mosquitto_sub  (payloads compared exactly, as hex; at QoS 2
             mqtt_pub goes through PUBREC / PUBREL / PUBCOMP)
will:        mqtt_sub connects with a Will and is killed (no DISCONNECT): mosquitto_sub receives
             the Will from the broker
unsubscribe: mqtt_peer_check's subscriber unsubscribes and gets nothing more on that topic
v5:          mqtt_peer_check's MQTT 5 clients: properties in CONNECT, CONNACK, SUBSCRIBE and PUBLISH

The broker gets a generated config on a free loopback port; every process is stopped by its PID
and the temporary directory removed. Exit 0 on success, 1 with a message otherwise.
"""

import argparse
import os
import queue
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

TIMEOUT = 30.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def messages():
    rng = random.Random(1883)
    printable = "".join(chr(c) for c in range(0x20, 0x7F))
    big = "".join(rng.choice(printable) for _ in range(100 * 1024))
    return ["hello", "", "two words", "h\u00e9llo w\u00f6rld \u2603", big, "", "last"]


class Broker:
    def __init__(self, workdir):
        self.proc = None
        for _ in range(5):
            self.port = free_port()
            conf = os.path.join(workdir, "mosquitto.conf")
            with open(conf, "w") as f:
                f.write(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
            self.proc = subprocess.Popen(["mosquitto", "-c", conf], stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
            if self._wait_ready():
                return
            self.stop()
        raise RuntimeError("mosquitto did not start")

    def _wait_ready(self):
        end = time.monotonic() + 10
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                return False  # the port was taken meanwhile: try another
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                time.sleep(0.02)  # polling for the listener, bounded by `end`
        return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Lines:
    """The lines of a pipe, read by one thread; line(deadline) returns the next one or None."""

    def __init__(self, stream):
        self.queue = queue.Queue()
        threading.Thread(target=self._run, args=(stream,), daemon=True).start()

    def _run(self, stream):
        for line in iter(stream.readline, b""):
            self.queue.put(line)
        self.queue.put(b"")  # end of stream

    def line(self, deadline):
        try:
            return self.queue.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return None


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def to_sub(examples, broker, qos, msgs):
    sub = subprocess.Popen([os.path.join(examples, "mqtt_sub"), "--port", str(broker.port), "--topic",
                            "sockframe/to-sub", "--count", str(len(msgs)), "--qos", str(max(qos, 1))],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        line = Lines(sub.stderr).line(time.monotonic() + TIMEOUT)
        if line != b"SUBSCRIBED\n":
            raise RuntimeError(f"mqtt_sub did not subscribe: {line!r}")
        # -l: one message per line of stdin (an empty line is an empty message), one connection,
        # so the broker keeps their order.
        data = "".join(m + "\n" for m in msgs).encode()
        subprocess.run(["mosquitto_pub", "-p", str(broker.port), "-t", "sockframe/to-sub", "-q", str(qos), "-l"],
                       input=data, check=True, timeout=TIMEOUT)
        out, err = sub.communicate(timeout=TIMEOUT)
        if sub.returncode != 0:
            raise RuntimeError(f"mqtt_sub exited {sub.returncode}: {err!r}")
        if out != data:
            raise RuntimeError(f"mqtt_sub printed {len(out)} bytes, expected {len(data)}: {out[:200]!r}")
    finally:
        stop(sub)


def synced_sub(examples, broker, qos, topic):
    """mosquitto_sub on `topic`, once it is subscribed, and the lines it prints. It prints "<topic>
    <payload as hex>" per message and has no "subscribed" signal: a probe published on a second
    topic shows that its subscriptions are in place."""
    sub = subprocess.Popen(["mosquitto_sub", "-p", str(broker.port), "-q", str(max(qos, 1)), "-t", topic,
                            "-t", "sockframe/sync", "-F", "%t %x"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    pub = os.path.join(examples, "mqtt_pub")
    lines = Lines(sub.stdout)
    try:
        deadline = time.monotonic() + TIMEOUT
        synced = False
        while not synced and time.monotonic() < deadline:
            subprocess.run([pub, "--port", str(broker.port), "--topic", "sockframe/sync", "probe"], check=True,
                           timeout=TIMEOUT)
            line = lines.line(min(deadline, time.monotonic() + 0.5))
            while line is not None and line.startswith(b"sockframe/sync"):
                synced = True
                line = lines.line(time.monotonic() + 0.05)
            if line is not None and line:
                raise RuntimeError(f"unexpected line before publishing: {line!r}")
        if not synced:
            raise RuntimeError("mosquitto_sub never received the probe")
    except BaseException:
        stop(sub)
        raise
    return sub, lines


def from_pub(examples, broker, qos, msgs):
    sub, lines = synced_sub(examples, broker, qos, "sockframe/from-pub")
    pub = os.path.join(examples, "mqtt_pub")
    deadline = time.monotonic() + TIMEOUT
    try:
        subprocess.run([pub, "--port", str(broker.port), "--topic", "sockframe/from-pub", "--qos", str(qos)] + msgs,
                       check=True, timeout=TIMEOUT)
        for i, m in enumerate(msgs):
            line = lines.line(deadline)
            while line is not None and line.startswith(b"sockframe/sync "):  # a late probe
                line = lines.line(deadline)
            if line is None:
                raise RuntimeError(f"message {i} did not arrive")
            expected = b"sockframe/from-pub " + m.encode().hex().encode() + b"\n"
            if line != expected:
                raise RuntimeError(f"message {i}: got {line[:120]!r}, expected {expected[:120]!r}")
    finally:
        stop(sub)


def will(examples, broker):
    """A client that drops without DISCONNECT: the broker publishes its Will."""
    sub, lines = synced_sub(examples, broker, 1, "sockframe/will")
    dropping = subprocess.Popen([os.path.join(examples, "mqtt_sub"), "--port", str(broker.port), "--topic",
                                 "sockframe/nothing", "--count", "1", "--will-topic", "sockframe/will",
                                 "--will-message", "gone \u2603"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + TIMEOUT
        line = Lines(dropping.stderr).line(deadline)
        if line != b"SUBSCRIBED\n":
            raise RuntimeError(f"mqtt_sub did not subscribe: {line!r}")
        dropping.kill()  # the connection ends without a DISCONNECT
        dropping.wait(TIMEOUT)
        line = lines.line(deadline)
        while line is not None and line.startswith(b"sockframe/sync "):  # a late probe
            line = lines.line(deadline)
        expected = b"sockframe/will " + "gone \u2603".encode().hex().encode() + b"\n"
        if line != expected:
            raise RuntimeError(f"got {line!r}, expected the Will {expected!r}")
    finally:
        stop(dropping)
        stop(sub)


def checked(checker, broker, what):
    out = subprocess.run([checker, "--port", str(broker.port), what], capture_output=True, timeout=TIMEOUT)
    if out.returncode != 0 or not out.stdout.startswith(b"OK"):
        raise RuntimeError(f"mqtt_peer_check: {out.stdout!r} {out.stderr!r}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples")
    parser.add_argument("--checker")
    parser.add_argument("--direction", choices=["to-sub", "from-pub", "will", "unsubscribe", "v5"], required=True)
    parser.add_argument("--qos", type=int, choices=[0, 1, 2], default=1)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="sockframe-mqtt-")
    broker = None
    try:
        broker = Broker(workdir)
        if args.direction == "will":
            will(args.examples, broker)
        elif args.direction in ("unsubscribe", "v5"):
            checked(args.checker, broker, args.direction)
        else:
            (to_sub if args.direction == "to-sub" else from_pub)(args.examples, broker, args.qos, messages())
    except Exception as e:  # noqa: BLE001 - reported as the test's failure
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    finally:
        if broker:
            broker.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
