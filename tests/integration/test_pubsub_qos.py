#!/usr/bin/python3
"""Publish/subscribe and the QoS 0/1/2 flows, both protocol versions."""

import time
import unittest

import harness
import mqttproto as mp


class PubSubTest(harness.HubTestCase):

    def _qos_matrix(self, version):
        sub = self.paho(version=version)
        pub = self.paho(version=version)
        for sq in (0, 1, 2):
            self.assertEqual(sub.subscribe(self.topic("s%d/#" % sq), sq), [sq])
        for sq in (0, 1, 2):
            for pq in (0, 1, 2):
                pub.publish(self.topic("s%d/p%d" % (sq, pq)), b"m%d%d" % (sq, pq), pq)
        got = {m.topic: m for m in sub.collect(9, timeout=10)}
        self.assertEqual(len(got), 9, got)
        for sq in (0, 1, 2):
            for pq in (0, 1, 2):
                m = got[self.topic("s%d/p%d" % (sq, pq))]
                # §3.8.4: delivered QoS = min(published, granted).
                self.assertEqual(m.qos, min(sq, pq), m)
                self.assertEqual(m.payload, b"m%d%d" % (sq, pq))
                self.assertFalse(m.retain)

    # [MQTT-3.8.4-8] delivered QoS = min(published, granted).
    def test_qos_matrix_v5(self):
        self._qos_matrix(mp.V5)

    # [v3.1.1 MQTT-3.8.4-6] delivered QoS = min(published, granted).
    def test_qos_matrix_v311(self):
        self._qos_matrix(mp.V311)

    def test_cross_version_delivery(self):
        sub311 = self.paho(version=mp.V311)
        sub5 = self.paho(version=mp.V5)
        sub311.subscribe(self.topic("x"), 2)
        sub5.subscribe(self.topic("x"), 2)
        pub = self.paho(version=mp.V5)
        pub.publish(self.topic("x"), b"from5", 2)
        pub311 = self.paho(version=mp.V311)
        pub311.publish(self.topic("x"), b"from311", 1)
        for s in (sub311, sub5):
            msgs = s.collect(2)
            self.assertEqual([m.payload for m in msgs], [b"from5", b"from311"])
            self.assertEqual([m.qos for m in msgs], [2, 1])

    # [MQTT-3.3.4-1] [MQTT-4.3.2-4] [MQTT-2.2.1-5] [v3.1.1 MQTT-3.3.4-1]
    # [v3.1.1 MQTT-4.3.2-2] [v3.1.1 MQTT-2.3.1-6]
    def test_qos1_puback_v5_and_v311(self):
        sub = self.raw_connected()
        sub.subscribe([(self.topic(), 1)])
        for version in (mp.V5, mp.V311):
            c = self.raw_connected(version=version)
            c.send(mp.publish(self.topic(), b"x", qos=1, pid=0x1234, version=version))
            ack = c.expect(mp.PUBACK)
            self.assertEqual(ack.pid, 0x1234)
            self.assertEqual(ack.reason, 0)
            if version == mp.V311:
                self.assertEqual(ack.raw, b"\x40\x02\x12\x34")
        self.assertEqual(len(sub.drain_publishes(0.5)), 2)

    def test_qos1_no_subscribers_v5(self):
        # v5 PUBACK: 0x00 Success or 0x10 No matching subscribers (§3.4.2.1,
        # [MQTT-3.4.2-1]).
        c = self.raw_connected()
        ack = c.publish(self.topic("nobody"), b"x", qos=1)
        self.assertIn(ack.reason, (0x00, 0x10), ack)

    def test_qos2_exactly_once_with_duplicate_publish(self):
        # §4.3.3 / [MQTT-4.3.3-10]: until PUBREL, a resent PUBLISH with the
        # same Packet Identifier MUST NOT cause a duplicate delivery.
        # [MQTT-4.3.3-8] PUBREC and [MQTT-4.3.3-11] PUBCOMP carry the id;
        # [MQTT-4.3.3-12] after PUBCOMP the id starts a new message.
        sub = self.paho()
        sub.subscribe(self.topic(), 2)
        c = self.raw_connected()
        c.send(mp.publish(self.topic(), b"once", qos=2, pid=7))
        rec = c.expect(mp.PUBREC)
        self.assertEqual((rec.pid, rec.reason), (7, 0))
        c.send(mp.publish(self.topic(), b"once", qos=2, pid=7, dup=True))
        rec2 = c.expect(mp.PUBREC)
        self.assertEqual(rec2.pid, 7)
        c.send(mp.pubrel(7))
        comp = c.expect(mp.PUBCOMP)
        self.assertEqual((comp.pid, comp.reason), (7, 0))
        msgs = sub.collect(2, timeout=1.5)
        self.assertEqual([m.payload for m in msgs], [b"once"])
        # After PUBCOMP the packet id is free: reuse is a new message.
        c.send(mp.publish(self.topic(), b"twice", qos=2, pid=7))
        c.expect(mp.PUBREC)
        c.send(mp.pubrel(7))
        c.expect(mp.PUBCOMP)
        self.assertEqual(sub.expect().payload, b"twice")

    def test_pubrel_unknown_packet_id(self):
        # v5 §3.7.2.1 [MQTT-3.7.2-1]: PUBCOMP 0x92 Packet Identifier not found; 3.1.1 just
        # answers PUBCOMP.  Either way the connection stays open.
        c = self.raw_connected()
        c.send(mp.pubrel(999))
        comp = c.expect(mp.PUBCOMP)
        self.assertEqual(comp.pid, 999)
        self.assertIn(comp.reason, (0x00, mp.RC_PACKET_ID_NOT_FOUND))
        self.assertTrue(c.is_open())
        c311 = self.raw_connected(version=mp.V311)
        c311.send(mp.pubrel(999, version=mp.V311))
        self.assertEqual(c311.expect(mp.PUBCOMP).raw, b"\x70\x02\x03\xe7")

    def test_qos2_outbound_flow(self):
        # Server to client: PUBLISH -> PUBREC -> PUBREL(flags 0010) -> PUBCOMP.
        # [MQTT-4.3.3-2] [MQTT-2.2.1-4] [MQTT-4.3.3-4] [v3.1.1 MQTT-4.3.3-1]
        # [v3.1.1 MQTT-2.3.1-4]
        for version in (mp.V5, mp.V311):
            sub = self.raw_connected(version=version)
            sub.subscribe([(self.topic("q2out"), 2)])
            pub = self.paho()
            pub.publish(self.topic("q2out"), b"two", 2)
            p = sub.next_publish(ack=False)
            self.assertIsNotNone(p)
            self.assertEqual((p.qos, p.dup, p.payload), (2, False, b"two"))
            self.assertNotEqual(p.pid, 0)
            sub.send(mp.pubrec(p.pid, version=version))
            rel = sub.expect(mp.PUBREL)
            self.assertEqual(rel.flags, 0x2)  # [MQTT-3.6.1-1]
            self.assertEqual(rel.pid, p.pid)
            sub.send(mp.pubcomp(p.pid, version=version))
            self.assertTrue(sub.is_open())
            sub.send(mp.unsubscribe(sub.pid(), [self.topic("q2out")], version=version))
            sub.expect(mp.UNSUBACK)

    def test_order_preserved_qos1(self):
        # [MQTT-4.6.0-5] [MQTT-4.6.0-6] ordered topic: same order as published.
        sub = self.paho()
        sub.subscribe(self.topic(), 1)
        pub = self.paho()
        infos = [pub.publish(self.topic(), b"%d" % i, 1, wait=False) for i in range(200)]
        pub.wait_published(infos)
        msgs = sub.collect(200, timeout=15)
        self.assertEqual([int(m.payload) for m in msgs], list(range(200)))

    def test_payloads_unchanged(self):
        sub = self.paho()
        sub.subscribe(self.topic(), 1)
        pub = self.paho()
        payloads = [b"", bytes(range(256)), b"\x00" * 10, b"x" * 200000]
        for p in payloads:
            pub.publish(self.topic(), p, 1)
        msgs = sub.collect(len(payloads), timeout=10)
        self.assertEqual([m.payload for m in msgs], payloads)

    # [MQTT-4.7.3-4] [MQTT-3.3.2-3] the topic is matched and forwarded unchanged.
    def test_unicode_topic(self):
        sub = self.paho()
        t = self.topic("日本/ünïcode/😀")
        sub.subscribe(self.topic("+/+/+"), 1)
        self.paho().publish(t, b"u", 1)
        self.assertEqual(sub.expect().topic, t)

    # [MQTT-3.10.4-1] [MQTT-3.10.4-2] [MQTT-3.10.4-4]
    def test_unsubscribe(self):
        sub = self.raw_connected()
        sub.subscribe([(self.topic("u"), 1)])
        pid = sub.pid()
        sub.send(mp.unsubscribe(pid, [self.topic("u"), self.topic("never")]))
        ack = sub.expect(mp.UNSUBACK)
        self.assertEqual(ack.pid, pid)
        # §3.11.3: 0x00 Success, 0x11 No subscription existed, in order
        # [MQTT-3.11.3-1]; one UNSUBACK for two filters [MQTT-3.10.4-6], sent
        # even for a filter that matched nothing [MQTT-3.10.4-5].
        self.assertEqual(ack.reasons, [0x00, mp.RC_NO_SUBSCRIPTION_EXISTED])
        self.paho().publish(self.topic("u"), b"late", 1)
        self.assertEqual(sub.drain_publishes(0.5), [])

    # [v3.1.1 MQTT-3.10.4-2] [v3.1.1 MQTT-3.10.4-4]
    def test_unsubscribe_v311(self):
        sub = self.paho(version=mp.V311)
        sub.subscribe(self.topic(), 1)
        sub.unsubscribe(self.topic())
        self.paho().publish(self.topic(), b"late", 1)
        self.assertEqual(sub.quiet(0.5), [])

    def test_resubscribe_replaces_qos(self):
        # [MQTT-3.8.4-3] an identical filter replaces the subscription.
        sub = self.paho()
        self.assertEqual(sub.subscribe(self.topic(), 2), [2])
        self.assertEqual(sub.subscribe(self.topic(), 0), [0])
        self.paho().publish(self.topic(), b"x", 2)
        msgs = sub.collect(2, timeout=1)
        self.assertEqual(len(msgs), 1, msgs)
        self.assertEqual(msgs[0].qos, 0)

    def test_overlapping_subscriptions(self):
        # [v3.1.1 MQTT-3.3.5-1] if overlapping subscriptions yield one copy it has
        # the maximum QoS; otherwise one copy per subscription.
        sub = self.paho(version=mp.V311)
        sub.subscribe([(self.topic("#"), 0), (self.topic("a/+"), 2)])
        self.paho().publish(self.topic("a/b"), b"x", 2)
        msgs = sub.collect(3, timeout=1)
        self.assertIn(len(msgs), (1, 2), msgs)
        if len(msgs) == 1:
            self.assertEqual(msgs[0].qos, 2)
        else:
            self.assertEqual(sorted(m.qos for m in msgs), [0, 2])

    # [MQTT-3.8.4-5] [MQTT-3.8.4-6] [MQTT-3.9.3-1] [v3.1.1 MQTT-3.8.4-4]
    # [MQTT-3.8.4-1] [MQTT-3.8.4-2] [MQTT-2.2.1-6] [v3.1.1 MQTT-3.8.4-1] [v3.1.1 MQTT-3.8.4-2]
    # [v3.1.1 MQTT-2.3.1-7] (RawClient.subscribe checks the SUBACK's packet id)
    # [v3.1.1 MQTT-3.8.4-5] [v3.1.1 MQTT-3.9.3-1]
    def test_multi_filter_subscribe_reason_codes(self):
        c = self.raw_connected()
        ack = c.subscribe([(self.topic("a"), 0), (self.topic("b"), 1), (self.topic("c"), 2)])
        self.assertEqual(ack.reasons, [0, 1, 2])
        c311 = self.raw_connected(version=mp.V311)
        ack = c311.subscribe([(self.topic("a"), 2), (self.topic("b"), 0)])
        self.assertEqual(ack.raw[4:], b"\x02\x00")

    # [MQTT-4.5.0-1] every matching session gets the message.
    def test_fan_out(self):
        subs = [self.paho() for _ in range(10)]
        for s in subs:
            s.subscribe(self.topic(), 1)
        pub = self.paho()
        for i in range(20):
            pub.publish(self.topic(), b"%d" % i, 1, wait=False)
        for s in subs:
            self.assertEqual([int(m.payload) for m in s.collect(20)], list(range(20)))

    # [MQTT-3.12.4-1]
    def test_ping(self):
        c = self.raw_connected()
        c.send(mp.pingreq())
        self.assertEqual(c.expect(mp.PINGRESP).raw, b"\xd0\x00")


if __name__ == "__main__":
    unittest.main(verbosity=2)
