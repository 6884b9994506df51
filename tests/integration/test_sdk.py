"""The C++ device SDK (sdk/) against the real hub, driven through
`allscene-sdk-probe` (one SDK operation per stdin line, JSON lines out).

The cloud side is independent of the SDK: paho-mqtt subscribed to
`devices/+/messages/events/#` sees device-to-cloud events, and publishes
cloud-to-device messages on `devices/{id}/messages/devicebound/{bag}`;
twin changes and method calls go through the hub's HTTP service API.
A small fake hub (raw sockets, bytes per MQTT 3.1.1) checks what the SDK
writes on the wire and what it does when a hub stays silent.

The probe is $ALLSCENE_SDK_PROBE, or sdk/allscene-sdk-probe beside
$ALLSCENE_BIN in a build tree.
"""

import base64
import http.client
import json
import os
import queue
import socket
import struct
import subprocess
import threading
import time
import unittest
import urllib.parse

import harness
import mqttproto as mp
from test_auth import cli

HUB_HOST = "localhost"


def probe_binary():
    path = os.environ.get("ALLSCENE_SDK_PROBE")
    if not path:
        path = os.path.join(os.path.dirname(harness.hub_binary()), "sdk", "allscene-sdk-probe")
    if not os.access(path, os.X_OK):
        raise unittest.SkipTest("no allscene-sdk-probe at %s (set ALLSCENE_SDK_PROBE)" % path)
    return path


class Probe:
    """One allscene-sdk-probe process: commands in, JSON lines out."""

    def __init__(self, testcase, *args):
        self.proc = harness.track(subprocess.Popen(
            [probe_binary(), *[str(a) for a in args]], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True))
        self.lines = queue.Queue()
        self.seen = []
        self._next_id = 0
        self.stderr = b""
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()
        testcase.addCleanup(self.close)

    def _read(self):
        for raw in self.proc.stdout:
            try:
                self.lines.put(json.loads(raw))
            except ValueError:
                self.lines.put({"event": "garbage", "line": raw.decode("utf-8", "replace")})
        self.lines.put(None)

    def _read_err(self):
        self.stderr = self.proc.stderr.read()

    def command(self, op, **fields):
        """Sends one command; returns its id (results carry it)."""
        self._next_id += 1
        fields.update(op=op, id=self._next_id)
        self.proc.stdin.write((json.dumps(fields) + "\n").encode())
        self.proc.stdin.flush()
        return self._next_id

    def expect(self, event, timeout=10.0, **match):
        """The next line (in arrival order, skipping others, which are kept
        in self.seen) with this event and fields; AssertionError after
        `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no %s %r within %.1fs; saw %r" % (event, match, timeout,
                                                                        self.seen[-20:]))
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError("probe exited (%s) waiting for %s; saw %r; stderr %r"
                                     % (self.proc.poll(), event, self.seen[-20:],
                                        self.stderr[-2000:]))
            self.seen.append(line)
            if line.get("event") == event and all(line.get(k) == v for k, v in match.items()):
                return line

    def none_within(self, event, duration):
        """Lines with `event` arriving within `duration` seconds."""
        got = []
        deadline = time.monotonic() + duration
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return got
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                return got
            if line is None:
                return got
            self.seen.append(line)
            if line.get("event") == event:
                got.append(line)

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(b'{"op":"stop"}\n')
                self.proc.stdin.close()
            except (BrokenPipeError, ValueError):
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.proc in harness._live_processes:
            harness._live_processes.remove(self.proc)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                pipe.close()
            except (OSError, ValueError):
                pass
        return self.proc.returncode


def register(data_dir, device, owner="alice"):
    out = json.loads(cli(data_dir, "device", "add", device, "--owner", owner, "--class", "iot",
                         "--json").stdout)
    return out["credentials"]["primary_key"]


def connection_string(device, key):
    return "HostName=%s;DeviceId=%s;SharedAccessKey=%s" % (HUB_HOST, device, key)


class SdkTestBase(harness.HubTestCase):
    """A hub with user alice, devices registered per test."""

    hub = None
    DEVICES = ()

    @classmethod
    def setUpClass(cls):
        cls.http_port = harness.free_port()
        cls.hub = harness.Hub("--http", "%s:%d" % (harness.HOST, cls.http_port))
        cli(cls.hub.data_dir, "user", "add", "alice")
        cls.keys = {d: register(cls.hub.data_dir, d) for d in cls.DEVICES}
        cls.hub.start()

    def probe(self, device, *args, port=None, key=None):
        return Probe(self, "--connection-string",
                     connection_string(device, key or self.keys[device]),
                     "--port", port or self.hub.port, *args)

    def connected_probe(self, device, *args, **kw):
        p = self.probe(device, *args, **kw)
        p.expect("connected", code="")
        return p

    def cloud(self):
        """An anonymous loopback client: the cloud's view of device topics."""
        c = self.paho(version=mp.V311)
        self.assertEqual(c.subscribe("devices/+/messages/events/#", 1), [1])
        return c


class SdkMessagingTest(SdkTestBase):
    DEVICES = ("bulb-ev", "bulb-c2d", "bulb-off", "bulb-bad", "bulb-seq")

    def test_event_reaches_the_cloud_with_properties_content_type_and_encoding(self):
        cloud = self.cloud()
        p = self.connected_probe("bulb-ev")
        i = p.command("send", payload='{"battery":87}', ct="application/json", ce="utf-8",
                      mid="m-1", props=[["level", "high"], ["a b", "c&d"]])
        p.expect("sent", id=i, code="")
        m = cloud.expect()
        self.assertEqual(m.topic, "devices/bulb-ev/messages/events/"
                         "$.mid=m-1&$.ct=application%2Fjson&$.ce=utf-8&level=high&a%20b=c%26d")
        self.assertEqual(json.loads(m.payload), {"battery": 87})
        self.assertEqual(m.qos, 1)

    def test_events_arrive_in_order(self):
        cloud = self.cloud()
        p = self.connected_probe("bulb-seq")
        ids = [p.command("send", payload="n%d" % n) for n in range(50)]
        for i in ids:
            p.expect("sent", id=i, code="")
        got = [m.payload for m in cloud.collect(50, timeout=10)]
        self.assertEqual(got, [b"n%d" % n for n in range(50)])

    def test_cloud_to_device_message_with_properties(self):
        cloud = self.cloud()
        p = self.connected_probe("bulb-c2d")
        cloud.publish("devices/bulb-c2d/messages/devicebound/"
                      "%24.mid=c-1&%24.to=%2Fdevices%2Fbulb-c2d%2Fmessages%2Fdevicebound&color=red",
                      b"turn red", qos=1)
        m = p.expect("c2d")
        self.assertEqual(m["payload"], "turn red")
        self.assertEqual(m["properties"], [["$.mid", "c-1"],
                                           ["$.to", "/devices/bulb-c2d/messages/devicebound"],
                                           ["color", "red"]])

    def test_cloud_to_device_message_sent_while_offline_arrives_on_return(self):
        cloud = self.cloud()
        p = self.connected_probe("bulb-off")
        self.assertEqual(p.close(), 0)
        cloud.publish("devices/bulb-off/messages/devicebound/k=v", b"while away", qos=1)
        # It may come before the subscriptions are acknowledged ("connected"):
        # the session kept them.
        m = self.probe("bulb-off").expect("c2d")
        self.assertEqual((m["payload"], m["properties"]), ("while away", [["k", "v"]]))

    def test_wrong_key_is_reported_as_not_authorized_and_retried(self):
        wrong = base64.b64encode(b"k" * 32).decode()
        p = self.probe("bulb-bad", "--backoff-initial-ms", 100, "--backoff-max-ms", 200, key=wrong)
        p.expect("disconnected", code="not_authorized")
        p.expect("disconnected", code="not_authorized", timeout=5)
        self.assertEqual(p.none_within("connected", 0.3), [])

    def test_invalid_connection_string_is_refused_before_connecting(self):
        proc = subprocess.run([probe_binary(), "--connection-string", "HostName=h;DeviceId=d"],
                              capture_output=True, timeout=30)
        self.assertEqual(proc.returncode, 2, proc)
        line = json.loads(proc.stdout.decode().splitlines()[0])
        self.assertEqual(line["code"], "invalid_connection_string")
        proc = subprocess.run([probe_binary(), "--connection-string",
                               "HostName=h;DeviceId=d;SharedAccessKey=not*base64"],
                              capture_output=True, timeout=30)
        self.assertEqual(json.loads(proc.stdout.decode().splitlines()[0])["code"], "invalid_key")


class SdkReconnectTest(SdkTestBase):
    """Tests that stop and restart the hub (same port and data directory)."""

    DEVICES = ("phone-q", "phone-b", "phone-r")

    def restart_hub(self, down_for=0.0):
        port, data_dir = self.hub.port, self.hub.data_dir
        self.hub.stop()
        time.sleep(down_for)
        hub = harness.Hub("--http", "%s:%d" % (harness.HOST, self.http_port), port=port,
                          data_dir=data_dir)
        hub._own_dir = True
        type(self).hub = hub
        hub.start()
        return hub

    def persistent_cloud(self, client_id):
        """A persistent (clean session off) subscriber: it gets events routed
        while it, or the hub, was down."""
        c = self.paho(client_id, version=mp.V311, connect=False)
        c.connect(clean=False)
        self.assertEqual(c.subscribe("devices/+/messages/events/#", 1), [1])
        return c

    def test_events_sent_while_the_hub_is_down_are_queued_and_sent_on_reconnect(self):
        cloud = self.persistent_cloud("cloud-q")
        p = self.connected_probe("phone-q", "--backoff-initial-ms", 100, "--backoff-max-ms", 400)
        cloud.disconnect()
        self.hub.stop()
        p.expect("disconnected")
        ids = [p.command("send", payload="battery %d" % n) for n in (50, 49, 48)]
        self.assertEqual(p.none_within("sent", 0.5), [], "completed while the hub was down")
        self.restart_hub()
        p.expect("connected", code="", timeout=10)
        for i in ids:
            p.expect("sent", id=i, code="")
        cloud.connect(clean=False)
        got = [m.payload for m in cloud.collect(3, timeout=10)]
        self.assertEqual(got, [b"battery 50", b"battery 49", b"battery 48"])

    def test_offline_queue_bound_drops_the_oldest(self):
        cloud = self.persistent_cloud("cloud-b")
        p = self.connected_probe("phone-b", "--backoff-initial-ms", 100, "--backoff-max-ms", 400,
                                 "--queue-limit", 2)
        cloud.disconnect()
        self.hub.stop()
        p.expect("disconnected")
        ids = [p.command("send", payload="e%d" % n) for n in range(4)]
        p.expect("sent", id=ids[0], code="queue_full")
        p.expect("sent", id=ids[1], code="queue_full")
        self.restart_hub()
        p.expect("sent", id=ids[2], code="")
        p.expect("sent", id=ids[3], code="")
        cloud.connect(clean=False)
        self.assertEqual([m.payload for m in cloud.collect(2, timeout=10)], [b"e2", b"e3"])
        self.assertEqual(cloud.quiet(0.3), [])

    def test_reject_new_keeps_the_oldest(self):
        p = self.connected_probe("phone-r", "--backoff-initial-ms", 100, "--backoff-max-ms", 400,
                                 "--queue-limit", 1, "--queue-policy", "reject_new")
        self.hub.stop()
        p.expect("disconnected")
        first = p.command("send", payload="first")
        second = p.command("send", payload="second")
        p.expect("sent", id=second, code="queue_full")
        self.restart_hub()
        p.expect("sent", id=first, code="")

    def test_retries_back_off_exponentially_up_to_the_cap(self):
        # No hub on this port: every attempt is refused at once; the gaps
        # between attempts follow 200, 400, 800, 800, 800 ms less up to 25 %
        # jitter.
        port = harness.free_port()
        p = Probe(self, "--connection-string", connection_string("phone-r", self.keys["phone-r"]),
                  "--port", port, "--backoff-initial-ms", 200, "--backoff-max-ms", 800)
        times = []
        for _ in range(6):
            p.expect("disconnected", timeout=5)
            times.append(time.monotonic())
        gaps = [b - a for a, b in zip(times, times[1:])]
        bases = (0.2, 0.4, 0.8, 0.8, 0.8)
        for gap, base in zip(gaps, bases):
            self.assertGreaterEqual(gap, base * 0.75 - 0.02, gaps)
            self.assertLessEqual(gap, base + 0.4, gaps)
