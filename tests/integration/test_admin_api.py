"""The hub's admin endpoint (docs/api.md) against the real hub, with
Python's http.client: bearer-token auth, the user and device cycle, what
is never shown, error statuses with messages, disconnection on disable, the
CLI going through the endpoint while the hub runs, and the token file."""

import base64
import http.client
import json
import os
import re
import stat
import subprocess
import time
import unittest
import urllib.parse

import harness
import mqttproto as mp

from test_auth import API, HUB_HOST, cli, sas_token

SECRETS = ("primary_key", "secondary_key", "password_hash", "password")


class AdminApiTest(harness.HubTestCase):
    hub = None

    @classmethod
    def setUpClass(cls):
        cls.hub, cls.http_port, cls.token = harness.start_http_hub()

    def request(self, method, path, body=None, token=None, raw=None, headers=None):
        """(status, parsed JSON or text) of one request on a new connection."""
        conn = http.client.HTTPConnection(harness.HOST, self.http_port, timeout=10)
        self.addCleanup(conn.close)
        h = dict(headers or {})
        if token is not False:
            h["Authorization"] = "Bearer " + (token or self.token)
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        if data is not None:
            h["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        text = r.read().decode()
        if r.getheader("Content-Type", "").startswith("application/json") and text:
            return r.status, json.loads(text)
        return r.status, text

    def assertRefused(self, status, answer, expected_status, *words):
        self.assertEqual(status, expected_status, answer)
        self.assertIsInstance(answer, dict, answer)
        self.assertIn("error", answer)
        for w in words:
            self.assertIn(w, answer["error"])

    def assertNoSecrets(self, device):
        for s in SECRETS:
            self.assertNotIn(s, device)

    def unique(self, stem):
        return "%s-%s" % (stem, self.prefix.split("/")[1])

    # ---- auth and basics

    def test_healthz_needs_no_token(self):
        self.assertEqual(self.request("GET", "/healthz", token=False), (200, "ok"))

    def test_missing_or_wrong_token_gets_401(self):
        status, answer = self.request("GET", "/api/v1/users", token=False)
        self.assertRefused(status, answer, 401, "Authorization")
        status, answer = self.request("GET", "/api/v1/users", token="x" * len(self.token))
        self.assertRefused(status, answer, 401, "admin.token")
        status, answer = self.request("GET", "/api/v1/users", token=self.token[:-1])
        self.assertRefused(status, answer, 401)
        status, answer = self.request("GET", "/api/v1/users", token=False,
                                      headers={"Authorization": "Basic " + self.token})
        self.assertRefused(status, answer, 401)
        # A refused request changes nothing.
        status, _ = self.request("POST", "/api/v1/users", {"id": "sneaky"}, token="nope")
        self.assertEqual(status, 401)
        status, users = self.request("GET", "/api/v1/users")
        self.assertNotIn("sneaky", [u["id"] for u in users])

    def test_token_file_is_private_and_the_url_is_announced(self):
        mode = stat.S_IMODE(os.stat(os.path.join(self.hub.data_dir, "admin.token")).st_mode)
        self.assertEqual(mode, 0o600)
        self.assertEqual(len(base64.urlsafe_b64decode(self.token + "=")), 32)
        with open(os.path.join(self.hub.data_dir, "admin.json")) as f:
            self.assertEqual(json.load(f), {"url": "http://127.0.0.1:%d" % self.http_port})

    # ---- the cycle

    def test_user_and_device_cycle(self):
        user, dev = self.unique("u"), self.unique("d:1#?%")
        path = "/api/v1/devices/" + urllib.parse.quote(dev, safe="")
        status, u = self.request("POST", "/api/v1/users", {"id": user, "display_name": "U"})
        self.assertEqual(status, 201, u)
        self.assertEqual((u["id"], u["display_name"]), (user, "U"))
        status, users = self.request("GET", "/api/v1/users")
        self.assertIn(user, [x["id"] for x in users])

        status, added = self.request("POST", "/api/v1/devices", {
            "id": dev, "owner": user, "class": "phone", "display_name": "Phone",
            "tags": {"room": "hall"}})
        self.assertEqual(status, 201, added)
        creds = added["credentials"]
        self.assertEqual(len(base64.b64decode(creds["primary_key"])), 32)
        self.assertNoSecrets(added["device"])
        self.assertEqual(added["device"]["auth"], "sas")
        self.assertEqual(added["device"]["tags"], {"room": "hall"})

        status, shown = self.request("GET", path)
        self.assertEqual(status, 200, shown)
        self.assertNoSecrets(shown)
        self.assertEqual((shown["id"], shown["owner"], shown["class"], shown["enabled"],
                          shown["connected"], shown["last_seen_ms"]),
                         (dev, user, "phone", True, False, 0))
        status, listed = self.request("GET", "/api/v1/devices?owner=" +
                                      urllib.parse.quote(user, safe=""))
        self.assertEqual([d["id"] for d in listed], [dev])
        for d in self.request("GET", "/api/v1/devices")[1]:
            self.assertNoSecrets(d)

        status, patched = self.request("PATCH", path, {"enabled": False})
        self.assertEqual((status, patched["enabled"]), (200, False))
        self.assertNoSecrets(patched)
        status, patched = self.request("PATCH", path, {"enabled": True})
        self.assertEqual((status, patched["enabled"]), (200, True))

        status, rotated = self.request("POST", path + "/rotate-key")
        self.assertEqual(status, 200, rotated)
        self.assertEqual(set(rotated), {"primary_key", "secondary_key"})
        self.assertNotEqual(rotated["primary_key"], creds["primary_key"])

        status, answer = self.request("DELETE", "/api/v1/users/" + user)
        self.assertRefused(status, answer, 409, "still owns devices", dev)
        self.assertEqual(self.request("DELETE", path), (204, ""))
        self.assertRefused(*self.request("GET", path), 404, "allscene device list")
        self.assertEqual(self.request("DELETE", "/api/v1/users/" + user), (204, ""))
        self.assertRefused(*self.request("DELETE", "/api/v1/users/" + user), 404)

    def test_password_device_shows_its_password_only_when_issued(self):
        user, dev = self.unique("pw"), self.unique("lamp")
        self.assertEqual(self.request("POST", "/api/v1/users", {"id": user})[0], 201)
        status, added = self.request("POST", "/api/v1/devices",
                                     {"id": dev, "owner": user, "auth": "password"})
        self.assertEqual(status, 201, added)
        self.assertEqual(set(added["credentials"]), {"password"})
        self.assertEqual(added["device"]["auth"], "password")
        status, rotated = self.request("POST", "/api/v1/devices/%s/rotate-key" % dev)
        self.assertEqual(set(rotated), {"password"})
        self.assertNotEqual(rotated["password"], added["credentials"]["password"])
        self.assertNoSecrets(self.request("GET", "/api/v1/devices/" + dev)[1])

    # ---- refusals

    def test_errors_have_statuses_and_messages(self):
        user = self.unique("e")
        self.assertEqual(self.request("POST", "/api/v1/users", {"id": user})[0], 201)
        self.assertRefused(*self.request("POST", "/api/v1/users", {"id": user}), 409,
                           "already exists")
        self.assertRefused(*self.request("POST", "/api/v1/users", raw="{not json"), 400, "JSON")
        self.assertRefused(*self.request("POST", "/api/v1/users", {"name": "x"}), 400, "name")
        self.assertRefused(*self.request("POST", "/api/v1/users", {}), 400, "\"id\" is missing")
        self.assertRefused(*self.request("POST", "/api/v1/users", {"id": 7}), 400, "string")
        self.assertRefused(*self.request("POST", "/api/v1/users", {"id": "a b"}), 400,
                           "not a valid user id")
        self.assertRefused(*self.request("POST", "/api/v1/devices", {"id": "x", "owner": "nobody"}),
                           404, "nobody")
        self.assertRefused(*self.request("POST", "/api/v1/devices",
                                         {"id": "x", "owner": user, "class": "toaster"}),
                           400, "toaster")
        self.assertRefused(*self.request("POST", "/api/v1/devices",
                                         {"id": "x", "owner": user, "auth": "x509"}),
                           400)
        self.assertEqual(self.request("POST", "/api/v1/devices", {"id": user + "-d",
                                                                  "owner": user})[0], 201)
        self.assertRefused(*self.request("POST", "/api/v1/devices",
                                         {"id": user + "-d", "owner": user}), 409, "already exists")
        self.assertRefused(*self.request("PATCH", "/api/v1/devices/%s-d" % user, {"enabled": "no"}),
                           400, "true or false")
        self.assertRefused(*self.request("PATCH", "/api/v1/devices/%s-d" % user, {"owner": "x"}),
                           400, "owner")
        self.assertRefused(*self.request("PATCH", "/api/v1/devices/missing", {"enabled": True}),
                           404, "missing")
        self.assertRefused(*self.request("POST", "/api/v1/devices/missing/rotate-key"), 404)
        self.assertRefused(*self.request("GET", "/api/v1/nothing"), 404, "docs/api.md")
        self.assertRefused(*self.request("GET", "/elsewhere", token=False), 404)
        self.assertRefused(*self.request("PUT", "/api/v1/users"), 405, "GET, POST")
        self.assertRefused(*self.request("DELETE", "/api/v1/devices"), 405)
        self.assertRefused(*self.request("GET", "/api/v1/devices/%zz"), 400, "%")
        self.assertRefused(*self.request("POST", "/api/v1/users", raw=json.dumps(
            {"id": "big", "display_name": "x" * 70000})), 413, "bytes")
        status, users = self.request("GET", "/api/v1/users")
        self.assertNotIn("big", [u["id"] for u in users])
        # The hub is still there.
        self.assertEqual(self.request("GET", "/healthz", token=False), (200, "ok"))

    # ---- effects

    def test_disabling_a_device_disconnects_it_at_once(self):
        user, dev = self.unique("live"), self.unique("phone")
        self.assertEqual(self.request("POST", "/api/v1/users", {"id": user})[0], 201)
        status, added = self.request("POST", "/api/v1/devices", {"id": dev, "owner": user})
        self.assertEqual(status, 201)
        key = added["credentials"]["primary_key"]
        c = mp.RawClient(self.hub.port, mp.V5)
        self.addCleanup(c.close)
        ack = c.connect(dev, username="%s/%s/%s" % (HUB_HOST, dev, API),
                        password=sas_token(dev, key, int(time.time()) + 600).encode())
        self.assertEqual(ack.reason, 0)
        started = time.monotonic()
        status, _ = self.request("PATCH", "/api/v1/devices/" + dev, {"enabled": False})
        self.assertEqual(status, 200)
        packet = c.recv(timeout=1.0)
        self.assertLess(time.monotonic() - started, 1.0)
        self.assertIsNotNone(packet, "still connected 1 s after the PATCH")
        self.assertEqual(packet.type, mp.DISCONNECT, packet)
        self.assertEqual(packet.reason, 0x98)  # administrative action
        self.assertTrue(harness.wait_until(lambda: "device %s was disabled" % dev in
                                           self.hub_log(), 1.0))

    def test_cli_with_a_running_hub_goes_through_the_endpoint(self):
        user, dev = self.unique("cli"), self.unique("cli-d")
        d = self.hub.data_dir
        self.assertEqual(cli(d, "user", "add", user).stdout, "user %s added\n" % user)
        out = json.loads(cli(d, "device", "add", dev, "--owner", user, "--json").stdout)
        self.assertIn("primary_key", out["credentials"])
        shown = json.loads(cli(d, "device", "show", dev, "--json").stdout)
        self.assertEqual(shown["owner"], user)
        self.assertNoSecrets(shown)
        r = cli(d, "device", "show", "missing-" + dev, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertTrue(r.stderr.startswith("allscene: no device"), r.stderr)
        cli(d, "device", "remove", dev)
        cli(d, "user", "remove", user)
        log = self.hub_log()
        for line in ("POST /api/v1/users 201", "POST /api/v1/devices 201",
                     "GET /api/v1/devices/%s 200" % dev, "GET /api/v1/devices/missing-%s 404" % dev,
                     "DELETE /api/v1/devices/%s 204" % dev, "DELETE /api/v1/users/%s 204" % user):
            self.assertRegex(log, r"info \[api\] admin: " + re.escape(line))

    def hub_log(self):
        with open(self.hub.log_path, errors="replace") as f:
            return f.read()


class AdminEndpointSettingsTest(unittest.TestCase):
    def test_a_non_loopback_bind_is_refused(self):
        r = subprocess.run([harness.hub_binary(), "hub", "--listen", "127.0.0.1:%d" %
                            harness.free_port(), "--http", "0.0.0.0:8080", "--data-dir",
                            "/nonexistent/never-created"], capture_output=True, text=True,
                           timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("loopback", r.stderr)

    def test_off_means_no_endpoint_and_the_cli_still_works(self):
        hub = harness.Hub("--http", "off")
        self.addCleanup(hub.cleanup)
        hub.start()
        self.assertFalse(os.path.exists(os.path.join(hub.data_dir, "admin.json")))
        cli(hub.data_dir, "user", "add", "offline-user")
        self.assertIn("offline-user", cli(hub.data_dir, "user", "list").stdout)
        with open(hub.log_path, errors="replace") as f:
            self.assertNotIn("info [api] admin: ", f.read())

    def test_cli_output_is_the_same_with_the_hub_running_or_not(self):
        hub = harness.Hub("--http", "127.0.0.1:%d" % harness.free_port())
        self.addCleanup(hub.cleanup)
        d = hub.data_dir
        cli(d, "user", "add", "olga", "--name", "Olga O")
        cli(d, "device", "add", "cam#1", "--owner", "olga", "--class", "smart-screen", "--name",
            "Hall cam", "--tag", "room=hall", "--tag", "floor=1", "--auth", "x509",
            "--thumbprint", "ab" * 32)
        cli(d, "device", "add", "lamp", "--owner", "olga", "--auth", "password")
        commands = [("user", "list"), ("user", "list", "--json"), ("device", "list"),
                    ("device", "list", "--json"), ("device", "list", "--owner", "nobody"),
                    ("device", "show", "cam#1"), ("device", "show", "cam#1", "--json"),
                    ("device", "disable", "lamp"), ("device", "enable", "lamp"),
                    ("device", "show", "missing"), ("user", "remove", "olga"),
                    ("device", "rotate-key", "cam#1"), ("user", "add", "olga")]

        def outputs():
            return [(c, r.returncode, r.stdout, r.stderr)
                    for c in commands for r in [cli(d, *c, check=False)]]

        hub.start()
        self.assertTrue(harness.wait_until(
            lambda: os.path.exists(os.path.join(d, "admin.json")), 5.0))
        running = outputs()
        for line in ("info [api] admin: GET /api/v1/devices/cam%231 200",
                     "info [api] admin: PATCH /api/v1/devices/lamp 200"):
            self.assertTrue(harness.log_shows(hub.log_path, line), line)
        self.assertEqual(hub.stop(), 0)
        stopped = outputs()
        for r, s in zip(running, stopped):
            self.assertEqual(r, s)
        self.assertEqual([r[1] for r in running], [0] * 9 + [1] * 4)
        self.assertIn("tag:         floor=1\ntag:         room=hall\n", running[5][2])
        self.assertIn("thumbprint:  " + "AB" * 32, running[5][2])

    def test_admin_json_goes_at_shutdown(self):
        hub = harness.Hub("--http", "127.0.0.1:%d" % harness.free_port())
        self.addCleanup(hub.cleanup)
        hub.start()
        announced = os.path.join(hub.data_dir, "admin.json")
        self.assertTrue(harness.wait_until(lambda: os.path.exists(announced), 5.0))
        self.assertEqual(hub.stop(), 0)
        self.assertFalse(os.path.exists(announced))
        # Stopped hub: the CLI works on the data directory.
        cli(hub.data_dir, "user", "add", "after-stop")


if __name__ == "__main__":
    unittest.main(verbosity=2)
