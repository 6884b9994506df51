"""The session store against the real binary: what survives a restart or a
kill -9, expiry across restarts, QoS 2 exactly once across a crash, and the
failure cases — a full disk, I/O errors, a damaged or newer store file.

Disk faults are injected by a test-only SQLite VFS compiled into test
builds (ALLSCENE_TEST_HOOKS): the hub reads the fault from the file named by
ALLSCENE_TEST_FAULT_FILE ("full", "ioerr" or empty).  Tests run as root, so
file permissions cannot simulate a read-only disk.
"""

import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
import unittest

import harness
import mqttproto as mp

HOOKS = os.environ.get("ALLSCENE_TEST_HOOKS") == "1"
EXPIRY = [(mp.SESSION_EXPIRY, 3600)]


class StoreTestCase(unittest.TestCase):
    def hub(self, *args, data_dir=None, port=None, env=None):
        h = harness.Hub(*args, data_dir=data_dir, port=port, env=env)
        self.addCleanup(h.cleanup)
        h.start()
        return h

    def restart(self, hub, kill=True, *args, env=None):
        if kill:
            hub.kill()
        else:
            self.assertEqual(hub.stop(), 0)
        return self.hub(*args, data_dir=hub.data_dir, port=hub.port, env=env)

    def client(self, hub, client_id, clean=False, version=mp.V5, **kw):
        c = mp.RawClient(hub.port, version=version)
        self.addCleanup(c.close)
        props = kw.pop("props", EXPIRY if version == mp.V5 else None)
        ack = c.connect(client_id, clean=clean, props=props, **kw)
        c.connack = ack
        return c

    def log(self, hub):
        with open(hub.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


class RecoveryTest(StoreTestCase):
    def test_start_up_reports_what_it_recovered(self):
        hub = self.hub()
        sub = self.client(hub, "rec-sub")
        sub.subscribe([("rec/#", 1)])
        sub.send(mp.disconnect())
        pub = self.client(hub, "rec-pub", clean=True, props=None)
        for i in range(3):
            self.assertEqual(pub.publish("rec/t", b"%d" % i, qos=1).reason, 0)
        pub.publish("rec/r", b"kept", qos=1, retain=True)
        hub2 = self.restart(hub)
        text = self.log(hub2)
        self.assertRegex(text, r"recovered 1 sessions, 1 subscriptions, 4 queued messages and 1 "
                               r"retained messages in \d+ ms")

    def test_qos2_inbound_exactly_once_across_a_crash(self):
        # §4.3.3 / §4.4: the publisher got PUBREC, the hub dies before PUBREL;
        # after the restart the publisher resends the PUBLISH (DUP) with the
        # same id, then PUBREL: the subscriber receives the message once.
        hub = self.hub()
        sub = self.client(hub, "x2-sub")
        sub.subscribe([("x2/t", 2)])
        sub.send(mp.disconnect())
        pub = self.client(hub, "x2-pub")
        pub.send(mp.publish("x2/t", b"once", qos=2, pid=5))
        self.assertEqual(pub.expect(mp.PUBREC).reason, 0)
        hub2 = self.restart(hub)
        pub2 = self.client(hub2, "x2-pub")
        self.assertTrue(pub2.connack.session_present)
        pub2.send(mp.publish("x2/t", b"once", qos=2, pid=5, dup=True))
        self.assertEqual(pub2.expect(mp.PUBREC).pid, 5)
        pub2.send(mp.pubrel(5))
        self.assertEqual(pub2.expect(mp.PUBCOMP).reason, 0)
        sub2 = self.client(hub2, "x2-sub")
        got = [p.payload for p in sub2.drain_publishes(1.0)]
        self.assertEqual(got, [b"once"])

    def test_released_outbound_qos2_resumes_with_pubrel(self):
        # The subscriber sent PUBREC and got PUBREL; after a crash the hub
        # must resend PUBREL, never the PUBLISH (the client forgot the id).
        hub = self.hub()
        sub = self.client(hub, "rel-sub")
        sub.subscribe([("rel/t", 2)])
        pub = self.client(hub, "rel-pub", clean=True, props=None)
        pub.publish("rel/t", b"m", qos=2)
        p = sub.next_publish(5, ack=False)
        sub.send(mp.pubrec(p.pid))
        self.assertEqual(sub.expect(mp.PUBREL).pid, p.pid)
        hub2 = self.restart(hub)
        sub2 = self.client(hub2, "rel-sub")
        self.assertTrue(sub2.connack.session_present)
        first = sub2.recv(3)
        self.assertIsNotNone(first)
        self.assertEqual((first.type, first.pid), (mp.PUBREL, p.pid))
        sub2.send(mp.pubcomp(p.pid))
        self.assertEqual(sub2.drain_publishes(0.5), [])

    def test_will_of_a_connected_persistent_session_survives_a_crash(self):
        hub = self.hub()
        watcher = self.client(hub, "will-watch")
        watcher.subscribe([("will/t", 1)])
        watcher.send(mp.disconnect())
        self.client(hub, "will-dev", will=dict(topic="will/t", payload=b"gone", qos=1))
        time.sleep(0.3)  # the session row (with its will) is written after CONNACK
        hub2 = self.restart(hub)
        watcher2 = self.client(hub2, "will-watch")
        p = watcher2.next_publish(5)
        self.assertIsNotNone(p, "the will of a session cut by the crash was not published")
        self.assertEqual(p.payload, b"gone")

    def test_session_expiry_keeps_running_while_the_hub_is_down(self):
        hub = self.hub()
        c = self.client(hub, "exp-sub", props=[(mp.SESSION_EXPIRY, 1)])
        c.subscribe([("exp/t", 1)])
        c.send(mp.disconnect())
        time.sleep(0.3)
        hub.kill()
        time.sleep(1.5)
        hub2 = self.hub(data_dir=hub.data_dir, port=hub.port)
        self.assertTrue(harness.log_shows(
            hub2.log_path, "removed what expired while the hub was down: 1 sessions"))
        again = self.client(hub2, "exp-sub")
        self.assertFalse(again.connack.session_present)

    def test_message_expiry_keeps_running_while_the_hub_is_down(self):
        hub = self.hub()
        c = self.client(hub, "mexp-sub")
        c.subscribe([("mexp/t", 1)])
        c.send(mp.disconnect())
        pub = self.client(hub, "mexp-pub", clean=True, props=None)
        pub.publish("mexp/t", b"short", qos=1, props=[(mp.MESSAGE_EXPIRY, 1)])
        pub.publish("mexp/t", b"long", qos=1)
        hub.kill()
        time.sleep(1.5)
        hub2 = self.hub(data_dir=hub.data_dir, port=hub.port)
        sub = self.client(hub2, "mexp-sub")
        self.assertEqual([p.payload for p in sub.drain_publishes(0.8)], [b"long"])

    def test_durability_none_keeps_nothing(self):
        hub = self.hub("--durability", "none")
        c = self.client(hub, "none-sub")
        c.subscribe([("none/t", 1)])
        hub2 = self.restart(hub, True, "--durability", "none")
        self.assertFalse(self.client(hub2, "none-sub").connack.session_present)
        # The file holds the registry only (devices are never memory-only).
        db = sqlite3.connect(os.path.join(hub.data_dir, "allscene.db"))
        try:
            for table in ("sessions", "subscriptions", "deliveries", "messages", "retained"):
                self.assertEqual(db.execute("SELECT count(*) FROM " + table).fetchone()[0], 0)
        finally:
            db.close()


class DamagedStoreTest(StoreTestCase):
    def run_hub(self, data_dir, *args):
        return subprocess.run([harness.hub_binary(), "hub", "--listen", "127.0.0.1:0",
                               "--data-dir", data_dir] + list(args),
                              capture_output=True, text=True, timeout=30)

    def stopped_store(self):
        hub = self.hub()
        c = self.client(hub, "dmg-sub")
        c.subscribe([("dmg/t", 1)])
        self.assertEqual(hub.stop(), 0)
        return hub.data_dir, os.path.join(hub.data_dir, "allscene.db")

    def test_check_data_passes_on_a_healthy_store(self):
        data_dir, db = self.stopped_store()
        r = self.run_hub(data_dir, "--check-data")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("ok", r.stdout)

    def test_a_damaged_file_is_named_with_what_to_do(self):
        data_dir, db = self.stopped_store()
        with open(db, "r+b") as f:
            f.seek(0)
            f.write(os.urandom(4096))
        r = self.run_hub(data_dir)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(db, r.stderr)
        self.assertIn("--check-data", r.stderr)
        r = self.run_hub(data_dir, "--check-data")
        self.assertEqual(r.returncode, 1)
        self.assertIn("problem", r.stderr)

    def test_a_truncated_file_is_refused_or_reported(self):
        data_dir, db = self.stopped_store()
        size = os.path.getsize(db)
        with open(db, "r+b") as f:
            f.truncate(size // 2)
        r = self.run_hub(data_dir, "--check-data")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)

    def test_a_store_from_a_newer_version_is_refused(self):
        data_dir, db = self.stopped_store()
        con = sqlite3.connect(db)
        con.execute("PRAGMA user_version = 999")
        con.commit()
        con.close()
        r = self.run_hub(data_dir)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("newer", r.stderr)
        self.assertIn(db, r.stderr)


@unittest.skipUnless(HOOKS, "needs a test build (ALLSCENE_TEST_HOOKS)")
class DiskFaultTest(StoreTestCase):
    def fault_hub(self):
        d = tempfile.mkdtemp(prefix="allscene-fault-")
        self.addCleanup(shutil.rmtree, d, True)
        control = os.path.join(d, "fault")
        return self.hub(env={"ALLSCENE_TEST_FAULT_FILE": control}), control

    def set_fault(self, control, what):
        with open(control, "w") as f:
            f.write(what)
        time.sleep(0.15)  # polled every 50 ms

    def check_refuses_then_recovers(self, what, log_text):
        hub, control = self.fault_hub()
        sub = self.client(hub, "full-sub")
        sub.subscribe([("full/t", 1)])
        pub = self.client(hub, "full-pub", clean=True, props=None)
        self.assertEqual(pub.publish("full/t", b"before", qos=1).reason, 0)
        self.set_fault(control, what)
        # The first QoS 1 publish fails its commit (0x97); later ones are
        # refused at once while the store is unhealthy.
        for i in range(3):
            ack = pub.publish("full/t", b"refused%d" % i, qos=1)
            self.assertEqual(ack.reason, mp.RC_QUOTA_EXCEEDED)
        pub.publish("full/t", b"qos0", qos=0)
        got = [p.payload for p in sub.drain_publishes(0.8)]
        self.assertIn(b"before", got)
        self.assertIn(b"qos0", got, "QoS 0 must keep flowing on a full disk")
        self.assertTrue(harness.log_shows(hub.log_path, log_text), log_text)
        self.set_fault(control, "")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if pub.publish("full/t", b"after", qos=1).reason == 0:
                break
            time.sleep(0.2)
        else:
            self.fail("the hub did not accept QoS 1 again after the disk recovered")
        self.assertTrue(harness.log_shows(hub.log_path, "writable again"))
        # Everything acknowledged is still there after a crash.
        sub.close()
        hub2 = self.restart(hub)
        self.assertTrue(self.client(hub2, "full-sub").connack.session_present)

    def test_disk_full_refuses_qos1_with_0x97_and_keeps_qos0(self):
        self.check_refuses_then_recovers("full", "the disk is full")

    def test_io_error_refuses_qos1_with_0x97(self):
        self.check_refuses_then_recovers("ioerr", "check the disk")

    def test_disk_full_closes_a_311_publisher_instead_of_acknowledging(self):
        hub, control = self.fault_hub()
        sub = self.client(hub, "f311-sub")
        sub.subscribe([("f311/t", 1)])
        pub = self.client(hub, "f311-pub", clean=True, version=mp.V311)
        self.set_fault(control, "full")
        pub.send(mp.publish("f311/t", b"x", qos=1, pid=1, version=mp.V311))
        pkts, closed = pub.packets_until_closed(5)
        self.assertTrue(closed)
        self.assertFalse([p for p in pkts if p.type == mp.PUBACK])


if __name__ == "__main__":
    unittest.main(verbosity=2)
