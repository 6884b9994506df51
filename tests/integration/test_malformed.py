#!/usr/bin/python3
"""Malformed and hostile input from raw sockets.

Each case asserts the exact answer the spec requires (reason code, close).
Throughout the module a well-behaved paho publisher/subscriber pair exchanges
QoS 1 messages; the last test checks that none was lost or duplicated and
every test checks that the canary is still flowing.
"""

import random
import socket
import struct
import threading
import time
import unittest

import harness
import mqttproto as mp

MAX_PACKET = 8192
MAX_SUBS = 500


class Canary:
    """A paho publisher and subscriber exchanging numbered QoS 1 messages."""

    def __init__(self, hub):
        self.sub = harness.PahoClient(hub, "canary-sub", mp.V5)
        self.sub.connect(clean=True, session_expiry=300)
        self.sub.subscribe("canary/t", 1)
        self.pub = harness.PahoClient(hub, "canary-pub", mp.V311)
        self.pub.connect()
        self.sent = 0
        self.received = []
        self.errors = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._publish, daemon=True),
                         threading.Thread(target=self._receive, daemon=True)]
        for t in self._threads:
            t.start()

    def _publish(self):
        while not self._stop.is_set():
            try:
                self.pub.publish("canary/t", b"%d" % self.sent, 1, timeout=10)
                self.sent += 1
            except AssertionError as e:
                self.errors.append("publish %d: %s" % (self.sent, e))
                return
            time.sleep(0.02)

    def _receive(self):
        while not self._stop.is_set() or self.sub.messages.qsize():
            m = self.sub.get(0.1)
            if m is not None:
                self.received.append(int(m.payload))

    def healthy(self, timeout=5.0):
        """True if a message sent from now on arrives within `timeout`."""
        target = self.sent + 1
        return harness.wait_until(lambda: self.received and self.received[-1] >= target, timeout)

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(15)
        # Let in-flight messages arrive.
        harness.wait_until(lambda: len(self.received) >= self.sent, 5)
        m = self.sub.get(0.3)
        while m is not None:
            self.received.append(int(m.payload))
            m = self.sub.get(0.3)
        self.sub.close()
        self.pub.close()


class MalformedTest(harness.HubTestCase):
    HUB_ARGS = ("--max-packet-size", MAX_PACKET,
                "--max-subscriptions-per-client", MAX_SUBS)
    canary = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.canary = Canary(cls.hub)

    @classmethod
    def tearDownClass(cls):
        if cls.canary:
            cls.canary.stop()
        super().tearDownClass()

    def tearDown(self):
        canary = type(self).canary
        if self.hub.alive() and canary is not None:
            self.assertFalse(canary.errors, canary.errors)
            self.assertTrue(canary.healthy(), "canary traffic stalled after this test")

    def connected(self, version=mp.V5, **kw):
        return self.raw_connected(version=version, **kw)

    def assertMalformedClose(self, c, reasons, version=mp.V5, timeout=5.0):
        """v5: DISCONNECT with one of `reasons`, then close; 3.1.1: close
        without any packet (3.1.1 §4.8: close; 3.1.1 has no DISCONNECT from the
        server)."""
        if version == mp.V5:
            return self.assertClosedAfter(c, reasons=reasons, timeout=timeout)
        pkts = self.assertClosedAfter(c, timeout=timeout)
        self.assertEqual(pkts, [])
        return pkts

    # ------------------------------------------------ before / second CONNECT
    def test_packet_before_connect(self):
        # [MQTT-3.1.0-1] [v3.1.1 MQTT-3.1.0-1] first packet must be CONNECT;
        # [MQTT-3.14.0-1] no
        # DISCONNECT before CONNACK: the server just closes.
        for data in (mp.publish("a", b"x", version=mp.V311), mp.pingreq(),
                     mp.subscribe(1, [("a", 0)], version=mp.V311), b"\xe0\x00",
                     mp.publish("a", b"x", qos=1, pid=1)):
            c = self.raw()
            c.send(data)
            pkts = self.assertClosedAfter(c, msg=repr(data))
            self.assertEqual(pkts, [], repr(data))

    def test_second_connect_v5(self):
        # [MQTT-3.1.0-2] a second CONNECT is a Protocol Error: DISCONNECT 0x82
        # and close [MQTT-4.13.1-1].
        c = self.connected()
        c.send(mp.connect("again"))
        self.assertMalformedClose(c, [mp.RC_PROTOCOL_ERROR])

    def test_second_connect_v311(self):
        # [v3.1.1 MQTT-3.1.0-2] [v3.1.1 MQTT-4.8.0-1]
        c = self.connected(mp.V311)
        c.send(mp.connect("again", version=mp.V311))
        self.assertMalformedClose(c, None, version=mp.V311)

    # ------------------------------------------------ framing
    def test_truncated_connect_then_eof(self):
        c = self.raw()
        whole = mp.connect("trunc")
        c.send(whole[:7])
        c.sock.shutdown(socket.SHUT_WR)
        self.assertEqual(self.assertClosedAfter(c), [])

    def test_truncated_publish_then_eof(self):
        c = self.connected()
        c.send(mp.publish("t/x", b"y" * 50, qos=1, pid=3)[:20])
        c.sock.shutdown(socket.SHUT_WR)
        self.assertClosedAfter(c)

    def test_truncated_publish_held_open_until_keep_alive(self):
        # An incomplete packet doesn't reset the keep alive: closed at 1.5x.
        c = self.connected(keepalive=1)
        c.send(mp.publish("t/x", b"y" * 50)[:10])
        t0 = time.monotonic()
        pkts, closed = c.packets_until_closed(5)
        self.assertTrue(closed, "half-sent packet kept the connection open")
        self.assertLess(time.monotonic() - t0, 3.5)

    def test_remaining_length_five_bytes(self):
        # §1.5.5 / §2.1.4: a Variable Byte Integer has at most 4 bytes;
        # more is a Malformed Packet (0x81) [MQTT-4.13.1-1]; 3.1.1 closes
        # [v3.1.1 MQTT-4.8.0-1].
        for version in (mp.V5, mp.V311):
            c = self.connected(version)
            c.send(b"\x30\xff\xff\xff\xff\x7f")
            self.assertMalformedClose(c, [mp.RC_MALFORMED], version)

    def test_remaining_length_five_bytes_before_connect(self):
        c = self.raw()
        c.send(b"\x10\xff\xff\xff\xff\x01")
        self.assertEqual(self.assertClosedAfter(c), [])

    def test_remaining_length_beyond_packet_fields(self):
        # Topic length larger than the packet: Malformed Packet.
        c = self.connected()
        c.send(b"\x30\x05\x00\x20abc")
        self.assertMalformedClose(c, [mp.RC_MALFORMED])

    def test_property_length_beyond_packet(self):
        c = self.connected()
        c.send(b"\x30\x07\x00\x01a\x10\x01\x00\x00")  # property length 16 > 3 left
        self.assertMalformedClose(c, [mp.RC_MALFORMED])

    def test_unknown_property_identifier(self):
        # §2.2.2.2: an unknown property identifier is a Malformed Packet.
        c = self.connected()
        c.send(b"\x30\x07\x00\x01a\x02\x7f\x00x")
        self.assertMalformedClose(c, [mp.RC_MALFORMED])

    def test_duplicate_payload_format_property(self):
        # §3.3.2.3.2: including a property that may appear once more than
        # once is a Protocol Error.
        c = self.connected()
        c.send(mp.publish("t/dup", b"x", props=[(mp.PAYLOAD_FORMAT, 0), (mp.PAYLOAD_FORMAT, 1)]))
        self.assertMalformedClose(c, [mp.RC_PROTOCOL_ERROR])

    def test_reserved_packet_type_zero(self):
        # §2.1.2: packet type 0 is reserved: Malformed Packet.
        c = self.connected()
        c.send(b"\x00\x00")
        self.assertMalformedClose(c, [mp.RC_MALFORMED])

    def test_auth_without_method(self):
        # §4.12: AUTH without an Authentication Method in CONNECT is a
        # Protocol Error.
        c = self.connected()
        c.send(b"\xf0\x02\x18\x00")  # AUTH, reason 0x18 Continue authentication
        self.assertMalformedClose(c, [mp.RC_PROTOCOL_ERROR])

    def test_connect_property_errors(self):
        # §3.1.2.11: Receive Maximum 0, Maximum Packet Size 0, a repeated
        # Session Expiry Interval are Protocol Errors in CONNECT: CONNACK
        # 0x82 (optional) then close [MQTT-3.1.4-1] [MQTT-3.2.2-7].
        for props in ([(mp.RECEIVE_MAXIMUM, 0)], [(mp.MAXIMUM_PACKET_SIZE, 0)],
                      [(mp.SESSION_EXPIRY, 1), (mp.SESSION_EXPIRY, 2)]):
            c = self.raw()
            c.send(mp.connect("badprops", props=props))
            pkts = self.assertClosedAfter(c, msg=repr(props))
            for p in pkts:
                self.assertEqual((p.type, p.reason), (mp.CONNACK, mp.RC_PROTOCOL_ERROR),
                                 "%r -> %r" % (props, p))

    # ------------------------------------------------ UTF-8
    def test_invalid_utf8_topic(self):
        # [MQTT-1.5.4-1] [v3.1.1 MQTT-1.5.3-1] ill-formed UTF-8: Malformed Packet.
        for bad in (b"a/\xff\xfe", b"\xc0\xaf", b"a/\xed\xa0\x80"):  # bad byte, overlong, surrogate
            for version in (mp.V5, mp.V311):
                c = self.connected(version)
                c.send(mp.publish(bad, b"x", version=version))
                self.assertMalformedClose(c, [mp.RC_MALFORMED], version)

    def test_null_character_in_topic(self):
        # [MQTT-1.5.4-2] [MQTT-4.7.3-2] U+0000 must not appear: Malformed Packet.
        c = self.connected()
        c.send(mp.publish(b"a\x00b", b"x"))
        self.assertMalformedClose(c, [mp.RC_MALFORMED])

    def test_invalid_utf8_filter(self):
        # [MQTT-3.8.3-1] topic filters are UTF-8 Encoded Strings.
        c = self.connected()
        c.send(mp.subscribe(1, [(b"a/\xff", 0)]))
        self.assertMalformedClose(c, [mp.RC_MALFORMED])

    def test_invalid_utf8_client_id(self):
        # [MQTT-3.1.3-4] the ClientID is a UTF-8 Encoded String.
        c = self.raw()
        c.send(mp.connect(b"\xff\xfe"))
        pkts = self.assertClosedAfter(c)
        for p in pkts:
            self.assertEqual(p.type, mp.CONNACK)
            self.assertIn(p.reason, (mp.RC_MALFORMED, mp.RC_CLIENT_ID_NOT_VALID), p)

    # ------------------------------------------------ size limits
    def test_connack_announces_maximum_packet_size(self):
        c = self.connected()
        self.assertEqual(c.connack.prop(mp.MAXIMUM_PACKET_SIZE), MAX_PACKET)

    def test_oversize_publish_v5(self):
        # [MQTT-3.2.2-15] §3.2.2.3.6: a packet larger than the server's
        # Maximum Packet Size is refused: DISCONNECT 0x95 then close.
        c = self.connected()
        c.send(mp.publish("t/big", b"x" * (MAX_PACKET + 10), qos=1, pid=1))
        self.assertMalformedClose(c, [mp.RC_PACKET_TOO_LARGE])

    def test_oversize_publish_v311(self):
        c = self.connected(mp.V311)
        c.send(mp.publish("t/big", b"x" * (MAX_PACKET + 10), qos=1, pid=1, version=mp.V311))
        self.assertMalformedClose(c, None, mp.V311)

    def test_huge_declared_length_rejected_from_header(self):
        # Bounded memory: a header announcing ~256 MB must be refused from the
        # header alone, without waiting for (or buffering) the body.
        c = self.connected()
        c.send(b"\x30" + mp.vbi(268435455) + b"\x00\x01a")
        t0 = time.monotonic()
        self.assertMalformedClose(c, [mp.RC_PACKET_TOO_LARGE], timeout=3)
        self.assertLess(time.monotonic() - t0, 3)

    def test_huge_connect_before_connack(self):
        c = self.raw()
        c.send(b"\x10" + mp.vbi(268435455) + b"\x00\x04MQTT\x05")
        pkts = self.assertClosedAfter(c, timeout=3)
        for p in pkts:
            self.assertEqual((p.type, p.reason), (mp.CONNACK, mp.RC_PACKET_TOO_LARGE), p)

    def test_exactly_max_packet_size_accepted(self):
        c = self.connected()
        base = len(mp.publish("t/edge", b"", qos=1, pid=1))
        payload = b"e" * (MAX_PACKET - base - 3)  # remaining length grows by 1 byte
        data = mp.publish("t/edge", payload, qos=1, pid=1)
        data = mp.publish("t/edge", payload + b"e" * (MAX_PACKET - len(data)), qos=1, pid=1)
        self.assertEqual(len(data), MAX_PACKET)
        c.send(data)
        ack = c.expect(mp.PUBACK)
        self.assertLess(ack.reason, 0x80)

    # ------------------------------------------------ flags and QoS
    def test_publish_qos3(self):
        # [MQTT-3.3.1-4] [v3.1.1 MQTT-3.3.1-4] both QoS bits set: Malformed Packet.
        for version in (mp.V5, mp.V311):
            c = self.connected(version)
            body = mp.mstr("t/q3") + mp.u16(1) + (b"\x00" if version == mp.V5 else b"") + b"x"
            c.send(mp.packet(0x36, body))
            self.assertMalformedClose(c, [mp.RC_MALFORMED], version)

    def test_subscribe_reserved_flags(self):
        # [MQTT-3.8.1-1] [v3.1.1 MQTT-3.8.1-1] SUBSCRIBE fixed-header flags must
        # be 0010.
        for version in (mp.V5, mp.V311):
            c = self.connected(version)
            good = mp.subscribe(1, [("t/f", 0)], version=version)
            c.send(b"\x80" + good[1:])
            self.assertMalformedClose(c, [mp.RC_MALFORMED], version)

    def test_pubrel_reserved_flags(self):
        # [MQTT-3.6.1-1] PUBREL flags must be 0010.
        c = self.connected()
        c.send(b"\x60\x02\x00\x01")
        self.assertMalformedClose(c, [mp.RC_MALFORMED])

    def test_pingreq_reserved_flags(self):
        # [MQTT-2.1.3-1] reserved flags must be as listed; else Malformed.
        c = self.connected()
        c.send(b"\xc1\x00")
        self.assertMalformedClose(c, [mp.RC_MALFORMED])

    def test_subscription_option_reserved_bits(self):
        # [MQTT-3.8.3-5] reserved bits 6-7 of the options: Malformed Packet.
        c = self.connected()
        c.send(mp.subscribe(1, [("t/o", 0xC0)]))
        self.assertMalformedClose(c, [mp.RC_MALFORMED])

    def test_subscription_qos3(self):
        # §3.8.3.1: "It is a Protocol Error if the Maximum QoS field has the
        # value 3."
        c = self.connected()
        c.send(mp.subscribe(1, [("t/o", 0x03)]))
        self.assertMalformedClose(c, [mp.RC_PROTOCOL_ERROR])

    def test_subscription_retain_handling_3(self):
        # §3.8.3.1: "It is a Protocol Error to send a Retain Handling value
        # of 3."
        c = self.connected()
        c.send(mp.subscribe(1, [("t/o", 0x30)]))
        self.assertMalformedClose(c, [mp.RC_PROTOCOL_ERROR])

    def test_subscribe_without_filters(self):
        # [MQTT-3.8.3-2] [v3.1.1 MQTT-3.8.3-3] at least one filter; none is a
        # Protocol Error.
        c = self.connected()
        c.send(mp.subscribe(1, []))
        self.assertMalformedClose(c, [mp.RC_PROTOCOL_ERROR])
        c = self.connected(mp.V311)
        c.send(mp.subscribe(1, [], version=mp.V311))
        self.assertMalformedClose(c, None, mp.V311)

    def test_unsubscribe_without_filters(self):
        # [MQTT-3.10.3-2] at least one filter.
        c = self.connected()
        c.send(mp.unsubscribe(1, []))
        self.assertMalformedClose(c, [mp.RC_PROTOCOL_ERROR])

    def test_packet_id_zero(self):
        # [MQTT-2.2.1-3] QoS>0 PUBLISH / SUBSCRIBE need a non-zero Packet
        # Identifier.
        for data in (mp.publish("t/p0", b"x", qos=1, pid=0), mp.subscribe(0, [("t/p0", 0)])):
            c = self.connected()
            c.send(data)
            self.assertMalformedClose(c, [mp.RC_MALFORMED, mp.RC_PROTOCOL_ERROR])

    def test_subscription_identifier_zero(self):
        # §3.8.2.1.2: a Subscription Identifier of 0 is a Protocol Error.
        c = self.connected()
        c.send(mp.subscribe(1, [("t/s0", 0)], props=[(mp.SUBSCRIPTION_ID, 0)]))
        self.assertMalformedClose(c, [mp.RC_PROTOCOL_ERROR])

    def test_subscription_identifier_in_publish(self):
        # [MQTT-3.3.4-6] a PUBLISH from a client MUST NOT contain a
        # Subscription Identifier: Protocol Error.
        c = self.connected()
        c.send(mp.publish("t/sid", b"x", props=[(mp.SUBSCRIPTION_ID, 5)]))
        self.assertMalformedClose(c, [mp.RC_PROTOCOL_ERROR])

    # ------------------------------------------------ topic aliases
    def test_topic_alias_zero(self):
        # [MQTT-3.3.2-8] Topic Alias 0: DISCONNECT 0x94.
        c = self.connected()
        c.send(mp.publish("t/a0", b"x", props=[(mp.TOPIC_ALIAS, 0)]))
        self.assertMalformedClose(c, [mp.RC_TOPIC_ALIAS_INVALID])

    def test_topic_alias_above_maximum(self):
        # [MQTT-3.3.2-9] [MQTT-3.2.2-17] alias greater than the announced Topic
        # Alias Maximum: DISCONNECT 0x94.
        c = self.connected()
        tam = c.connack.prop(mp.TOPIC_ALIAS_MAXIMUM, 0)
        c.send(mp.publish("t/amax", b"x", props=[(mp.TOPIC_ALIAS, tam + 1)]))
        self.assertMalformedClose(c, [mp.RC_TOPIC_ALIAS_INVALID])

    def test_empty_topic_without_alias(self):
        # §3.3.2.1 / §3.3.4: zero-length topic and no alias: Protocol Error.
        c = self.connected()
        c.send(mp.publish("", b"x"))
        self.assertMalformedClose(c, [mp.RC_PROTOCOL_ERROR])

    def test_empty_topic_v311(self):
        # [v3.1.1 MQTT-4.7.3-1] topic names are at least one character.
        c = self.connected(mp.V311)
        c.send(mp.publish("", b"x", version=mp.V311))
        self.assertMalformedClose(c, None, mp.V311)

    def test_dup_on_qos0(self):
        # [MQTT-3.3.1-2] DUP MUST be 0 for QoS 0.
        c = self.connected()
        c.send(mp.publish("t/dup0", b"x", dup=True))
        self.assertMalformedClose(c, [mp.RC_MALFORMED, mp.RC_PROTOCOL_ERROR])

    # ------------------------------------------------ tolerated oddities
    def test_puback_for_unknown_packet_id_is_ignored(self):
        c = self.connected()
        c.send(mp.puback(4242))
        c.send(mp.pubrec(4243))
        c.send(mp.pubcomp(4244))
        pkts = c.drain_publishes(0.3)
        self.assertTrue(c.is_open(), "connection closed after stray acks")

    # ------------------------------------------------ floods
    def test_subscribe_flood(self):
        # Per-client subscription limit (--max-subscriptions-per-client):
        # further filters get SUBACK 0x97 Quota exceeded (§3.9.3,
        # [MQTT-3.8.4-7]), the
        # connection stays usable, re-subscribing an existing filter is fine.
        c = self.connected()
        n = MAX_SUBS + 200
        reasons = {}
        done = threading.Event()

        def reader():
            while len(reasons) < n:
                try:
                    p = c.recv(10)
                except mp.Closed:
                    break
                if p is None:
                    break
                if p.type == mp.SUBACK:
                    reasons[p.pid] = p.reasons[0]
            done.set()

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        batch = b"".join(mp.subscribe(i + 1, [("flood/%d" % i, 1)]) for i in range(n))
        c.send(batch)
        done.wait(30)
        t.join(1)
        self.assertEqual(len(reasons), n, "only %d SUBACKs for %d SUBSCRIBEs" % (len(reasons), n))
        granted = [pid for pid, r in reasons.items() if r == 1]
        self.assertEqual(len(granted), MAX_SUBS)
        self.assertEqual(sorted(set(reasons.values())), [1, mp.RC_QUOTA_EXCEEDED])
        self.assertEqual(sorted(granted), list(range(1, MAX_SUBS + 1)))
        ack = c.subscribe([("flood/0", 1)])
        self.assertEqual(ack.reasons, [1])
        self.assertTrue(c.is_open())

    def test_ping_flood(self):
        # [MQTT-3.12.4-1] every PINGREQ gets a PINGRESP.
        c = self.connected()
        c.send(mp.pingreq() * 5000)
        n = 0
        deadline = time.monotonic() + 15
        while n < 5000 and time.monotonic() < deadline:
            p = c.recv(5)
            if p is None:
                break
            self.assertEqual(p.type, mp.PINGRESP)
            n += 1
        self.assertEqual(n, 5000)

    def test_garbage_streams(self):
        # Bad input is normal: random bytes, before and after CONNECT,
        # never crash or hang the hub.
        rng = random.Random(1234)
        for i in range(60):
            c = self.connected() if i % 2 else self.raw()
            junk = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 3000)))
            try:
                c.send(junk)
                c.sock.shutdown(socket.SHUT_WR)
                c.packets_until_closed(3)
            except OSError:
                pass
            c.close()
        self.assertTrue(self.hub.alive())
        self.assertTrue(self.connected().is_open())

    def test_mutated_valid_packets(self):
        # Single-byte mutations of valid packets after CONNECT.
        rng = random.Random(99)
        seeds = [mp.publish("m/x", b"payload", qos=1, pid=5,
                            props=[(mp.USER_PROPERTY, ("a", "b")), (mp.MESSAGE_EXPIRY, 10)]),
                 mp.subscribe(2, [("m/#", 2)], props=[(mp.SUBSCRIPTION_ID, 9)]),
                 mp.unsubscribe(3, ["m/#"]), mp.pubrel(5), mp.disconnect(4, [(mp.REASON_STRING, "r")])]
        for i in range(80):
            seed = bytearray(rng.choice(seeds))
            pos = rng.randrange(len(seed))
            seed[pos] = rng.getrandbits(8)
            c = self.connected()
            try:
                c.send(bytes(seed) + mp.pingreq())
                c.packets_until_closed(0.3)
            except OSError:
                pass
            c.close()
        self.assertTrue(self.hub.alive())
        self.assertTrue(self.connected().is_open())

    def test_slowloris_byte_by_byte_connect(self):
        # A CONNECT arriving one byte at a time is still a CONNECT.
        c = self.raw()
        for b in mp.connect("slow", keepalive=10):
            c.send(bytes([b]))
            time.sleep(0.005)
        self.assertEqual(c.expect(mp.CONNACK).reason, 0)

    def test_many_packets_in_one_segment(self):
        c = self.raw()
        data = mp.connect("batch") + mp.subscribe(1, [("batch/t", 1)]) + \
            b"".join(mp.publish("batch/t", b"%d" % i, qos=1, pid=100 + i) for i in range(50))
        c.send(data)
        types = []
        pubs = []
        deadline = time.monotonic() + 5
        while len(pubs) < 50 and time.monotonic() < deadline:
            p = c.recv(2)
            if p is None:
                break
            types.append(p.type)
            if p.type == mp.PUBLISH:
                pubs.append(p)
                c.send(mp.puback(p.pid))
        self.assertEqual(types[0], mp.CONNACK)
        self.assertEqual(types[1], mp.SUBACK)
        # [MQTT-4.6.0-5] in the order published.
        self.assertEqual([p.payload for p in pubs], [b"%d" % i for i in range(50)])

    def test_zz_canary_lost_nothing(self):
        # Runs last (alphabetical order): stop the canary and check every
        # acknowledged QoS 1 message arrived exactly once, in order.
        canary = type(self).canary
        canary.stop()
        type(self).canary = None
        self.assertFalse(canary.errors, canary.errors)
        self.assertGreater(canary.sent, 50)
        self.assertEqual(canary.received, list(range(canary.sent)))


if __name__ == "__main__":
    unittest.main(verbosity=2)
