#!/usr/bin/python3
"""MQTT 5 features: subscription identifiers, no-local, topic aliases,
message expiry, Receive Maximum, Maximum Packet Size, keep alive, session
takeover, request/response, user properties, payload format, content type."""

import time
import unittest
import uuid

import harness
import mqttproto as mp
from harness import make_props
from paho.mqtt.packettypes import PacketTypes

MAX_KEEP_ALIVE = 30


class V5FeatureTest(harness.HubTestCase):
    HUB_ARGS = ("--max-keep-alive", MAX_KEEP_ALIVE)

    # ---------------------------------------------------------- sub ids
    def test_subscription_identifier(self):
        # [MQTT-3.3.4-3] the Subscription Identifier is sent with matching
        # messages; none when the subscription had none.
        c = self.raw_connected()
        c.subscribe([(self.topic("a/#"), 1)], props=[(mp.SUBSCRIPTION_ID, 42)])
        c.subscribe([(self.topic("b"), 1)])
        pub = self.paho()
        pub.publish(self.topic("a/x"), b"1", 1)
        p = c.next_publish()
        self.assertEqual(p.props_all(mp.SUBSCRIPTION_ID), [42], p)
        pub.publish(self.topic("b"), b"2", 1)
        p = c.next_publish()
        self.assertEqual(p.props_all(mp.SUBSCRIPTION_ID), [], p)

    def test_subscription_identifier_large_and_overlapping(self):
        # [MQTT-3.3.4-4]/[MQTT-3.3.4-5]: with overlapping subscriptions, one
        # copy carries all identifiers, or each copy carries its own.
        c = self.raw_connected()
        c.subscribe([(self.topic("o/#"), 1)], props=[(mp.SUBSCRIPTION_ID, 268435455)])
        c.subscribe([(self.topic("o/+"), 1)], props=[(mp.SUBSCRIPTION_ID, 7)])
        self.paho().publish(self.topic("o/x"), b"o", 1)
        pubs = c.drain_publishes(0.7)
        ids = sorted(i for p in pubs for i in p.props_all(mp.SUBSCRIPTION_ID))
        self.assertEqual(ids, [7, 268435455], pubs)
        self.assertIn(len(pubs), (1, 2))

    def test_subscription_identifier_replaced(self):
        # [MQTT-3.8.4-3] the identical filter replaces the subscription.
        c = self.raw_connected()
        c.subscribe([(self.topic(), 1)], props=[(mp.SUBSCRIPTION_ID, 5)])
        c.subscribe([(self.topic(), 1)], props=[(mp.SUBSCRIPTION_ID, 6)])
        self.paho().publish(self.topic(), b"x", 1)
        p = c.next_publish()
        self.assertEqual(p.props_all(mp.SUBSCRIPTION_ID), [6])

    def test_subscription_identifier_on_retained(self):
        self.paho().publish(self.topic(), b"r", 1, retain=True)
        c = self.raw_connected()
        c.subscribe([(self.topic(), 1)], props=[(mp.SUBSCRIPTION_ID, 99)])
        p = c.next_publish()
        self.assertEqual((p.payload, p.retain), (b"r", True))
        self.assertEqual(p.props_all(mp.SUBSCRIPTION_ID), [99])

    # ---------------------------------------------------------- no local
    def test_no_local(self):
        # [MQTT-3.8.3-3] No Local: not forwarded to the publishing connection.
        me = self.raw_connected()
        me.subscribe([(self.topic(), mp.sub_options(1, no_local=True))])
        other = self.raw_connected()
        other.subscribe([(self.topic(), 1)])
        me.publish(self.topic(), b"mine", qos=1)
        self.assertEqual(other.next_publish().payload, b"mine")
        self.assertEqual(me.drain_publishes(0.5), [])
        other.publish(self.topic(), b"theirs", qos=1)
        self.assertEqual(me.next_publish().payload, b"theirs")

    # ---------------------------------------------------------- topic aliases
    def test_client_to_server_topic_alias(self):
        # §3.3.2.3.4: alias set with a topic, then used with an empty topic;
        # [MQTT-3.3.2-12] every alias 1..Topic Alias Maximum is accepted.
        sub = self.paho()
        sub.subscribe(self.topic("#"), 1)
        c = self.raw_connected()
        tam = c.connack.prop(mp.TOPIC_ALIAS_MAXIMUM, 0)
        self.assertGreater(tam, 0, c.connack)
        c.publish(self.topic("a"), b"1", qos=1, props=[(mp.TOPIC_ALIAS, 1)])
        c.publish("", b"2", qos=1, props=[(mp.TOPIC_ALIAS, 1)])
        c.publish(self.topic("b"), b"3", qos=1, props=[(mp.TOPIC_ALIAS, tam)])
        c.publish("", b"4", qos=1, props=[(mp.TOPIC_ALIAS, tam)])
        # Re-mapping an alias to another topic.
        c.publish(self.topic("c"), b"5", qos=1, props=[(mp.TOPIC_ALIAS, 1)])
        c.publish("", b"6", qos=0, props=[(mp.TOPIC_ALIAS, 1)])
        msgs = sub.collect(6)
        self.assertEqual([(m.topic, m.payload) for m in msgs],
                         [(self.topic("a"), b"1"), (self.topic("a"), b"2"),
                          (self.topic("b"), b"3"), (self.topic("b"), b"4"),
                          (self.topic("c"), b"5"), (self.topic("c"), b"6")])
        # Aliases are per connection: the subscriber never sees an alias.
        self.assertTrue(all(m.prop("TopicAlias") is None for m in msgs))

    def test_topic_alias_scoped_to_connection(self):
        c = self.raw_connected()
        c.publish(self.topic("a"), b"1", qos=1, props=[(mp.TOPIC_ALIAS, 1)])
        c2 = self.raw_connected()
        # §3.3.2.3.4: a fresh connection has no mappings, so an
        # empty topic with alias 1 is a Protocol Error.
        c2.send(mp.publish("", b"x", qos=1, pid=1, props=[(mp.TOPIC_ALIAS, 1)]))
        self.assertClosedAfter(c2, reasons=[mp.RC_PROTOCOL_ERROR])

    def test_server_to_client_topic_alias(self):
        # [MQTT-3.3.2-11]/[MQTT-3.1.2-26]: the server may use aliases up to
        # the client's Topic Alias Maximum and never above it.  The hub's
        # contract says it does use them, so repeated topics must be aliased.
        c = self.raw_connected(props=[(mp.TOPIC_ALIAS_MAXIMUM, 2)])
        c.subscribe([(self.topic("#"), 1)])
        pub = self.paho()
        topics = [self.topic(t) for t in ("a", "b", "c", "a", "b", "c", "a", "a", "a")]
        for i, t in enumerate(topics):
            pub.publish(t, b"%d" % i, 1)
        pubs = [c.next_publish() for _ in topics]
        self.assertTrue(all(p is not None for p in pubs), pubs)
        self.assertEqual([p.topic for p in pubs], topics)
        self.assertEqual([p.payload for p in pubs], [b"%d" % i for i in range(len(topics))])
        aliases = [p.prop(mp.TOPIC_ALIAS) for p in pubs]
        for a in aliases:
            self.assertIn(a, (None, 1, 2), pubs)
        self.assertTrue(any(p.raw and p.prop(mp.TOPIC_ALIAS) and p.topic and
                            p.raw[2:4] == b"\x00\x00" for p in pubs),
                        "server never sent an aliased PUBLISH with an empty topic: %r" % pubs)

    def test_server_aliases_reset_on_new_connection(self):
        # §3.3.2.3.4 [MQTT-3.3.2-7]: "Topic Alias mappings exist only within a
        # Network Connection"; after a reconnect (session resumed) the server must
        # send the topic again before using an alias, also for resent
        # in-flight messages.
        client_id = "alias-re-" + uuid.uuid4().hex[:6]
        props = [(mp.TOPIC_ALIAS_MAXIMUM, 3), (mp.SESSION_EXPIRY, 60)]
        c = self.raw_connected(client_id, props=props)
        c.subscribe([(self.topic("#"), 1)])
        pub = self.paho()
        for i in range(4):
            pub.publish(self.topic("a"), b"%d" % i, 1)
        first = c.drain_publishes(0.5)
        self.assertEqual(len(first), 4)
        pub.publish(self.topic("a"), b"unacked", 1)
        held = c.next_publish(ack=False)
        self.assertEqual(held.payload, b"unacked")
        c.abort()
        c2 = self.raw()
        self.assertTrue(c2.connect(client_id, clean=False, props=props).session_present)
        for i in range(3):
            pub.publish(self.topic("a"), b"n%d" % i, 1)
        again = c2.drain_publishes(0.8)
        self.assertEqual([p.payload for p in again], [b"unacked", b"n0", b"n1", b"n2"], again)
        self.assertTrue(all(p.topic == self.topic("a") for p in again),
                        "alias from the old connection used without its topic: %r" % again)

    def test_no_server_aliases_without_client_maximum(self):
        # [MQTT-3.1.2-27] no Topic Alias Maximum from the client: the server
        # MUST NOT send Topic Aliases.
        c = self.raw_connected()
        c.subscribe([(self.topic(), 1)])
        pub = self.paho()
        for i in range(5):
            pub.publish(self.topic(), b"%d" % i, 1)
        pubs = c.drain_publishes(0.7)
        self.assertEqual(len(pubs), 5)
        self.assertTrue(all(p.prop(mp.TOPIC_ALIAS) is None for p in pubs), pubs)

    # ---------------------------------------------------------- expiry
    def test_message_expiry_in_offline_queue(self):
        # [MQTT-3.3.2-5] expired messages are not delivered;
        # [MQTT-3.3.2-6] the forwarded interval is the remaining time.
        client_id = "mexp-" + uuid.uuid4().hex[:8]
        c = self.raw_connected(client_id, props=[(mp.SESSION_EXPIRY, 60)])
        c.subscribe([(self.topic(), 1)])
        c.send(mp.disconnect())
        pub = self.raw_connected()
        pub.publish(self.topic(), b"short", qos=1, props=[(mp.MESSAGE_EXPIRY, 1)])
        pub.publish(self.topic(), b"long", qos=1, props=[(mp.MESSAGE_EXPIRY, 60)])
        pub.publish(self.topic(), b"forever", qos=1)
        time.sleep(2.2)
        c2 = self.raw()
        self.assertTrue(c2.connect(client_id, clean=False, props=[(mp.SESSION_EXPIRY, 60)])
                        .session_present)
        pubs = c2.drain_publishes(0.8)
        self.assertEqual([p.payload for p in pubs], [b"long", b"forever"])
        remaining = pubs[0].prop(mp.MESSAGE_EXPIRY)
        self.assertIsNotNone(remaining, pubs[0])
        self.assertLessEqual(remaining, 58)
        self.assertGreaterEqual(remaining, 50)
        self.assertIsNone(pubs[1].prop(mp.MESSAGE_EXPIRY))

    # [MQTT-3.3.2-6] the forwarded interval is the remaining time.
    def test_message_expiry_forwarded_live(self):
        c = self.raw_connected()
        c.subscribe([(self.topic(), 1)])
        self.raw_connected().publish(self.topic(), b"x", qos=1, props=[(mp.MESSAGE_EXPIRY, 30)])
        p = c.next_publish()
        self.assertIn(p.prop(mp.MESSAGE_EXPIRY), (29, 30))

    # ---------------------------------------------------------- flow control
    def test_client_receive_maximum(self):
        # [MQTT-3.3.4-9] [MQTT-4.9.0-2] the server MUST NOT send more than
        # Receive Maximum unacknowledged QoS 1/2 PUBLISHes.
        c = self.raw_connected(props=[(mp.RECEIVE_MAXIMUM, 2)])
        c.subscribe([(self.topic(), 1)])
        pub = self.paho()
        infos = [pub.publish(self.topic(), b"%d" % i, 1, wait=False) for i in range(10)]
        pub.wait_published(infos)
        first = c.drain_publishes(0.7, ack=False)
        self.assertEqual([p.payload for p in first], [b"0", b"1"])
        c.send(mp.puback(first[0].pid))
        nxt = c.drain_publishes(0.7, ack=False)
        self.assertEqual([p.payload for p in nxt], [b"2"])
        c.send(mp.puback(first[1].pid))
        c.send(mp.puback(nxt[0].pid))
        rest = c.drain_publishes(1.0, ack=True)
        self.assertEqual([p.payload for p in rest], [b"%d" % i for i in range(3, 10)])

    def test_client_receive_maximum_qos2_until_pubcomp(self):
        # §4.9 [MQTT-3.3.4-9]: the send quota is returned on PUBCOMP (or a
        # PUBREC >= 0x80), not on PUBREC, for QoS 2.
        c = self.raw_connected(props=[(mp.RECEIVE_MAXIMUM, 1)])
        c.subscribe([(self.topic(), 2)])
        pub = self.paho()
        pub.publish(self.topic(), b"a", 2)
        pub.publish(self.topic(), b"b", 2)
        p1 = c.next_publish(ack=False)
        self.assertEqual(p1.payload, b"a")
        c.send(mp.pubrec(p1.pid))
        rel = c.expect(mp.PUBREL)
        self.assertIsNone(c.recv(0.7), "second QoS 2 PUBLISH sent before PUBCOMP")
        c.send(mp.pubcomp(rel.pid))
        p2 = c.next_publish(ack=False)
        self.assertIsNotNone(p2)
        self.assertEqual(p2.payload, b"b")

    def test_message_expiry_while_backlogged(self):
        # [MQTT-3.3.2-5] also for a connected subscriber: a message waiting
        # behind a full Receive Maximum window expires.
        c = self.raw_connected(props=[(mp.RECEIVE_MAXIMUM, 1)])
        c.subscribe([(self.topic(), 1)])
        pub = self.raw_connected()
        pub.publish(self.topic(), b"first", qos=1)
        pub.publish(self.topic(), b"short", qos=1, props=[(mp.MESSAGE_EXPIRY, 1)])
        pub.publish(self.topic(), b"last", qos=1)
        p = c.next_publish(ack=False)
        self.assertEqual(p.payload, b"first")
        time.sleep(2.2)
        c.send(mp.puback(p.pid))
        rest = c.drain_publishes(0.8)
        self.assertEqual([x.payload for x in rest], [b"last"])

    def test_receive_maximum_qos0_not_limited(self):
        # Receive Maximum applies to QoS 1/2 only (§3.3.4).
        c = self.raw_connected(props=[(mp.RECEIVE_MAXIMUM, 1)])
        c.subscribe([(self.topic("q1"), 1), (self.topic("q0"), 0)])
        pub = self.paho()
        pub.publish(self.topic("q1"), b"held", 1)
        time.sleep(0.2)
        for i in range(5):
            pub.publish(self.topic("q0"), b"%d" % i, 0)
        pubs = c.drain_publishes(0.7, ack=False)
        self.assertEqual(sorted(p.payload for p in pubs), sorted([b"held"] + [b"%d" % i for i in range(5)]))

    def test_server_receive_maximum_exceeded(self):
        # §3.3.4: on more unacknowledged QoS 1/2 PUBLISHes than its Receive
        # Maximum "the Server uses a DISCONNECT packet with Reason Code 0x93"
        # (the client broke [MQTT-3.3.4-7]).
        # Here: more unacknowledged QoS 2 PUBLISHes than the
        # server's Receive Maximum: DISCONNECT 0x93.
        c = self.raw_connected()
        rmax = c.connack.prop(mp.RECEIVE_MAXIMUM, 65535)
        self.assertLess(rmax, 1000)
        data = b"".join(mp.publish(self.topic(), b"x", qos=2, pid=i + 1) for i in range(rmax + 1))
        c.send(data)
        pkts = self.assertClosedAfter(c, reasons=[mp.RC_RECEIVE_MAXIMUM_EXCEEDED])
        # With the session store on, a PUBREC waits for its commit, so the
        # DISCONNECT may overtake some of them; none beyond the maximum.
        recs = [p for p in pkts if p.type == mp.PUBREC]
        self.assertLessEqual(len(recs), rmax)

    # ---------------------------------------------------------- packet size
    def test_client_maximum_packet_size(self):
        # [MQTT-3.1.2-24] the server MUST NOT send packets larger than the
        # client's Maximum Packet Size; it discards such a message as if sent
        # [MQTT-3.1.2-25] (§3.1.2.11.4).
        c = self.raw_connected(props=[(mp.MAXIMUM_PACKET_SIZE, 256)])
        c.subscribe([(self.topic(), 1)])
        pub = self.paho()
        pub.publish(self.topic(), b"s" * 100, 1)
        pub.publish(self.topic(), b"L" * 1000, 1)
        pub.publish(self.topic(), b"t" * 100, 1)
        pubs = c.drain_publishes(0.8)
        self.assertEqual([p.payload[:1] for p in pubs], [b"s", b"t"])
        for p in pubs:
            self.assertLessEqual(len(p.raw), 256)
        self.assertTrue(c.is_open())

    def test_client_maximum_packet_size_retained_and_queued(self):
        # [MQTT-3.1.2-24] applies to retained messages sent at subscribe and
        # to messages queued while offline as well.
        pub = self.paho()
        pub.publish(self.topic("r/big"), b"B" * 1000, 1, retain=True)
        pub.publish(self.topic("r/small"), b"s", 1, retain=True)
        client_id = "mps-" + uuid.uuid4().hex[:6]
        props = [(mp.MAXIMUM_PACKET_SIZE, 256), (mp.SESSION_EXPIRY, 60)]
        c = self.raw_connected(client_id, props=props)
        c.subscribe([(self.topic("r/+"), 1)])
        self.assertEqual([p.payload for p in c.drain_publishes(0.7)], [b"s"])
        c.send(mp.disconnect())
        pub.publish(self.topic("r/q"), b"Q" * 1000, 1)
        pub.publish(self.topic("r/q"), b"q", 1)
        c2 = self.raw()
        self.assertTrue(c2.connect(client_id, clean=False, props=props).session_present)
        self.assertEqual([p.payload for p in c2.drain_publishes(0.7)], [b"q"])
        for t in ("r/big", "r/small"):
            pub.publish(self.topic(t), b"", 1, retain=True)

    def test_client_maximum_packet_size_counts_properties(self):
        # [MQTT-3.1.2-24] The limit is on the whole packet: user properties
        # count too.
        c = self.raw_connected(props=[(mp.MAXIMUM_PACKET_SIZE, 200)])
        c.subscribe([(self.topic(), 0)])
        pub = self.paho()
        pub.publish(self.topic(), b"p" * 50, 1,
                    properties=make_props(PacketTypes.PUBLISH, UserProperty=[("k", "v" * 300)]))
        pub.publish(self.topic(), b"ok", 1)
        pubs = c.drain_publishes(0.8)
        self.assertEqual([p.payload for p in pubs], [b"ok"])

    # ---------------------------------------------------------- keep alive
    def test_server_keep_alive(self):
        # §3.2.2.3.14: Server Keep Alive overrides the client's value.
        c = self.raw()
        ack = c.connect("ka-" + uuid.uuid4().hex[:6], keepalive=MAX_KEEP_ALIVE + 30)
        self.assertEqual(ack.prop(mp.SERVER_KEEP_ALIVE), MAX_KEEP_ALIVE, ack)
        c2 = self.raw()
        ack2 = c2.connect("ka2-" + uuid.uuid4().hex[:6], keepalive=10)
        self.assertIn(ack2.prop(mp.SERVER_KEEP_ALIVE, 10), (10,), ack2)

    def test_keep_alive_enforced(self):
        # [MQTT-3.1.2-22] [v3.1.1 MQTT-3.1.2-24] no packet within 1.5 x Keep
        # Alive: the server MUST close; v5 may send DISCONNECT 0x8D first.
        # [MQTT-3.2.2-22] without Server Keep Alive the client's value is used.
        for version in (mp.V5, mp.V311):
            c = self.raw_connected(version=version, keepalive=1)
            t0 = time.monotonic()
            pkts, closed = c.packets_until_closed(5)
            elapsed = time.monotonic() - t0
            self.assertTrue(closed, "not closed after 5 s with keep alive 1 (v%d)" % version)
            self.assertGreaterEqual(elapsed, 1.3, "closed too early (v%d)" % version)
            self.assertLess(elapsed, 3.0, "closed too late (v%d)" % version)
            for p in pkts:
                self.assertEqual((p.type, p.reason), (mp.DISCONNECT, mp.RC_KEEP_ALIVE_TIMEOUT), p)
                self.assertEqual(version, mp.V5)

    def test_server_keep_alive_is_enforced(self):
        # §3.2.2.3.14: the client must use the Server Keep Alive; the
        # server enforces its own value (1 s here), not the client's 60 s
        # [MQTT-3.1.2-22].
        hub = self.start_hub("--max-keep-alive", 1)
        c = self.raw(hub=hub)
        ack = c.connect("ska-" + uuid.uuid4().hex[:6], keepalive=60)
        self.assertEqual(ack.prop(mp.SERVER_KEEP_ALIVE), 1, ack)
        t0 = time.monotonic()
        pkts, closed = c.packets_until_closed(5)
        self.assertTrue(closed, "Server Keep Alive 1 not enforced")
        self.assertLess(time.monotonic() - t0, 3.0)
        for p in pkts:
            self.assertEqual((p.type, p.reason), (mp.DISCONNECT, mp.RC_KEEP_ALIVE_TIMEOUT), p)

    def test_keep_alive_satisfied_by_pings(self):
        c = self.raw_connected(keepalive=1)
        deadline = time.monotonic() + 3.5
        while time.monotonic() < deadline:
            time.sleep(0.6)
            self.assertTrue(c.is_open(1.0))

    def test_keep_alive_satisfied_by_publishes(self):
        # Any control packet resets the timer (§3.1.2.10).
        c = self.raw_connected(keepalive=1)
        deadline = time.monotonic() + 3.5
        while time.monotonic() < deadline:
            time.sleep(0.6)
            c.send(mp.publish(self.topic(), b"k", qos=0))
        self.assertTrue(c.is_open())

    def test_keep_alive_zero_disables(self):
        c = self.raw()
        ack = c.connect("ka0-" + uuid.uuid4().hex[:6], keepalive=0)
        self.assertEqual(ack.reason, 0)
        ska = ack.prop(mp.SERVER_KEEP_ALIVE)
        if ska is None or ska == 0:
            time.sleep(2.5)
            self.assertTrue(c.is_open())

    # ---------------------------------------------------------- takeover
    def test_session_takeover_v5(self):
        # [MQTT-3.1.4-3] existing connection gets DISCONNECT 0x8E and closes.
        client_id = "take-" + uuid.uuid4().hex[:8]
        old = self.raw_connected(client_id, props=[(mp.SESSION_EXPIRY, 60)])
        old.subscribe([(self.topic(), 1)])
        new = self.raw()
        ack = new.connect(client_id, clean=False, props=[(mp.SESSION_EXPIRY, 60)])
        self.assertEqual(ack.reason, 0)
        self.assertTrue(ack.session_present)
        self.assertClosedAfter(old, reasons=[mp.RC_SESSION_TAKEN_OVER])
        self.paho().publish(self.topic(), b"after", 1)
        self.assertEqual(new.next_publish().payload, b"after")

    def test_session_takeover_v311(self):
        # [v3.1.1 MQTT-3.1.4-2] the existing client is disconnected.
        client_id = "take311-" + uuid.uuid4().hex[:8]
        old = self.raw_connected(client_id, version=mp.V311, clean=False)
        old.subscribe([(self.topic(), 1)])
        new = self.raw(mp.V311)
        ack = new.connect(client_id, clean=False)
        self.assertEqual(ack.raw, b"\x20\x02\x01\x00")
        pkts = self.assertClosedAfter(old)
        self.assertEqual(pkts, [])
        self.paho().publish(self.topic(), b"after", 1)
        self.assertEqual(new.next_publish().payload, b"after")

    def test_takeover_storm(self):
        client_id = "storm-" + uuid.uuid4().hex[:8]
        conns = []
        for i in range(10):
            c = self.raw()
            self.assertEqual(c.connect(client_id, clean=(i % 2 == 0)).reason, 0)
            conns.append(c)
        for c in conns[:-1]:
            self.assertClosedAfter(c, reasons=[mp.RC_SESSION_TAKEN_OVER])
        self.assertTrue(conns[-1].is_open())

    # ---------------------------------------------------------- properties
    def test_request_response(self):
        # §4.10: Response Topic and Correlation Data reach the responder
        # unchanged [MQTT-3.3.2-15] [MQTT-3.3.2-16]; the response reaches the
        # requester.
        responder = self.raw_connected()
        responder.subscribe([(self.topic("req"), 1)])
        requester = self.raw_connected()
        requester.subscribe([(self.topic("resp"), 1)])
        requester.publish(self.topic("req"), b"ping", qos=1,
                          props=[(mp.RESPONSE_TOPIC, self.topic("resp")),
                                 (mp.CORRELATION_DATA, b"\x00\xffid-1")])
        req = responder.next_publish()
        self.assertEqual(req.prop(mp.RESPONSE_TOPIC), self.topic("resp"))
        self.assertEqual(req.prop(mp.CORRELATION_DATA), b"\x00\xffid-1")
        responder.publish(req.prop(mp.RESPONSE_TOPIC), b"pong", qos=1,
                          props=[(mp.CORRELATION_DATA, req.prop(mp.CORRELATION_DATA))])
        resp = requester.next_publish()
        self.assertEqual((resp.payload, resp.prop(mp.CORRELATION_DATA)), (b"pong", b"\x00\xffid-1"))

    def test_request_response_information(self):
        # §3.1.2.11.7: Response Information is optional; if sent it is a
        # UTF-8 string (the hub may omit it).
        c = self.raw()
        ack = c.connect("rri-" + uuid.uuid4().hex[:6], props=[(mp.REQUEST_RESPONSE_INFO, 1)])
        self.assertEqual(ack.reason, 0)
        info = ack.prop(mp.RESPONSE_INFO)
        self.assertTrue(info is None or isinstance(info, str))

    def test_user_properties_order_and_duplicates(self):
        # [MQTT-3.3.2-17] forwarded unaltered; [MQTT-3.3.2-18] order kept.
        c = self.raw_connected()
        c.subscribe([(self.topic(), 1)])
        ups = [("z", "1"), ("a", "2"), ("z", "3"), ("ünï", "cödé"), ("", ""), ("k", "v" * 1000)]
        self.raw_connected().publish(self.topic(), b"u", qos=1,
                                     props=[(mp.USER_PROPERTY, u) for u in ups])
        p = c.next_publish()
        self.assertEqual(p.props_all(mp.USER_PROPERTY), ups)

    def test_payload_format_and_content_type(self):
        # [MQTT-3.3.2-4] Payload Format Indicator and [MQTT-3.3.2-20] Content
        # Type are passed through unchanged.
        c = self.raw_connected()
        c.subscribe([(self.topic(), 2)])
        pub = self.raw_connected()
        pub.publish(self.topic(), "text ✓".encode(), qos=2,
                    props=[(mp.PAYLOAD_FORMAT, 1), (mp.CONTENT_TYPE, "text/plain; charset=utf-8")])
        pub.publish(self.topic(), b"\xff\xfe", qos=0, props=[(mp.PAYLOAD_FORMAT, 0),
                                                           (mp.CONTENT_TYPE, "application/x-bin")])
        p1 = c.next_publish()
        p2 = c.next_publish()
        self.assertEqual((p1.prop(mp.PAYLOAD_FORMAT), p1.prop(mp.CONTENT_TYPE)),
                         (1, "text/plain; charset=utf-8"))
        self.assertEqual(p1.payload, "text ✓".encode())
        self.assertEqual(p2.prop(mp.PAYLOAD_FORMAT, 0), 0)
        self.assertEqual(p2.prop(mp.CONTENT_TYPE), "application/x-bin")

    def test_properties_through_offline_queue(self):
        client_id = "pq-" + uuid.uuid4().hex[:8]
        c = self.raw_connected(client_id, props=[(mp.SESSION_EXPIRY, 60)])
        c.subscribe([(self.topic(), 1)], props=[(mp.SUBSCRIPTION_ID, 3)])
        c.send(mp.disconnect())
        props = [(mp.PAYLOAD_FORMAT, 1), (mp.CONTENT_TYPE, "ct"), (mp.RESPONSE_TOPIC, "r/t"),
                 (mp.CORRELATION_DATA, b"cd"), (mp.USER_PROPERTY, ("a", "b"))]
        self.raw_connected().publish(self.topic(), b"q", qos=1, props=props)
        c2 = self.raw()
        c2.connect(client_id, clean=False, props=[(mp.SESSION_EXPIRY, 60)])
        p = c2.next_publish()
        self.assertIsNotNone(p)
        for pid, value in props:
            self.assertEqual(p.props_all(pid), [value], p)
        self.assertEqual(p.props_all(mp.SUBSCRIPTION_ID), [3])

    def test_paho_v5_properties_roundtrip(self):
        sub = self.paho()
        sub.subscribe(self.topic(), 1)
        props = make_props(PacketTypes.PUBLISH, ResponseTopic="x/y", CorrelationData=b"c",
                           UserProperty=[("p", "q")], ContentType="c/t", PayloadFormatIndicator=1)
        self.paho().publish(self.topic(), b"m", 1, properties=props)
        m = sub.expect()
        self.assertEqual(m.prop("ResponseTopic"), "x/y")
        self.assertEqual(m.prop("CorrelationData"), b"c")
        self.assertEqual(m.prop("UserProperty"), [("p", "q")])
        self.assertEqual(m.prop("ContentType"), "c/t")

    def test_reason_string_never_sent_when_problem_info_off(self):
        # [MQTT-3.1.2-29] Request Problem Information 0: no Reason String or
        # User Properties on packets other than PUBLISH, CONNACK, DISCONNECT.
        c = self.raw_connected(props=[(mp.REQUEST_PROBLEM_INFO, 0)])
        ack = c.subscribe([(self.topic(), 1)])
        self.assertEqual(ack.props, [], ack)
        c.send(mp.pubrel(999))
        comp = c.expect(mp.PUBCOMP)
        self.assertEqual(comp.props, [], comp)


if __name__ == "__main__":
    unittest.main(verbosity=2)
