#!/usr/bin/python3
"""Topic filters (+, #, $-topics) and shared subscriptions ($share)."""

import collections
import time
import unittest

import harness
import mqttproto as mp
from paho.mqtt.subscribeoptions import SubscribeOptions


# (filter, topic, matches) relative to a per-test prefix; from §4.7.1.
MATCH_CASES = [
    ("sport/tennis/player1/#", "sport/tennis/player1", True),
    ("sport/tennis/player1/#", "sport/tennis/player1/ranking", True),
    ("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", True),
    ("sport/#", "sport", True),               # §4.7.1.2: # includes the parent
    ("sport/tennis/+", "sport/tennis/player1", True),
    ("sport/tennis/+", "sport/tennis/player1/tournament", False),
    ("sport/+", "sport", False),
    ("sport/+", "sport/", True),
    ("+/+", "/finance", True),
    ("/+", "/finance", True),
    ("+", "/finance", False),
    ("+/tennis/#", "sport/tennis", True),
    ("a/+/c", "a//c", True),
    ("a/b", "a/b/", False),
    ("a/b", "A/b", False),                    # §4.7.3 case sensitive
    ("a b/c", "a b/c", True),                 # spaces are allowed
    ("#", "anything/at/all", True),
]


class WildcardTest(harness.HubTestCase):

    # [MQTT-4.7.3-4] [v3.1.1 MQTT-4.7.3-4] names and filters are matched as
    # written (case sensitive, no normalisation).
    def test_match_table(self):
        pub = self.paho()
        subs = []
        for i, (f, _, _) in enumerate(MATCH_CASES):
            s = self.paho(version=mp.V5 if i % 2 else mp.V311)
            root = self.topic("c%d" % i)
            s.subscribe(root + "/" + f, 1)
            subs.append((s, root))
        for i, (_, t, _) in enumerate(MATCH_CASES):
            pub.publish(subs[i][1] + "/" + t, b"%d" % i, 1)
        time.sleep(0.3)
        for i, (f, t, want) in enumerate(MATCH_CASES):
            s = subs[i][0]
            msgs = s.collect(1, timeout=1.0 if want else 0.05)
            self.assertEqual(len(msgs), 1 if want else 0,
                             "filter %r topic %r: expected match=%s, got %r" % (f, t, want, msgs))

    def test_dollar_topics_not_matched_by_leading_wildcards(self):
        # [MQTT-4.7.2-1] filters starting with # or + don't match $ topics.
        dollar = "$it%s" % self.prefix.replace("/", "_")
        hash_sub = self.paho()
        hash_sub.subscribe("#", 0)
        plus_sub = self.paho()
        plus_sub.subscribe("+/x", 0)
        explicit = self.paho()
        explicit.subscribe(dollar + "/#", 0)
        explicit_plus = self.paho()
        explicit_plus.subscribe(dollar + "/+", 0)
        pub = self.paho()
        pub.publish(dollar + "/x", b"d", 1)
        self.assertEqual(explicit.expect(timeout=3).topic, dollar + "/x")
        self.assertEqual(explicit_plus.expect(timeout=3).topic, dollar + "/x")
        time.sleep(0.3)
        for s in (hash_sub, plus_sub):
            leaked = [m for m in s.quiet(0.3) if m.topic.startswith("$")]
            self.assertEqual(leaked, [])

    def test_invalid_filters_rejected(self):
        # [MQTT-4.7.1-1] '#' last and alone in its level; [MQTT-4.7.1-2] '+'
        # alone in its level; [MQTT-4.7.3-1] not empty.  Likewise 3.1.1
        # [v3.1.1 MQTT-4.7.1-2] [v3.1.1 MQTT-4.7.1-3] [v3.1.1 MQTT-4.7.3-1].  v5: SUBACK 0x8F Topic Filter invalid, or a DISCONNECT 0x81
        # (malformed) and close; 3.1.1: SUBACK 0x80 or close.
        for bad in ("a/#/b", "a/b#", "a+/b", "+a", "#/", ""):
            for version in (mp.V5, mp.V311):
                c = self.raw_connected(version=version)
                pid = c.pid()
                c.send(mp.subscribe(pid, [(bad, 0)], version=version))
                pkts, closed = c.packets_until_closed(1.0)
                label = "filter %r v%d: %r" % (bad, version, pkts)
                if closed:
                    for p in pkts:
                        self.assertEqual(p.type, mp.DISCONNECT, label)
                        self.assertIn(p.reason, (mp.RC_MALFORMED, mp.RC_PROTOCOL_ERROR), label)
                else:
                    self.assertEqual(len(pkts), 1, label)
                    self.assertEqual(pkts[0].type, mp.SUBACK, label)
                    self.assertEqual(pkts[0].reasons,
                                     [mp.RC_TOPIC_FILTER_INVALID if version == mp.V5 else 0x80],
                                     label)
        self.assertTrue(self.raw_connected().is_open())

    def test_wildcard_in_publish_topic_rejected(self):
        # [MQTT-3.3.2-2] [MQTT-4.7.0-1] a Topic Name MUST NOT contain wildcards.
        watcher = self.paho()
        watcher.subscribe(self.topic("#"), 0)
        for bad in (self.topic("+"), self.topic("#"), self.topic("a/+/b")):
            c = self.raw_connected()
            c.send(mp.publish(bad, b"x", qos=1, pid=1))
            pkts, closed = c.packets_until_closed(1.0)
            if closed:
                for p in pkts:
                    self.assertEqual(p.type, mp.DISCONNECT, pkts)
                    self.assertIn(p.reason, (mp.RC_MALFORMED, mp.RC_PROTOCOL_ERROR,
                                             mp.RC_TOPIC_NAME_INVALID), pkts)
            else:
                self.assertEqual([(p.type, p.reason) for p in pkts],
                                 [(mp.PUBACK, mp.RC_TOPIC_NAME_INVALID)])
        self.assertEqual(watcher.quiet(0.3), [])


class SharedSubscriptionTest(harness.HubTestCase):

    def test_three_members_share_300_messages(self):
        # §4.8.2: each message goes to exactly one member of the group.
        members = [self.paho() for _ in range(3)]
        for m in members:
            self.assertEqual(m.subscribe("$share/g1/" + self.topic("work"), 1), [1])
        plain = self.paho()
        plain.subscribe(self.topic("work"), 1)
        other_group = [self.paho() for _ in range(2)]
        for m in other_group:
            m.subscribe("$share/g2/" + self.topic("+"), 1)
        pub = self.paho()
        infos = [pub.publish(self.topic("work"), b"%d" % i, 1, wait=False) for i in range(300)]
        pub.wait_published(infos, timeout=20)

        def drain(clients, expect_total):
            got = collections.defaultdict(list)
            deadline = time.monotonic() + 15
            while sum(len(v) for v in got.values()) < expect_total and time.monotonic() < deadline:
                for i, c in enumerate(clients):
                    m = c.get(0.02)
                    while m is not None:
                        got[i].append(int(m.payload))
                        m = c.get(0)
            for i, c in enumerate(clients):
                got[i].extend(int(m.payload) for m in c.quiet(0.3))
            return got

        g1 = drain(members, 300)
        counts = [len(g1[i]) for i in range(3)]
        allmsgs = sorted(x for v in g1.values() for x in v)
        self.assertEqual(allmsgs, list(range(300)), "group g1 counts %s" % counts)
        for i, n in enumerate(counts):
            self.assertGreater(n, 0, "member %d got nothing: counts %s" % (i, counts))
        g2 = drain(other_group, 300)
        self.assertEqual(sorted(x for v in g2.values() for x in v), list(range(300)))
        self.assertEqual([int(m.payload) for m in plain.collect(300, timeout=10)], list(range(300)))

    def test_shared_v311_client(self):
        # Shared subscriptions are an MQTT 5 feature, but the filter syntax is
        # accepted from 3.1.1 clients by most brokers; allscene documents
        # support for both.  Each message still goes to one member.
        members = [self.paho(version=mp.V311) for _ in range(2)]
        for m in members:
            self.assertEqual(m.subscribe("$share/g311/" + self.topic(), 1), [1])
        pub = self.paho()
        for i in range(20):
            pub.publish(self.topic(), b"%d" % i, 1, wait=False)
        got = []
        deadline = time.monotonic() + 5
        while len(got) < 20 and time.monotonic() < deadline:
            for m in members:
                x = m.get(0.02)
                if x:
                    got.append(int(x.payload))
        got += [int(x.payload) for m in members for x in m.quiet(0.3)]
        self.assertEqual(sorted(got), list(range(20)))

    def test_retained_not_sent_on_shared_subscribe(self):
        # §3.3.1.3: retained messages are sent "when a new Non-shared
        # Subscription is made"; §4.8.2: not on a shared subscription.
        pub = self.paho()
        pub.publish(self.topic(), b"r", 1, retain=True)
        s = self.paho()
        s.subscribe("$share/gr/" + self.topic(), 1)
        self.assertEqual(s.quiet(0.7), [])
        pub.publish(self.topic(), b"", 1, retain=True)

    def test_member_leaving(self):
        a, b = self.paho(), self.paho()
        a.subscribe("$share/gl/" + self.topic(), 1)
        b.subscribe("$share/gl/" + self.topic(), 1)
        b.unsubscribe("$share/gl/" + self.topic())
        pub = self.paho()
        for i in range(10):
            pub.publish(self.topic(), b"%d" % i, 1)
        self.assertEqual(sorted(int(m.payload) for m in a.collect(10)), list(range(10)))
        self.assertEqual(b.quiet(0.3), [])

    def test_member_disconnect_redistributes(self):
        a = self.paho()
        b = self.paho()
        a.subscribe("$share/gd/" + self.topic(), 1)
        b.subscribe("$share/gd/" + self.topic(), 1)
        b.kill()
        time.sleep(0.3)
        pub = self.paho()
        for i in range(10):
            pub.publish(self.topic(), b"%d" % i, 1)
        self.assertEqual(sorted(int(m.payload) for m in a.collect(10)), list(range(10)))

    # [MQTT-4.8.2-3] the member's granted QoS is respected.
    def test_shared_with_wildcards_and_qos(self):
        a = self.paho()
        self.assertEqual(a.subscribe("$share/gw/" + self.topic("+/#"), 2), [2])
        pub = self.paho()
        pub.publish(self.topic("x/y"), b"q2", 2)
        m = a.expect()
        self.assertEqual((m.topic, m.qos), (self.topic("x/y"), 2))

    def test_invalid_share_names(self):
        # [MQTT-4.8.2-1] ShareName must be non-empty, without / + #;
        # [MQTT-4.8.2-2] followed by "/" and a Topic Filter.
        for bad in ("$share/g", "$share//t", "$share/g+/t", "$share/g#/t", "$share/g/"):
            c = self.raw_connected()
            pid = c.pid()
            c.send(mp.subscribe(pid, [(bad, 1)]))
            pkts, closed = c.packets_until_closed(1.0)
            label = "filter %r: %r" % (bad, pkts)
            if closed:
                for p in pkts:
                    self.assertEqual(p.type, mp.DISCONNECT, label)
                    self.assertIn(p.reason, (mp.RC_MALFORMED, mp.RC_PROTOCOL_ERROR), label)
            else:
                self.assertEqual([(p.type, p.reasons) for p in pkts],
                                 [(mp.SUBACK, [mp.RC_TOPIC_FILTER_INVALID])], label)

    def test_shared_and_no_local_is_protocol_error(self):
        # [MQTT-3.8.3-4] No Local on a Shared Subscription is a Protocol Error.
        c = self.raw_connected()
        c.send(mp.subscribe(c.pid(), [("$share/gn/" + self.topic(),
                                       mp.sub_options(1, no_local=True))]))
        self.assertClosedAfter(c, reasons=[mp.RC_PROTOCOL_ERROR])


if __name__ == "__main__":
    unittest.main(verbosity=2)
