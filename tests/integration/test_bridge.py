"""Bridges: an edge hub bridged to a cloud hub, two real `allscene hub`
processes on free loopback ports (docs/operations.md, Edge hub and bridges).

Covers forwarding both ways with prefix remapping, no loops with `both`
rules (messages counted), retained state mirrored, store and forward while
the cloud is killed (-9) and while the edge restarts, the persistent
upstream session queuing for an edge that is away, wrong credentials, and
the $SYS/broker/bridge/{name}/state topic.  Every wait is bounded; every
process is stopped by PID (harness.Hub)."""

import os
import shutil
import tempfile
import time
import unittest
import uuid

from paho.mqtt.subscribeoptions import SubscribeOptions

from harness import Hub, PahoClient, free_port, log_shows, wait_until
from test_auth import cli
from test_tls_ws import Certs, ConfigHub

# Retries quickly so that the tests do not wait out a long backoff.
EDGE_CONFIG = """
[[bridge]]
name = "cloud"
address = "mqtt://127.0.0.1:{port}"
reconnect_min_ms = 100
reconnect_max_ms = 1000
keep_alive = 5

[[bridge.rule]]
pattern = "users/#"
direction = "both"
qos = 1

[[bridge.rule]]
pattern = "#"
direction = "both"
local_prefix = "home/"
remote_prefix = "edge/house1/"
"""


class BridgeTestCase(unittest.TestCase):
    """A cloud hub and an edge hub bridged to it, fresh for every test."""

    EXTRA_EDGE_ARGS = ()

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="allscene-bridge-it-")
        self.hubs = []
        self.cloud_port = free_port()
        self.cloud_dir = os.path.join(self.tmp, "cloud")
        self.edge_port = free_port()
        self.edge_dir = os.path.join(self.tmp, "edge")
        self.config = os.path.join(self.tmp, "edge.toml")
        with open(self.config, "w") as f:
            f.write(EDGE_CONFIG.format(port=self.cloud_port))
        self.tag = uuid.uuid4().hex[:8]

    def run(self, result=None):
        result = result if result is not None else self.defaultTestResult()
        before = len(result.failures) + len(result.errors)
        out = super().run(result)
        if len(result.failures) + len(result.errors) > before:
            for hub in getattr(self, "hubs", []):
                print("\n---- %s log tail ----\n%s" % (hub.name, hub.log_tail()))
        # After the cleanups (which stop the hubs), so the logs were there.
        if getattr(self, "tmp", None):
            shutil.rmtree(self.tmp, True)
        return out

    def start(self, name, port, data_dir, *args):
        os.makedirs(data_dir, exist_ok=True)
        hub = Hub("--http", "off", *args, port=port, data_dir=data_dir)
        hub.name = name
        self.hubs.append(hub)
        self.addCleanup(hub.cleanup)
        return hub.start()

    def start_cloud(self):
        self.cloud = self.start("cloud", self.cloud_port, self.cloud_dir)
        return self.cloud

    def start_edge(self, *args):
        self.edge = self.start("edge", self.edge_port, self.edge_dir,
                               *(args or ("-c", self.config)))
        return self.edge

    def wait_linked(self, hub=None, count=1, timeout=10.0):
        """Waits until the edge's log shows the link up `count` times."""
        hub = hub or self.edge
        ok = wait_until(lambda: self._count(hub, " up as client ") >= count, timeout)
        self.assertTrue(ok, "bridge link not up:\n" + hub.log_tail())
        # The upstream SUBSCRIBE follows the CONNACK; give it a moment.
        time.sleep(0.3)

    @staticmethod
    def _count(hub, text):
        try:
            with open(hub.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace").count(text)
        except OSError:
            return 0

    def client(self, hub, client_id=None, **connect):
        c = PahoClient(hub, client_id)
        self.addCleanup(c.close)
        c.connect(**connect)
        return c

    def topic(self, rest):
        return "users/ana-%s/%s" % (self.tag, rest)


class TestForwarding(BridgeTestCase):

    def setUp(self):
        super().setUp()
        self.start_cloud()
        self.start_edge()
        self.wait_linked()

    def test_prefix_remapping_both_ways(self):
        edge_sub = self.client(self.edge)
        edge_sub.subscribe("home/#", 1)
        cloud_sub = self.client(self.cloud)
        cloud_sub.subscribe("edge/house1/#", 1)
        edge_pub = self.client(self.edge)
        edge_pub.publish("home/kitchen/temp", b"21.5", qos=1)
        m = cloud_sub.expect(timeout=5, topic="edge/house1/kitchen/temp")
        self.assertEqual(m.payload, b"21.5")
        self.assertEqual(m.qos, 1)
        cloud_pub = self.client(self.cloud)
        cloud_pub.publish("edge/house1/kitchen/light", b"on", qos=1)
        # The edge's own message first (local), then the one from the cloud.
        got = {m.topic: m.payload for m in edge_sub.collect(2, timeout=5)}
        self.assertEqual(got.get("home/kitchen/light"), b"on", got)
        self.assertEqual(got.get("home/kitchen/temp"), b"21.5", got)

    def test_no_loops_with_both_rules(self):
        # §3.8.3.1 No Local upstream, and the bridge's own local session
        # never gets back what it injected: each message is seen once on
        # each side, and nothing more follows.
        n = 10
        edge_sub = self.client(self.edge)
        edge_sub.subscribe("users/#", 1)
        cloud_sub = self.client(self.cloud)
        cloud_sub.subscribe("users/#", 1)
        edge_pub = self.client(self.edge)
        cloud_pub = self.client(self.cloud)
        for i in range(n):
            edge_pub.publish(self.topic("from-edge"), b"e%d" % i, qos=1)
            cloud_pub.publish(self.topic("from-cloud"), b"c%d" % i, qos=1)
        for sub in (edge_sub, cloud_sub):
            got = sub.collect(2 * n, timeout=10)
            self.assertEqual(len(got), 2 * n, got)
            extra = sub.quiet(1.5)
            self.assertEqual(extra, [], "loop: messages came back")
            payloads = sorted(m.payload for m in got)
            self.assertEqual(payloads, sorted([b"e%d" % i for i in range(n)]
                                              + [b"c%d" % i for i in range(n)]))

    def test_retained_state_is_mirrored(self):
        edge_pub = self.client(self.edge)
        edge_pub.publish(self.topic("card/phone"), b"card", qos=1, retain=True)
        cloud_pub = self.client(self.cloud)
        cloud_pub.publish(self.topic("notify/1"), b"note", qos=1, retain=True)
        time.sleep(1.0)  # both messages cross the link
        late_cloud = self.client(self.cloud)
        late_cloud.subscribe(self.topic("card/#"), 1)
        m = late_cloud.expect(timeout=5, topic=self.topic("card/phone"))
        self.assertTrue(m.retain, "not retained on the cloud")
        self.assertEqual(m.payload, b"card")
        late_edge = self.client(self.edge)
        late_edge.subscribe(self.topic("notify/#"), 1)
        m = late_edge.expect(timeout=5, topic=self.topic("notify/1"))
        self.assertTrue(m.retain, "not retained on the edge")

    def test_sys_state_topic(self):
        watcher = self.client(self.edge)
        watcher.subscribe("$SYS/broker/bridge/cloud/state", 0)
        m = watcher.expect(timeout=5)
        self.assertEqual(m.payload, b"connected")
        self.assertTrue(m.retain)
        self.cloud.kill()
        m = watcher.expect(timeout=10)
        self.assertEqual(m.payload, b"disconnected")

    def test_throughput_qos1_edge_to_cloud(self):
        n = 2000
        cloud_sub = self.client(self.cloud)
        cloud_sub.subscribe(self.topic("bulk/#"), 1)
        edge_pub = self.client(self.edge)
        # Within the hub's Receive Maximum (64), which paho does not track.
        edge_pub.client.max_inflight_messages_set(32)
        started = time.monotonic()
        infos = [edge_pub.publish(self.topic("bulk/%d" % i), b"x" * 64, qos=1, wait=False)
                 for i in range(n)]
        got = cloud_sub.collect(n, timeout=60)
        elapsed = time.monotonic() - started
        edge_pub.wait_published(infos, timeout=10)
        self.assertEqual(len(got), n)
        self.assertEqual(len({m.topic for m in got}), n)
        print("\nbridge: %d QoS 1 messages edge -> cloud in %.2f s (%.0f msg/s)"
              % (n, elapsed, n / elapsed))


class TestStoreAndForward(BridgeTestCase):

    def setUp(self):
        super().setUp()
        self.start_cloud()
        self.start_edge()
        self.wait_linked()

    def cloud_subscriber(self, client_id):
        """A persistent session on the cloud, so what arrives while it is
        reconnecting waits for it there."""
        c = self.client(self.cloud, client_id, clean=False, session_expiry=3600)
        c.subscribe(self.topic("sf/#"), 1)
        return c

    def test_cloud_killed_and_restarted_nothing_lost(self):
        sub_id = "cloud-sub-" + self.tag
        self.cloud_subscriber(sub_id).disconnect()
        self.cloud.kill()  # kill -9
        self.assertTrue(log_shows(self.edge.log_path, "next attempt in", timeout=10))
        # The edge keeps serving its own clients meanwhile.
        local_sub = self.client(self.edge)
        local_sub.subscribe(self.topic("sf/#"), 1)
        edge_pub = self.client(self.edge)
        n = 50
        for i in range(n):
            edge_pub.publish(self.topic("sf/%d" % i), b"%d" % i, qos=1, timeout=5)
        self.assertEqual(len(local_sub.collect(n, timeout=10)), n)
        self.start_cloud()
        self.wait_linked(count=2, timeout=15)
        sub = self.client(self.cloud, sub_id, clean=False, session_expiry=3600)
        got = sub.collect(n, timeout=15)
        extra = sub.quiet(1.0)
        payloads = sorted(int(m.payload) for m in got + extra)
        self.assertEqual(sorted(set(payloads)), list(range(n)), "messages lost")
        # Nothing was in flight towards the cloud when it died: no duplicates.
        self.assertEqual(len(payloads), n, "duplicates")

    def test_edge_restart_while_upstream_down_keeps_queued(self):
        sub_id = "cloud-sub-" + self.tag
        self.cloud_subscriber(sub_id).disconnect()
        self.cloud.kill()
        edge_pub = self.client(self.edge)
        n = 20
        for i in range(n):
            edge_pub.publish(self.topic("sf/%d" % i), b"%d" % i, qos=1, timeout=5)
        edge_pub.close()
        self.edge.kill()  # kill -9: only what the store holds survives
        self.start_edge()
        self.start_cloud()
        self.wait_linked(count=2, timeout=15)
        sub = self.client(self.cloud, sub_id, clean=False, session_expiry=3600)
        got = sub.collect(n, timeout=15)
        payloads = sorted(set(int(m.payload) for m in got + sub.quiet(1.0)))
        self.assertEqual(payloads, list(range(n)), "messages lost across the edge restart")

    def test_cloud_queues_for_an_edge_that_is_away(self):
        # The upstream session is persistent (clean start 0, session expiry):
        # what the cloud gets for the edge while the edge is down reaches it.
        edge_sub_id = "edge-sub-" + self.tag
        s = self.client(self.edge, edge_sub_id, clean=False, session_expiry=3600)
        s.subscribe(self.topic("down/#"), 1)
        s.disconnect()
        self.assertEqual(self.edge.stop(), 0, "the edge did not stop cleanly")
        cloud_pub = self.client(self.cloud)
        n = 10
        for i in range(n):
            cloud_pub.publish(self.topic("down/%d" % i), b"%d" % i, qos=1)
        self.start_edge()
        self.wait_linked(count=2, timeout=15)
        sub = self.client(self.edge, edge_sub_id, clean=False, session_expiry=3600)
        got = sub.collect(n, timeout=15)
        payloads = sorted(set(int(m.payload) for m in got))
        self.assertEqual(payloads, list(range(n)))


class TestUpstreamFlags(BridgeTestCase):

    def test_default_rules_from_upstream_flag(self):
        self.start_cloud()
        self.start_edge("--upstream", "mqtt://127.0.0.1:%d" % self.cloud_port)
        self.wait_linked()
        cloud_sub = self.client(self.cloud)
        cloud_sub.subscribe("#", 1)
        edge_pub = self.client(self.edge)
        edge_pub.publish(self.topic("clip"), b"users", qos=1)
        edge_pub.publish("devices/d1/messages/events/", b"d2c", qos=1)
        edge_pub.publish("other/topic", b"stays", qos=1)
        got = {m.topic: m.payload for m in cloud_sub.collect(2, timeout=5)}
        got.update({m.topic: m.payload for m in cloud_sub.quiet(1.0)})
        self.assertEqual(got, {self.topic("clip"): b"users",
                               "devices/d1/messages/events/": b"d2c"})

    def test_wrong_credentials_logged_and_retried(self):
        self.start_cloud()
        self.start_edge("--upstream", "mqtt://127.0.0.1:%d" % self.cloud_port,
                        "--upstream-username", "nosuch", "--upstream-password", "wrong")
        ok = wait_until(lambda: self._count(self.edge, "bad user name or password") >= 2, 15)
        self.assertTrue(ok, "no repeated clear log line:\n" + self.edge.log_tail())
        self.assertIn("check the bridge's username and password", self.edge.log_tail())
        self.assertTrue(self.edge.alive())
        # Local clients are served all along.
        c = self.client(self.edge)
        c.subscribe("home/x", 1)
        c.publish("home/x", b"1", qos=1)
        self.assertEqual(c.expect(timeout=5).payload, b"1")

    def test_device_connection_string_signs_in_with_sas(self):
        # The edge signs in to the cloud as a registered device of user ana,
        # with SAS tokens signed from its key; the cloud applies that
        # device's access rules (users/ana/... yes, users/# no).
        os.makedirs(self.cloud_dir)
        cli(self.cloud_dir, "user", "add", "ana")
        added = cli(self.cloud_dir, "device", "add", "edge1", "--owner", "ana").stdout
        conn = "HostName=" + added.split("HostName=")[1].split()[0]
        self.start_cloud()
        self.start_edge("--upstream", "mqtt://127.0.0.1:%d" % self.cloud_port,
                        "--upstream-connection-string", conn)
        self.wait_linked()
        self.assertTrue(log_shows(self.edge.log_path,
                                  "the upstream refused the subscription users/#", timeout=5))
        cloud_sub = self.client(self.cloud)
        cloud_sub.subscribe("users/ana/clipboard", 1)
        cloud_sub.subscribe("devices/edge1/messages/events/#", 1)
        edge = self.client(self.edge)
        edge.publish("users/ana/clipboard", b"hello", qos=1)
        edge.publish("devices/edge1/messages/events/", b"d2c", qos=1)
        got = {m.topic: m.payload for m in cloud_sub.collect(2, timeout=5)}
        self.assertEqual(got, {"users/ana/clipboard": b"hello",
                               "devices/edge1/messages/events/": b"d2c"})

    def test_bad_upstream_address_refused_at_start(self):
        hub = Hub("--http", "off", "--upstream", "tcp://127.0.0.1:1")
        self.addCleanup(hub.cleanup)
        with self.assertRaises(RuntimeError) as e:
            hub.start()
        self.assertIn("mqtt://HOST[:PORT]", str(e.exception))


# MQTT 3.1.1 upstream: no No Local, so in and out use separate remote prefixes.
EDGE_V311_CONFIG = """
[[bridge]]
name = "old"
address = "mqtt://127.0.0.1:{port}"
mqtt_version = "3.1.1"
reconnect_min_ms = 100
reconnect_max_ms = 1000

[[bridge.rule]]
pattern = "#"
direction = "out"
local_prefix = "home/"
remote_prefix = "up/house1/"

[[bridge.rule]]
pattern = "#"
direction = "in"
local_prefix = "home/"
remote_prefix = "down/house1/"
"""


class TestMqtt311Upstream(BridgeTestCase):

    def test_separate_prefixes_work_both_ways(self):
        with open(self.config, "w") as f:
            f.write(EDGE_V311_CONFIG.format(port=self.cloud_port))
        self.start_cloud()
        self.start_edge()
        self.wait_linked()
        cloud = self.client(self.cloud)
        cloud.subscribe("up/#", 1)
        edge = self.client(self.edge)
        edge.subscribe("home/#", 1)
        edge.publish("home/door", b"open", qos=1)
        self.assertEqual(cloud.expect(timeout=5, topic="up/house1/door").payload, b"open")
        cloud.publish("down/house1/lamp", b"on", qos=1)
        got = {m.topic: m.payload for m in edge.collect(2, timeout=5)}
        self.assertEqual(got.get("home/lamp"), b"on", got)
        self.assertEqual(edge.quiet(1.0), [])  # nothing came back around

    def test_overlapping_rules_refused_at_start(self):
        with open(self.config, "w") as f:
            f.write(EDGE_CONFIG.format(port=self.cloud_port).replace(
                'keep_alive = 5', 'keep_alive = 5\nmqtt_version = "3.1.1"'))
        hub = Hub("--http", "off", "-c", self.config)
        self.addCleanup(hub.cleanup)
        with self.assertRaises(RuntimeError) as e:
            hub.start()
        self.assertIn("No Local", str(e.exception))


CLOUD_TLS_CONFIG = """
[[listener]]
bind = "127.0.0.1:@TCP@"

[[listener]]
name = "tls"
bind = "127.0.0.1:{tls_port}"
transport = "tls"
cert_file = "{cert}"
key_file = "{key}"
"""


class TestTlsUpstream(BridgeTestCase):

    @classmethod
    def setUpClass(cls):
        cls.certs = Certs()

    @classmethod
    def tearDownClass(cls):
        cls.certs.cleanup()

    def setUp(self):
        super().setUp()
        self.tls_port = free_port()
        cloud = ConfigHub(CLOUD_TLS_CONFIG.format(tls_port=self.tls_port,
                                                  cert=self.certs.path("server.crt"),
                                                  key=self.certs.path("server.key")))
        cloud.name = "cloud"
        self.hubs.append(cloud)
        self.addCleanup(cloud.cleanup)
        self.cloud = cloud.start()

    def test_mqtts_with_ca_file(self):
        self.start_edge("--upstream", "mqtts://127.0.0.1:%d" % self.tls_port,
                        "--upstream-ca", self.certs.path("ca.crt"))
        self.wait_linked()
        cloud_sub = self.client(self.cloud)
        cloud_sub.subscribe(self.topic("#"), 1)
        edge = self.client(self.edge)
        edge.publish(self.topic("tls"), b"secret", qos=1)
        self.assertEqual(cloud_sub.expect(timeout=5).payload, b"secret")

    def test_untrusted_certificate_is_refused_and_retried(self):
        # Without --upstream-ca only the system CAs are trusted, and the
        # development CA is not one of them.
        self.start_edge("--upstream", "mqtts://127.0.0.1:%d" % self.tls_port)
        ok = wait_until(lambda: self._count(self.edge, "TLS handshake failed") >= 2, 15)
        self.assertTrue(ok, self.edge.log_tail())
        self.assertEqual(self._count(self.edge, " up as client "), 0)
        self.assertTrue(self.edge.alive())

    def test_host_name_is_verified(self):
        # The certificate names 127.0.0.1 and localhost. Served on
        # 127.0.0.2 it no longer matches the address: refused, unless
        # verify_host_name = false.
        port = free_port()
        other = ConfigHub(CLOUD_TLS_CONFIG.replace('bind = "127.0.0.1:{tls_port}"',
                                                   'bind = "127.0.0.2:{tls_port}"').format(
            tls_port=port, cert=self.certs.path("server.crt"), key=self.certs.path("server.key")))
        self.addCleanup(other.cleanup)
        other.start()
        self.start_edge("--upstream", "mqtts://127.0.0.2:%d" % port,
                        "--upstream-ca", self.certs.path("ca.crt"))
        ok = wait_until(lambda: self._count(self.edge, "TLS handshake failed") >= 1, 15)
        self.assertTrue(ok, self.edge.log_tail())
        self.assertEqual(self._count(self.edge, " up as client "), 0)
        self.edge.stop()
        with open(self.config, "w") as f:
            f.write('[[bridge]]\naddress = "mqtts://127.0.0.2:%d"\nca_file = "%s"\n'
                    'verify_host_name = false\n' % (port, self.certs.path("ca.crt")))
        self.start_edge()
        self.wait_linked()

if __name__ == "__main__":
    unittest.main()
