#!/usr/bin/python3
"""Persistent sessions: clean start, session expiry, offline queueing,
redelivery of in-flight messages, durability across a crash."""

import time
import unittest
import uuid

import harness
import mqttproto as mp
from harness import make_props
from paho.mqtt.packettypes import PacketTypes


def cid(tag):
    return "%s-%s" % (tag, uuid.uuid4().hex[:8])


class SessionTest(harness.HubTestCase):

    def _publish_n(self, topic, n, qos=1, prefix=b"m"):
        pub = self.paho()
        infos = [pub.publish(topic, prefix + b"%d" % i, qos, wait=False) for i in range(n)]
        pub.wait_published(infos)
        pub.disconnect()

    # [MQTT-3.2.2-2] [MQTT-3.1.2-23] [MQTT-4.5.0-1]
    def test_v5_offline_queue_delivered_on_resume(self):
        client_id = cid("sess5")
        sub = self.paho(client_id)
        sub.connect(clean=True, session_expiry=60)
        self.assertFalse(sub.session_present)
        sub.subscribe(self.topic(), 1)
        sub.disconnect()
        self._publish_n(self.topic(), 5)
        sub.connect(clean=False, session_expiry=60)
        # [MQTT-3.2.2-3] session present = 1 when resuming a session;
        # [MQTT-3.1.2-5] the session's state is resumed.
        self.assertTrue(sub.session_present)
        msgs = sub.collect(5)
        self.assertEqual([m.payload for m in msgs], [b"m%d" % i for i in range(5)])
        self.assertTrue(all(m.qos == 1 for m in msgs))
        # The subscription itself survived: live messages still arrive.
        self._publish_n(self.topic(), 1, prefix=b"live")
        self.assertEqual(sub.expect().payload, b"live0")

    # [v3.1.1 MQTT-3.1.2-4] [v3.1.1 MQTT-3.1.2-5] [v3.1.1 MQTT-4.5.0-1]
    def test_v311_offline_queue_delivered_on_resume(self):
        client_id = cid("sess311")
        sub = self.paho(client_id, version=mp.V311)
        sub.connect(clean=False)
        sub.subscribe(self.topic(), 1)
        sub.disconnect()
        self._publish_n(self.topic(), 5)
        sub.connect(clean=False)
        self.assertTrue(sub.session_present)  # [v3.1.1 MQTT-3.2.2-2]
        msgs = sub.collect(5)
        self.assertEqual([m.payload for m in msgs], [b"m%d" % i for i in range(5)])

    # [v3.1.1 MQTT-3.1.2-5] QoS 1/2 messages are stored for the offline session.
    def test_qos0_not_queued_offline_qos2_is(self):
        client_id = cid("sessq")
        sub = self.paho(client_id, version=mp.V311)
        sub.connect(clean=False)
        sub.subscribe(self.topic(), 2)
        sub.disconnect()
        pub = self.paho()
        pub.publish(self.topic(), b"q2", 2)
        sub.connect(clean=False)
        msgs = sub.collect(1)
        self.assertEqual([(m.payload, m.qos) for m in msgs], [(b"q2", 2)])

    # [MQTT-3.2.2-2] Session Present 0 with Clean Start 1.
    def test_v5_clean_start_discards_session(self):
        client_id = cid("clean")
        sub = self.paho(client_id)
        sub.connect(clean=True, session_expiry=60)
        sub.subscribe(self.topic(), 1)
        sub.disconnect()
        self._publish_n(self.topic(), 2)
        sub.connect(clean=True, session_expiry=60)
        # [MQTT-3.1.2-4] Clean Start 1 discards the existing session.
        self.assertFalse(sub.session_present)
        self.assertEqual(sub.quiet(0.7), [])
        self._publish_n(self.topic(), 1)
        self.assertEqual(sub.quiet(0.5), [], "old subscription survived clean start")

    def test_v311_clean_session_discards(self):
        client_id = cid("clean311")
        sub = self.paho(client_id, version=mp.V311)
        sub.connect(clean=False)
        sub.subscribe(self.topic(), 1)
        sub.disconnect()
        sub.connect(clean=True)
        self.assertFalse(sub.session_present)  # [v3.1.1 MQTT-3.2.2-1]
        sub.disconnect()
        self._publish_n(self.topic(), 1)
        sub.connect(clean=False)
        # [v3.1.1 MQTT-3.1.2-6] a clean session ends with the connection;
        # [v3.1.1 MQTT-3.2.2-3] no stored state: Session Present 0.
        self.assertFalse(sub.session_present)
        self.assertEqual(sub.quiet(0.5), [])

    def test_v5_session_expiry_zero_ends_at_disconnect(self):
        client_id = cid("exp0")
        sub = self.paho(client_id)
        sub.connect(clean=True)  # no Session Expiry Interval = 0
        sub.subscribe(self.topic(), 1)
        sub.disconnect()
        self._publish_n(self.topic(), 1)
        sub.connect(clean=False, session_expiry=60)
        # §3.1.2.11.2; [MQTT-3.1.2-6] [MQTT-3.2.2-3] no session: a new one.
        self.assertFalse(sub.session_present)
        self.assertEqual(sub.quiet(0.5), [])

    def test_v5_session_expires(self):
        client_id = cid("exp1")
        sub = self.paho(client_id)
        sub.connect(clean=True, session_expiry=1)
        sub.subscribe(self.topic(), 1)
        sub.disconnect()
        self._publish_n(self.topic(), 1)
        time.sleep(2.5)
        sub.connect(clean=False, session_expiry=60)
        # [MQTT-4.1.0-2] the session is discarded when the interval passes.
        self.assertFalse(sub.session_present)
        self.assertEqual(sub.quiet(0.5), [])

    # [MQTT-3.1.2-23] [MQTT-3.1.2-5] [MQTT-3.2.2-3]
    def test_v5_session_kept_within_expiry(self):
        client_id = cid("exp3")
        sub = self.paho(client_id)
        sub.connect(clean=True, session_expiry=3)
        sub.subscribe(self.topic(), 1)
        sub.kill()  # abnormal disconnect also keeps the session
        self._publish_n(self.topic(), 1)
        time.sleep(1.0)
        sub.connect(clean=False, session_expiry=3)
        self.assertTrue(sub.session_present)
        self.assertEqual(sub.expect().payload, b"m0")

    def test_v5_disconnect_sets_session_expiry_zero(self):
        # §3.14.2.2.2: the Session Expiry Interval in DISCONNECT replaces the
        # one from CONNECT; 0 ends the session now.
        client_id = cid("dexp")
        sub = self.paho(client_id)
        sub.connect(clean=True, session_expiry=60)
        sub.subscribe(self.topic(), 1)
        sub.disconnect(properties=make_props(PacketTypes.DISCONNECT, SessionExpiryInterval=0))
        self._publish_n(self.topic(), 1)
        sub.connect(clean=False, session_expiry=60)
        self.assertFalse(sub.session_present)
        self.assertEqual(sub.quiet(0.5), [])

    def test_v5_disconnect_nonzero_expiry_after_zero_is_protocol_error(self):
        # §3.14.2.2.2: "If the Session Expiry Interval in the
        # CONNECT packet was zero, then it is a Protocol Error to set a
        # non-zero Session Expiry Interval in the DISCONNECT packet".
        # The server answers DISCONNECT 0x82 or closes [MQTT-4.13.1-1]; the
        # session is not kept.
        client_id = cid("dexp2")
        c = self.raw_connected(client_id)
        c.subscribe([(self.topic(), 1)])
        c.send(mp.disconnect(0, props=[(mp.SESSION_EXPIRY, 60)]))
        pkts = self.assertClosedAfter(c)
        for p in pkts:
            self.assertEqual((p.type, p.reason), (mp.DISCONNECT, mp.RC_PROTOCOL_ERROR), p)
        c2 = self.raw()
        ack = c2.connect(client_id, clean=False, props=[(mp.SESSION_EXPIRY, 60)])
        self.assertFalse(ack.session_present)

    def test_unacked_qos1_redelivered_with_dup_and_same_id(self):
        # [MQTT-4.4.0-1] on resume the server MUST resend unacknowledged
        # PUBLISH packets using their original Packet Identifiers;
        # [MQTT-3.3.1-1] with DUP set.
        client_id = cid("redeliver")
        c = self.raw_connected(client_id, clean=True, props=[(mp.SESSION_EXPIRY, 60)])
        c.subscribe([(self.topic(), 1)])
        self._publish_n(self.topic(), 1)
        first = c.next_publish(ack=False)
        self.assertIsNotNone(first)
        self.assertFalse(first.dup)  # [MQTT-4.3.2-2] first sent with DUP 0
        c.abort()
        c2 = self.raw()
        ack = c2.connect(client_id, clean=False, props=[(mp.SESSION_EXPIRY, 60)])
        self.assertTrue(ack.session_present)
        again = c2.next_publish(ack=False)
        self.assertIsNotNone(again, "unacknowledged QoS 1 message not resent")
        self.assertEqual((again.pid, again.payload, again.qos), (first.pid, first.payload, 1))
        self.assertTrue(again.dup)
        c2.send(mp.puback(again.pid))
        self.assertEqual(c2.drain_publishes(0.7), [], "acknowledged message sent again")
        c2.send(mp.disconnect())
        c3 = self.raw()
        c3.connect(client_id, clean=False, props=[(mp.SESSION_EXPIRY, 60)])
        self.assertEqual(c3.drain_publishes(0.7), [])

    def test_qos2_pubrel_resent_after_reconnect(self):
        # [MQTT-4.4.0-1]: after PUBREC, the server resends PUBREL on resume,
        # and the message is not delivered again [MQTT-4.3.3-6].
        client_id = cid("pubrel")
        c = self.raw_connected(client_id, clean=True, props=[(mp.SESSION_EXPIRY, 60)])
        c.subscribe([(self.topic(), 2)])
        self._publish_n(self.topic(), 1, qos=2)
        p = c.next_publish(ack=False)
        self.assertEqual(p.qos, 2)
        c.send(mp.pubrec(p.pid))
        rel = c.expect(mp.PUBREL)
        self.assertEqual(rel.pid, p.pid)
        c.abort()
        c2 = self.raw()
        self.assertTrue(c2.connect(client_id, clean=False, props=[(mp.SESSION_EXPIRY, 60)]).session_present)
        rel2 = c2.recv(5)
        self.assertIsNotNone(rel2)
        self.assertEqual((rel2.type, rel2.pid), (mp.PUBREL, p.pid), rel2)
        c2.send(mp.pubcomp(p.pid))
        self.assertEqual(c2.drain_publishes(0.7), [])

    def test_qos2_inbound_state_survives_reconnect(self):
        # [MQTT-4.3.3-10] §4.3.3 method B: the server keeps the packet id of an
        # incoming QoS 2 message until PUBREL, across a reconnect of a
        # persistent session, so a resent PUBLISH is not delivered twice.
        sub = self.paho()
        sub.subscribe(self.topic(), 2)
        client_id = cid("q2in")
        c = self.raw_connected(client_id, props=[(mp.SESSION_EXPIRY, 60)])
        c.send(mp.publish(self.topic(), b"q2in", qos=2, pid=11))
        c.expect(mp.PUBREC)
        c.abort()
        c2 = self.raw()
        self.assertTrue(c2.connect(client_id, clean=False, props=[(mp.SESSION_EXPIRY, 60)]).session_present)
        c2.send(mp.publish(self.topic(), b"q2in", qos=2, pid=11, dup=True))
        c2.expect(mp.PUBREC)
        c2.send(mp.pubrel(11))
        self.assertEqual(c2.expect(mp.PUBCOMP).reason, 0)
        msgs = sub.collect(2, timeout=1.5)
        self.assertEqual([m.payload for m in msgs], [b"q2in"])

    # [v3.1.1 MQTT-4.6.0-6] queued then live messages in publish order.
    def test_queue_order_mixed_with_live(self):
        client_id = cid("order")
        sub = self.paho(client_id, version=mp.V311)
        sub.connect(clean=False)
        sub.subscribe(self.topic(), 1)
        sub.disconnect()
        self._publish_n(self.topic(), 50)
        sub.connect(clean=False)
        pub = self.paho()
        pub.publish(self.topic(), b"m50", 1)
        msgs = sub.collect(51, timeout=10)
        self.assertEqual([m.payload for m in msgs], [b"m%d" % i for i in range(51)])


# Restarts on the same data directory: the session store (src/store).
class DurabilityTest(unittest.TestCase):
    def test_graceful_restart_keeps_sessions_and_retained(self):
        hub = harness.Hub()
        self.addCleanup(hub.cleanup)
        hub.start()
        sub = mp.RawClient(hub.port)
        self.addCleanup(sub.close)
        sub.connect("restart-sub", clean=True, props=[(mp.SESSION_EXPIRY, 3600)])
        sub.subscribe([("restart/t", 1)])
        sub.send(mp.disconnect())
        pub = mp.RawClient(hub.port)
        self.addCleanup(pub.close)
        pub.connect("restart-pub")
        for i in range(5):
            self.assertEqual(pub.publish("restart/t", b"g%d" % i, qos=1).reason, 0)
        pub.publish("restart/r", b"kept", qos=1, retain=True)
        self.assertEqual(hub.stop(), 0)
        hub2 = harness.Hub(data_dir=hub.data_dir, port=hub.port)
        self.addCleanup(hub2.cleanup)
        hub2.start()
        sub2 = mp.RawClient(hub.port)
        self.addCleanup(sub2.close)
        ack = sub2.connect("restart-sub", clean=False, props=[(mp.SESSION_EXPIRY, 3600)])
        self.assertTrue(ack.session_present, "persistent session lost by a clean restart")
        self.assertEqual([p.payload for p in sub2.drain_publishes(1.0)],
                         [b"g%d" % i for i in range(5)])
        r = mp.RawClient(hub.port)
        self.addCleanup(r.close)
        r.connect("restart-r")
        r.subscribe([("restart/r", 1)])
        p = r.next_publish(2)
        self.assertIsNotNone(p, "retained message lost by a clean restart")

    """Design rule: a QoS 1/2 message is acknowledged only once durable for
    every persistent session it is routed to; kill -9 loses nothing
    acknowledged.  Retained messages too."""

    def test_kill9_keeps_acknowledged_messages_and_retained(self):
        hub = harness.Hub()
        self.addCleanup(hub.cleanup)
        hub.start()
        data_dir, port = hub.data_dir, hub.port
        sub = mp.RawClient(port)
        self.addCleanup(sub.close)
        sub.connect("durable-sub", clean=True, props=[(mp.SESSION_EXPIRY, 3600)])
        sub.subscribe([("durable/t", 1)])
        sub.send(mp.disconnect())
        pub = mp.RawClient(port)
        self.addCleanup(pub.close)
        pub.connect("durable-pub")
        for i in range(20):
            self.assertEqual(pub.publish("durable/t", b"d%d" % i, qos=1).reason, 0)
        self.assertIn(pub.publish("durable/r", b"kept", qos=1, retain=True).reason, (0, 0x10))
        hub.kill()
        hub2 = harness.Hub(data_dir=data_dir, port=port)
        self.addCleanup(hub2.cleanup)
        hub2.start()
        try:
            sub2 = mp.RawClient(port)
            self.addCleanup(sub2.close)
            ack = sub2.connect("durable-sub", clean=False, props=[(mp.SESSION_EXPIRY, 3600)])
            self.assertTrue(ack.session_present, "persistent session lost by kill -9")
            got = [p.payload for p in sub2.drain_publishes(1.5)]
            self.assertEqual(got, [b"d%d" % i for i in range(20)])
            r = mp.RawClient(port)
            self.addCleanup(r.close)
            r.connect("durable-r")
            r.subscribe([("durable/r", 1)])
            p = r.next_publish(2)
            self.assertIsNotNone(p, "retained message lost by kill -9")
            self.assertEqual((p.payload, p.retain), (b"kept", True))
        except AssertionError:
            print("\n---- hub log (after restart) ----\n" + hub2.log_tail())
            raise


if __name__ == "__main__":
    unittest.main(verbosity=2)
