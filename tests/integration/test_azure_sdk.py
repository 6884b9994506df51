"""Compatibility with clients we did not write: Microsoft's Node.js SDKs
from npm (the device SDK azure-iot-device with azure-iot-device-mqtt, and
the service SDK azure-iothub over HTTPS), unmodified, against the real hub
over TLS with a development CA.

The device connects with a connection string whose HostName is the hub's
name ("localhost", signed into its SAS tokens and username) and whose
GatewayHostName carries the port of the hub's TLS listener; the CA reaches
Node through NODE_EXTRA_CA_CERTS.  The scripts are tests/compat/device.js;
the service side is driven over the hub's REST API.  The service SDK
(tests/compat/service.js) signs in with the hub's iothubowner shared access
policy; it always connects to port 443, which the test binds on 127.0.0.1
when it may (root), else it points the SDK's HTTP agent at another port.
"""

import http.client
import json
import os
import shutil
import socket
import subprocess
import time
import unittest

import harness
from test_auth import azure_username, cli, sas_token
from test_tls_ws import Certs, ConfigHub

COMPAT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "compat")
NODE = shutil.which("node")


def compat_missing():
    """Why the npm SDKs cannot run here, or None."""
    if not NODE:
        return "node is not installed"
    if not os.path.isdir(os.path.join(COMPAT, "node_modules", "azure-iot-device-mqtt")):
        return "tests/compat/node_modules is missing (scripts/install-deps.sh runs npm ci there)"
    return None


class NodeDevice:
    """tests/compat/device.js running one scenario in the background."""

    def __init__(self, test, scenario, connection_string, ca, **env):
        full_env = dict(os.environ, ALLSCENE_CS=connection_string, NODE_EXTRA_CA_CERTS=ca,
                        ALLSCENE_TIMEOUT_S=str(env.pop("timeout", 20)))
        full_env.update({k: str(v) for k, v in env.items()})
        self.proc = harness.track(subprocess.Popen(
            [NODE, os.path.join(COMPAT, "device.js"), scenario], cwd=COMPAT, env=full_env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True))
        test.addCleanup(self.stop)
        self.steps = []

    def wait_step(self, step, timeout=20.0):
        """Reads JSON lines until one with `step`; returns it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            entry = json.loads(line)
            self.steps.append(entry)
            if entry.get("step") == step:
                return entry
            if entry.get("ok") is False:
                raise AssertionError("device.js failed at %s: %s" % (entry, self.stderr()))
        raise AssertionError("device.js: no %r step; steps %s; stderr %s"
                             % (step, self.steps, self.stderr()))

    def finish(self, timeout=30.0):
        """Waits for the exit; returns (exit code, every step)."""
        out, err = self.proc.communicate(timeout=timeout)
        self.steps += [json.loads(line) for line in out.splitlines() if line.strip()]
        self.err = err
        return self.proc.returncode, self.steps

    def stderr(self):
        if self.proc.poll() is None:
            return "(running)"
        return self.proc.stderr.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for f in (self.proc.stdout, self.proc.stderr):
            f.close()


class CompatTestCase(harness.HubTestCase):
    """A hub with a development CA's certificate, for the npm SDKs."""

    hub = None
    certs = None

    @classmethod
    def setUpClass(cls):
        missing = compat_missing()
        if missing:
            if os.environ.get("ALLSCENE_REQUIRE_COMPAT"):
                raise RuntimeError("the Azure SDK compatibility tests cannot run: " + missing)
            raise unittest.SkipTest(missing)
        cls.certs = Certs()

    @classmethod
    def tearDownClass(cls):
        if cls.hub is not None:
            cls.hub.cleanup()
        if cls.certs is not None:
            cls.certs.cleanup()


class AzureDeviceSdkTest(CompatTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tls_port = harness.free_port()
        cls.hub = ConfigHub("""
[auth]
hub_host = "localhost"

[http]
bind = "127.0.0.1:0"

[[listener]]
name = "tcp"
bind = "127.0.0.1:@TCP@"

[[listener]]
name = "tls"
bind = "127.0.0.1:%d"
transport = "tls"
cert_file = "%s"
key_file = "%s"
""" % (cls.tls_port, cls.certs.path("server.crt"), cls.certs.path("server.key")))
        d = cls.hub.data_dir
        cli(d, "user", "add", "alice")
        cls.keys = {}
        for device in ("node-twin", "node-methods", "node-events", "node-c2d"):
            out = json.loads(cli(d, "device", "add", device, "--owner", "alice", "--json").stdout)
            cls.keys[device] = out["credentials"]["primary_key"]
        cls.hub.start()
        with open(os.path.join(d, "admin.json")) as f:
            cls.api_port = int(json.load(f)["url"].rsplit(":", 1)[1].strip("/"))
        with open(os.path.join(d, "admin.token")) as f:
            cls.api_token = f.read().strip()

    def connection_string(self, device):
        return "HostName=localhost;GatewayHostName=localhost:%d;DeviceId=%s;SharedAccessKey=%s" % (
            self.tls_port, device, self.keys[device])

    def device(self, scenario, device, **env):
        return NodeDevice(self, scenario, self.connection_string(device),
                          self.certs.path("ca.crt"), **env)

    def api(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.api_port, timeout=60)
        try:
            conn.request(method, path, body=json.dumps(body) if body is not None else None,
                         headers={"Authorization": "Bearer " + self.api_token,
                                  "Content-Type": "application/json"})
            r = conn.getresponse()
            data = r.read()
            return r.status, json.loads(data) if data else None
        finally:
            conn.close()

    def test_twin_get_report_and_desired_updates(self):
        dev = self.device("twin", "node-twin", ALLSCENE_EXPECT_DESIRED=json.dumps({"fan": "high"}),
                          ALLSCENE_REPORTED=json.dumps({"firmware": "1.2.3"}))
        got = dev.wait_step("get_twin")
        self.assertIn("$version", got["desired"])
        dev.wait_step("report")
        dev.wait_step("desired_subscribed")
        status, twin = self.api("PATCH", "/twins/node-twin",
                                {"properties": {"desired": {"fan": "high"}}})
        self.assertEqual(status, 200, twin)
        code, steps = dev.finish()
        self.assertEqual(code, 0, (steps, dev.err))
        desired = [s for s in steps if s.get("step") == "desired" and s.get("source") != "initial"]
        self.assertTrue(desired, steps)
        self.assertEqual(desired[-1]["delta"]["fan"], "high")
        status, twin = self.api("GET", "/twins/node-twin")
        self.assertEqual(twin["properties"]["reported"]["firmware"], "1.2.3")

    def test_direct_method_call(self):
        dev = self.device("methods", "node-methods", ALLSCENE_DURATION_S=4, ALLSCENE_MIN_CALLS=1)
        dev.wait_step("methods_subscribed")
        status, body = self.api("POST", "/twins/node-methods/methods",
                                {"methodName": "reboot", "payload": {"delay": 2},
                                 "responseTimeoutInSeconds": 10})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["status"], 200)
        self.assertEqual(body["payload"]["echo"], {"delay": 2})
        code, steps = dev.finish()
        self.assertEqual(code, 0, (steps, dev.err))

    def test_events_reach_a_back_end_subscriber_with_their_properties(self):
        backend = harness.PahoClient(self.hub)
        self.addCleanup(backend.close)
        backend.connect()
        backend.subscribe("devices/node-events/messages/events/#", 1)
        dev = self.device("events", "node-events", ALLSCENE_EVENT_COUNT=3)
        code, steps = dev.finish()
        self.assertEqual(code, 0, (steps, dev.err))
        got = backend.collect(3, timeout=10)
        self.assertEqual(len(got), 3)
        self.assertIn("%24.ct=application%2Fjson", got[0].topic)
        self.assertIn("%24.mid=", got[0].topic)

    def test_cloud_to_device_message_and_its_delivery_feedback(self):
        backend = harness.PahoClient(self.hub)
        self.addCleanup(backend.close)
        backend.connect()
        backend.subscribe("$events/devices/node-c2d/feedback", 1)
        dev = self.device("c2d", "node-c2d")
        dev.wait_step("c2d_subscribed")
        status, body = self.api("POST", "/api/v1/devices/node-c2d/messages",
                                {"payload": "turn on", "properties": {"room": "hall/1"}})
        self.assertEqual(status, 202, body)
        got = dev.wait_step("c2d_message")
        self.assertEqual(got["message"]["body"], "turn on")
        self.assertIn({"key": "room", "value": "hall/1"}, got["message"]["properties"])
        code, steps = dev.finish()
        self.assertEqual(code, 0, (steps, dev.err))
        # The SDK's PUBACK is the delivery: feedback as Azure's record.
        feedback = json.loads(backend.expect(topic="$events/devices/node-c2d/feedback").payload)
        self.assertEqual((feedback["originalMessageId"], feedback["statusCode"]),
                         (body["messageId"], "Success"))


def https_port():
    """443 if this process may bind it (the SDK's only port), else a free one."""
    if os.geteuid() == 0:
        try:
            with socket.socket() as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("127.0.0.1", 443))
            return 443
        except OSError:
            pass
    return harness.free_port()


class AzureServiceSdkTest(CompatTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.port = https_port()
        cls.hub = ConfigHub("""
[auth]
hub_host = "localhost"

[http]
bind = "127.0.0.1:%d"
cert_file = "%s"
key_file = "%s"

[[listener]]
name = "tcp"
bind = "127.0.0.1:@TCP@"
""" % (cls.port, cls.certs.path("server.crt"), cls.certs.path("server.key")))
        cls.hub.start()
        cls.service_cs = cli(cls.hub.data_dir, "service", "connection-string", "--config",
                             cls.hub.config_path).stdout.strip()

    def service_env(self):
        env = dict(os.environ, ALLSCENE_SERVICE_CS=self.service_cs,
                   NODE_EXTRA_CA_CERTS=self.certs.path("ca.crt"))
        if self.port != 443:
            env["ALLSCENE_HTTPS_PORT"] = str(self.port)
        return env

    def service(self, *args, timeout=30):
        """Runs service.js; returns its JSON lines (the last is the result)."""
        proc = subprocess.run([NODE, os.path.join(COMPAT, "service.js"), *args], cwd=COMPAT,
                              env=self.service_env(), capture_output=True, text=True,
                              timeout=timeout)
        lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
        self.assertTrue(lines, "service.js %s printed nothing: %s" % (args, proc.stderr))
        return lines

    def ok(self, *args, **kw):
        lines = self.service(*args, **kw)
        self.assertTrue(lines[-1]["ok"], lines)
        return lines[-1]

    def test_registry_create_get_and_a_device_signing_in_with_its_keys(self):
        created = self.ok("create", "sdk-cam")["result"]
        self.assertEqual(created["deviceId"], "sdk-cam")
        key = created["authentication"]["symmetricKey"]["primaryKey"]
        self.assertTrue(key)
        got = self.ok("get", "sdk-cam")["result"]
        self.assertEqual((got["deviceId"], got["status"]), ("sdk-cam", "enabled"))
        again = self.service("create", "sdk-cam")[-1]
        self.assertEqual((again["ok"], again["httpStatus"]), (False, 409))
        device = self.paho("sdk-cam", connect=False)
        device.connect(username=azure_username("sdk-cam"),
                       password=sas_token("sdk-cam", key, int(time.time()) + 600))
        device.close()
        self.ok("delete", "sdk-cam")
        gone = self.service("get", "sdk-cam")[-1]
        self.assertEqual((gone["ok"], gone["httpStatus"]), (False, 404))

    def test_twin_read_and_update_with_etags(self):
        self.ok("create", "sdk-fan")
        twin = self.ok("getTwin", "sdk-fan")
        etag = twin["result"]["etag"]
        updated = self.ok("updateTwin", "sdk-fan",
                          json.dumps({"tags": {"room": "attic"},
                                      "properties": {"desired": {"speed": 2}}}), etag)
        self.assertEqual(updated["result"]["tags"], {"room": "attic"})
        self.assertEqual(updated["result"]["properties"]["desired"]["speed"], 2)
        stale = self.service("updateTwin", "sdk-fan", json.dumps({"tags": {"room": "hall"}}),
                             etag)[-1]
        self.assertEqual((stale["ok"], stale["httpStatus"]), (False, 412))

    def test_invoke_a_device_method(self):
        created = self.ok("create", "sdk-bell")["result"]
        key = created["authentication"]["symmetricKey"]["primaryKey"]
        device = self.paho("sdk-bell", connect=False)
        device.connect(username=azure_username("sdk-bell"),
                       password=sas_token("sdk-bell", key, int(time.time()) + 600))
        device.subscribe("$iothub/methods/POST/#", 0)
        caller = harness.track(subprocess.Popen(
            [NODE, os.path.join(COMPAT, "service.js"), "invoke", "sdk-bell", "ring",
             json.dumps({"volume": 7}), "10"], cwd=COMPAT, env=self.service_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, start_new_session=True))
        self.addCleanup(lambda: caller.poll() is None and caller.kill())
        request = device.expect(timeout=15)
        self.assertTrue(request.topic.startswith("$iothub/methods/POST/ring/?$rid="), request)
        self.assertEqual(json.loads(request.payload), {"volume": 7})
        rid = request.topic.split("$rid=", 1)[1]
        device.publish("$iothub/methods/res/200/?$rid=" + rid, json.dumps({"rang": True}))
        out, err = caller.communicate(timeout=30)
        result = json.loads(out.splitlines()[-1])
        self.assertTrue(result["ok"], (result, err))
        self.assertEqual(result["result"]["status"], 200)
        self.assertEqual(result["result"]["payload"], {"rang": True})

    def test_query_pages_through_every_match(self):
        for i in range(3):
            self.ok("create", "sdk-q%d" % i)
            self.ok("updateTwin", "sdk-q%d" % i, json.dumps({"tags": {"batch": "q"}}))
        lines = self.service("query", "SELECT * FROM devices WHERE tags.batch = 'q'", "2")
        summary = lines[-1]
        self.assertTrue(summary["ok"], lines)
        self.assertEqual(summary["result"]["pages"], 2)
        self.assertEqual(sorted(summary["result"]["deviceIds"]), ["sdk-q0", "sdk-q1", "sdk-q2"])


if __name__ == "__main__":
    unittest.main()
