#!/usr/bin/python3
"""Several event loops (--threads 2): routing across loops, shared
subscriptions across loops, takeover and session resume across loops.

Which loop a connection lands on is not observable from outside, so each
case opens enough connections (and fillers between them) that, whatever the
assignment scheme (round-robin, by hash, least-loaded), some pairs sit on
different loops."""

import collections
import time
import unittest
import uuid

import harness
import mqttproto as mp


class ThreadsTest(harness.HubTestCase):
    HUB_ARGS = ("--threads", 2)

    def test_fan_in_fan_out_across_loops(self):
        subs = [self.paho(version=mp.V5 if i % 2 else mp.V311) for i in range(6)]
        for s in subs:
            s.subscribe(self.topic("#"), 1)
        pubs = [self.paho(version=mp.V311 if i % 2 else mp.V5) for i in range(6)]
        infos = []
        for i, p in enumerate(pubs):
            for j in range(25):
                infos.append((p, p.publish(self.topic("p%d" % i), b"%d:%d" % (i, j), 1, wait=False)))
        for p in pubs:
            p.wait_published([info for q, info in infos if q is p], timeout=20)
        for s in subs:
            msgs = s.collect(150, timeout=20)
            self.assertEqual(len(msgs), 150, "subscriber %s got %d" % (s.client_id, len(msgs)))
            per_pub = collections.defaultdict(list)
            for m in msgs:
                i, j = m.payload.split(b":")
                per_pub[int(i)].append(int(j))
            # [MQTT-4.6.0-6] per-publisher order holds across loops.
            for i in range(6):
                self.assertEqual(per_pub[i], list(range(25)))

    def test_qos2_across_loops(self):
        subs = [self.raw_connected() for _ in range(3)]
        for s in subs:
            s.subscribe([(self.topic(), 2)])
        pubs = [self.raw_connected() for _ in range(3)]
        for i, p in enumerate(pubs):
            for j in range(5):
                p.publish(self.topic(), b"%d" % (i * 5 + j), qos=2)
        for s in subs:
            got = sorted(int(p.payload) for p in s.drain_publishes(1.0))
            self.assertEqual(got, list(range(15)))

    def test_takeover_across_loops(self):
        # [MQTT-3.1.4-3] takeover works whichever loop holds the old
        # connection: try with 0..3 filler connections in between.
        for fillers in range(4):
            client_id = "xloop-%d-%s" % (fillers, uuid.uuid4().hex[:6])
            old = self.raw_connected(client_id, props=[(mp.SESSION_EXPIRY, 60)])
            old.subscribe([(self.topic("t%d" % fillers), 1)])
            for _ in range(fillers):
                self.raw_connected()
            new = self.raw()
            ack = new.connect(client_id, clean=False, props=[(mp.SESSION_EXPIRY, 60)])
            self.assertEqual(ack.reason, 0)
            self.assertTrue(ack.session_present, "fillers=%d" % fillers)
            self.assertClosedAfter(old, reasons=[mp.RC_SESSION_TAKEN_OVER],
                                   msg="fillers=%d" % fillers)
            self.paho().publish(self.topic("t%d" % fillers), b"x", 1)
            p = new.next_publish()
            self.assertIsNotNone(p, "subscription lost in takeover (fillers=%d)" % fillers)
            self.assertEqual(new.drain_publishes(0.3), [], "duplicate after takeover")

    def test_takeover_race(self):
        # Several connections with one client id at once: exactly one stays.
        client_id = "race-" + uuid.uuid4().hex[:6]
        conns = [self.raw() for _ in range(6)]
        for c in conns:
            c.send(mp.connect(client_id, props=[(mp.SESSION_EXPIRY, 60)], clean=False))
        time.sleep(1.0)
        alive = []
        for c in conns:
            pkts, closed = c.packets_until_closed(0.3)
            if not closed:
                alive.append(c)
        self.assertEqual(len(alive), 1, "%d connections survived a takeover race" % len(alive))
        self.assertTrue(alive[0].is_open())

    def test_session_resume_across_loops(self):
        for version in (mp.V5, mp.V311):
            for fillers in range(3):
                client_id = "resume-%d-%s" % (fillers, uuid.uuid4().hex[:6])
                kw = dict(props=[(mp.SESSION_EXPIRY, 60)]) if version == mp.V5 else dict(clean=False)
                c = self.raw_connected(client_id, version=version, **kw)
                c.subscribe([(self.topic("r"), 1)])
                c.send(mp.disconnect(version=version))
                c.close()
                self.paho().publish(self.topic("r"), b"q%d" % fillers, 1)
                for _ in range(fillers):
                    self.raw_connected()
                c2 = self.raw(version)
                ack = c2.connect(client_id, clean=False, **({"props": kw["props"]} if version == mp.V5 else {}))
                self.assertTrue(ack.session_present)
                p = c2.next_publish()
                self.assertIsNotNone(p)
                self.assertEqual(p.payload, b"q%d" % fillers)
                c2.send(mp.unsubscribe(c2.pid(), [self.topic("r")], version=version))
                c2.expect(mp.UNSUBACK)

    def test_shared_subscription_across_loops(self):
        members = [self.paho() for _ in range(4)]
        for m in members:
            m.subscribe("$share/xl/" + self.topic(), 1)
        pubs = [self.paho() for _ in range(2)]
        infos = []
        for k, p in enumerate(pubs):
            infos += [p.publish(self.topic(), b"%d" % (k * 100 + i), 1, wait=False) for i in range(100)]
        got = collections.defaultdict(list)
        deadline = time.monotonic() + 15
        while sum(map(len, got.values())) < 200 and time.monotonic() < deadline:
            for i, m in enumerate(members):
                x = m.get(0.01)
                if x:
                    got[i].append(int(x.payload))
        for i, m in enumerate(members):
            got[i] += [int(x.payload) for x in m.quiet(0.2)]
        allmsgs = sorted(x for v in got.values() for x in v)
        self.assertEqual(allmsgs, sorted(list(range(100)) + list(range(100, 200))))
        self.assertGreaterEqual(sum(1 for v in got.values() if v), 2,
                                "only one member received messages")

    def test_will_across_loops(self):
        watchers = [self.paho() for _ in range(3)]
        for w in watchers:
            w.subscribe(self.topic("will"), 1)
        victims = []
        for i in range(4):
            v = self.raw_connected(will=dict(topic=self.topic("will"), payload=b"w%d" % i, qos=1))
            victims.append(v)
        for v in victims:
            v.abort()
        for w in watchers:
            self.assertEqual(sorted(m.payload for m in w.collect(4, timeout=5)),
                             [b"w%d" % i for i in range(4)])

    def test_retained_across_loops(self):
        pubs = [self.paho() for _ in range(3)]
        for i, p in enumerate(pubs):
            p.publish(self.topic("r%d" % i), b"%d" % i, 1, retain=True)
        for _ in range(3):
            s = self.paho()
            s.subscribe(self.topic("+"), 1)
            self.assertEqual(sorted(m.payload for m in s.collect(3, timeout=3)), [b"0", b"1", b"2"])

    def test_sigterm_with_busy_loops(self):
        hub = self.start_hub("--threads", 2)
        clients = []
        for i in range(8):
            c = mp.RawClient(hub.port)
            self.addCleanup(c.close)
            c.connect("busy-%d" % i, props=[(mp.SESSION_EXPIRY, 60)])
            c.subscribe([("busy/#", 1)])
            clients.append(c)
        pub = mp.RawClient(hub.port)
        self.addCleanup(pub.close)
        pub.connect("busy-pub")
        for i in range(50):
            pub.send(mp.publish("busy/x", b"%d" % i, qos=1, pid=i + 1))
        self.assertEqual(hub.stop(), 0, hub.log_tail())


if __name__ == "__main__":
    unittest.main(verbosity=2)
