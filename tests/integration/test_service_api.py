"""The service side of the REST API (docs/api.md) against the real hub:
Azure IoT Hub's service paths (/devices/{id}, /twins/{id},
/twins/{id}/methods, /devices/query) and the native message path, signed
in with Azure shared access signatures (made here with Python's hmac, not
the hub's code) or the bearer token.  Devices are paho clients speaking
Azure's MQTT device protocol; the service is Python's http.client.  Also
the CLI's twin, call, send, query and service commands, with the hub
running and stopped, and the endpoint over HTTPS."""

import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import ssl
import stat
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

import harness
import mqttproto as mp
from test_auth import HUB_HOST, azure_username, cli, sas_token

METHOD_REQUEST = re.compile(r"^\$iothub/methods/POST/([^/]+)/\?\$rid=(.+)$")


def service_sas(host, policy, key_b64, expiry):
    """Azure's service token: sr is the URL-encoded hub host."""
    resource = urllib.parse.quote(host, safe="")
    to_sign = ("%s\n%d" % (resource, expiry)).encode()
    sig = base64.b64encode(hmac.new(base64.b64decode(key_b64), to_sign, hashlib.sha256).digest())
    return "SharedAccessSignature sr=%s&sig=%s&se=%d&skn=%s" % (
        resource, urllib.parse.quote(sig.decode(), safe=""), expiry, policy)


def write_config(directory, http_port, extra=""):
    path = os.path.join(directory, "hub.toml")
    with open(path, "w") as f:
        f.write('[auth]\nhub_host = "%s"\n\n[http]\nbind = "127.0.0.1:%d"\n%s'
                % (HUB_HOST, http_port, extra))
    return path


class ServiceClient:
    """http.client wrapper: (status, headers, parsed body) per request."""

    def __init__(self, port, authorization, context=None):
        self.port = port
        self.authorization = authorization
        self.context = context

    def request(self, method, path, body=None, headers=None, authorization=None, raw=None,
                timeout=30):
        if self.context is None:
            conn = http.client.HTTPConnection(harness.HOST, self.port, timeout=timeout)
        else:
            conn = http.client.HTTPSConnection(harness.HOST, self.port, timeout=timeout,
                                               context=self.context)
        try:
            h = dict(headers or {})
            auth = authorization if authorization is not None else self.authorization
            if auth:
                h["Authorization"] = auth
            data = raw if raw is not None else (json.dumps(body) if body is not None else None)
            if data is not None:
                h["Content-Type"] = "application/json"
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            text = r.read().decode()
            parsed = json.loads(text) if text and r.getheader(
                "Content-Type", "").startswith("application/json") else text
            return r.status, {k.lower(): v for k, v in r.getheaders()}, parsed
        finally:
            conn.close()


class AzureDevice:
    """A paho client signed in as an Azure device with a SAS token."""

    def __init__(self, test, device_id, key, version=mp.V311):
        self.device_id = device_id
        self.client = test.paho(device_id, version, connect=False)
        self.client.connect(username=azure_username(device_id),
                            password=sas_token(device_id, key, int(time.time()) + 3600))

    def answer_methods(self, status=200, payload=None, count=1, timeout=10.0):
        """Answers `count` method calls on a thread; returns the thread and
        the list the requests (name, payload) are appended to."""
        seen = []

        def run():
            deadline = time.monotonic() + timeout
            while len(seen) < count and time.monotonic() < deadline:
                m = self.client.get(timeout=0.2)
                if m is None:
                    continue
                match = METHOD_REQUEST.match(m.topic)
                if not match:
                    continue
                seen.append((match.group(1), json.loads(m.payload) if m.payload else None))
                answer = payload if payload is not None else {"echo": seen[-1][1]}
                self.client.publish("$iothub/methods/res/%d/?$rid=%s" % (status, match.group(2)),
                                    json.dumps(answer).encode())

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread, seen


class ServiceApiTest(harness.HubTestCase):
    hub = None

    @classmethod
    def setUpClass(cls):
        cls.http_port = harness.free_port()
        cls.config_dir = tempfile.mkdtemp(prefix="allscene-svc-")
        cls.config = write_config(cls.config_dir, cls.http_port)
        cls.hub = harness.Hub("-c", cls.config)
        d = cls.hub.data_dir
        cli(d, "user", "add", "alice")
        cls.keys = {}
        for device in ("lamp", "fan", "ghost", "mailbox", "pager"):
            out = json.loads(cli(d, "device", "add", device, "--owner", "alice", "--json").stdout)
            cls.keys[device] = out["credentials"]["primary_key"]
        cls.hub.start()
        if not harness.wait_until(lambda: os.path.exists(os.path.join(d, "admin.json")), 5.0):
            raise RuntimeError("no admin.json within 5 s\n" + cls.hub.log_tail())
        with open(os.path.join(d, "service-policies.json")) as f:
            cls.policy_key = json.load(f)["iothubowner"]["primaryKey"]
        with open(os.path.join(d, "admin.token")) as f:
            cls.token = f.read().strip()
        cls.api = ServiceClient(cls.http_port, cls.sas())

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.config_dir, ignore_errors=True)

    @classmethod
    def sas(cls, host=HUB_HOST, policy="iothubowner", key=None, ttl=3600):
        return service_sas(host, policy, key or cls.policy_key, int(time.time()) + ttl)

    def device(self, device_id, **kw):
        return AzureDevice(self, device_id, self.keys[device_id], **kw)

    def twin(self, device_id):
        status, headers, twin = self.api.request("GET", "/twins/%s?api-version=2021-04-12"
                                                 % device_id)
        self.assertEqual(status, 200, twin)
        self.assertEqual(headers["etag"], '"%s"' % twin["etag"])
        return twin

    def assertRefused(self, answer, status, expected_status, *words):
        self.assertEqual(status, expected_status, answer)
        self.assertIsInstance(answer, dict, answer)
        for w in words:
            self.assertIn(w, answer["error"])

    # ---- authentication

    def test_service_sas_is_accepted_on_azure_and_native_paths(self):
        for path in ("/devices?api-version=2021-04-12", "/api/v1/users", "/twins/lamp"):
            status, _, answer = self.api.request("GET", path)
            self.assertEqual(status, 200, (path, answer))
        # The bearer token still works on both.
        for path in ("/devices", "/api/v1/devices", "/twins/lamp"):
            status, _, answer = self.api.request("GET", path, authorization="Bearer " + self.token)
            self.assertEqual(status, 200, (path, answer))
        # Azure compares the host case-insensitively.
        status, _, _ = self.api.request("GET", "/devices", authorization=self.sas("LocalHost"))
        self.assertEqual(status, 200)

    def test_bad_service_tokens_get_401_naming_the_problem(self):
        cases = [
            (self.sas(ttl=-10), "expired"),
            (self.sas(key=base64.b64encode(b"k" * 32).decode()), "signature"),
            (self.sas(policy="registryRead"), "registryRead"),
            (self.sas(host="other.example"), "not this hub"),
            ("SharedAccessSignature sr=localhost&sig=abc", "malformed"),
            ("Basic YWxhZGRpbjpvcGVuc2VzYW1l", "scheme"),
        ]
        for token, word in cases:
            status, _, answer = self.api.request("GET", "/devices", authorization=token)
            self.assertRefused(answer, status, 401, word)
        status, _, answer = self.api.request("GET", "/twins/lamp", authorization="")
        self.assertRefused(answer, status, 401, "Authorization")

    def test_policy_file_is_private_and_the_cli_prints_its_connection_string(self):
        path = os.path.join(self.hub.data_dir, "service-policies.json")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        self.assertEqual(len(base64.b64decode(self.policy_key)), 32)
        out = cli(self.hub.data_dir, "service", "connection-string", "-c", self.config).stdout
        self.assertEqual(out.strip(), "HostName=%s;SharedAccessKeyName=iothubowner;"
                                      "SharedAccessKey=%s" % (HUB_HOST, self.policy_key))

    # ---- Azure's registry paths

    def test_azure_device_lifecycle(self):
        dev = "azure-" + self.prefix.split("/")[1]
        path = "/devices/%s?api-version=2021-04-12" % dev
        status, headers, d = self.api.request("PUT", path, {"deviceId": dev})
        self.assertEqual(status, 200, d)
        self.assertEqual((d["deviceId"], d["status"], d["connectionState"]),
                         (dev, "enabled", "Disconnected"))
        self.assertEqual(d["authentication"]["type"], "sas")
        key = d["authentication"]["symmetricKey"]["primaryKey"]
        self.assertEqual(len(base64.b64decode(key)), 32)
        self.assertEqual(headers["etag"], '"%s"' % d["etag"])
        # Again without If-Match: it exists.
        status, _, answer = self.api.request("PUT", path, {"deviceId": dev})
        self.assertRefused(answer, status, 409, "already exists")
        self.assertEqual(answer["errorCode"], 409001)

        # The generated key signs the device in.
        device = AzureDevice(self, dev, key)
        self.assertTrue(harness.wait_until(
            lambda: self.api.request("GET", path)[2]["connectionState"] == "Connected", 5.0))
        status, _, listed = self.api.request("GET", "/devices")
        self.assertIn(dev, [x["deviceId"] for x in listed])

        status, _, answer = self.api.request("DELETE", path, headers={"If-Match": '"stale"'})
        self.assertRefused(answer, status, 412)
        status, _, _ = self.api.request("DELETE", path, headers={"If-Match": "*"})
        self.assertEqual(status, 204)
        status, _, answer = self.api.request("GET", path)
        self.assertRefused(answer, status, 404, dev)
        self.assertTrue(harness.wait_until(lambda: not device.client.connected, 5.0),
                        "a removed device stays connected")
        status, _, _ = self.api.request("GET", "/twins/" + dev)
        self.assertEqual(status, 404)

    # ---- twins

    def test_twin_patches_with_etags_one_of_two_concurrent_patches_wins(self):
        device = self.device("lamp")
        device.client.subscribe("$iothub/twin/PATCH/properties/desired/#", 0)
        etag = self.twin("lamp")["etag"]
        results = []

        def patch(value):
            results.append(self.api.request(
                "PATCH", "/twins/lamp?api-version=2021-04-12",
                {"properties": {"desired": {"level": value}}}, headers={"If-Match": '"%s"' % etag}))

        threads = [threading.Thread(target=patch, args=(v,)) for v in (1, 2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        statuses = sorted(r[0] for r in results)
        self.assertEqual(statuses, [200, 412], results)
        winner = next(r for r in results if r[0] == 200)
        loser = next(r for r in results if r[0] == 412)
        self.assertIn("etag", loser[2]["error"])
        twin = self.twin("lamp")
        self.assertEqual(twin["properties"]["desired"]["level"],
                         winner[2]["properties"]["desired"]["level"])
        self.assertEqual(winner[1]["etag"], '"%s"' % twin["etag"])
        # The device is sent the desired patch with its version.
        m = device.client.expect(timeout=5.0)
        version = twin["properties"]["desired"]["$version"]
        self.assertEqual(m.topic, "$iothub/twin/PATCH/properties/desired/?$version=%d" % version)
        self.assertEqual(json.loads(m.payload)["level"], twin["properties"]["desired"]["level"])

    def test_replace_twin_and_tags(self):
        status, _, twin = self.api.request("PUT", "/twins/pager", {"tags": {"site": "a"}},
                                           headers={"If-Match": "*"})
        self.assertEqual(status, 200, twin)
        self.assertEqual(twin["tags"], {"site": "a"})
        status, _, twin = self.api.request("PUT", "/twins/pager", {"tags": {"floor": 2}})
        self.assertEqual(twin["tags"], {"floor": 2})

    def test_bad_twin_requests_say_why(self):
        status, _, answer = self.api.request("PATCH", "/twins/fan", raw="{not json")
        self.assertRefused(answer, status, 400, "JSON")
        status, _, answer = self.api.request(
            "PATCH", "/twins/fan", {"properties": {"desired": {"blob": "x" * 40000}}})
        self.assertRefused(answer, status, 413)
        status, _, answer = self.api.request("PATCH", "/twins/fan", raw="x" * (65 * 1024))
        self.assertRefused(answer, status, 413, "bytes")
        status, _, answer = self.api.request("GET", "/twins/nobody")
        self.assertRefused(answer, status, 404, "nobody")
        self.assertNotIn("blob", self.twin("fan")["properties"]["desired"])

    # ---- direct methods

    def test_method_call_is_answered_by_the_device(self):
        device = self.device("fan")
        device.client.subscribe("$iothub/methods/POST/#", 0)
        thread, seen = device.answer_methods(status=201)
        status, _, answer = self.api.request(
            "POST", "/twins/fan/methods?api-version=2021-04-12",
            {"methodName": "spin", "payload": {"rpm": 900}, "responseTimeoutInSeconds": 10,
             "connectTimeoutInSeconds": 0})
        thread.join(10)
        self.assertEqual(status, 200, answer)
        self.assertEqual(answer, {"status": 201, "payload": {"echo": {"rpm": 900}}})
        self.assertEqual(seen, [("spin", {"rpm": 900})])

    def test_method_timeout_is_504_and_other_requests_are_served_meanwhile(self):
        device = self.device("mailbox")
        device.client.subscribe("$iothub/methods/POST/#", 0)
        result = []
        started = time.monotonic()
        caller = threading.Thread(target=lambda: result.append(self.api.request(
            "POST", "/twins/mailbox/methods", {"methodName": "slow",
                                               "responseTimeoutInSeconds": 3})))
        caller.start()
        time.sleep(0.3)
        # The pending call holds its own connection only.
        for _ in range(5):
            t0 = time.monotonic()
            status, _, _ = self.api.request("GET", "/twins/lamp")
            self.assertEqual(status, 200)
            self.assertLess(time.monotonic() - t0, 1.0)
        self.assertTrue(caller.is_alive(), "the method call ended before its timeout")
        caller.join(15)
        status, _, answer = result[0]
        self.assertRefused(answer, status, 504)
        self.assertEqual(answer["errorCode"], 504101)
        self.assertGreaterEqual(time.monotonic() - started, 2.9)

    def test_offline_device_method_is_404(self):
        status, _, answer = self.api.request("POST", "/twins/ghost/methods", {"methodName": "m"})
        self.assertRefused(answer, status, 404, "ghost")
        self.assertEqual(answer["errorCode"], 404103)
        status, _, answer = self.api.request("POST", "/twins/nobody/methods", {"methodName": "m"})
        self.assertRefused(answer, status, 404)
        self.assertEqual(answer["errorCode"], 404001)
        status, _, answer = self.api.request("POST", "/twins/ghost/methods", {"payload": 1})
        self.assertRefused(answer, status, 400, "methodName")

    # ---- cloud-to-device messages

    def test_cloud_to_device_message_reaches_the_device(self):
        device = self.device("pager")
        device.client.subscribe("devices/pager/messages/devicebound/#", 1)
        status, _, answer = self.api.request(
            "POST", "/api/v1/devices/pager/messages",
            {"payload": "hello", "properties": {"kind": "greeting"}, "ttlSeconds": 60})
        self.assertEqual(status, 202, answer)
        m = device.client.expect(timeout=5.0)
        self.assertTrue(m.topic.startswith("devices/pager/messages/devicebound/"), m.topic)
        self.assertIn("kind=greeting", m.topic)
        self.assertIn(urllib.parse.quote(answer["messageId"], safe=""), m.topic)
        self.assertEqual(m.payload, b"hello")
        status, _, answer = self.api.request("POST", "/api/v1/devices/nobody/messages",
                                             {"payload": "x"})
        self.assertRefused(answer, status, 404, "nobody")
        status, _, answer = self.api.request("POST", "/api/v1/devices/pager/messages",
                                             {"payload": "x", "priority": 1})
        self.assertRefused(answer, status, 400, "priority")
        status, _, answer = self.api.request("POST", "/api/v1/devices/pager/messages",
                                             {"payload": "x" * 66000})
        self.assertRefused(answer, status, 413, "bytes")

    # ---- queries

    def open_stream(self, query=""):
        """GET /api/v1/events: (connection, response) with the stream open."""
        conn = http.client.HTTPConnection(harness.HOST, self.http_port, timeout=10)
        self.addCleanup(conn.close)
        conn.request("GET", "/api/v1/events" + query, headers={"Authorization": self.sas()})
        r = conn.getresponse()
        return conn, r

    @staticmethod
    def read_event(response):
        """The next `data:` line's JSON (skipping comments and blank lines)."""
        for _ in range(100):
            line = response.fp.readline().decode()
            if not line:
                raise AssertionError("the event stream ended")
            if line.startswith("data: "):
                return json.loads(line[6:])
        raise AssertionError("no event in 100 lines")

    def test_event_stream_delivers_device_events_as_server_sent_events(self):
        conn, r = self.open_stream()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.getheader("Content-Type"), "text/event-stream")
        lamp = self.device("lamp")
        # The stream's subscription is made just after the header is sent:
        # publish until one arrives (bounded), then check one event precisely.
        stop = threading.Event()

        def publish():
            for _ in range(25):
                if stop.is_set():
                    return
                lamp.client.publish(
                    "devices/lamp/messages/events/%24.ct=application%2Fjson&room=hall",
                    b'{"temp": 21.5}', qos=1)
                time.sleep(0.2)

        publisher = threading.Thread(target=publish, daemon=True)
        publisher.start()
        try:
            event = self.read_event(r)
        finally:
            stop.set()
            publisher.join(10)
        self.assertIsNotNone(event, "no event on the stream within 5 s")
        self.assertEqual(event["deviceId"], "lamp")
        self.assertEqual(event["payload"], {"temp": 21.5})
        self.assertEqual(event["properties"], {"$.ct": "application/json", "room": "hall"})
        self.assertTrue(event["topic"].startswith("devices/lamp/messages/events/"))

    def test_event_stream_of_presence_and_bad_filters(self):
        status, _, body = self.api.request("GET", "/api/v1/events?filter=a/%23/b")
        self.assertEqual(status, 400)
        self.assertIn("not an MQTT topic filter", body["error"])
        status, _, _ = self.api.request("GET", "/api/v1/events", authorization="Bearer nope")
        self.assertEqual(status, 401)
        conn, r = self.open_stream("?filter=%24events/devices/%2B/presence")
        self.assertEqual(r.status, 200)
        time.sleep(0.3)  # the stream's subscription is made after the header
        fan = self.device("fan")
        event = self.read_event(r)
        self.assertEqual((event["topic"], event["payload"]["connectionState"]),
                         ("$events/devices/fan/presence", "Connected"))
        fan.client.close()
        self.assertEqual(self.read_event(r)["payload"]["connectionState"], "Disconnected")
        # A reader that goes away ends its subscription; the hub keeps serving.
        conn.close()
        self.assertEqual(self.api.request("GET", "/api/v1/devices/lamp")[0], 200)

    def test_query_matches_and_pages_with_continuation_tokens(self):
        group = "g" + self.prefix.split("/")[1]
        members = []
        for i in range(5):
            dev = "%s-q%d" % (group, i)
            status, _, _ = self.api.request("PUT", "/devices/" + dev, {"deviceId": dev})
            self.assertEqual(status, 200)
            status, _, _ = self.api.request("PATCH", "/twins/" + dev,
                                            {"tags": {"group": group, "odd": i % 2 == 1}})
            self.assertEqual(status, 200)
            members.append(dev)
        query = "SELECT * FROM devices WHERE tags.group = '%s'" % group
        ids, pages, continuation = [], 0, None
        while True:
            headers = {"x-ms-max-item-count": "2"}
            if continuation:
                headers["x-ms-continuation"] = continuation
            status, h, rows = self.api.request("POST", "/devices/query?api-version=2021-04-12",
                                               {"query": query}, headers=headers)
            self.assertEqual(status, 200, rows)
            self.assertEqual(h["x-ms-item-type"], "Twin")
            self.assertLessEqual(len(rows), 2)
            ids += [r["deviceId"] for r in rows]
            pages += 1
            continuation = h.get("x-ms-continuation")
            if not continuation or pages > 10:
                break
        self.assertEqual(ids, members)
        self.assertEqual(pages, 3)

        status, h, rows = self.api.request(
            "POST", "/devices/query",
            {"query": "SELECT deviceId FROM devices WHERE tags.group = '%s' AND tags.odd = true"
                      % group})
        self.assertEqual(status, 200, rows)
        self.assertEqual(h["x-ms-item-type"], "JSON")
        self.assertEqual(rows, [{"deviceId": members[1]}, {"deviceId": members[3]}])
        status, _, rows = self.api.request(
            "POST", "/devices/query",
            {"query": "SELECT COUNT() AS n FROM devices WHERE tags.group = '%s'" % group})
        self.assertEqual(rows, [{"n": 5}])

        # The CLI follows the tokens too.
        out = cli(self.hub.data_dir, "query", query, "--page-size", "2").stdout
        self.assertEqual([json.loads(line)["deviceId"] for line in out.splitlines()], members)

    def test_bad_queries_are_400_with_the_parser_message(self):
        status, _, answer = self.api.request("POST", "/devices/query",
                                             {"query": "SELECT * FROM devices WHERE"})
        self.assertRefused(answer, status, 400, "query")
        status, _, answer = self.api.request("POST", "/devices/query", {"query": "SELECT *"},
                                             headers={"x-ms-max-item-count": "-1"})
        self.assertRefused(answer, status, 400, "x-ms-max-item-count")
        status, _, answer = self.api.request("POST", "/devices/query", raw="[")
        self.assertRefused(answer, status, 400, "JSON")

    # ---- the CLI against the running hub

    def test_cli_twin_call_and_send(self):
        d = self.hub.data_dir
        twin = json.loads(cli(d, "twin", "get", "lamp", "--json").stdout)
        self.assertEqual(twin["deviceId"], "lamp")
        out = cli(d, "twin", "set", "lamp", '{"desired": {"mode": "eco"}}', "--tags",
                  '{"room": "hall"}', "--etag", twin["etag"], "--json").stdout
        after = json.loads(out)
        self.assertEqual(after["properties"]["desired"]["mode"], "eco")
        self.assertEqual(after["tags"]["room"], "hall")
        stale = cli(d, "twin", "set", "lamp", '{"desired": {"mode": "x"}}', "--etag",
                    twin["etag"], check=False)
        self.assertEqual(stale.returncode, 1)
        self.assertIn("etag", stale.stderr)

        device = self.device("fan")
        device.client.subscribe("$iothub/methods/POST/#", 0)
        thread, seen = device.answer_methods(payload={"ok": True})
        out = cli(d, "call", "fan", "reset", '{"hard": false}', "--timeout", "10", "--json").stdout
        thread.join(10)
        self.assertEqual(json.loads(out), {"status": 200, "payload": {"ok": True}})
        self.assertEqual(seen, [("reset", {"hard": False})])
        offline = cli(d, "call", "ghost", "reset", check=False)
        self.assertEqual(offline.returncode, 1)
        self.assertIn("ghost", offline.stderr)

        device.client.subscribe("devices/fan/messages/devicebound/#", 1)
        out = cli(d, "send", "fan", "ping", "--property", "a=b", "--ttl", "30").stdout
        self.assertIn("queued for fan", out)
        m = device.client.expect(timeout=5.0)
        self.assertEqual(m.payload, b"ping")
        self.assertIn("a=b", m.topic)


class StoppedHubCliTest(harness.HubTestCase):
    """twin get/set and query work on a stopped hub's data directory; call
    and send say the hub must run."""
    hub = None

    @classmethod
    def setUpClass(cls):
        # Not cls.hub: the harness would call a stopped hub dead.
        cls.stopped = harness.Hub("--http", "127.0.0.1:%d" % harness.free_port())
        d = cls.stopped.data_dir
        cli(d, "user", "add", "bob")
        cli(d, "device", "add", "clock", "--owner", "bob")
        cls.stopped.start()
        cls.stopped.stop()

    @classmethod
    def tearDownClass(cls):
        cls.stopped.cleanup()

    def test_twin_and_query_without_the_hub(self):
        d = self.stopped.data_dir
        out = cli(d, "twin", "set", "clock", '{"desired": {"alarm": "07:00"}}', "--json").stdout
        self.assertEqual(json.loads(out)["properties"]["desired"]["alarm"], "07:00")
        twin = json.loads(cli(d, "twin", "get", "clock", "--json").stdout)
        self.assertEqual(twin["properties"]["desired"]["alarm"], "07:00")
        rows = json.loads(cli(d, "query", "SELECT * FROM devices WHERE "
                                          "properties.desired.alarm = '07:00'", "--json").stdout)
        self.assertEqual([r["deviceId"] for r in rows], ["clock"])
        bad = cli(d, "query", "SELECT nonsense", check=False)
        self.assertEqual(bad.returncode, 1)
        self.assertIn("query", bad.stderr)

    def test_call_and_send_need_the_hub(self):
        for args in (("call", "clock", "ring"), ("send", "clock", "hi")):
            proc = cli(self.stopped.data_dir, *args, check=False)
            self.assertEqual(proc.returncode, 1, proc.stdout)
            self.assertIn("the hub is not running: start it with", proc.stderr)


@unittest.skipUnless(shutil.which("openssl"), "needs the openssl command")
class HttpsTest(harness.HubTestCase):
    """[http] cert_file and key_file: the same API over TLS."""
    hub = None

    @classmethod
    def setUpClass(cls):
        cls.certs = tempfile.mkdtemp(prefix="allscene-https-")
        cls.cert = os.path.join(cls.certs, "server.crt")
        key = os.path.join(cls.certs, "server.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cls.cert,
                        "-days", "2", "-subj", "/CN=localhost", "-addext",
                        "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                       check=True, capture_output=True, timeout=30)
        cls.http_port = harness.free_port()
        cls.config = write_config(cls.certs, cls.http_port,
                                  'cert_file = "%s"\nkey_file = "%s"\n' % (cls.cert, key))
        cls.hub = harness.Hub("-c", cls.config)
        cls.hub.start()
        d = cls.hub.data_dir
        if not harness.wait_until(lambda: os.path.exists(os.path.join(d, "admin.json")), 5.0):
            raise RuntimeError("no admin.json within 5 s\n" + cls.hub.log_tail())
        with open(os.path.join(d, "service-policies.json")) as f:
            key_b64 = json.load(f)["iothubowner"]["primaryKey"]
        context = ssl.create_default_context(cafile=cls.cert)
        cls.api = ServiceClient(cls.http_port,
                                service_sas(HUB_HOST, "iothubowner", key_b64,
                                            int(time.time()) + 600), context)

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.certs, ignore_errors=True)

    def test_https_serves_the_api_and_the_cli_uses_it(self):
        status, _, d = self.api.request("PUT", "/devices/tls-dev", {"deviceId": "tls-dev"})
        self.assertEqual(status, 200, d)
        status, _, twin = self.api.request("GET", "/twins/tls-dev")
        self.assertEqual((status, twin["deviceId"]), (200, "tls-dev"))
        with open(os.path.join(self.hub.data_dir, "admin.json")) as f:
            announced = json.load(f)
        self.assertEqual(announced["url"], "https://127.0.0.1:%d" % self.http_port)
        twin = json.loads(cli(self.hub.data_dir, "twin", "get", "tls-dev", "--json").stdout)
        self.assertEqual(twin["deviceId"], "tls-dev")
        # Plain HTTP on the TLS port gets no answer.
        plain = ServiceClient(self.http_port, "Bearer x")
        with self.assertRaises((http.client.HTTPException, ConnectionError, OSError)):
            plain.request("GET", "/healthz", timeout=5)


if __name__ == "__main__":
    unittest.main()
