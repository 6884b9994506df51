"""What an operator uses (docs/operations.md), against the real hub:
/metrics in Prometheus' text format, /healthz and /readyz, the console's
address (/ and /console redirect to /console/), and the operations
commands."""

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import harness
from test_auth import azure_username, sas_token


def parse_metrics(text):
    """{(name, frozenset(labels)): value} of a Prometheus text exposition."""
    samples = {}
    line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = line_re.match(line)
        if not m:
            raise AssertionError("not a Prometheus sample line: %r" % line)
        labels = frozenset(re.findall(r'(\w+)="([^"]*)"', m.group(3) or ""))
        samples[(m.group(1), labels)] = float(m.group(4))
    return samples


class OperationsTest(harness.HubTestCase):
    hub = None

    @classmethod
    def setUpClass(cls):
        cls.hub, cls.http_port, cls.token = harness.start_http_hub()

    def request(self, method, path, token=True, port=None):
        conn = http.client.HTTPConnection(harness.HOST, port or self.http_port, timeout=10)
        self.addCleanup(conn.close)
        headers = {"Authorization": "Bearer " + self.token} if token else {}
        conn.request(method, path, headers=headers)
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read().decode()

    def metrics(self):
        status, headers, body = self.request("GET", "/metrics")
        self.assertEqual(status, 200, body)
        self.assertTrue(headers["Content-Type"].startswith("text/plain; version=0.0.4"))
        return parse_metrics(body)

    def test_health_and_readiness_need_no_token(self):
        self.assertEqual(self.request("GET", "/healthz", token=False)[::2], (200, "ok"))
        self.assertEqual(self.request("GET", "/readyz", token=False)[::2], (200, "ready"))
        self.assertEqual(self.request("POST", "/readyz", token=False)[0], 405)

    def test_metrics_need_a_credential(self):
        status, _, body = self.request("GET", "/metrics", token=False)
        self.assertEqual(status, 401)
        self.assertIn("admin.token", body)

    def test_metrics_count_messages_by_qos_and_durable_acks(self):
        before = self.metrics()
        sub = self.paho("ops-sub", connect=False)
        sub.connect(clean=False, session_expiry=600)
        sub.subscribe(self.topic("m"), qos=1)
        pub = self.paho("ops-pub")
        pub.wait_published([pub.publish(self.topic("m"), b"x", qos=1) for _ in range(5)])
        pub.wait_published([pub.publish(self.topic("m"), b"y", qos=0) for _ in range(3)])
        for _ in range(8):
            sub.get()
        after = self.metrics()

        def delta(name, **labels):
            key = (name, frozenset(labels.items()))
            return after[key] - before.get(key, 0)

        self.assertEqual(delta("allscene_messages_received_total", qos="1"), 5)
        self.assertEqual(delta("allscene_messages_received_total", qos="0"), 3)
        self.assertGreaterEqual(delta("allscene_messages_sent_total", qos="1"), 5)
        # A persistent subscriber: each QoS 1 ack waited for a store commit.
        self.assertGreaterEqual(delta("allscene_publish_ack_seconds_count"), 5)
        self.assertGreater(delta("allscene_store_commits_total"), 0)
        commits = after[("allscene_store_commit_seconds_count", frozenset())]
        inf = after[("allscene_store_commit_seconds_bucket", frozenset({("le", "+Inf")}))]
        self.assertEqual(commits, inf)
        self.assertGreaterEqual(after[("allscene_connections", frozenset())], 2)

    def test_metrics_count_refused_sign_ins(self):
        before = self.metrics()[("allscene_auth_failures_total", frozenset())]
        # A device id that is not registered, with a password: refused.
        c = self.paho("no-such-device", connect=False)
        c.connect(username="localhost/no-such-device/?api-version=2021-04-12", password="x",
                  expect_rc=None)
        after = self.metrics()[("allscene_auth_failures_total", frozenset())]
        self.assertEqual(after - before, 1)

    def test_request_ids_tie_a_rest_call_to_its_mqtt_message(self):
        # A device's cloud-to-device message carries the REST request's id
        # as its correlation id ($.cid), and the log line names it.
        conn = http.client.HTTPConnection(harness.HOST, self.http_port, timeout=10)
        self.addCleanup(conn.close)
        headers = {"Authorization": "Bearer " + self.token, "Content-Type": "application/json"}
        conn.request("POST", "/api/v1/users", body='{"id": "rid-user"}', headers=headers)
        conn.getresponse().read()
        conn.request("POST", "/api/v1/devices", headers=headers,
                     body='{"id": "rid-lamp", "owner": "rid-user"}')
        r = conn.getresponse()
        self.assertEqual(r.status, 201)
        generated = r.getheader("X-Request-Id")
        self.assertRegex(generated, r"^[0-9a-f]{16}$")
        key = json.loads(r.read())["credentials"]["primary_key"]
        lamp = self.paho("rid-lamp", connect=False)
        lamp.connect(username=azure_username("rid-lamp"),
                     password=sas_token("rid-lamp", key, int(time.time()) + 600))
        lamp.subscribe("devices/rid-lamp/messages/devicebound/#", qos=1)
        headers["X-Request-Id"] = "trace-42"
        conn.request("POST", "/api/v1/devices/rid-lamp/messages", headers=headers,
                     body='{"payload": "on"}')
        r = conn.getresponse()
        r.read()
        self.assertEqual((r.status, r.getheader("X-Request-Id")), (202, "trace-42"))
        self.assertIn("%24.cid=trace-42", lamp.get().topic)
        self.assertTrue(harness.log_shows(
            self.hub.log_path, "admin: POST /api/v1/devices/rid-lamp/messages 202 (request trace-42)"))

    def test_root_and_console_redirect_to_the_console(self):
        for path in ("/", "/console"):
            status, headers, _ = self.request("GET", path, token=False)
            self.assertEqual(status, 302, path)
            self.assertEqual(headers["Location"], "/console/")

    def test_console_files_never_leave_their_folder(self):
        status, _, body = self.request("GET", "/console/..%2Fadmin.token", token=False)
        self.assertEqual(status, 404, body)
        self.assertNotIn(self.token, body)


def cli(*args, check=True):
    r = subprocess.run([harness.hub_binary()] + list(args), capture_output=True, text=True,
                       timeout=60)
    if check and r.returncode != 0:
        raise AssertionError("allscene %s: %d\n%s%s" % (args, r.returncode, r.stdout, r.stderr))
    return r


class BackupTest(harness.HubTestCase):
    def test_backup_of_a_busy_hub_restores_into_a_working_hub(self):
        hub = self.start_hub("--http", "%s:%d" % (harness.HOST, harness.free_port()))
        self.assertTrue(harness.wait_until(
            lambda: os.path.exists(os.path.join(hub.data_dir, "admin.json")), 5.0))
        cli("user", "add", "ana", "--data-dir", hub.data_dir)
        cli("device", "add", "ana-watch", "--owner", "ana", "--class", "wearable",
            "--data-dir", hub.data_dir)
        pub = self.paho("busy", hub=hub)
        pub.wait_published([pub.publish("keep/%d" % i, b"v%d" % i, qos=1, retain=True)
                            for i in range(50)])
        # More retained messages while the backup runs: the copy is one
        # snapshot whatever the hub does meanwhile.
        more = [pub.publish("later/%d" % i, b"x", qos=1, retain=True) for i in range(200)]
        dest = tempfile.mkdtemp(prefix="allscene-backup-")
        self.addCleanup(shutil.rmtree, dest, True)
        shutil.rmtree(dest)
        r = cli("backup", dest, "--data-dir", hub.data_dir)
        self.assertIn("backed up", r.stdout)
        self.assertIn("allscene.db", r.stderr)  # progress, a line per file
        pub.wait_published(more)
        self.assertEqual(oct(os.stat(os.path.join(dest, "admin.token")).st_mode & 0o777), "0o600")
        self.assertNotEqual(cli("backup", dest, "--data-dir", hub.data_dir, check=False)
                            .returncode, 0)  # never over an earlier backup

        # Restoring over the running hub is refused; into a new folder it works.
        r = cli("restore", dest, "--data-dir", hub.data_dir, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("stop it first", r.stderr)
        restored = tempfile.mkdtemp(prefix="allscene-restored-")
        self.addCleanup(shutil.rmtree, restored, True)
        cli("restore", dest, "--data-dir", restored)
        copy = self.start_hub("--http", "off", data_dir=restored)
        sub = self.paho("reader", hub=copy)
        sub.subscribe("keep/#", qos=1)
        got = sorted(sub.get().payload for _ in range(50))
        self.assertEqual(got, sorted(b"v%d" % i for i in range(50)))
        devices = cli("device", "list", "--data-dir", restored, "--json").stdout
        self.assertIn("ana-watch", devices)

    def test_restore_refuses_what_is_not_a_backup_and_a_damaged_one(self):
        folder = tempfile.mkdtemp(prefix="allscene-notbackup-")
        self.addCleanup(shutil.rmtree, folder, True)
        target = tempfile.mkdtemp(prefix="allscene-target-")
        self.addCleanup(shutil.rmtree, target, True)
        r = cli("restore", folder, "--data-dir", target, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not an allscene backup", r.stderr)
        # A backup whose database is damaged changes nothing.
        hub = self.start_hub("--http", "off")
        hub.stop()
        good = os.path.join(folder, "b")
        cli("backup", good, "--data-dir", hub.data_dir)
        with open(os.path.join(good, "allscene.db"), "r+b") as f:
            f.seek(100)
            f.write(b"\xff" * 4000)
        r = cli("restore", good, "--data-dir", target, check=False)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("damaged", r.stderr)
        self.assertEqual(os.listdir(target), [])


class ReloadTest(harness.HubTestCase):
    """SIGHUP re-reads the config file's access rules and limits."""

    def write_config(self, path, extra):
        with open(path, "w") as f:
            f.write('[auth]\nhub_host = "localhost"\n' + extra)

    def signed_in(self, hub, client_id="lamp"):
        c = self.paho(client_id, hub=hub, connect=False)
        c.connect(username="lamp", password="lamp-secret")
        return c

    def test_sighup_applies_new_rules_and_quota_and_survives_a_bad_file(self):
        folder = tempfile.mkdtemp(prefix="allscene-reload-")
        self.addCleanup(shutil.rmtree, folder, True)
        config = os.path.join(folder, "hub.toml")
        self.write_config(config, "")
        hub = self.start_hub("-c", config, "--http", "off")
        cli("user", "add", "ana", "--data-dir", hub.data_dir)
        cli("device", "add", "lamp", "--owner", "ana", "--auth", "password",
            "--password", "lamp-secret", "--data-dir", hub.data_dir)
        harness.wait_until(lambda: False, 0.7)  # the hub picks registry changes up twice a second

        lamp = self.signed_in(hub)
        self.assertEqual(lamp.subscribe("lab/readings", qos=1)[0], 0x87)  # not granted yet
        self.write_config(config, '[[auth.rule]]\npattern = "lab/#"\n\n'
                                  '[quota]\nmax_payload = 1000\n')
        os.kill(hub.proc.pid, signal.SIGHUP)
        self.assertTrue(harness.log_shows(hub.log_path, "SIGHUP: reloaded"), hub.log_tail())
        self.assertEqual(lamp.subscribe("lab/readings", qos=1)[0], 1)  # the rule, at once
        # The quota holds for connections made after the reload.
        fresh = self.raw_connected("lamp", hub=hub, username="lamp", password=b"lamp-secret")
        fresh.send(harness.mp.publish("lab/readings", b"x" * 2000, 1, pid=1))
        self.assertClosedAfter(fresh, reasons=[0x95])

        # A file that does not load changes nothing; the hub goes on.
        self.write_config(config, '[[auth.rule]]\npattern = "lab/#/bad"\n')
        os.kill(hub.proc.pid, signal.SIGHUP)
        self.assertTrue(harness.log_shows(hub.log_path, "not reloaded"), hub.log_tail())
        again = self.signed_in(hub, "lamp")
        self.assertEqual(again.subscribe("lab/readings", qos=1)[0], 1)


if __name__ == "__main__":
    unittest.main()
