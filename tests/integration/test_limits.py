#!/usr/bin/python3
"""Configured limits: the flags of `allscene hub` and what CONNACK announces."""

import os
import tempfile
import time
import unittest
import uuid

import harness
import mqttproto as mp

LIMIT_ARGS = ("--max-packet-size", 4096, "--max-topic-length", 64, "--max-topic-levels", 4,
              "--max-subscriptions-per-client", 20, "--max-queued-messages", 5,
              "--max-inflight", 8, "--max-keep-alive", 20, "--max-session-expiry", 2)


class LimitsTest(harness.HubTestCase):
    HUB_ARGS = LIMIT_ARGS

    def test_connack_reflects_limits(self):
        c = self.raw()
        ack = c.connect("lim-" + uuid.uuid4().hex[:6], keepalive=60,
                        props=[(mp.SESSION_EXPIRY, 100)])
        self.assertEqual(ack.reason, 0)
        self.assertEqual(ack.prop(mp.RECEIVE_MAXIMUM), 8, ack)
        self.assertEqual(ack.prop(mp.MAXIMUM_PACKET_SIZE), 4096, ack)
        self.assertEqual(ack.prop(mp.SERVER_KEEP_ALIVE), 20, ack)
        # §3.2.2.3.2: the server may override the Session Expiry Interval
        # by sending it in CONNACK.
        self.assertEqual(ack.prop(mp.SESSION_EXPIRY), 2, ack)

    def test_session_expiry_capped(self):
        client_id = "capexp-" + uuid.uuid4().hex[:6]
        c = self.raw_connected(client_id, props=[(mp.SESSION_EXPIRY, 3600)])
        c.subscribe([(self.topic(), 1)])
        c.send(mp.disconnect())
        time.sleep(3.2)
        c2 = self.raw()
        ack = c2.connect(client_id, clean=False, props=[(mp.SESSION_EXPIRY, 3600)])
        self.assertFalse(ack.session_present, "session outlived --max-session-expiry 2")

    def test_outbound_inflight_capped(self):
        # --max-inflight caps the server's outbound window even when the
        # client allows more.  12 = 8 in flight + 4 queued behind them,
        # under --max-queued-messages 5.
        c = self.raw_connected(props=[(mp.RECEIVE_MAXIMUM, 100)])
        c.subscribe([(self.topic(), 1)])
        pub = self.paho()
        infos = [pub.publish(self.topic(), b"%d" % i, 1, wait=False) for i in range(12)]
        pub.wait_published(infos)
        held = c.drain_publishes(0.8, ack=False)
        self.assertEqual(len(held), 8, held)
        for p in held:
            c.send(mp.puback(p.pid))
        rest = c.drain_publishes(1.0)
        self.assertEqual([p.payload for p in held + rest], [b"%d" % i for i in range(12)])

    def test_offline_queue_capped(self):
        client_id = "capq-" + uuid.uuid4().hex[:6]
        c = self.raw_connected(client_id, props=[(mp.SESSION_EXPIRY, 2)])
        c.subscribe([(self.topic(), 1)])
        c.send(mp.disconnect())
        pub = self.paho()
        infos = [pub.publish(self.topic(), b"%d" % i, 1, wait=False) for i in range(20)]
        pub.wait_published(infos)
        c2 = self.raw()
        self.assertTrue(c2.connect(client_id, clean=False, props=[(mp.SESSION_EXPIRY, 2)])
                        .session_present)
        got = c2.drain_publishes(0.8)
        self.assertGreaterEqual(len(got), 1)
        self.assertLessEqual(len(got), 5, got)
        self.assertTrue(c2.is_open())

    def test_topic_too_long(self):
        # Not delivered, and the publisher is told (PUBACK >= 0x80 or
        # DISCONNECT); the hub keeps serving.
        watcher = self.paho()
        watcher.subscribe("#", 0)
        long_topic = "t/" + "x" * 80
        c = self.raw_connected()
        c.send(mp.publish(long_topic, b"x", qos=1, pid=1))
        pkts, closed = c.packets_until_closed(1.0)
        if closed:
            for p in pkts:
                self.assertEqual(p.type, mp.DISCONNECT, pkts)
                self.assertGreaterEqual(p.reason, 0x80, pkts)
        else:
            self.assertEqual(len(pkts), 1, pkts)
            self.assertEqual(pkts[0].type, mp.PUBACK)
            self.assertIn(pkts[0].reason, (mp.RC_TOPIC_NAME_INVALID, mp.RC_IMPL_SPECIFIC,
                                           mp.RC_PACKET_TOO_LARGE, mp.RC_QUOTA_EXCEEDED), pkts)
        self.assertEqual([m for m in watcher.quiet(0.3) if m.topic == long_topic], [])

    def test_filter_too_long_or_deep(self):
        # SUBACK 0x8F Topic Filter invalid (or another failure code) for a
        # filter over --max-topic-length or --max-topic-levels; one code per
        # filter, in order [MQTT-3.8.4-7] [MQTT-3.9.3-1].
        c = self.raw_connected()
        ack = c.subscribe([("f/" + "y" * 80, 1), ("a/b/c/d/e/f", 1), ("a/b/c/d", 1), ("a/+/#", 1)])
        self.assertGreaterEqual(ack.reasons[0], 0x80, ack)
        self.assertGreaterEqual(ack.reasons[1], 0x80, ack)
        self.assertEqual(ack.reasons[2:], [1, 1], ack)
        self.assertTrue(c.is_open())

    def test_topic_too_deep(self):
        watcher = self.paho()
        watcher.subscribe("#", 0)
        deep = "a/b/c/d/e/f/g"
        c = self.raw_connected()
        c.send(mp.publish(deep, b"x", qos=1, pid=1))
        pkts, closed = c.packets_until_closed(1.0)
        if not closed:
            self.assertEqual(len(pkts), 1, pkts)
            self.assertGreaterEqual(pkts[0].reason, 0x80, pkts)
        self.assertEqual([m for m in watcher.quiet(0.3) if m.topic == deep], [])

    def test_subscriptions_per_client(self):
        c = self.raw_connected()
        ack = c.subscribe([("s/%d" % i, 0) for i in range(25)])
        self.assertEqual(ack.reasons[:20], [0] * 20)
        self.assertEqual(ack.reasons[20:], [mp.RC_QUOTA_EXCEEDED] * 5)
        # Replacing an existing subscription is not a new one.
        self.assertEqual(c.subscribe([("s/0", 1)]).reasons, [1])
        # Unsubscribing frees a slot.
        c.send(mp.unsubscribe(c.pid(), ["s/1"]))
        c.expect(mp.UNSUBACK)
        self.assertEqual(c.subscribe([("s/new", 0)]).reasons, [0])

    def test_subscriptions_per_client_v311(self):
        # 3.1.1 §3.9.3: the only failure return code is 0x80
        # [v3.1.1 MQTT-3.9.3-2].
        c = self.raw_connected(version=mp.V311)
        ack = c.subscribe([("s311/%d" % i, 1) for i in range(22)])
        self.assertEqual(ack.raw[4:], b"\x01" * 20 + b"\x80" * 2)

    # [MQTT-3.2.2-15] a packet over the announced Maximum Packet Size is refused.
    def test_oversize_v5_disconnect_0x95(self):
        c = self.raw_connected()
        c.send(mp.publish("t/big", b"x" * 5000))
        self.assertClosedAfter(c, reasons=[mp.RC_PACKET_TOO_LARGE])


class ConfigFileTest(unittest.TestCase):
    """--config FILE (TOML), as docs/configuration.md describes it: defaults,
    then the file, then flags (flags win); errors exit with status 2."""

    def write_config(self, text):
        fd, path = tempfile.mkstemp(suffix=".toml")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        self.addCleanup(os.unlink, path)
        return path

    def test_limits_from_file_and_flag_precedence(self):
        path = self.write_config("[limits]\nmax_inflight = 7\nmax_packet_size = 3000\n")
        hub = harness.Hub("--config", path, "--max-packet-size", 5000)
        self.addCleanup(hub.cleanup)
        hub.start()
        c = mp.RawClient(hub.port)
        self.addCleanup(c.close)
        ack = c.connect("cfg-limits")
        self.assertEqual(ack.prop(mp.RECEIVE_MAXIMUM), 7, ack)
        self.assertEqual(ack.prop(mp.MAXIMUM_PACKET_SIZE), 5000, ack)

    def test_invalid_toml_exits_2(self):
        import subprocess
        path = self.write_config("[limits\nmax_inflight = = 7\n")
        with tempfile.TemporaryDirectory() as d:
            proc = harness.track(subprocess.Popen(
                [harness.hub_binary(), "hub", "--listen", "127.0.0.1:%d" % harness.free_port(),
                 "--data-dir", d, "--config", path],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
            try:
                _, err = proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
                self.fail("hub started with an invalid config file")
            self.assertEqual(proc.returncode, 2, err)
            self.assertIn(os.path.basename(path), err.decode(errors="replace"))

    def test_data_dir_locked(self):
        import subprocess
        hub = harness.Hub()
        self.addCleanup(hub.cleanup)
        hub.start()
        proc = harness.track(subprocess.Popen(
            [harness.hub_binary(), "hub", "--listen", "127.0.0.1:%d" % harness.free_port(),
             "--data-dir", hub.data_dir],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        try:
            _, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            self.fail("second hub started on a data dir in use")
        self.assertNotEqual(proc.returncode, 0)
        self.assertTrue(hub.alive())

    def test_empty_config_file_accepted(self):
        fd, path = tempfile.mkstemp(suffix=".toml")
        os.close(fd)
        self.addCleanup(os.unlink, path)
        hub = harness.Hub("--config", path)
        self.addCleanup(hub.cleanup)
        hub.start()
        c = mp.RawClient(hub.port)
        self.addCleanup(c.close)
        self.assertEqual(c.connect("cfg").reason, 0)

    def test_missing_config_file_rejected(self):
        import subprocess
        port = harness.free_port()
        with tempfile.TemporaryDirectory() as d:
            proc = harness.track(subprocess.Popen(
                [harness.hub_binary(), "hub", "--listen", "127.0.0.1:%d" % port,
                 "--data-dir", d, "--config", os.path.join(d, "nope.toml")],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
            try:
                _, err = proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
                self.fail("hub started with a missing --config file")
            self.assertNotEqual(proc.returncode, 0)
            self.assertTrue(err.strip(), "no error message on stderr")


if __name__ == "__main__":
    unittest.main(verbosity=2)
