"""Compatibility with clients we did not write: Microsoft's Node.js device
SDK from npm (azure-iot-device with azure-iot-device-mqtt), unmodified,
against the real hub over TLS with a development CA.

The device connects with a connection string whose HostName is the hub's
name ("localhost", signed into its SAS tokens and username) and whose
GatewayHostName carries the port of the hub's TLS listener; the CA reaches
Node through NODE_EXTRA_CA_CERTS.  The scripts are tests/compat/device.js;
the service side is driven over the hub's REST API.
"""

import http.client
import json
import os
import shutil
import subprocess
import time
import unittest

import harness
from test_auth import cli
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


class AzureDeviceSdkTest(unittest.TestCase):
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

    @classmethod
    def tearDownClass(cls):
        if cls.hub is not None:
            cls.hub.cleanup()
        if cls.certs is not None:
            cls.certs.cleanup()

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


if __name__ == "__main__":
    unittest.main()
