#!/usr/bin/python3
"""Interoperability with Debian's mosquitto-clients (mosquitto_pub,
mosquitto_sub, mosquitto_rr), MQTT 5 and 3.1.1.  Every process is bounded
(-W and a subprocess timeout) and killed in cleanup."""

import os
import queue
import shutil
import signal
import subprocess
import threading
import time
import unittest
import uuid

import harness
import mqttproto as mp
from harness import make_props
from paho.mqtt.packettypes import PacketTypes

MOSQ_PUB = shutil.which("mosquitto_pub") or "/usr/bin/mosquitto_pub"
MOSQ_SUB = shutil.which("mosquitto_sub") or "/usr/bin/mosquitto_sub"
MOSQ_RR = shutil.which("mosquitto_rr") or "/usr/bin/mosquitto_rr"
# mosquitto_sub block-buffers stdout into a pipe; line buffering lets the
# test see its "received SUBACK" debug line as soon as it is printed.
STDBUF = ["/usr/bin/stdbuf", "-oL"] if os.access("/usr/bin/stdbuf", os.X_OK) else []
VERSIONS = (("5", mp.V5), ("311", mp.V311))


class Sub:
    """A running mosquitto_sub; lines on stdout are collected by a thread."""

    def __init__(self, test, args):
        self.lines = queue.Queue()
        self.proc = harness.track(subprocess.Popen(
            STDBUF + [MOSQ_SUB, "-h", harness.HOST, "-p", str(test.hub.port), "-d",
             "-F", "MSG|%t|%q|%r|%p"] + args,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
        test.addCleanup(self.kill)
        self._t = threading.Thread(target=self._read, daemon=True)
        self._t.start()
        self.debug = []

    def _read(self):
        for raw in self.proc.stdout:
            self.lines.put(raw.decode("utf-8", "replace").rstrip("\n"))
        self.lines.put(None)

    def wait_suback(self, timeout=5):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                raise AssertionError("mosquitto_sub exited before SUBACK: %s" % self.debug)
            self.debug.append(line)
            if "received SUBACK" in line:
                return
        raise AssertionError("mosquitto_sub got no SUBACK: %s" % self.debug)

    def messages(self, count, timeout=10):
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < count and time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            if line.startswith("MSG|"):
                _, topic, qos, retain, payload = line.split("|", 4)
                out.append((topic, int(qos), int(retain), payload))
            else:
                self.debug.append(line)
        return out

    def wait(self, timeout=10):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("mosquitto_sub did not exit within %ss" % timeout)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        if self.proc in harness._live_processes:
            harness._live_processes.remove(self.proc)


class MosquittoClientsTest(harness.HubTestCase):

    @classmethod
    def setUpClass(cls):
        for tool in (MOSQ_PUB, MOSQ_SUB, MOSQ_RR):
            if not os.access(tool, os.X_OK):
                raise unittest.SkipTest("%s missing (scripts/install-deps.sh)" % tool)
        super().setUpClass()

    def pub(self, args, timeout=10):
        r = subprocess.run([MOSQ_PUB, "-h", harness.HOST, "-p", str(self.hub.port)] + args,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout,
                           stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 0, r.stdout.decode(errors="replace"))
        return r

    def sub(self, args):
        return Sub(self, args)

    def test_pub_sub_versions_and_qos(self):
        for vname, _ in VERSIONS:
            for qos in (0, 1, 2):
                t = self.topic("v%s/q%d" % (vname, qos))
                s = self.sub(["-V", vname, "-q", str(qos), "-t", t, "-C", "1", "-W", "10"])
                s.wait_suback()
                self.pub(["-V", vname, "-q", str(qos), "-t", t, "-m", "hello-%s-%d" % (vname, qos)])
                msgs = s.messages(1)
                self.assertEqual(msgs, [(t, qos, 0, "hello-%s-%d" % (vname, qos))], s.debug)
                self.assertEqual(s.wait(), 0)

    def test_cross_version(self):
        t = self.topic()
        s = self.sub(["-V", "311", "-q", "2", "-t", t, "-C", "2", "-W", "10"])
        s.wait_suback()
        self.pub(["-V", "5", "-q", "1", "-t", t, "-m", "from5"])
        self.pub(["-V", "311", "-q", "2", "-t", t, "-m", "from311"])
        self.assertEqual([(m[1], m[3]) for m in s.messages(2)], [(1, "from5"), (2, "from311")])

    def test_retained(self):
        for vname, _ in VERSIONS:
            t = self.topic("ret" + vname)
            self.pub(["-V", vname, "-q", "1", "-r", "-t", t, "-m", "kept"])
            s = self.sub(["-V", vname, "-q", "1", "-t", t, "-C", "1", "-W", "10"])
            self.assertEqual(s.messages(1), [(t, 1, 1, "kept")], s.debug)
            self.assertEqual(s.wait(), 0)
            # -n -r clears it.
            self.pub(["-V", vname, "-q", "1", "-r", "-t", t, "-n"])
            s2 = self.sub(["-V", vname, "-t", t, "-W", "1"])
            s2.wait_suback()
            self.assertEqual(s2.messages(1, timeout=1.5), [])

    def test_count_and_wildcards(self):
        root = self.topic()
        s = self.sub(["-V", "5", "-q", "1", "-t", root + "/+/x", "-t", root + "/y/#",
                      "-C", "3", "-W", "10"])
        s.wait_suback()
        for t in ("a/x", "b/z", "y", "y/1/2", "c/x"):
            self.pub(["-V", "5", "-q", "1", "-t", root + "/" + t, "-m", t])
        got = [m[3] for m in s.messages(3)]
        self.assertEqual(got, ["a/x", "y", "y/1/2"])
        self.assertEqual(s.wait(), 0)

    def test_lines_from_stdin(self):
        t = self.topic()
        s = self.sub(["-V", "5", "-q", "1", "-t", t, "-C", "50", "-W", "10"])
        s.wait_suback()
        data = "".join("line %d\n" % i for i in range(50)).encode()
        r = subprocess.run([MOSQ_PUB, "-h", harness.HOST, "-p", str(self.hub.port), "-V", "5",
                            "-q", "1", "-t", t, "-l"], input=data, timeout=10,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertEqual([m[3] for m in s.messages(50)], ["line %d" % i for i in range(50)])

    def test_persistent_session(self):
        for vname, extra in (("311", ["-c"]), ("5", ["-c", "-x", "60"])):
            t = self.topic("persist" + vname)
            cid = "msub-%s-%s" % (vname, uuid.uuid4().hex[:6])
            s = self.sub(["-V", vname, "-q", "1", "-i", cid, "-t", t, "-W", "1"] + extra)
            s.wait_suback()
            s.wait(5)
            self.pub(["-V", vname, "-q", "1", "-t", t, "-m", "while-offline"])
            s2 = self.sub(["-V", vname, "-q", "1", "-i", cid, "-t", t, "-C", "1", "-W", "10"] + extra)
            self.assertEqual([m[3] for m in s2.messages(1)], ["while-offline"], s2.debug)

    def test_timeout_without_messages(self):
        t0 = time.monotonic()
        s = self.sub(["-V", "5", "-t", self.topic(), "-W", "1"])
        code = s.wait(10)
        self.assertLess(time.monotonic() - t0, 8)
        self.assertEqual(s.messages(1, timeout=0.2), [])
        self.assertEqual(code, 27)  # mosquitto_sub's exit code on -W timeout

    def test_will_from_killed_client(self):
        watcher = self.paho()
        watcher.subscribe(self.topic("will"), 1)
        s = self.sub(["-V", "5", "-t", self.topic("none"), "--will-topic", self.topic("will"),
                      "--will-payload", "mosq-gone", "--will-qos", "1", "-W", "30"])
        s.wait_suback()
        s.proc.send_signal(signal.SIGKILL)
        self.assertEqual(watcher.expect(timeout=5).payload, b"mosq-gone")

    def test_user_properties_v5(self):
        sub = self.paho()
        sub.subscribe(self.topic(), 1)
        self.pub(["-V", "5", "-q", "1", "-t", self.topic(), "-m", "p",
                  "-D", "publish", "user-property", "k1", "v1",
                  "-D", "publish", "user-property", "k2", "v2",
                  "-D", "publish", "content-type", "text/x",
                  "-D", "publish", "message-expiry-interval", "100"])
        m = sub.expect()
        self.assertEqual(m.prop("UserProperty"), [("k1", "v1"), ("k2", "v2")])
        self.assertEqual(m.prop("ContentType"), "text/x")
        self.assertIn(m.prop("MessageExpiryInterval"), (99, 100))

    def test_request_response_rr(self):
        # mosquitto_rr sends Response Topic + Correlation Data; a paho
        # responder answers on the response topic with the same data.
        responder = self.paho()
        responder.subscribe(self.topic("req"), 1)

        def answer():
            m = responder.get(10)
            if m is None:
                return
            props = make_props(PacketTypes.PUBLISH)
            if m.prop("CorrelationData") is not None:
                props.CorrelationData = m.prop("CorrelationData")
            responder.publish(m.prop("ResponseTopic"), b"answer:" + m.payload, 1, properties=props)

        t = threading.Thread(target=answer, daemon=True)
        t.start()
        r = subprocess.run([MOSQ_RR, "-h", harness.HOST, "-p", str(self.hub.port),
                            "-t", self.topic("req"), "-e", self.topic("resp"), "-m", "question",
                            "-q", "1", "-W", "10"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=15)
        t.join(5)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertEqual(r.stdout.decode().strip(), "answer:question")

    def test_large_payload_file(self):
        import tempfile
        fd, path = tempfile.mkstemp()
        self.addCleanup(os.unlink, path)
        data = bytes((i * 7) % 251 for i in range(300000))
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        sub = self.paho()
        sub.subscribe(self.topic(), 1)
        self.pub(["-V", "311", "-q", "1", "-t", self.topic(), "-f", path])
        self.assertEqual(sub.expect().payload, data)


if __name__ == "__main__":
    unittest.main(verbosity=2)
