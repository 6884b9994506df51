#!/usr/bin/python3
"""CONNECT / CONNACK, client identifiers, shutdown."""

import socket
import time
import unittest

import harness
import mqttproto as mp


class ConnectTest(harness.HubTestCase):

    # [MQTT-3.2.0-1] [MQTT-3.1.4-5] CONNACK 0x00; [MQTT-3.2.2-2] Session Present 0 with Clean Start 1.
    def test_v5_connack_announces_limits(self):
        c = self.raw()
        ack = c.connect("conn-v5-basic")
        self.assertEqual(ack.type, mp.CONNACK)
        self.assertEqual(ack.reason, mp.RC_SUCCESS)
        self.assertFalse(ack.session_present)
        # Hub contract: --max-inflight (default 64) is the Receive Maximum
        # announced in CONNACK (absent would mean 65535, §3.2.2.3.3).
        self.assertEqual(ack.prop(mp.RECEIVE_MAXIMUM), 64, ack)
        # --max-packet-size default 1048576 is enforced, so it must be
        # announced (absent means "no limit", §3.2.2.3.6).
        self.assertEqual(ack.prop(mp.MAXIMUM_PACKET_SIZE), 1048576, ack)
        # The hub accepts client topic aliases: Topic Alias Maximum > 0.
        self.assertGreater(ack.prop(mp.TOPIC_ALIAS_MAXIMUM, 0), 0, ack)
        # QoS 2, retain, wildcards, sub ids and shared subs are supported:
        # these properties must be absent or 1 (§3.2.2.3.4-3.2.2.3.13).
        self.assertIsNone(ack.prop(mp.MAXIMUM_QOS), ack)
        for pid in (mp.RETAIN_AVAILABLE, mp.WILDCARD_SUB_AVAILABLE,
                    mp.SUB_ID_AVAILABLE, mp.SHARED_SUB_AVAILABLE):
            self.assertIn(ack.prop(pid, 1), (1,), ack)
        self.assertTrue(c.is_open())

    # [v3.1.1 MQTT-3.2.0-1] [v3.1.1 MQTT-3.1.4-4] [v3.1.1 MQTT-3.2.2-1]
    def test_v311_connack_bytes(self):
        c = self.raw(mp.V311)
        c.send(mp.connect("conn-v311-basic", version=mp.V311))
        pkt = c.expect(mp.CONNACK)
        # §3.2 (3.1.1): CONNACK is exactly 20 02 <flags> <rc>.
        self.assertEqual(pkt.raw, b"\x20\x02\x00\x00")
        self.assertTrue(c.is_open())

    def test_v5_empty_client_id_is_assigned(self):
        # [MQTT-3.2.2-16] [MQTT-3.1.3-6] [MQTT-3.1.3-7] server-assigned id is
        # returned in CONNACK; [MQTT-3.1.4-3] taking it over ends the first
        # connection with DISCONNECT 0x8E.
        c = self.raw()
        ack = c.connect("", clean=True)
        self.assertEqual(ack.reason, 0)
        assigned = ack.prop(mp.ASSIGNED_CLIENT_ID)
        self.assertTrue(assigned, "no Assigned Client Identifier in %r" % ack)
        c2 = self.raw()
        ack2 = c2.connect("")
        self.assertNotEqual(ack2.prop(mp.ASSIGNED_CLIENT_ID), assigned)
        # The assigned id is a real client id: using it takes over the session.
        c3 = self.raw()
        ack3 = c3.connect(assigned, clean=False)
        self.assertEqual(ack3.reason, 0)
        pkts = self.assertClosedAfter(c, reasons=[mp.RC_SESSION_TAKEN_OVER])
        self.assertTrue(c2.is_open())

    def test_v5_empty_client_id_paho(self):
        c = self.paho(client_id="")
        self.assertTrue(getattr(c.connack_props, "AssignedClientIdentifier", None))

    def test_v311_empty_id_clean_session_0_rejected(self):
        # [v3.1.1 MQTT-3.1.3-8] empty ClientId with CleanSession=0: CONNACK 0x02
        # (identifier rejected) and close; [v3.1.1 MQTT-3.2.2-4] Session Present 0
        # with the error; [v3.1.1 MQTT-3.2.2-5] then close.
        c = self.raw(mp.V311)
        c.send(mp.connect("", version=mp.V311, clean=False))
        pkt = c.expect(mp.CONNACK)
        self.assertEqual(pkt.raw, b"\x20\x02\x00\x02")
        self.assertClosedAfter(c)

    def test_v311_empty_id_clean_session_1_accepted(self):
        # [v3.1.1 MQTT-3.1.3-6] the server assigns a unique id.
        c = self.raw(mp.V311)
        c.send(mp.connect("", version=mp.V311, clean=True))
        self.assertEqual(c.expect(mp.CONNACK).raw, b"\x20\x02\x00\x00")
        self.assertTrue(c.is_open())

    def test_unsupported_protocol_level(self):
        # [MQTT-3.1.2-2] unsupported level: CONNACK 0x84 (v5) / 0x01 (3.1.1)
        # may be sent, then the connection MUST be closed [MQTT-4.13.2-1].
        for level in (3 + 3, 2, 0x85):
            c = self.raw()
            c.send(mp.connect("conn-level-%d" % level, version=level))
            pkts = self.assertClosedAfter(c, msg="level %d" % level)
            for p in pkts:
                self.assertEqual(p.type, mp.CONNACK, p)
                self.assertIn(p.raw[3], (0x01, 0x84), p)

    def test_wrong_protocol_name(self):
        # [MQTT-3.1.2-1] [v3.1.1 MQTT-3.1.2-1] protocol name other than "MQTT":
        # MAY disconnect (and must not go on as MQTT).
        # The server cannot know the client's version, so a 3.1.1-style
        # CONNACK 0x01 (unacceptable protocol version) or a v5 CONNACK with
        # a failure code are both acceptable before the close.
        c = self.raw()
        c.send(mp.connect("conn-badname", proto_name="MQTX"))
        pkts = self.assertClosedAfter(c)
        for p in pkts:
            self.assertEqual(p.type, mp.CONNACK, p)
            if p.raw != b"\x20\x02\x00\x01":
                self.assertGreaterEqual(p.reason, 0x80, p)

    def test_connect_reserved_flag(self):
        # [MQTT-3.1.2-3] [v3.1.1 MQTT-3.1.2-3] reserved flag must be 0, else
        # Malformed Packet.
        for version in (mp.V5, mp.V311):
            c = self.raw(version)
            c.send(mp.connect("conn-reserved", version=version, flags_extra=0x01))
            pkts = self.assertClosedAfter(c, msg="version %d" % version)
            for p in pkts:
                self.assertEqual(p.type, mp.CONNACK, p)
                self.assertNotEqual(p.reason, 0, p)

    def test_will_qos_without_will_flag(self):
        # [MQTT-3.1.2-11] Will QoS must be 0 if the Will Flag is 0.
        c = self.raw()
        c.send(mp.connect("conn-willqos", flags_extra=0x08))
        pkts = self.assertClosedAfter(c)
        for p in pkts:
            self.assertEqual(p.type, mp.CONNACK, p)
            self.assertNotEqual(p.reason, 0, p)

    def test_password_without_username_v311(self):
        # [v3.1.1 MQTT-3.1.2-22] password flag without username flag: close.
        c = self.raw(mp.V311)
        c.send(mp.connect("conn-pw", version=mp.V311, password=b"x"))
        pkts = self.assertClosedAfter(c)
        for p in pkts:
            self.assertEqual(p.type, mp.CONNACK, p)
            self.assertNotEqual(p.raw[3], 0, p)

    def test_many_clients(self):
        clients = [self.raw_connected("conn-many-%d" % i) for i in range(50)]
        for c in clients:
            self.assertTrue(c.is_open())


class ShutdownTest(unittest.TestCase):

    def test_sigterm_exits_zero(self):
        hub = harness.Hub()
        self.addCleanup(hub.cleanup)
        hub.start()
        c = mp.RawClient(hub.port)
        self.addCleanup(c.close)
        self.assertEqual(c.connect("shutdown-client", clean=False,
                                   props=[(mp.SESSION_EXPIRY, 60)]).reason, 0)
        c.subscribe([("shutdown/#", 1)])
        t0 = time.monotonic()
        code = hub.stop()
        self.assertEqual(code, 0, "hub exit code on SIGTERM\n" + hub.log_tail())
        self.assertLess(time.monotonic() - t0, 10)
        # The port is released.
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", hub.port), timeout=1).close()

    def test_sigint_exits_zero(self):
        import signal
        hub = harness.Hub()
        self.addCleanup(hub.cleanup)
        hub.start()
        hub.proc.send_signal(signal.SIGINT)
        try:
            code = hub.proc.wait(timeout=10)
        except Exception:
            code = hub.kill()
        self.assertEqual(code, 0, hub.log_tail())


if __name__ == "__main__":
    unittest.main(verbosity=2)
