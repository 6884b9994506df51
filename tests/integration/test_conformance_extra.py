#!/usr/bin/python3
"""Small checks of normative statements no other module covers (see
docs/conformance.md): reserved flags, DUP and RETAIN handling, packet
identifier reuse, 3.1.1 ping and redelivery."""

import unittest
import uuid

import harness
import mqttproto as mp


class ConformanceExtraTest(harness.HubTestCase):

    def assertMalformedClose(self, c, version):
        if version == mp.V5:
            self.assertClosedAfter(c, reasons=[mp.RC_MALFORMED])
        else:
            self.assertEqual(self.assertClosedAfter(c), [])

    # [MQTT-3.10.1-1] [v3.1.1 MQTT-3.10.1-1] UNSUBSCRIBE flags must be 0010.
    def test_unsubscribe_reserved_flags(self):
        for version in (mp.V5, mp.V311):
            c = self.raw_connected(version=version)
            good = mp.unsubscribe(1, [self.topic()], version=version)
            c.send(b"\xa0" + good[1:])
            self.assertMalformedClose(c, version)

    # [v3.1.1 MQTT-3.6.1-1] PUBREL flags must be 0010.
    def test_pubrel_reserved_flags_v311(self):
        c = self.raw_connected(version=mp.V311)
        c.send(b"\x60\x02\x00\x01")
        self.assertMalformedClose(c, mp.V311)

    # [MQTT-3.14.1-1] [v3.1.1 MQTT-3.14.1-1] DISCONNECT reserved bits must be 0.
    def test_disconnect_reserved_flags(self):
        for version in (mp.V5, mp.V311):
            c = self.raw_connected(version=version)
            c.send(b"\xe1\x00")
            self.assertMalformedClose(c, version)

    # [v3.1.1 MQTT-3.12.4-1]
    def test_ping_v311(self):
        c = self.raw_connected(version=mp.V311)
        c.send(mp.pingreq())
        self.assertEqual(c.expect(mp.PINGRESP).raw, b"\xd0\x00")

    # [MQTT-3.3.1-8] [v3.1.1 MQTT-3.3.1-12] a PUBLISH with RETAIN 0 neither
    # stores nor removes the retained message of its topic.
    def test_retain_0_leaves_retained_message(self):
        for version in (mp.V5, mp.V311):
            topic = self.topic("v%d" % version)
            pub = self.raw_connected(version=version)
            pub.publish(topic, b"kept", qos=1, retain=True)
            pub.publish(topic, b"live", qos=1, retain=False)
            pub.publish(topic, b"", qos=1, retain=False)
            sub = self.raw_connected(version=version)
            sub.subscribe([(topic, 1)])
            got = sub.drain_publishes(0.7)
            self.assertEqual([(p.payload, p.retain) for p in got], [(b"kept", True)], version)
            pub.publish(topic, b"", qos=1, retain=True)

    # [MQTT-3.3.1-3] [v3.1.1 MQTT-3.3.1-3] the DUP of a forwarded PUBLISH is
    # the server's own: a duplicate from the publisher is sent with DUP 0.
    def test_incoming_dup_not_propagated(self):
        for version in (mp.V5, mp.V311):
            sub = self.raw_connected(version=version)
            sub.subscribe([(self.topic("dup"), 1)])
            pub = self.raw_connected(version=version)
            pub.send(mp.publish(self.topic("dup"), b"d", qos=1, pid=3, dup=True, version=version))
            self.assertEqual(pub.expect(mp.PUBACK).pid, 3)
            p = sub.next_publish()
            self.assertIsNotNone(p)
            self.assertEqual((p.payload, p.dup), (b"d", False), version)

    # [MQTT-4.3.2-5] [v3.1.1 MQTT-4.3.2-2] after PUBACK, a PUBLISH reusing the
    # packet identifier is a new message, whatever its DUP flag.
    def test_qos1_packet_id_reuse_is_new_message(self):
        for version in (mp.V5, mp.V311):
            sub = self.raw_connected(version=version)
            sub.subscribe([(self.topic("reuse"), 1)])
            pub = self.raw_connected(version=version)
            for payload, dup in ((b"one", False), (b"two", True)):
                pub.send(mp.publish(self.topic("reuse"), payload, qos=1, pid=9, dup=dup,
                                    version=version))
                self.assertEqual(pub.expect(mp.PUBACK).pid, 9)
            got = sub.drain_publishes(0.7)
            self.assertEqual([p.payload for p in got], [b"one", b"two"], version)

    # [v3.1.1 MQTT-4.4.0-1] [v3.1.1 MQTT-3.3.1-1] on resume an unacknowledged
    # QoS 1 PUBLISH is resent with its packet identifier and DUP 1.
    def test_redelivery_v311(self):
        client_id = "redeliver311-" + uuid.uuid4().hex[:8]
        c = self.raw_connected(client_id, version=mp.V311, clean=False)
        c.subscribe([(self.topic(), 1)])
        self.raw_connected().publish(self.topic(), b"r", qos=1)
        first = c.next_publish(ack=False)
        self.assertIsNotNone(first)
        self.assertFalse(first.dup)
        c.abort()
        c2 = self.raw(mp.V311)
        self.assertTrue(c2.connect(client_id, clean=False).session_present)
        again = c2.next_publish(ack=False)
        self.assertIsNotNone(again, "unacknowledged QoS 1 message not resent")
        self.assertEqual((again.pid, again.payload, again.dup), (first.pid, b"r", True))
        c2.send(mp.puback(again.pid, version=mp.V311))
        self.assertEqual(c2.drain_publishes(0.5), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
