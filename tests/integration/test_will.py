#!/usr/bin/python3
"""Will messages: abnormal disconnect, DISCONNECT 0x00 / 0x04, Will Delay
Interval, session end, keep-alive timeout, protocol error."""

import time
import unittest
import uuid

import harness
import mqttproto as mp
from harness import make_props
from paho.mqtt.packettypes import PacketTypes


class WillTest(harness.HubTestCase):

    def watcher(self, qos=1):
        w = self.paho()
        w.subscribe(self.topic("will/#"), qos)
        return w

    def will_client(self, version=mp.V5, will_props=None, session_expiry=None, keepalive=60,
                    qos=1, retain=False, client_id=None):
        c = self.paho(client_id, version=version, connect=False)
        c.connect(keepalive=keepalive, session_expiry=session_expiry,
                  will=dict(topic=self.topic("will/x"), payload=b"gone", qos=qos,
                            retain=retain, properties=will_props))
        return c

    def test_will_on_abnormal_disconnect_v5(self):
        w = self.watcher()
        c = self.will_client()
        time.sleep(0.1)
        c.kill()
        # [MQTT-3.1.2-7] [MQTT-3.1.2-8] the will is published when the
        # connection is closed without a DISCONNECT.
        m = w.expect(timeout=5)
        self.assertEqual((m.topic, m.payload, m.qos), (self.topic("will/x"), b"gone", 1))

    # [v3.1.1 MQTT-3.1.2-8]
    def test_will_on_abnormal_disconnect_v311(self):
        w = self.watcher()
        c = self.will_client(version=mp.V311)
        c.kill()
        m = w.expect(timeout=5)
        self.assertEqual(m.payload, b"gone")

    def test_will_on_rst_raw(self):
        w = self.watcher()
        c = self.raw_connected(will=dict(topic=self.topic("will/raw"), payload=b"rst", qos=0))
        c.abort()
        self.assertEqual(w.expect(timeout=5).payload, b"rst")

    def test_no_will_on_normal_disconnect(self):
        # [MQTT-3.1.2-10] [MQTT-3.14.4-3] [v3.1.1 MQTT-3.1.2-10]
        # [v3.1.1 MQTT-3.14.4-3] DISCONNECT 0x00 removes the will.
        for version in (mp.V5, mp.V311):
            w = self.watcher()
            c = self.will_client(version=version)
            c.disconnect()
            self.assertEqual(w.quiet(1.0), [], "will sent after normal DISCONNECT (v%d)" % version)

    def test_will_on_disconnect_with_will_message(self):
        # §3.14.2.1 reason 0x04 Disconnect with Will Message.
        w = self.watcher()
        c = self.will_client()
        c.disconnect(reasoncode=mp.RC_DISCONNECT_WITH_WILL)
        self.assertEqual(w.expect(timeout=5).payload, b"gone")

    def test_will_delay(self):
        # §3.1.3.2.2 [MQTT-3.1.2-8]: the will is delayed by the Will Delay
        # Interval.
        w = self.watcher()
        c = self.will_client(will_props=make_props(PacketTypes.WILLMESSAGE, WillDelayInterval=2),
                             session_expiry=30)
        t0 = time.monotonic()
        c.kill()
        m = w.expect(timeout=6)
        elapsed = time.monotonic() - t0
        self.assertEqual(m.payload, b"gone")
        self.assertGreaterEqual(elapsed, 1.7, "will sent before its delay")
        self.assertLess(elapsed, 4.5)

    def test_will_delay_cancelled_by_reconnect(self):
        # [MQTT-3.1.3-9] a new connection for the session before the delay
        # passes: the will MUST NOT be sent.
        w = self.watcher()
        client_id = "willre-" + uuid.uuid4().hex[:8]
        c = self.will_client(will_props=make_props(PacketTypes.WILLMESSAGE, WillDelayInterval=2),
                             session_expiry=30, client_id=client_id)
        c.kill()
        time.sleep(0.3)
        c2 = self.paho(client_id, connect=False)
        c2.connect(clean=False, session_expiry=30)
        self.assertTrue(c2.session_present)
        self.assertEqual(w.quiet(3.0), [])

    def test_will_sent_at_session_end_before_delay(self):
        # §3.1.3.2.2 [MQTT-3.1.2-8]: the will is published when the delay passes "or the
        # Session ends, whichever happens first".
        w = self.watcher()
        c = self.will_client(will_props=make_props(PacketTypes.WILLMESSAGE, WillDelayInterval=30),
                             session_expiry=1)
        t0 = time.monotonic()
        c.kill()
        m = w.expect(timeout=5)
        self.assertEqual(m.payload, b"gone")
        self.assertLess(time.monotonic() - t0, 4)

    def test_will_with_session_expiry_zero_sent_immediately(self):
        w = self.watcher()
        c = self.will_client(will_props=make_props(PacketTypes.WILLMESSAGE, WillDelayInterval=30))
        t0 = time.monotonic()
        c.kill()
        self.assertEqual(w.expect(timeout=5).payload, b"gone")
        self.assertLess(time.monotonic() - t0, 3)

    # [MQTT-3.1.2-15] Will Retain 1: published as a retained message.
    def test_will_retained(self):
        c = self.will_client(retain=True)
        c.kill()
        time.sleep(0.5)
        late = self.paho()
        late.subscribe(self.topic("will/#"), 1)
        m = late.expect(timeout=5)
        self.assertEqual((m.payload, m.retain), (b"gone", True))
        self.paho().publish(self.topic("will/x"), b"", 1, retain=True)

    def test_will_properties_passed_through(self):
        # §3.1.3.2: will properties are sent with the will, user properties
        # in order [MQTT-3.1.3-10].
        w = self.watcher()
        props = make_props(PacketTypes.WILLMESSAGE, ContentType="application/json",
                           PayloadFormatIndicator=1, ResponseTopic=self.topic("resp"),
                           CorrelationData=b"\x01\x02", UserProperty=[("a", "1"), ("a", "2")])
        c = self.will_client(will_props=props)
        c.kill()
        m = w.expect(timeout=5)
        self.assertEqual(m.prop("ContentType"), "application/json")
        self.assertEqual(m.prop("PayloadFormatIndicator"), 1)
        self.assertEqual(m.prop("ResponseTopic"), self.topic("resp"))
        self.assertEqual(m.prop("CorrelationData"), b"\x01\x02")
        self.assertEqual(m.prop("UserProperty"), [("a", "1"), ("a", "2")])

    def test_will_on_keep_alive_timeout(self):
        # [MQTT-3.1.2-22] keep alive expiry closes the connection as a
        # network failure, so the will is sent (§3.1.2.5).
        w = self.watcher()
        c = self.raw_connected(keepalive=1,
                               will=dict(topic=self.topic("will/ka"), payload=b"ka", qos=1))
        t0 = time.monotonic()
        m = w.expect(timeout=6)
        self.assertEqual(m.payload, b"ka")
        self.assertGreaterEqual(time.monotonic() - t0, 1.0)
        pkts, closed = c.packets_until_closed(2)
        self.assertTrue(closed)

    def test_will_on_protocol_error(self):
        # §3.1.2.5: the will is published when "the Server closes the Network
        # Connection because of a protocol error".
        w = self.watcher()
        c = self.raw_connected(will=dict(topic=self.topic("will/pe"), payload=b"pe", qos=1))
        c.send(b"\x36\x05\x00\x01a\x00\x01")  # PUBLISH with QoS 3
        self.assertClosedAfter(c)
        self.assertEqual(w.expect(timeout=5).payload, b"pe")

    def test_takeover_resuming_session_respects_will_delay(self):
        # [MQTT-3.1.4-3] [MQTT-3.1.3-9] + §3.1.3.2.2: on takeover the old connection's will
        # follows the Will Delay Interval; the new connection continues the
        # session before the delay passes, so the will is not sent.
        w = self.watcher()
        client_id = "willdelto-" + uuid.uuid4().hex[:8]
        self.will_client(will_props=make_props(PacketTypes.WILLMESSAGE, WillDelayInterval=2),
                         session_expiry=60, client_id=client_id)
        new = self.raw()
        ack = new.connect(client_id, clean=False, props=[(mp.SESSION_EXPIRY, 60)])
        self.assertTrue(ack.session_present)
        self.assertEqual(w.quiet(3.0), [])

    def test_takeover_with_clean_start_sends_will(self):
        # Clean Start 1 on takeover ends the old session, so its will is
        # published even though the delay has not passed (§3.1.3.2.2:
        # "or the Session ends, whichever happens first").
        w = self.watcher()
        client_id = "willcsto-" + uuid.uuid4().hex[:8]
        self.will_client(will_props=make_props(PacketTypes.WILLMESSAGE, WillDelayInterval=30),
                         session_expiry=60, client_id=client_id)
        new = self.raw()
        ack = new.connect(client_id, clean=True, props=[(mp.SESSION_EXPIRY, 60)])
        self.assertFalse(ack.session_present)
        self.assertEqual(w.expect(timeout=4).payload, b"gone")

    def test_will_topic_with_wildcard_rejected(self):
        # [MQTT-4.7.0-1]/§3.1.3.3: the Will Topic is a Topic Name, so no
        # wildcards; the server refuses the CONNECT (CONNACK >= 0x80) and
        # closes.
        c = self.raw()
        c.send(mp.connect("willwild", will=dict(topic=self.topic("will/#"), payload=b"x")))
        pkts = self.assertClosedAfter(c)
        for p in pkts:
            self.assertEqual(p.type, mp.CONNACK, p)
            self.assertGreaterEqual(p.reason, 0x80, p)

    # [v3.1.1 MQTT-3.1.2-14] Will QoS 2 is accepted and used.
    def test_will_qos2_v311(self):
        w = self.paho(version=mp.V311)
        w.subscribe(self.topic("will/#"), 2)
        c = self.will_client(version=mp.V311, qos=2)
        c.kill()
        m = w.expect(timeout=5)
        self.assertEqual((m.payload, m.qos), (b"gone", 2))

    def test_will_on_takeover_v311(self):
        # [v3.1.1 MQTT-3.1.4-2] the existing client is disconnected as on a network
        # failure, so its will is published.
        w = self.watcher()
        client_id = "willto-" + uuid.uuid4().hex[:8]
        self.will_client(version=mp.V311, client_id=client_id)
        self.paho(client_id, version=mp.V311)
        self.assertEqual(w.expect(timeout=5).payload, b"gone")


if __name__ == "__main__":
    unittest.main(verbosity=2)
