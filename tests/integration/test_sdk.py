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
import hashlib
import hmac
import http.client
import json
import os
import queue
import signal
import socket
import struct
import subprocess
import tempfile
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
        self._threads = [threading.Thread(target=self._read, daemon=True),
                         threading.Thread(target=self._read_err, daemon=True)]
        for t in self._threads:
            t.start()
        testcase.addCleanup(self.check_sanitizers)
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

    def check_sanitizers(self):
        """Under ASan/UBSan builds, a report on stderr fails the test."""
        text = self.stderr.decode("utf-8", "replace")
        if "Sanitizer" in text or "runtime error:" in text:
            raise AssertionError("sanitizer report from the probe:\n" + text[-4000:])

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
        for t in self._threads:
            t.join(timeout=5)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                pipe.close()
            except (OSError, ValueError):
                pass
        return self.proc.returncode


def register(data_dir, device, owner="alice"):
    out = cli(data_dir, "device", "add", device, "--owner", owner, "--class", "iot",
              "--json").stdout
    out = json.loads(out.strip().splitlines()[-1])  # the JSON document is one line
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
            # Slack for a loaded machine; uncapped, the last gaps would be
            # at least 2.4 s.
            self.assertLessEqual(gap, base + 1.0, gaps)


class ServiceApiBase(SdkTestBase):
    """The cloud side through the hub's Azure-compatible service API
    (/twins/{id}, /twins/{id}/methods, /api/v1/devices/{id}/messages)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        path = os.path.join(cls.hub.data_dir, "admin.token")
        if not harness.wait_until(lambda: os.path.exists(path), 5.0):
            raise RuntimeError("no admin.token within 5 s\n" + cls.hub.log_tail())
        with open(path) as f:
            cls.token = f.read().strip()

    def service(self, method, path, body=None):
        """(status, parsed JSON or text) of one service API request."""
        conn = http.client.HTTPConnection(harness.HOST, self.http_port, timeout=15)
        self.addCleanup(conn.close)
        headers = {"Authorization": "Bearer " + self.token}
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=headers)
        r = conn.getresponse()
        text = r.read().decode()
        try:
            return r.status, json.loads(text)
        except ValueError:
            return r.status, text


class SdkTwinTest(ServiceApiBase):
    """Twins and direct methods with the hub's twin service."""

    DEVICES = ("lamp-tw", "lamp-big", "lamp-svc", "lamp-des", "lamp-m", "lamp-msg")

    def test_reported_properties_then_get_twin(self):
        p = self.connected_probe("lamp-tw")
        i = p.command("report", patch={"on": True, "brightness": 40})
        v1 = p.expect("reported", id=i, code="")["version"]
        i = p.command("report", patch={"brightness": None, "color": "#ff8800"})
        v2 = p.expect("reported", id=i, code="")["version"]
        self.assertGreater(v2, v1)
        i = p.command("get_twin")
        t = p.expect("twin", id=i, code="")
        self.assertEqual(t["reported"].get("on"), True)
        self.assertEqual(t["reported"].get("color"), "#ff8800")
        self.assertNotIn("brightness", t["reported"])  # null removed it
        self.assertEqual(t["reported_version"], v2)

    def test_refused_reported_patches_complete_with_errors(self):
        p = self.connected_probe("lamp-big")
        deep = {}
        node = deep
        for _ in range(12):
            node["x"] = {}
            node = node["x"]
        i = p.command("report", patch={"deep": deep})
        p.expect("reported", id=i, code="bad_request")
        i = p.command("report", patch={"blob": "z" * (40 * 1024)})
        p.expect("reported", id=i, code="payload_too_large")
        i = p.command("get_twin")
        self.assertEqual(p.expect("twin", id=i, code="")["reported"], {})  # unchanged

    def test_the_service_sees_what_the_device_reported(self):
        p = self.connected_probe("lamp-svc")
        i = p.command("report", patch={"color": "#ff8800"})
        version = p.expect("reported", id=i, code="")["version"]
        status, twin = self.service("GET", "/twins/lamp-svc")
        self.assertEqual(status, 200, twin)
        self.assertEqual(twin["properties"]["reported"]["color"], "#ff8800")
        self.assertEqual(twin["properties"]["reported"]["$version"], version)

    def test_desired_change_from_the_service_is_pushed_with_its_version(self):
        p = self.connected_probe("lamp-des")
        status, answer = self.service("PATCH", "/twins/lamp-des",
                                      {"properties": {"desired": {"color": "#00ff00"}}})
        self.assertEqual(status, 200, answer)
        d = p.expect("desired")
        self.assertEqual(d["patch"], {"color": "#00ff00"})
        i = p.command("get_twin")
        t = p.expect("twin", id=i, code="")
        self.assertEqual(t["desired"], {"color": "#00ff00"})
        self.assertEqual(t["desired_version"], d["version"])

    def test_method_call_from_the_service_is_answered_by_the_handler(self):
        p = self.connected_probe("lamp-m")
        p.command("method", name="blink", status=200)  # echoes the request payload
        p.expect("method_set")
        status, answer = self.service("POST", "/twins/lamp-m/methods",
                                      {"methodName": "blink", "payload": {"times": 3},
                                       "responseTimeoutInSeconds": 5})
        self.assertEqual(status, 200, answer)
        self.assertEqual(answer, {"status": 200, "payload": {"times": 3}})
        self.assertEqual(p.expect("method")["name"], "blink")
        status, answer = self.service("POST", "/twins/lamp-m/methods",
                                      {"methodName": "dance", "responseTimeoutInSeconds": 5})
        self.assertEqual(status, 200, answer)
        self.assertEqual(answer["status"], 404)
        self.assertIn("dance", answer["payload"]["message"])

    def test_cloud_to_device_message_from_the_service_api(self):
        p = self.connected_probe("lamp-msg")
        status, answer = self.service("POST", "/api/v1/devices/lamp-msg/messages",
                                      {"payload": "hello lamp", "properties": {"scene": "evening"}})
        self.assertEqual(status, 202, answer)
        m = p.expect("c2d")
        self.assertEqual(m["payload"], "hello lamp")
        props = dict(m["properties"])
        self.assertEqual(props.get("scene"), "evening")
        self.assertEqual(props.get("$.mid"), answer["messageId"])


class SdkEcosystemTest(SdkTestBase):
    """The Ecosystem (sdk/include/allscene/ecosystem.hpp) through the real hub:
    two of alice's devices, one of bob's. Each probe runs an Ecosystem
    (--ecosystem alice)."""

    DEVICES = ("eco-phone", "eco-laptop")

    @classmethod
    def setUpClass(cls):
        cls.hub = harness.Hub()
        cli(cls.hub.data_dir, "user", "add", "alice")
        cli(cls.hub.data_dir, "user", "add", "bob")
        cls.keys = {d: register(cls.hub.data_dir, d) for d in cls.DEVICES}
        cls.keys["eco-bob"] = register(cls.hub.data_dir, "eco-bob", owner="bob")
        cls.hub.start()

    def eco_probe(self, device, owner="alice", *args):
        downloads = tempfile.mkdtemp(prefix="allscene-eco-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", downloads]))
        p = self.connected_probe(device, "--ecosystem", owner, "--downloads", downloads, *args)
        p.downloads = downloads
        return p

    def test_whoami_and_cards_with_the_reported_status(self):
        laptop = self.eco_probe("eco-laptop")
        phone = self.eco_probe("eco-phone")
        i = phone.command("whoami")
        me = phone.expect("whoami", id=i)
        self.assertEqual((me["code"], me["owner"], me["deviceId"]), ("", "alice", "eco-phone"))
        i = phone.command("eco_status", level=62, charging=True)
        self.assertEqual(phone.expect("eco_status", id=i)["code"], "")
        # Cards change as devices connect and report; wait for the phone's report.
        deadline = time.monotonic() + 10
        while True:
            card = laptop.expect("device", timeout=max(0.1, deadline - time.monotonic()))["card"]
            if card["deviceId"] == "eco-phone" and "battery" in card:
                break
        self.assertEqual(card["battery"], {"level": 62, "charging": True})
        self.assertTrue(card["online"])
        self.assertEqual(card["class"], "iot")
        self.assertIn("files", card["capabilities"])

    def test_calls_reach_the_group_and_never_another_owner(self):
        laptop = self.eco_probe("eco-laptop")
        phone = self.eco_probe("eco-phone")
        bob = self.eco_probe("eco-bob", "bob")
        i = phone.command("ring", device="eco-laptop")
        self.assertEqual(phone.expect("rung", id=i)["code"], "")
        self.assertEqual(laptop.expect("ring")["from"], "eco-phone")
        i = phone.command("share", device="eco-laptop", text="hello")
        self.assertEqual(phone.expect("shared", id=i)["code"], "")
        laptop.expect("share", text="hello", **{"from": "eco-phone"})
        i = bob.command("ring", device="eco-laptop")
        self.assertEqual(bob.expect("rung", id=i)["code"], "not_found")
        self.assertEqual(laptop.none_within("ring", 0.5), [])

    def test_clipboard_and_a_file_through_the_inboxes(self):
        laptop = self.eco_probe("eco-laptop")
        phone = self.eco_probe("eco-phone")
        i = phone.command("copy", text="shared text")
        self.assertEqual(phone.expect("copied", id=i)["code"], "")
        laptop.expect("clipboard", text="shared text")
        source = os.path.join(phone.downloads, "clip.bin")
        data = os.urandom(5 * 1024 * 1024 + 17)
        with open(source, "wb") as f:
            f.write(data)
        i = phone.command("send_file", device="eco-laptop", path=source)
        sent = phone.expect("file_sent", id=i, timeout=60)
        self.assertEqual(sent["code"], "", sent)
        self.assertEqual(sent["transfer"]["sha256"], hashlib.sha256(data).hexdigest())
        done = laptop.expect("transfer", timeout=10)
        while done["transfer"]["state"] != "complete":
            done = laptop.expect("transfer", timeout=10)
        with open(done["transfer"]["path"], "rb") as f:
            self.assertEqual(f.read(), data)

    def test_a_declined_file(self):
        self.eco_probe("eco-laptop", "alice", "--decline-files")
        phone = self.eco_probe("eco-phone")
        source = os.path.join(phone.downloads, "no.txt")
        with open(source, "wb") as f:
            f.write(b"no thanks")
        i = phone.command("send_file", device="eco-laptop", path=source)
        self.assertEqual(phone.expect("file_sent", id=i)["code"], "declined")


class FakeHub:
    """A scripted MQTT 3.1.1 server on raw sockets, to see exactly what the
    SDK writes and to answer (or not) as a test needs.  One connection at a
    time; it answers CONNACK (return code `connack_rc`), SUBACK (granting
    what was asked), PINGREQ (unless answer_ping is False) and QoS 1
    PUBLISHes (unless ack_publishes is False); everything it reads is
    queued in `packets` as (type, flags, body)."""

    def __init__(self, testcase, connack_rc=0, answer_ping=True, ack_publishes=True):
        self.connack_rc = connack_rc
        self.answer_ping = answer_ping
        self.ack_publishes = ack_publishes
        self.packets = queue.Queue()
        self.conn = None
        self.connections = 0
        self._lock = threading.Lock()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((harness.HOST, 0))
        self.listener.listen(4)
        self.port = self.listener.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()
        testcase.addCleanup(self.close)

    def _accept(self):
        while not self._closed:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with self._lock:
                self.conn = conn
                self.connections += 1
            self._serve(conn)

    def _read_exact(self, conn, n):
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def _serve(self, conn):
        try:
            while True:
                first = self._read_exact(conn, 1)[0]
                length, shift = 0, 0
                while True:
                    b = self._read_exact(conn, 1)[0]
                    length |= (b & 0x7F) << shift
                    shift += 7
                    if not b & 0x80:
                        break
                body = self._read_exact(conn, length)
                ptype, flags = first >> 4, first & 0x0F
                self.packets.put((ptype, flags, body))
                if ptype == mp.CONNECT:
                    conn.sendall(bytes([0x20, 2, 0, self.connack_rc]))
                elif ptype == mp.SUBSCRIBE:
                    pid, granted, pos = body[:2], b"", 2
                    while pos < len(body):
                        n = struct.unpack_from("!H", body, pos)[0]
                        granted += bytes([body[pos + 2 + n]])
                        pos += 3 + n
                    conn.sendall(mp.packet(0x90, pid + granted))
                elif ptype == mp.PINGREQ and self.answer_ping:
                    conn.sendall(bytes([0xD0, 0]))
                elif ptype == mp.PUBLISH and (flags >> 1) & 3 == 1 and self.ack_publishes:
                    n = struct.unpack_from("!H", body, 0)[0]
                    conn.sendall(mp.packet(0x40, body[2 + n:4 + n]))
        except (EOFError, OSError):
            pass
        finally:
            conn.close()

    def expect(self, ptype, timeout=5.0):
        """The next packet of `ptype` read (others are skipped): (flags, body)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("fake hub: no %s within %.1fs" % (mp.TYPE_NAMES[ptype],
                                                                      timeout))
            try:
                t, flags, body = self.packets.get(timeout=left)
            except queue.Empty:
                continue
            if t == ptype:
                return flags, body

    def expect_publish(self, timeout=5.0):
        """(topic, payload, qos, dup, packet id) of the next PUBLISH."""
        flags, body = self.expect(mp.PUBLISH, timeout)
        n = struct.unpack_from("!H", body, 0)[0]
        topic = body[2:2 + n].decode()
        qos, pos, pid = (flags >> 1) & 3, 2 + n, None
        if qos:
            pid = struct.unpack_from("!H", body, pos)[0]
            pos += 2
        return topic, body[pos:], qos, bool(flags & 8), pid

    def publish(self, topic, payload, qos=0, pid=1):
        body = mp.mstr(topic) + (mp.u16(pid) if qos else b"") + payload
        with self._lock:
            self.conn.sendall(mp.packet(0x30 | (qos << 1), body))

    def drop(self):
        """Closes the current connection (the client sees it end)."""
        with self._lock:
            if self.conn is not None:
                try:
                    self.conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self._closed = True
        self.listener.close()
        self.drop()


def parse_connect_311(body):
    def string(pos):
        n = struct.unpack_from("!H", body, pos)[0]
        return body[pos + 2:pos + 2 + n], pos + 2 + n
    name, pos = string(0)
    level, flags = body[pos], body[pos + 1]
    keep_alive = struct.unpack_from("!H", body, pos + 2)[0]
    client_id, pos = string(pos + 4)
    out = dict(name=name, level=level, clean=bool(flags & 2), keep_alive=keep_alive,
               client_id=client_id.decode(), username=None, password=None)
    if flags & 0x80:
        u, pos = string(pos)
        out["username"] = u.decode()
    if flags & 0x40:
        p, pos = string(pos)
        out["password"] = p.decode()
    return out


def parse_subscribe_311(body):
    filters, pos = [], 2
    while pos < len(body):
        n = struct.unpack_from("!H", body, pos)[0]
        filters.append((body[pos + 2:pos + 2 + n].decode(), body[pos + 2 + n]))
        pos += 3 + n
    return filters


class SdkWireTest(unittest.TestCase):
    """What the SDK writes, against the scripted FakeHub (no allscene hub)."""

    KEY = base64.b64encode(bytes(range(32))).decode()

    def probe(self, fake, *args, device="dev-1"):
        return Probe(self, "--connection-string", connection_string(device, self.KEY),
                     "--port", fake.port, *args)

    def test_connect_is_azures_311_sign_in_with_a_sas_token_and_the_four_subscriptions(self):
        fake = FakeHub(self)
        before = int(time.time())
        p = self.probe(fake, "--keep-alive", 30, "--token-ttl", 600)
        _, body = fake.expect(mp.CONNECT)
        c = parse_connect_311(body)
        self.assertEqual((c["name"], c["level"], c["clean"], c["keep_alive"], c["client_id"]),
                         (b"MQTT", 4, False, 30, "dev-1"))
        self.assertEqual(c["username"], "localhost/dev-1/?api-version=2021-04-12")
        fields = dict(kv.split("=", 1) for kv in
                      c["password"][len("SharedAccessSignature "):].split("&"))
        self.assertTrue(c["password"].startswith("SharedAccessSignature "), c["password"])
        self.assertEqual(fields["sr"], "localhost%2Fdevices%2Fdev-1")
        self.assertTrue(before + 600 <= int(fields["se"]) <= int(time.time()) + 601, fields)
        expected = base64.b64encode(hmac.new(base64.b64decode(self.KEY),
                                             ("%s\n%s" % (fields["sr"], fields["se"])).encode(),
                                             hashlib.sha256).digest()).decode()
        self.assertEqual(urllib.parse.unquote(fields["sig"]), expected)
        flags, body = fake.expect(mp.SUBSCRIBE)
        self.assertEqual(flags, 2)  # §3.8.1
        self.assertEqual(parse_subscribe_311(body), [
            ("$iothub/twin/res/#", 0), ("$iothub/twin/PATCH/properties/desired/#", 0),
            ("$iothub/methods/POST/#", 0), ("devices/dev-1/messages/devicebound/#", 1)])
        p.expect("connected", code="")

    def test_twin_requests_responses_and_timeout(self):
        fake = FakeHub(self)
        p = self.probe(fake, "--request-timeout-ms", 500)
        p.expect("connected", code="")
        # GET: the fake stays silent, then answers too late.
        i = p.command("get_twin")
        topic, payload, qos, _, _ = fake.expect_publish()
        self.assertTrue(topic.startswith("$iothub/twin/GET/?$rid="), topic)
        self.assertEqual((payload, qos), (b"", 0))
        started = time.monotonic()
        p.expect("twin", id=i, code="timeout", timeout=3)
        self.assertGreaterEqual(time.monotonic() - started, 0.3)
        late_rid = topic.split("$rid=")[1]
        fake.publish("$iothub/twin/res/200/?$rid=" + late_rid, b'{"desired":{"$version":1}}')
        # GET answered.
        i = p.command("get_twin")
        topic, _, _, _, _ = fake.expect_publish()
        rid = topic.split("$rid=")[1]
        self.assertNotEqual(rid, late_rid)
        fake.publish("$iothub/twin/res/200/?$rid=" + rid,
                     b'{"desired":{"on":true,"$version":4},"reported":{"on":false,"$version":9}}')
        t = p.expect("twin", id=i, code="")
        self.assertEqual((t["desired"], t["desired_version"], t["reported"], t["reported_version"]),
                         ({"on": True}, 4, {"on": False}, 9))
        # Reported patch: 204 with the new version, then a refusal.
        i = p.command("report", patch={"on": True, "brightness": 40})
        topic, payload, _, _, _ = fake.expect_publish()
        self.assertTrue(topic.startswith("$iothub/twin/PATCH/properties/reported/?$rid="), topic)
        self.assertEqual(json.loads(payload), {"on": True, "brightness": 40})
        fake.publish("$iothub/twin/res/204/?$rid=%s&$version=10" % topic.split("$rid=")[1], b"")
        self.assertEqual(p.expect("reported", id=i, code="")["version"], 10)
        i = p.command("report", patch={"deep": {}})
        topic, _, _, _, _ = fake.expect_publish()
        fake.publish("$iothub/twin/res/400/?$rid=" + topic.split("$rid=")[1],
                     b'{"message":"too deep"}')
        p.expect("reported", id=i, code="bad_request")
        i = p.command("report", patch=[1, 2])
        p.expect("reported", id=i, code="bad_request")

    def test_desired_pushes_and_method_calls(self):
        fake = FakeHub(self)
        p = self.probe(fake)
        p.expect("connected", code="")
        fake.publish("$iothub/twin/PATCH/properties/desired/?$version=7",
                     b'{"color":"#ff0000","$version":7}')
        d = p.expect("desired")
        self.assertEqual((d["patch"], d["version"]), ({"color": "#ff0000"}, 7))
        p.command("method", name="blink", status=200, payload={"blinked": 2})
        p.expect("method_set")
        fake.publish("$iothub/methods/POST/blink/?$rid=r-1", b'{"times":2}')
        self.assertEqual(p.expect("method")["payload"], {"times": 2})
        topic, payload, _, _, _ = fake.expect_publish()
        self.assertEqual((topic, json.loads(payload)),
                         ("$iothub/methods/res/200/?$rid=r-1", {"blinked": 2}))
        fake.publish("$iothub/methods/POST/dance/?$rid=r-2", b"{}")
        topic, payload, _, _, _ = fake.expect_publish()
        self.assertEqual(topic, "$iothub/methods/res/404/?$rid=r-2")
        self.assertIn("dance", json.loads(payload)["message"])

    def test_keep_alive_pings_and_a_silent_hub_is_left(self):
        fake = FakeHub(self, answer_ping=False)
        p = self.probe(fake, "--keep-alive", 1, "--backoff-initial-ms", 100)
        p.expect("connected", code="")
        started = time.monotonic()
        fake.expect(mp.PINGREQ, timeout=3)
        # Nothing heard for 1.5 keep-alive periods: the link is dead.
        p.expect("disconnected", code="keep_alive_timeout", timeout=4)
        self.assertGreaterEqual(time.monotonic() - started, 1.0)
        p.expect("connected", code="", timeout=5)  # and it comes back
        self.assertGreaterEqual(fake.connections, 2)

    def test_unacknowledged_event_is_sent_again_with_dup_after_reconnect(self):
        fake = FakeHub(self, ack_publishes=False)
        p = self.probe(fake, "--backoff-initial-ms", 100)
        p.expect("connected", code="")
        i = p.command("send", payload="once", props=[["n", "1"]])
        topic, payload, qos, dup, pid = fake.expect_publish()
        self.assertEqual((topic, payload, qos, dup), ("devices/dev-1/messages/events/n=1", b"once",
                                                      1, False))
        self.assertEqual(p.none_within("sent", 0.3), [])
        fake.ack_publishes = True
        fake.drop()
        p.expect("disconnected")
        topic2, payload2, qos2, dup2, pid2 = fake.expect_publish()
        self.assertEqual((topic2, payload2, qos2, dup2, pid2), (topic, b"once", 1, True, pid))
        p.expect("sent", id=i, code="")

    def test_refused_connack_is_not_authorized(self):
        fake = FakeHub(self, connack_rc=5)
        p = self.probe(fake)
        p.expect("disconnected", code="not_authorized")

    def test_stop_sends_disconnect(self):
        fake = FakeHub(self)
        p = self.probe(fake)
        p.expect("connected", code="")
        self.assertEqual(p.close(), 0)
        fake.expect(mp.DISCONNECT, timeout=3)


class SdkTlsTest(unittest.TestCase):
    """The SDK over TLS: a SAS token with the hub's CA trusted, an X.509
    client certificate instead of a token, and a hub whose certificate the
    device does not trust."""

    @classmethod
    def setUpClass(cls):
        from test_tls_ws import Certs, ConfigHub
        cls.certs = Certs()
        c = cls.certs
        c._signed("sdk-x509", "/CN=sdk-x509", "device.ext")
        cls.tls_port = harness.free_port()
        cls.hub = ConfigHub("""
[[listener]]
name = "tcp"
bind = "127.0.0.1:@TCP@"

[[listener]]
name = "tls"
bind = "127.0.0.1:%d"
transport = "tls"
cert_file = "%s"
key_file = "%s"
ca_file = "%s"
client_certs = "optional"
""" % (cls.tls_port, c.path("server.crt"), c.path("server.key"), c.path("ca.crt")))
        d = cls.hub.data_dir
        cli(d, "user", "add", "alice")
        cls.key = register(d, "sdk-tls")
        cli(d, "device", "add", "sdk-x509", "--owner", "alice", "--auth", "x509", "--ca-signed")
        cls.hub.start()

    @classmethod
    def tearDownClass(cls):
        cls.hub.cleanup()
        cls.certs.cleanup()

    def cloud(self):
        c = harness.PahoClient(self.hub, version=mp.V311)
        self.addCleanup(c.close)
        c.connect()
        self.assertEqual(c.subscribe("devices/+/messages/events/#", 1), [1])
        return c

    def test_sas_token_over_tls_with_the_hubs_ca(self):
        cloud = self.cloud()
        p = Probe(self, "--connection-string", connection_string("sdk-tls", self.key), "--tls",
                  "--ca", self.certs.path("ca.crt"), "--port", self.tls_port)
        p.expect("connected", code="")
        i = p.command("send", payload="over tls")
        p.expect("sent", id=i, code="")
        self.assertEqual(cloud.expect().topic, "devices/sdk-tls/messages/events/")

    def test_connecting_to_an_address_checks_it_against_the_certificate(self):
        # The server certificate names IP:127.0.0.1 (and DNS:localhost).
        p = Probe(self, "--connection-string", connection_string("sdk-tls", self.key), "--tls",
                  "--ca", self.certs.path("ca.crt"), "--port", self.tls_port,
                  "--connect-host", "127.0.0.1")
        p.expect("connected", code="")

    def test_x509_client_certificate_signs_in_without_a_token(self):
        cloud = self.cloud()
        p = Probe(self, "--connection-string", "HostName=localhost;DeviceId=sdk-x509;x509=true",
                  "--tls", "--ca", self.certs.path("ca.crt"), "--port", self.tls_port,
                  "--cert", self.certs.path("sdk-x509.crt"),
                  "--cert-key", self.certs.path("sdk-x509.key"))
        p.expect("connected", code="")
        i = p.command("send", payload="by certificate", props=[["k", "v"]])
        p.expect("sent", id=i, code="")
        m = cloud.expect()
        self.assertEqual((m.topic, m.payload), ("devices/sdk-x509/messages/events/k=v",
                                                b"by certificate"))

    def test_an_untrusted_hub_certificate_is_refused(self):
        from test_tls_ws import Certs
        other = Certs()  # another CA
        self.addCleanup(other.cleanup)
        p = Probe(self, "--connection-string", connection_string("sdk-tls", self.key), "--tls",
                  "--ca", other.path("ca.crt"), "--port", self.tls_port)
        line = p.expect("disconnected")
        self.assertNotEqual(line["code"], "")
        self.assertFalse(line["code"].startswith("not_authorized"), line)
        self.assertEqual(p.none_within("connected", 0.5), [])


def example_binary(name):
    directory = os.environ.get("ALLSCENE_EXAMPLES_DIR") or os.path.join(
        os.path.dirname(harness.hub_binary()), "examples")
    path = os.path.join(directory, name)
    if not os.access(path, os.X_OK):
        raise unittest.SkipTest("no %s (set ALLSCENE_EXAMPLES_DIR)" % path)
    return path


class ExampleProcess:
    """An example program, its stdout collected; stopped by PID."""

    def __init__(self, testcase, *cmd):
        self.proc = harness.track(subprocess.Popen([str(c) for c in cmd],
                                                   stdin=subprocess.DEVNULL,
                                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                                   start_new_session=True))
        self.output = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        testcase.addCleanup(self.stop)

    def _read(self):
        for line in self.proc.stdout:
            self.output.append(line.decode("utf-8", "replace").rstrip("\n"))

    def shows(self, text, timeout=5.0):
        return harness.wait_until(lambda: any(text in line for line in self.output), timeout)

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, sig=None):
        if self.proc.poll() is None:
            self.proc.send_signal(sig or signal.SIGINT)
            if self.wait(5) is None:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.proc in harness._live_processes:
            harness._live_processes.remove(self.proc)
        self._reader.join(timeout=5)
        self.proc.stdout.close()
        return self.proc.returncode


class SdkExamplesTest(ServiceApiBase):
    """The example devices: the phone and the bulb against the real hub
    (the service API as the cloud), and the bulb against the scripted hub
    (its twin and methods, exactly)."""

    DEVICES = ("phone-ex", "bulb-real")

    def test_smart_bulb_follows_the_cloud_through_the_hub(self):
        bulb = ExampleProcess(self, example_binary("allscene-example-bulb"),
                              connection_string("bulb-real", self.keys["bulb-real"]),
                              "--port", self.hub.port)
        self.assertTrue(bulb.shows("bulb: reported (version"), bulb.output)

        def reported():
            status, twin = self.service("GET", "/twins/bulb-real")
            self.assertEqual(status, 200, twin)
            return twin["properties"]["reported"]
        self.assertEqual((reported()["on"], reported()["brightness"]), (False, 100))
        status, answer = self.service("PATCH", "/twins/bulb-real", {
            "properties": {"desired": {"on": True, "brightness": 55}}})
        self.assertEqual(status, 200, answer)
        self.assertTrue(harness.wait_until(
            lambda: (reported()["on"], reported()["brightness"]) == (True, 55), 5.0),
            bulb.output)
        status, answer = self.service("POST", "/twins/bulb-real/methods", {
            "methodName": "set", "payload": {"color": "#123456"}, "responseTimeoutInSeconds": 5})
        self.assertEqual((status, answer["status"], answer["payload"]["color"]),
                         (200, 200, "#123456"), answer)
        self.assertTrue(harness.wait_until(lambda: reported()["color"] == "#123456", 5.0))
        status, answer = self.service("POST", "/api/v1/devices/bulb-real/messages",
                                      {"payload": "dim at ten"})
        self.assertEqual(status, 202, answer)
        self.assertTrue(bulb.shows("bulb: message %s: dim at ten" % answer["messageId"]),
                        bulb.output)
        self.assertEqual(bulb.stop(), 0, bulb.output)

    def test_phone_sends_battery_events_and_reports_its_model(self):
        cloud = self.cloud()
        phone = ExampleProcess(self, example_binary("allscene-example-phone"), "--device",
                               "phone-ex", "--key", self.keys["phone-ex"], "--port", self.hub.port,
                               "--count", 3, "--interval", 0.1, "--model", "test-phone")
        self.assertEqual(phone.wait(20), 0, phone.output)
        got = cloud.collect(3, timeout=5)
        self.assertEqual([json.loads(m.payload) for m in got],
                         [{"battery": 100}, {"battery": 99}, {"battery": 98}])
        self.assertEqual(got[0].topic, "devices/phone-ex/messages/events/"
                         "$.ct=application%2Fjson&$.ce=utf-8&kind=battery&low=false")
        self.assertTrue(any("phone: reported (version" in line for line in phone.output),
                        phone.output)

    def test_smart_bulb_applies_desired_state_answers_methods_and_prints_messages(self):
        fake = FakeHub(self)
        key = base64.b64encode(b"b" * 32).decode()
        bulb = ExampleProcess(self, example_binary("allscene-example-bulb"),
                              connection_string("bulb-ex", key), "--port", fake.port)
        fake.expect(mp.SUBSCRIBE)
        # On connection it reads the twin and takes on the desired state ...
        topic, _, _, _, _ = fake.expect_publish()
        self.assertTrue(topic.startswith("$iothub/twin/GET/"), topic)
        fake.publish("$iothub/twin/res/200/?$rid=" + topic.split("$rid=")[1],
                     b'{"desired":{"on":true,"brightness":30,"$version":2},'
                     b'"reported":{"$version":1}}')
        # ... and reports it.
        topic, payload, _, _, _ = fake.expect_publish()
        self.assertTrue(topic.startswith("$iothub/twin/PATCH/properties/reported/"), topic)
        self.assertEqual(json.loads(payload), {"on": True, "brightness": 30, "color": "#ffffff"})
        fake.publish("$iothub/twin/res/204/?$rid=%s&$version=2" % topic.split("$rid=")[1], b"")
        self.assertTrue(bulb.shows("reported (version 2)"), bulb.output)
        # Method `set`: answered with the new state, which is reported too.
        fake.publish("$iothub/methods/POST/set/?$rid=m1", b'{"color":"#0000ff"}')
        topic, payload, _, _, _ = fake.expect_publish()
        self.assertEqual((topic, json.loads(payload)),
                         ("$iothub/methods/res/200/?$rid=m1",
                          {"on": True, "brightness": 30, "color": "#0000ff"}))
        topic, payload, _, _, _ = fake.expect_publish()
        self.assertTrue(topic.startswith("$iothub/twin/PATCH/properties/reported/"), topic)
        self.assertEqual(json.loads(payload)["color"], "#0000ff")
        fake.publish("$iothub/methods/POST/set/?$rid=m2", b'{"flavour":"lemon"}')
        topic, payload, _, _, _ = fake.expect_publish()
        self.assertEqual(topic, "$iothub/methods/res/400/?$rid=m2")
        fake.publish("$iothub/methods/POST/blink/?$rid=m3", b'{"times":2}')
        topic, payload, _, _, _ = fake.expect_publish()
        self.assertEqual((topic, json.loads(payload)),
                         ("$iothub/methods/res/200/?$rid=m3", {"blinked": 2}))
        # A desired change is applied and reported.
        fake.publish("$iothub/twin/PATCH/properties/desired/?$version=3", b'{"on":false,'
                     b'"$version":3}')
        topic, payload, _, _, _ = fake.expect_publish()
        self.assertTrue(topic.startswith("$iothub/twin/PATCH/properties/reported/"), topic)
        self.assertEqual(json.loads(payload),
                         {"on": False, "brightness": 30, "color": "#0000ff"})
        # Cloud-to-device messages are printed (and acknowledged).
        fake.publish("devices/bulb-ex/messages/devicebound/%24.mid=c9&scene=night", b"good night",
                     qos=1, pid=9)
        self.assertTrue(bulb.shows("bulb: message c9: good night"), bulb.output)
        self.assertEqual(fake.expect(mp.PUBACK)[1], b"\x00\x09")
        self.assertEqual(bulb.stop(), 0, bulb.output)
        fake.expect(mp.DISCONNECT, timeout=3)


if __name__ == "__main__":
    unittest.main()
