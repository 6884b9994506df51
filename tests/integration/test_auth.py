"""Device authentication and access control against the real hub.

The registry is prepared with the CLI (`allscene user|device ...`) on the
hub's data directory, as an operator would; clients sign in with SAS tokens
(Azure IoT Hub's format: tokens made here with Python's hmac, independently
of the hub's code, and with `allscene device token`), Argon2id-hashed
passwords (mosquitto_pub, paho), and are checked on every PUBLISH and
SUBSCRIBE.  MQTT 5 reason codes per §3.2.2.2; 3.1.1 return codes per
§3.2.2.3 of 3.1.1.
"""

import base64
import hashlib
import hmac
import json
import subprocess
import time
import unittest
import urllib.parse

import harness
import mqttproto as mp

HUB_HOST = "localhost"
API = "?api-version=2021-04-12"


def cli(data_dir, *args, check=True):
    proc = subprocess.run([harness.hub_binary(), *args, "--data-dir", data_dir],
                          capture_output=True, text=True, timeout=60)
    if check and proc.returncode != 0:
        raise AssertionError("allscene %s failed (%d): %s%s" % (" ".join(args), proc.returncode,
                                                               proc.stdout, proc.stderr))
    return proc


def not_cards(messages):
    """Leaves out the device cards the hub keeps under users/{u}/devices/."""
    return [m for m in messages if "/devices/" not in m.topic]


def sas_token(device_id, key_b64, expiry):
    """Azure IoT Hub's SAS token, computed without the hub's code."""
    resource = urllib.parse.quote("%s/devices/%s" % (HUB_HOST, device_id), safe="")
    to_sign = ("%s\n%d" % (resource, expiry)).encode()
    sig = base64.b64encode(hmac.new(base64.b64decode(key_b64), to_sign, hashlib.sha256).digest())
    return "SharedAccessSignature sr=%s&sig=%s&se=%d" % (
        resource, urllib.parse.quote(sig.decode(), safe=""), expiry)


def azure_username(device_id):
    return "%s/%s/%s" % (HUB_HOST, device_id, API)


class AuthTest(harness.HubTestCase):
    """One hub on a registry with two users: alice (phone-a with keys,
    lamp-a with a password) and bob (phone-b with keys)."""

    hub = None

    @classmethod
    def setUpClass(cls):
        cls.hub = harness.Hub()
        d = cls.hub.data_dir
        cli(d, "user", "add", "alice", "--name", "Alice")
        cli(d, "user", "add", "bob")
        cls.keys = {}
        for device, owner in (("phone-a", "alice"), ("phone-b", "bob"), ("spare-a", "alice")):
            out = json.loads(cli(d, "device", "add", device, "--owner", owner, "--class", "phone",
                                 "--json").stdout)
            cls.keys[device] = out["credentials"]["primary_key"]
        cli(d, "device", "add", "lamp-a", "--owner", "alice", "--class", "iot", "--auth",
            "password", "--password", "s3cret-lamp")
        cls.hub.start()

    def token(self, device, ttl=3600):
        return sas_token(device, self.keys[device], int(time.time()) + ttl)

    def device(self, device_id, version=mp.V5, **kw):
        c = self.paho(device_id, version, connect=False)
        c.connect(username=azure_username(device_id), password=self.token(device_id), **kw)
        return c

    def connack(self, client_id, version=mp.V5, source=None, **kw):
        c = mp.RawClient(self.hub.port, version, source=source)
        self.addCleanup(c.close)
        return c.connect(client_id, version=version, **kw).reason

    # ---- authentication

    def test_sas_token_signs_in_with_the_azure_username_v311_and_v5(self):
        for version in (mp.V311, mp.V5):
            with self.subTest(version=version):
                c = self.device("phone-a", version)
                self.assertTrue(c.connected)
                c.disconnect()

    def test_token_from_the_cli_signs_in(self):
        token = cli(self.hub.data_dir, "device", "token", "phone-b", "--hub-host",
                    HUB_HOST).stdout.strip()
        self.assertTrue(token.startswith("SharedAccessSignature "), token)
        c = self.paho("phone-b", connect=False)
        c.connect(username=azure_username("phone-b"), password=token)
        self.assertTrue(c.connected)

    def test_wrong_signature_gets_0x86_and_return_code_4(self):
        bad = sas_token("phone-a", self.keys["phone-b"], int(time.time()) + 600)
        self.assertEqual(self.connack("phone-a", username=azure_username("phone-a"),
                                      password=bad.encode()), 0x86)
        self.assertEqual(self.connack("phone-a", mp.V311, username=azure_username("phone-a"),
                                      password=bad.encode()), 4)

    def test_expired_token_gets_0x87_and_return_code_5(self):
        old = self.token("phone-a", ttl=-10)
        self.assertEqual(self.connack("phone-a", username=azure_username("phone-a"),
                                      password=old.encode()), 0x87)
        self.assertEqual(self.connack("phone-a", mp.V311, username=azure_username("phone-a"),
                                      password=old.encode()), 5)

    def test_token_of_another_device_is_refused(self):
        other = self.token("phone-b")
        self.assertEqual(self.connack("phone-a", username=azure_username("phone-a"),
                                      password=other.encode()), 0x86)

    def test_azure_username_must_name_the_client_id(self):
        # §3.2.2.2: 0x85 Client Identifier not valid.
        self.assertEqual(self.connack("someone-else", username=azure_username("phone-a"),
                                      password=self.token("phone-a").encode()), 0x85)

    def test_unknown_device_gets_0x86(self):
        self.assertEqual(self.connack("ghost", username="ghost", password=b"x"), 0x86)

    def test_unknown_authentication_method_gets_0x8c(self):
        # §4.12: a server that does not support the method sends 0x8C.
        self.assertEqual(self.connack("phone-a", props=[(mp.AUTH_METHOD, "SCRAM-SHA-256")]), 0x8C)

    def test_password_with_mosquitto_clients(self):
        for version in ("mqttv5", "mqttv311"):
            with self.subTest(version=version):
                ok = subprocess.run(
                    ["mosquitto_pub", "-h", harness.HOST, "-p", str(self.hub.port), "-V",
                     version, "-i", "lamp-a", "-u", "lamp-a", "-P", "s3cret-lamp", "-t",
                     "devices/lamp-a/state", "-m", "on", "-q", "1"],
                    capture_output=True, text=True, timeout=30)
                self.assertEqual(ok.returncode, 0, ok.stderr)
                bad = subprocess.run(
                    ["mosquitto_pub", "-h", harness.HOST, "-p", str(self.hub.port), "-V",
                     version, "-i", "lamp-a", "-u", "lamp-a", "-P", "wrong", "-t",
                     "devices/lamp-a/state", "-m", "on"],
                    capture_output=True, text=True, timeout=30)
                self.assertNotEqual(bad.returncode, 0)
                self.assertIn("bad user name or password", (bad.stderr + bad.stdout).lower())

    def test_registry_survives_a_restart(self):
        hub = self.start_hub(data_dir=self.hub.data_dir + "-copy")
        # A fresh data dir has no devices: the key of phone-a means nothing there.
        self.assertEqual(self.connack_on(hub, "phone-a"), 0x86)
        hub.stop()
        import shutil
        shutil.rmtree(hub.data_dir, ignore_errors=True)
        self.hub.stop()
        self.hub.start()
        c = self.device("phone-a")
        self.assertTrue(c.connected)

    def connack_on(self, hub, device):
        c = mp.RawClient(hub.port, mp.V5)
        self.addCleanup(c.close)
        return c.connect(device, username=azure_username(device),
                         password=self.token(device).encode()).reason

    # ---- access control

    def test_a_device_uses_its_own_and_its_owners_namespaces(self):
        phone = self.device("phone-a")
        spare = self.device("spare-a")
        self.assertEqual(spare.subscribe("users/alice/#", 1), [1])
        self.assertEqual(spare.subscribe("devices/spare-a/#", 1), [1])
        phone.publish("users/alice/clipboard", b"hello", qos=1)
        # (users/alice/# also brings the hub's retained device cards.)
        got = [m for m in spare.collect(20, timeout=2) if m.topic == "users/alice/clipboard"]
        self.assertEqual([m.payload for m in got], [b"hello"])
        self.assertEqual(phone.subscribe("devices/phone-a/messages/devicebound/#", 1), [1])

    def test_cross_user_isolation(self):
        alice = self.device("phone-a")
        bob = self.device("phone-b")
        self.assertEqual(bob.subscribe("users/bob/#", 1), [1])
        for denied in ("users/bob/#", "users/+/clipboard", "#", "users/#", "devices/phone-b/#",
                       "$share/g/users/bob/#"):
            with self.subTest(filter=denied):
                self.assertEqual(alice.subscribe(denied, 1), [0x87])
        raw = mp.RawClient(self.hub.port, mp.V5)
        self.addCleanup(raw.close)
        self.assertEqual(raw.connect("phone-a", username=azure_username("phone-a"),
                                     password=self.token("phone-a").encode()).reason, 0)
        ack = raw.publish("users/bob/clipboard", b"sneaky", qos=1)
        self.assertEqual(ack.reason, 0x87)  # §3.4.2.1 Not authorized
        self.assertEqual(not_cards(bob.quiet(0.5)), [])

    def test_denied_publish_under_311_is_acknowledged_and_discarded(self):
        bob = self.device("phone-b")
        self.assertEqual(bob.subscribe("users/bob/#", 1), [1])
        alice = self.device("phone-a", mp.V311)
        alice.publish("users/bob/x", b"no", qos=1)  # acknowledged (3.1.1 §3.3.5)
        self.assertEqual(not_cards(bob.quiet(0.5)), [])

    # ---- revocation

    def test_disabling_a_device_disconnects_it_within_a_second(self):
        c = self.device("spare-a")
        started = time.monotonic()
        cli(self.hub.data_dir, "device", "disable", "spare-a")
        try:
            self.assertTrue(harness.wait_until(lambda: not c.connected, 3.0),
                            "still connected 3 s after disable")
            # 1 s to apply (poll interval 0.5 s) plus process start-up of the CLI.
            self.assertLess(time.monotonic() - started, 2.5)
            self.assertEqual(self.connack("spare-a", username=azure_username("spare-a"),
                                          password=self.token("spare-a").encode()), 0x8A)
            self.assertEqual(self.connack("spare-a", mp.V311, username=azure_username("spare-a"),
                                          password=self.token("spare-a").encode()), 5)
        finally:
            cli(self.hub.data_dir, "device", "enable", "spare-a")
        ok = harness.wait_until(
            lambda: self.connack("spare-a", username=azure_username("spare-a"),
                                 password=self.token("spare-a").encode()) == 0, 3.0, 0.2)
        self.assertTrue(ok, "enable did not take effect")

    # ---- presence

    def test_connection_state_and_last_seen_reach_the_cli(self):
        def state():
            out = cli(self.hub.data_dir, "device", "show", "phone-b", "--json").stdout
            return json.loads(out)
        before = int(time.time() * 1000)
        c = self.device("phone-b")
        self.assertTrue(harness.wait_until(lambda: state()["connected"], 3.0, 0.2),
                        "not shown connected within 3 s")
        self.assertGreaterEqual(state()["last_seen_ms"], before - 1000)
        listed = cli(self.hub.data_dir, "device", "list").stdout
        self.assertRegex(listed, r"phone-b\s+bob\s+phone\s+sas\s+yes\s+yes")
        c.disconnect()
        self.assertTrue(harness.wait_until(lambda: not state()["connected"], 3.0, 0.2),
                        "still shown connected 3 s after disconnecting")

    # ---- brute force

    def test_repeated_failures_from_one_address_are_slowed_down(self):
        source = "127.0.3.7"
        for _ in range(5):
            self.assertEqual(self.connack("lamp-a", username="lamp-a", password=b"guess",
                                          source=source), 0x86)
        started = time.monotonic()
        self.assertEqual(self.connack("lamp-a", username="lamp-a", password=b"guess",
                                      source=source), 0x86)
        self.assertGreaterEqual(time.monotonic() - started, 0.9, "6th failure was not slowed")
        # Another address is not affected, nor are right credentials from it.
        started = time.monotonic()
        self.assertEqual(self.connack("lamp-a", username="lamp-a", password=b"s3cret-lamp",
                                      source="127.0.3.8"), 0)
        self.assertLess(time.monotonic() - started, 0.9)


class ConfiguredListenerTest(unittest.TestCase):
    """A hub whose listener lets no one in anonymously, with quotas and an
    access rule from the config file (docs/configuration.md)."""

    CONFIG = """
[[listener]]
name = "devices"
bind = "127.0.0.1:@TCP@"
allow_anonymous = false

[listener.quota]
max_payload = 1000

[quota]
messages_per_second = 20
device_connections_per_second = 5

[[auth.rule]]
pattern = "public/{device}/#"
subscribe = false

[[auth.rule]]
pattern = "public/#"
publish = false
"""

    @classmethod
    def setUpClass(cls):
        from test_tls_ws import ConfigHub
        cls.hub = ConfigHub(cls.CONFIG)
        d = cls.hub.data_dir
        cli(d, "user", "add", "fay")
        cls.keys = {}
        for device in ("sensor-f", "display-f", "burst-f"):
            out = json.loads(cli(d, "device", "add", device, "--owner", "fay", "--json").stdout)
            cls.keys[device] = out["credentials"]["primary_key"]
        cls.hub.start()

    @classmethod
    def tearDownClass(cls):
        cls.hub.cleanup()

    def raw(self, client_id, version=mp.V5, **kw):
        c = mp.RawClient(self.hub.port, version)
        self.addCleanup(c.close)
        if client_id in self.keys:
            kw.setdefault("username", azure_username(client_id))
            kw.setdefault("password", sas_token(client_id, self.keys[client_id],
                                                int(time.time()) + 600).encode())
        c.connack = c.connect(client_id, version=version, **kw)
        return c

    def test_anonymous_clients_are_refused_with_0x87(self):
        self.assertEqual(self.raw("anon").connack.reason, 0x87)
        self.assertEqual(self.raw("anon", mp.V311).connack.reason, 5)
        self.assertEqual(self.raw("sensor-f").connack.reason, 0)

    def test_rules_grant_more_than_the_defaults(self):
        display = self.raw("display-f")
        self.assertEqual(display.subscribe([("public/#", 1)]).reasons, [1])
        sensor = self.raw("sensor-f")
        self.assertEqual(sensor.publish("public/sensor-f/temp", b"21", qos=1).reason, 0)
        self.assertEqual(sensor.publish("public/display-f/temp", b"21", qos=1).reason, 0x87)
        got = display.recv(5)
        self.assertEqual((got.type, got.topic), (mp.PUBLISH, "public/sensor-f/temp"))
        self.assertEqual(sensor.subscribe([("private/#", 1)]).reasons, [0x87])

    def test_a_payload_above_the_listener_maximum_disconnects_with_0x95(self):
        c = self.raw("sensor-f")
        c.send(mp.publish("devices/sensor-f/big", b"x" * 1001, qos=0))
        pkt = c.recv(5)
        self.assertEqual((pkt.type, pkt.reason), (mp.DISCONNECT, 0x95))

    def test_publishing_too_fast_disconnects_with_0x96(self):
        c = self.raw("display-f")
        for i in range(40):
            try:
                c.send(mp.publish("devices/display-f/n", str(i).encode(), qos=0))
            except OSError:
                break
        pkt = c.recv(5)
        self.assertEqual((pkt.type, pkt.reason), (mp.DISCONNECT, 0x96))
        # Its neighbour on the same hub is unaffected.
        other = self.raw("sensor-f")
        self.assertEqual(other.publish("devices/sensor-f/ok", b"1", qos=1).reason, 0)

    def test_reconnecting_too_fast_gets_0x9f(self):
        codes = []
        for _ in range(8):
            c = self.raw("burst-f")
            codes.append(c.connack.reason)
            c.close()
        self.assertIn(0x9F, codes)
        self.assertEqual(codes[0], 0)


class AuthConfigErrorsTest(unittest.TestCase):
    """Bad [auth] and [quota] settings stop start-up with a message naming
    the key and what to do."""

    def test_errors(self):
        from test_tls_ws import start_failing_hub
        cases = [
            ("[quota]\nmesages_per_second = 5\n", ["unknown key 'mesages_per_second'",
                                                   "messages_per_second"]),
            ("[quota]\nmax_payload = -1\n", ["max_payload", "integer"]),
            ("[[auth.rule]]\npattern = \"a/#/b\"\n", ["a/#/b"]),
            ("[[auth.rule]]\npattern = \"x/{owner}\"\n", ["{owner}"]),
            ("[[auth.rule]]\npublish = true\n", ["pattern"]),
            ("[auth]\nhub = \"x\"\n", ["unknown key 'hub'", "hub_host"]),
        ]
        for text, wanted in cases:
            with self.subTest(config=text):
                code, err = start_failing_hub("[[listener]]\nbind = \"127.0.0.1:0\"\n" + text)
                self.assertNotEqual(code, 0, err)
                for w in wanted:
                    self.assertIn(w, err)


class CliTest(unittest.TestCase):
    """The registry commands on a data directory with no hub running."""

    def setUp(self):
        import tempfile
        import shutil
        self.dir = tempfile.mkdtemp(prefix="allscene-cli-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def test_credentials_are_printed_once_and_never_shown_again(self):
        cli(self.dir, "user", "add", "carol")
        added = cli(self.dir, "device", "add", "watch-c", "--owner", "carol", "--class",
                    "wearable", "--tag", "room=kitchen").stdout
        self.assertIn("primary key:", added)
        self.assertIn("HostName=localhost;DeviceId=watch-c;SharedAccessKey=", added)
        key = added.split("primary key:")[1].split()[0]
        shown = cli(self.dir, "device", "show", "watch-c").stdout
        self.assertIn("wearable", shown)
        self.assertIn("room=kitchen", shown)
        self.assertNotIn(key, shown)
        listed = cli(self.dir, "device", "list", "--json").stdout
        self.assertNotIn(key, listed)
        self.assertEqual(json.loads(listed)[0]["id"], "watch-c")
        with open(self.dir + "/allscene.db", "rb") as f:
            self.assertNotIn(b"s3cret", f.read())

    def test_passwords_are_stored_only_as_argon2id_hashes(self):
        cli(self.dir, "user", "add", "carol")
        cli(self.dir, "device", "add", "lamp-c", "--owner", "carol", "--auth", "password",
            "--password", "plain-text-secret")
        with open(self.dir + "/allscene.db", "rb") as f:
            data = f.read()
        self.assertNotIn(b"plain-text-secret", data)
        self.assertIn(b"$argon2id$", data)

    def test_errors_say_what_to_do(self):
        r = cli(self.dir, "device", "add", "x", "--owner", "nobody", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("nobody", r.stderr)
        cli(self.dir, "user", "add", "dave")
        cli(self.dir, "device", "add", "d1", "--owner", "dave")
        r = cli(self.dir, "user", "remove", "dave", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("d1", r.stderr + r.stdout)
        r = cli(self.dir, "device", "show", "missing", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("allscene device list", r.stderr)

    def test_rotate_key_invalidates_the_old_one(self):
        cli(self.dir, "user", "add", "erin")
        first = json.loads(cli(self.dir, "device", "add", "tab-e", "--owner", "erin",
                               "--json").stdout)["credentials"]["primary_key"]
        second = json.loads(cli(self.dir, "device", "rotate-key", "tab-e",
                                "--json").stdout)["primary_key"]
        self.assertNotEqual(first, second)
        hub = harness.Hub(data_dir=self.dir)
        hub.start()
        try:
            for key, want in ((first, 0x86), (second, 0)):
                c = mp.RawClient(hub.port, mp.V5)
                try:
                    got = c.connect("tab-e", username=azure_username("tab-e"),
                                    password=sas_token("tab-e", key,
                                                       int(time.time()) + 60).encode()).reason
                finally:
                    c.close()
                self.assertEqual(got, want)
        finally:
            hub.stop()


if __name__ == "__main__":
    unittest.main()
