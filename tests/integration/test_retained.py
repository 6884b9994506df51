#!/usr/bin/python3
"""Retained messages: storage, replacement, clearing, retain handling,
retain-as-published, expiry."""

import time
import unittest

import harness
import mqttproto as mp
from harness import make_props
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.subscribeoptions import SubscribeOptions


class RetainedTest(harness.HubTestCase):

    def test_retained_delivered_to_new_subscriber_v5_and_v311(self):
        pub = self.paho()
        pub.publish(self.topic(), b"r1", 1, retain=True)
        for version in (mp.V5, mp.V311):
            sub = self.paho(version=version)
            sub.subscribe(self.topic(), 1)
            m = sub.expect()
            # [MQTT-3.3.1-5] [MQTT-3.3.1-9] [v3.1.1 MQTT-3.3.1-5] [v3.1.1 MQTT-3.3.1-6]
            # stored; [v3.1.1 MQTT-3.3.1-8] / v5 §3.3.1.3:
            # RETAIN 1 when sent because of a new subscription.
            self.assertEqual((m.payload, m.retain, m.qos), (b"r1", True, 1))

    def test_live_message_retain_flag_cleared_v311(self):
        # [v3.1.1 MQTT-3.3.1-9]: RETAIN 0 for a message that matches an
        # established subscription, however it was published.
        sub = self.paho(version=mp.V311)
        sub.subscribe(self.topic(), 1)
        self.paho().publish(self.topic(), b"live", 1, retain=True)
        m = sub.expect()
        self.assertEqual((m.payload, m.retain), (b"live", False))

    def test_retain_as_published(self):
        # [MQTT-3.3.1-12] RAP 0: RETAIN forced to 0 on forwarding.
        # [MQTT-3.3.1-13] RAP 1: RETAIN as in the received PUBLISH.
        sub0 = self.paho()
        sub0.subscribe(self.topic(), options=SubscribeOptions(qos=1, retainAsPublished=False))
        sub1 = self.paho()
        sub1.subscribe(self.topic(), options=SubscribeOptions(qos=1, retainAsPublished=True))
        pub = self.paho()
        pub.publish(self.topic(), b"kept", 1, retain=True)
        pub.publish(self.topic(), b"plain", 1, retain=False)
        self.assertEqual([(m.payload, m.retain) for m in sub0.collect(2)],
                         [(b"kept", False), (b"plain", False)])
        self.assertEqual([(m.payload, m.retain) for m in sub1.collect(2)],
                         [(b"kept", True), (b"plain", False)])

    def test_replace_and_clear(self):
        pub = self.paho()
        pub.publish(self.topic(), b"old", 1, retain=True)
        pub.publish(self.topic(), b"new", 1, retain=True)
        sub = self.paho()
        sub.subscribe(self.topic(), 1)
        # [MQTT-3.3.1-5] the new retained message replaces the old one.
        self.assertEqual([m.payload for m in sub.collect(2, timeout=1)], [b"new"])
        # [MQTT-3.3.1-6] zero-byte payload: processed normally (delivered to
        # current subscribers) but the retained message is removed;
        # [MQTT-3.3.1-7] and not stored.
        pub.publish(self.topic(), b"", 1, retain=True)
        m = sub.expect()
        self.assertEqual(m.payload, b"")
        late = self.paho()
        late.subscribe(self.topic(), 1)
        self.assertEqual(late.quiet(0.7), [])

    def test_clear_with_qos0(self):
        # [v3.1.1 MQTT-3.3.1-10] [v3.1.1 MQTT-3.3.1-11]
        pub = self.paho(version=mp.V311)
        pub.publish(self.topic(), b"x", 0, retain=True)
        pub.publish(self.topic(), b"", 0, retain=True)
        time.sleep(0.2)
        late = self.paho(version=mp.V311)
        late.subscribe(self.topic(), 1)
        self.assertEqual(late.quiet(0.7), [])

    def test_retain_handling(self):
        pub = self.paho()
        pub.publish(self.topic(), b"r", 1, retain=True)
        # Retain Handling 0: sent at every subscribe [MQTT-3.3.1-9], also when
        # the subscription is replaced [MQTT-3.8.4-4].
        s0 = self.paho()
        s0.subscribe(self.topic(), options=SubscribeOptions(qos=1, retainHandling=0))
        self.assertEqual([m.payload for m in s0.collect(2, timeout=0.8)], [b"r"])
        s0.subscribe(self.topic(), options=SubscribeOptions(qos=1, retainHandling=0))
        self.assertEqual([m.payload for m in s0.collect(2, timeout=0.8)], [b"r"])
        # Retain Handling 1: only if the subscription did not exist
        # [MQTT-3.3.1-10].
        s1 = self.paho()
        s1.subscribe(self.topic(), options=SubscribeOptions(qos=1, retainHandling=1))
        self.assertEqual([m.payload for m in s1.collect(2, timeout=0.8)], [b"r"])
        s1.subscribe(self.topic(), options=SubscribeOptions(qos=1, retainHandling=1))
        self.assertEqual(s1.quiet(0.7), [])
        # Retain Handling 2: never at subscribe time [MQTT-3.3.1-11].
        s2 = self.paho()
        s2.subscribe(self.topic(), options=SubscribeOptions(qos=1, retainHandling=2))
        self.assertEqual(s2.quiet(0.7), [])
        # ...but live messages still arrive.
        pub.publish(self.topic(), b"live", 1)
        for s in (s0, s1, s2):
            self.assertEqual(s.expect().payload, b"live")

    def test_retained_qos_downgraded(self):
        # Retained message delivered at min(stored QoS, granted QoS)
        # [MQTT-3.8.4-8].
        pub = self.paho()
        pub.publish(self.topic("q2"), b"two", 2, retain=True)
        pub.publish(self.topic("q0"), b"zero", 0, retain=True)
        time.sleep(0.2)
        sub = self.paho()
        sub.subscribe(self.topic("q2"), 1)
        self.assertEqual(sub.expect().qos, 1)
        sub.subscribe(self.topic("q0"), 2)
        self.assertEqual(sub.expect().qos, 0)

    def test_wildcard_subscription_gets_all_retained(self):
        pub = self.paho()
        topics = [self.topic(t) for t in ("a", "a/b", "a/b/c", "x/y")]
        for t in topics:
            pub.publish(t, t.encode(), 1, retain=True)
        sub = self.paho()
        sub.subscribe(self.topic("#"), 1)
        got = sorted(m.topic for m in sub.collect(10, timeout=1.5))
        self.assertEqual(got, sorted(topics))
        sub2 = self.paho()
        sub2.subscribe(self.topic("a/+"), 1)
        self.assertEqual([m.topic for m in sub2.collect(10, timeout=1)], [self.topic("a/b")])

    def test_retained_properties_kept(self):
        # [MQTT-3.3.2-4] [MQTT-3.3.2-17] [MQTT-3.3.2-20]
        pub = self.paho()
        props = make_props(PacketTypes.PUBLISH, ContentType="text/plain",
                           PayloadFormatIndicator=1, UserProperty=[("k", "v")])
        pub.publish(self.topic(), "héllo".encode(), 1, retain=True, properties=props)
        time.sleep(0.2)
        sub = self.paho()
        sub.subscribe(self.topic(), 1)
        m = sub.expect()
        self.assertEqual(m.prop("ContentType"), "text/plain")
        self.assertEqual(m.prop("PayloadFormatIndicator"), 1)
        self.assertEqual(m.prop("UserProperty"), [("k", "v")])

    def test_retained_message_expiry(self):
        # [MQTT-3.3.2-5] a retained message whose expiry has passed is no
        # longer delivered; otherwise the remaining expiry is sent
        # [MQTT-3.3.2-6].
        pub = self.paho()
        pub.publish(self.topic("short"), b"gone", 1, retain=True,
                    properties=make_props(PacketTypes.PUBLISH, MessageExpiryInterval=1))
        pub.publish(self.topic("long"), b"kept", 1, retain=True,
                    properties=make_props(PacketTypes.PUBLISH, MessageExpiryInterval=100))
        time.sleep(2.2)
        sub = self.paho()
        sub.subscribe(self.topic("+"), 1)
        msgs = sub.collect(2, timeout=1.0)
        self.assertEqual([m.payload for m in msgs], [b"kept"])
        remaining = msgs[0].prop("MessageExpiryInterval")
        self.assertIsNotNone(remaining)
        self.assertLessEqual(remaining, 98)
        self.assertGreaterEqual(remaining, 90)

    def test_many_retained_topics(self):
        pub = self.paho()
        infos = [pub.publish(self.topic("m/%d" % i), b"%d" % i, 1, retain=True, wait=False)
                 for i in range(300)]
        pub.wait_published(infos)
        sub = self.paho()
        sub.subscribe(self.topic("m/+"), 0)
        msgs = sub.collect(300, timeout=10)
        self.assertEqual(sorted(int(m.payload) for m in msgs), list(range(300)))
        self.assertTrue(all(m.retain for m in msgs))

    def test_retained_not_matched_by_wildcard_for_dollar_topics(self):
        # [MQTT-4.7.2-1] filters starting with a wildcard don't match $ topics.
        t = "$it-%s/r" % self.prefix.replace("/", "-")
        pub = self.paho()
        pub.publish(t, b"dollar", 1, retain=True)
        sub = self.paho()
        sub.subscribe("+/r", 1)
        self.assertEqual([m for m in sub.quiet(0.7) if m.topic == t], [])
        sub.subscribe(t.split("/")[0] + "/#", 1)
        self.assertEqual(sub.expect().topic, t)
        pub.publish(t, b"", 1, retain=True)

    def test_resubscribe_in_persistent_session_rh1(self):
        # Retain Handling 1 [MQTT-3.3.1-10] is judged against the session's
        # subscriptions,
        # which survive a reconnect.
        client_id = "rh1-" + self.prefix.replace("/", "-")
        pub = self.paho()
        pub.publish(self.topic(), b"r", 1, retain=True)
        s = self.paho(client_id, connect=False)
        s.connect(clean=True, session_expiry=60)
        s.subscribe(self.topic(), options=SubscribeOptions(qos=1, retainHandling=1))
        self.assertEqual([m.payload for m in s.collect(2, timeout=0.7)], [b"r"])
        s.disconnect()
        s.connect(clean=False, session_expiry=60)
        s.subscribe(self.topic(), options=SubscribeOptions(qos=1, retainHandling=1))
        self.assertEqual(s.quiet(0.7), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
