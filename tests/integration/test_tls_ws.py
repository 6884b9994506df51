#!/usr/bin/python3
"""TLS, WebSocket and WebSocket-over-TLS listeners (docs/security.md,
"Listeners and TLS").

Each test class makes a throwaway CA, a server certificate (SAN 127.0.0.1
and localhost) and client certificates with the openssl CLI in its own
temporary directory, and starts the real hub with a config file holding
one listener of each kind.  Clients: mosquitto_pub/mosquitto_sub, paho-mqtt
(TLS, websockets, WSS), Python's ssl module and raw sockets for malformed
input.  Every wait is bounded; processes are stopped by PID."""

import os
import queue
import shutil
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
import time
import unittest
import uuid
import warnings

import paho.mqtt.client as paho

import harness
import mqttproto as mp

HOST = harness.HOST
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
MOSQ_PUB = shutil.which("mosquitto_pub") or "/usr/bin/mosquitto_pub"
MOSQ_SUB = shutil.which("mosquitto_sub") or "/usr/bin/mosquitto_sub"
# mosquitto_sub block-buffers stdout into a pipe; line buffering shows its
# "received SUBACK" debug line at once.
STDBUF = ["/usr/bin/stdbuf", "-oL"] if os.access("/usr/bin/stdbuf", os.X_OK) else []


def run(cmd, cwd, timeout=30):
    return subprocess.run(cmd, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=timeout, check=True)


class Certs:
    """A development CA, a server certificate and client certificates,
    made with the same commands as docs/security.md."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="allscene-certs-")
        d = self.dir
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        run([OPENSSL, "req", "-x509"] + ec + ["-keyout", "ca.key", "-out", "ca.crt",
             "-days", "3650", "-subj", "/CN=allscene development CA"], d)
        with open(os.path.join(d, "server.ext"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
        self._signed("server", "/CN=localhost", "server.ext")
        with open(os.path.join(d, "device.ext"), "w") as f:
            f.write("extendedKeyUsage=clientAuth\n")
        self._signed("device-1", "/CN=device-1", "device.ext")
        self._signed("stranger", "/CN=stranger", "device.ext")  # from the CA, not registered
        # Not signed by the CA: a device known only by its thumbprint.
        run([OPENSSL, "req", "-x509"] + ec + ["-keyout", "rogue.key", "-out", "rogue.crt",
             "-days", "30", "-subj", "/CN=rogue"], d)

    def _signed(self, name, subject, ext):
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        run([OPENSSL, "req"] + ec + ["-keyout", name + ".key", "-out", name + ".csr",
             "-subj", subject], self.dir)
        run([OPENSSL, "x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", name + ".crt", "-days", "825", "-extfile", ext], self.dir)

    def path(self, name):
        return os.path.join(self.dir, name)

    def thumbprint(self, name):
        out = run([OPENSSL, "x509", "-in", self.path(name), "-noout", "-fingerprint", "-sha256"],
                  self.dir).stdout.decode()
        return out.strip().split("=", 1)[1].replace(":", "").upper()

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class ConfigHub(harness.Hub):
    """A hub started from a config file (its listeners) instead of --listen.
    self.port is the plain TCP listener's, used to see it is up."""

    def __init__(self, config_text, **kw):
        super().__init__(**kw)
        self.config_path = os.path.join(self.data_dir, "hub.toml")
        with open(self.config_path, "w") as f:
            f.write(config_text.replace("@TCP@", str(self.port)))

    def start(self):
        cmd = [harness.hub_binary(), "hub", "-c", self.config_path, "--data-dir", self.data_dir,
               "--log-level", "debug", "--durability", "none"]
        self._log = open(self.log_path, "ab")
        self._log.write(("$ %s\n" % " ".join(cmd)).encode())
        self._log.flush()
        self.proc = harness.track(subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log, env=self.env,
            start_new_session=True))
        # Every listener is open once the hub says it started (the first one
        # accepts while the others still load their certificates).
        ok = harness.wait_until(
            lambda: self.proc.poll() is not None or "allscene hub started" in self.log_text(),
            harness.START_TIMEOUT)
        if self.proc.poll() is not None or not ok:
            self.kill()
            raise RuntimeError("hub did not start\n" + self.log_tail())
        return self

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


def start_failing_hub(config_text):
    """Starts a hub that must refuse its config; returns (exit code, stderr)."""
    data_dir = tempfile.mkdtemp(prefix="allscene-it-")
    try:
        path = os.path.join(data_dir, "hub.toml")
        with open(path, "w") as f:
            f.write(config_text)
        proc = subprocess.run([harness.hub_binary(), "hub", "-c", path, "--data-dir", data_dir,
                               "--durability", "none"], stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=20)
        return proc.returncode, proc.stderr.decode("utf-8", "replace")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


class Paho:
    """A paho-mqtt 3.1.1/5 client over tcp, tls, websockets or wss, with
    bounded waits."""

    def __init__(self, test, port, transport="tcp", tls=None, path="/mqtt", client_id=None):
        self.messages = queue.Queue()
        self.connack = queue.Queue()
        self.subacks = queue.Queue()
        self.client = paho.Client(client_id=client_id or "paho-" + uuid.uuid4().hex[:10],
                                  protocol=paho.MQTTv311,
                                  transport="websockets" if transport.startswith("ws") else "tcp",
                                  reconnect_on_failure=False)
        if transport.startswith("ws"):
            self.client.ws_set_options(path=path)
        if tls:
            self.client.tls_set(**tls)
        self.client.on_connect = lambda c, u, f, rc: self.connack.put(rc)
        self.client.on_message = lambda c, u, m: self.messages.put((m.topic, m.payload))
        self.client.on_subscribe = lambda c, u, mid, granted: self.subacks.put(granted)
        self.port = port
        test.addCleanup(self.close)

    def connect(self, timeout=10):
        self.client.connect(HOST, self.port, keepalive=30)
        self.client.loop_start()
        try:
            return self.connack.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no CONNACK within %ds" % timeout)

    def subscribe(self, topic, timeout=10):
        self.client.subscribe(topic, 1)
        return self.subacks.get(timeout=timeout)

    def publish(self, topic, payload, timeout=10):
        info = self.client.publish(topic, payload, qos=1)
        info.wait_for_publish(timeout)
        if not info.is_published():
            raise AssertionError("PUBACK not received for %s" % topic)

    def expect(self, timeout=10):
        try:
            return self.messages.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no message within %ds" % timeout)

    def close(self):
        try:
            self.client.disconnect()
        except Exception:
            pass
        self.client.loop_stop()


# --- raw WebSocket client (RFC 6455), for input paho would never send


def ws_frame(opcode, payload, masked=True, fin=True):
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    mask_bit = 0x80 if masked else 0
    if n < 126:
        head += bytes([mask_bit | n])
    elif n < 65536:
        head += bytes([mask_bit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([mask_bit | 127]) + struct.pack("!Q", n)
    if not masked:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


class RawWs:
    def __init__(self, port, path="/mqtt", protocol="mqtt", timeout=5.0, upgrade=True):
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        self.buf = b""
        headers = ["GET %s HTTP/1.1" % path, "Host: 127.0.0.1:%d" % port]
        if upgrade:
            headers += ["Upgrade: websocket", "Connection: Upgrade",
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                        "Sec-WebSocket-Version: 13"]
        if protocol:
            headers.append("Sec-WebSocket-Protocol: " + protocol)
        self.sock.sendall(("\r\n".join(headers) + "\r\n\r\n").encode())
        while b"\r\n\r\n" not in self.buf:
            data = self.sock.recv(4096)
            if not data:
                break
            self.buf += data
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1]) if lines and len(lines[0].split()) > 1 else 0
        self.headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            self.headers[k.strip().lower()] = v.strip()

    def send(self, data):
        self.sock.sendall(data)

    def _need(self, n):
        while len(self.buf) < n:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError
            self.buf += data

    def read_frame(self):
        """(opcode, payload); EOFError when the server closed."""
        self._need(2)
        b0, b1 = self.buf[0], self.buf[1]
        n, pos = b1 & 0x7F, 2
        if n == 126:
            self._need(4)
            n, pos = struct.unpack("!H", self.buf[2:4])[0], 4
        elif n == 127:
            self._need(10)
            n, pos = struct.unpack("!Q", self.buf[2:10])[0], 10
        self._need(pos + n)
        payload = self.buf[pos:pos + n]
        self.buf = self.buf[pos + n:]
        return b0 & 0x0F, payload

    def read_mqtt(self, count, timeout=5.0):
        """Reads binary frames until `count` MQTT packets arrived."""
        data = b""
        packets = []
        deadline = time.monotonic() + timeout
        while len(packets) < count and time.monotonic() < deadline:
            op, payload = self.read_frame()
            if op != 0x2:
                raise AssertionError("server sent frame opcode %d, not binary" % op)
            data += payload
            while True:
                if len(data) < 2:
                    break
                length, pos = mp.decode_vbi(data, 1)
                if len(data) < pos + length:
                    break
                packets.append(mp.parse_packet(data[:pos + length], mp.V311))
                data = data[pos + length:]
        return packets

    def closed_within(self, timeout):
        """True when the server closes the connection (a Close frame or
        EOF) within `timeout`; other frames are skipped."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                op, _ = self.read_frame()
            except (EOFError, ConnectionError):
                return True
            except socket.timeout:
                return False
            if op == 0x8:
                return True
        return False

    def close(self):
        self.sock.close()


def closed_by_peer(sock, timeout):
    """True when `sock` reaches EOF or reset within `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            if not sock.recv(4096):
                return True
        except socket.timeout:
            return False
        except (ConnectionError, OSError):
            return True
    return False


class TlsWsTest(unittest.TestCase):
    hub = None

    @classmethod
    def setUpClass(cls):
        cls.certs = Certs()
        c = cls.certs
        cls.ports = {k: harness.free_port() for k in ("tls", "tls_req", "tls_opt", "ws", "wss")}
        p = cls.ports
        config = """
[[listener]]
name = "tcp"
bind = "127.0.0.1:@TCP@"

[[listener]]
name = "tls"
bind = "127.0.0.1:%(tls)d"
transport = "tls"
cert_file = "%(crt)s"
key_file = "%(key)s"

[[listener]]
name = "tls-required"
bind = "127.0.0.1:%(tls_req)d"
transport = "tls"
cert_file = "%(crt)s"
key_file = "%(key)s"
ca_file = "%(ca)s"
client_certs = "required"

[[listener]]
name = "tls-optional"
bind = "127.0.0.1:%(tls_opt)d"
transport = "tls"
cert_file = "%(crt)s"
key_file = "%(key)s"
ca_file = "%(ca)s"
client_certs = "optional"

[[listener]]
name = "ws"
bind = "127.0.0.1:%(ws)d"
transport = "ws"

[[listener]]
name = "wss"
bind = "127.0.0.1:%(wss)d"
transport = "wss"
ws_path = "/secure/mqtt"
cert_file = "%(crt)s"
key_file = "%(key)s"
""" % dict(p, crt=c.path("server.crt"), key=c.path("server.key"), ca=c.path("ca.crt"))
        cls.hub = ConfigHub(config)
        # Devices that sign in with their certificate (docs/security.md):
        # device-1 by the CA and its CN, rogue (self-signed) by thumbprint.
        for args in (["user", "add", "certs"],
                     ["device", "add", "device-1", "--owner", "certs", "--auth", "x509",
                      "--ca-signed"],
                     ["device", "add", "rogue", "--owner", "certs", "--auth", "x509",
                      "--thumbprint", c.thumbprint("rogue.crt")]):
            subprocess.run([harness.hub_binary()] + args + ["--data-dir", cls.hub.data_dir],
                           check=True, capture_output=True, timeout=30)
        cls.hub.start()

    @classmethod
    def tearDownClass(cls):
        if cls.hub is not None:
            cls.hub.cleanup()
        cls.certs.cleanup()

    def setUp(self):
        self.prefix = "tlsws/%s" % uuid.uuid4().hex[:8]
        if not self.hub.alive():
            self.fail("hub is not running\n" + self.hub.log_tail())

    def run(self, result=None):
        result = result if result is not None else self.defaultTestResult()
        before = len(result.failures) + len(result.errors)
        out = super().run(result)
        if len(result.failures) + len(result.errors) > before and self.hub is not None:
            self.hub.keep_log = True
            print("\n---- hub log tail for %s ----\n%s\n----" % (self.id(), self.hub.log_tail()))
        return out

    # --- helpers
    def tcp_subscriber(self, topic):
        sub = Paho(self, self.hub.port)
        self.assertEqual(sub.connect(), 0)
        sub.subscribe(topic)
        return sub

    def tls_args(self, cert=None):
        args = dict(ca_certs=self.certs.path("ca.crt"))
        if cert:
            args.update(certfile=self.certs.path(cert + ".crt"),
                        keyfile=self.certs.path(cert + ".key"))
        return args

    def mosquitto_pub(self, port, topic, payload, extra=()):
        return subprocess.run([MOSQ_PUB, "-h", HOST, "-p", str(port), "-t", topic, "-m", payload,
                               "-q", "1", "--cafile", self.certs.path("ca.crt")] + list(extra),
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=20)

    def assert_hub_serves(self):
        """A normal client still gets through after a bad one."""
        topic = self.prefix + "/still-alive"
        sub = self.tcp_subscriber(topic)
        pub = Paho(self, self.ports["tls"], tls=self.tls_args())
        self.assertEqual(pub.connect(), 0)
        pub.publish(topic, b"ok")
        self.assertEqual(sub.expect(), (topic, b"ok"))

    # --- TLS
    def test_mosquitto_clients_over_tls(self):
        topic = self.prefix + "/mosq"
        sub = harness.track(subprocess.Popen(
            STDBUF + [MOSQ_SUB, "-h", HOST, "-p", str(self.ports["tls"]), "-t", topic, "-q", "1", "-C", "1",
             "-W", "15", "--cafile", self.certs.path("ca.crt"), "-d"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
        self.addCleanup(lambda: sub.poll() is None and sub.kill())
        lines = []
        got_suback = threading.Event()

        def reader():
            for raw in sub.stdout:
                lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                if "received SUBACK" in lines[-1]:
                    got_suback.set()

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        self.assertTrue(got_suback.wait(10), "mosquitto_sub over TLS got no SUBACK: %s" % lines)
        res = self.mosquitto_pub(self.ports["tls"], topic, "over-tls")
        self.assertEqual(res.returncode, 0, res.stderr)
        sub.wait(timeout=15)
        t.join(5)
        self.assertIn("over-tls", lines, lines)
        self.assertEqual(sub.returncode, 0, lines)

    def test_mosquitto_client_certificate(self):
        # The certificate is the device's credential: no username, no password.
        topic = "devices/device-1/" + self.prefix
        sub = self.tcp_subscriber(topic)
        res = self.mosquitto_pub(self.ports["tls_req"], topic, "with-cert",
                                 ["-i", "device-1", "--cert", self.certs.path("device-1.crt"),
                                  "--key", self.certs.path("device-1.key")])
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(sub.expect(), (topic, b"with-cert"))

    def test_certificate_of_no_device_is_refused(self):
        # Signed by the CA, but no device has that CN: 3.1.1 return code 4.
        c = Paho(self, self.ports["tls_req"], tls=self.tls_args("stranger"),
                 client_id="stranger")
        self.assertEqual(c.connect(), 4)
        # A registered certificate used under another device's client id.
        c = Paho(self, self.ports["tls_req"], tls=self.tls_args("device-1"), client_id="rogue")
        self.assertNotEqual(c.connect(), 0)

    def test_client_certificate_required(self):
        topic = self.prefix + "/nocert"
        sub = self.tcp_subscriber(topic)
        res = self.mosquitto_pub(self.ports["tls_req"], topic, "no-cert")
        self.assertNotEqual(res.returncode, 0, "connected without a client certificate")
        ctx = ssl.create_default_context(cafile=self.certs.path("ca.crt"))
        with socket.create_connection((HOST, self.ports["tls_req"]), timeout=5) as raw:
            with self.assertRaises((ssl.SSLError, ConnectionError)):
                with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                    # TLS 1.3: the server's refusal arrives after the client's Finished.
                    s.sendall(mp.connect("nocert", version=mp.V311))
                    if not s.recv(1):
                        raise ConnectionError("closed")
        with self.assertRaises(queue.Empty):
            sub.messages.get(timeout=0.5)

    def test_certificate_facts_reach_the_hub(self):
        # The hub logs what PeerInfo carries: thumbprint (SHA-256 of the DER,
        # as `openssl x509 -fingerprint -sha256` prints it), CN, verified.
        for cert, verified in (("device-1", "true"), ("rogue", "false")):
            c = Paho(self, self.ports["tls_opt"], tls=self.tls_args(cert), client_id=cert)
            self.assertEqual(c.connect(), 0)
            c.close()
            expected = "client certificate CN=%s SHA-256=%s verified=%s" % (
                "device-1" if cert == "device-1" else "rogue", self.certs.thumbprint(cert + ".crt"),
                verified)
            self.assertTrue(harness.wait_until(lambda: expected in self.hub.log_text(), 5),
                            "hub log lacks %r" % expected)
        c = Paho(self, self.ports["tls_opt"], tls=self.tls_args())
        self.assertEqual(c.connect(), 0)  # optional: no certificate is fine

    def test_paho_over_tls(self):
        topic = self.prefix + "/paho-tls"
        sub = Paho(self, self.ports["tls"], tls=self.tls_args())
        self.assertEqual(sub.connect(), 0)
        sub.subscribe(topic)
        pub = Paho(self, self.hub.port)
        self.assertEqual(pub.connect(), 0)
        payload = os.urandom(100000)  # larger than one TLS record
        pub.publish(topic, payload)
        self.assertEqual(sub.expect(), (topic, payload))

    def test_tls_versions(self):
        for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            ctx = ssl.create_default_context(cafile=self.certs.path("ca.crt"))
            ctx.minimum_version = ctx.maximum_version = version
            with socket.create_connection((HOST, self.ports["tls"]), timeout=5) as raw:
                with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                    self.assertEqual(s.version(), {ssl.TLSVersion.TLSv1_2: "TLSv1.2",
                                                   ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version])
                    s.sendall(mp.connect("v-" + s.version(), version=mp.V311))
                    self.assertEqual(s.recv(4), b"\x20\x02\x00\x00")  # CONNACK accepted

    def test_tls11_refused(self):
        warnings.simplefilter("ignore", DeprecationWarning)  # TLSv1_1 is, on purpose
        old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        old.check_hostname = False
        old.verify_mode = ssl.CERT_NONE
        try:
            old.minimum_version = ssl.TLSVersion.TLSv1_1
            old.maximum_version = ssl.TLSVersion.TLSv1_1
            old.set_ciphers("DEFAULT:@SECLEVEL=0")
        except (ValueError, ssl.SSLError) as e:
            self.skipTest("this OpenSSL cannot build a TLS 1.1 client: %s" % e)
        # Show the client can speak TLS 1.1 at all, against a local server
        # that allows it; otherwise a refusal would prove nothing.
        server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_ctx.load_cert_chain(self.certs.path("server.crt"), self.certs.path("server.key"))
        server_ctx.minimum_version = ssl.TLSVersion.TLSv1_1
        server_ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        listener = socket.create_server((HOST, 0))
        self.addCleanup(listener.close)
        listener.settimeout(5)
        result = {}

        def serve():
            try:
                conn, _ = listener.accept()
                with server_ctx.wrap_socket(conn, server_side=True) as s:
                    result["version"] = s.version()
            except (OSError, ssl.SSLError) as e:
                result["error"] = str(e)

        t = threading.Thread(target=serve, daemon=True)
        t.start()
        try:
            with socket.create_connection(listener.getsockname(), timeout=5) as raw:
                with old.wrap_socket(raw) as s:
                    result["client"] = s.version()
        except (OSError, ssl.SSLError) as e:
            result["client_error"] = str(e)
        t.join(5)
        if result.get("client") != "TLSv1.1":
            self.skipTest("no local TLS 1.1 handshake possible (%s)" % result)
        with socket.create_connection((HOST, self.ports["tls"]), timeout=5) as raw:
            with self.assertRaises((ssl.SSLError, ConnectionError)):
                with old.wrap_socket(raw) as s:
                    self.fail("hub accepted %s" % s.version())
        self.assert_hub_serves()

    def test_garbage_on_tls_port(self):
        with socket.create_connection((HOST, self.ports["tls"]), timeout=5) as s:
            s.sendall(b"\x16\x03\x01\x00\x05hello" + os.urandom(2000))
            self.assertTrue(closed_by_peer(s, 5), "hub kept a connection that sent garbage")
        with socket.create_connection((HOST, self.ports["tls"]), timeout=5) as s:
            s.sendall(mp.connect("plain-on-tls", version=mp.V311))  # MQTT without TLS
            self.assertTrue(closed_by_peer(s, 5))
        self.assert_hub_serves()

    def test_silent_tls_client_times_out(self):
        started = time.monotonic()
        with socket.create_connection((HOST, self.ports["tls"]), timeout=5) as s:
            self.assertTrue(closed_by_peer(s, 20), "no handshake timeout")
        elapsed = time.monotonic() - started
        self.assertGreater(elapsed, 8)
        self.assertLess(elapsed, 16)
        self.assertTrue(harness.log_shows(self.hub.log_path, "no completed handshake within 10 s"))

    # --- WebSocket
    def test_paho_over_websocket(self):
        topic = self.prefix + "/ws"
        sub = Paho(self, self.ports["ws"], transport="ws")
        self.assertEqual(sub.connect(), 0)
        sub.subscribe(topic)
        pub = Paho(self, self.hub.port)
        self.assertEqual(pub.connect(), 0)
        pub.publish(topic, b"to-ws")
        self.assertEqual(sub.expect(), (topic, b"to-ws"))
        big = os.urandom(300000)
        pub.publish(topic, big)
        self.assertEqual(sub.expect(), (topic, big))
        sub.publish(topic, b"from-ws")
        self.assertEqual(sub.expect(), (topic, b"from-ws"))

    def test_paho_over_wss(self):
        topic = self.prefix + "/wss"
        sub = self.tcp_subscriber(topic)
        pub = Paho(self, self.ports["wss"], transport="wss", tls=self.tls_args(),
                   path="/secure/mqtt")
        self.assertEqual(pub.connect(), 0)
        pub.publish(topic, b"over-wss")
        self.assertEqual(sub.expect(), (topic, b"over-wss"))

    def test_upgrade_answers_mqtt_subprotocol(self):
        # [MQTT-6.0.0-4] [v3.1.1 MQTT-6.0.0-4] The server selects and returns "mqtt".
        ws = RawWs(self.ports["ws"], protocol="mqttv3.1, mqtt")
        self.addCleanup(ws.close)
        self.assertEqual(ws.status, 101)
        self.assertEqual(ws.headers.get("sec-websocket-protocol"), "mqtt")

    def test_packets_span_frames(self):
        # [MQTT-6.0.0-2] [v3.1.1 MQTT-6.0.0-2] Packets need not align with frames: CONNECT split
        # over two frames, then two PINGREQs in one frame.
        ws = RawWs(self.ports["ws"])
        self.addCleanup(ws.close)
        self.assertEqual(ws.status, 101)
        connect = mp.connect("split-" + uuid.uuid4().hex[:6], version=mp.V311)
        ws.send(ws_frame(0x2, connect[:5]))
        ws.send(ws_frame(0x2, connect[5:]))
        (connack,) = ws.read_mqtt(1)
        self.assertEqual((connack.type, connack.raw), (mp.CONNACK, b"\x20\x02\x00\x00"))
        ws.send(ws_frame(0x2, mp.pingreq() + mp.pingreq()))
        pongs = ws.read_mqtt(2)
        self.assertEqual([p.type for p in pongs], [mp.PINGRESP, mp.PINGRESP])

    def test_text_frame_closes(self):
        # [MQTT-6.0.0-1] [v3.1.1 MQTT-6.0.0-1] Any data frame but binary closes the connection.
        ws = RawWs(self.ports["ws"])
        self.addCleanup(ws.close)
        ws.send(ws_frame(0x2, mp.connect("text-" + uuid.uuid4().hex[:6], version=mp.V311)))
        self.assertEqual(len(ws.read_mqtt(1)), 1)
        ws.send(ws_frame(0x1, mp.pingreq()))
        self.assertTrue(ws.closed_within(5), "a text frame did not close the connection")
        self.assert_hub_serves()

    def test_malformed_frames_close(self):
        cases = {
            "unmasked": ws_frame(0x2, mp.connect("unmasked", version=mp.V311), masked=False),
            "reserved opcode": ws_frame(0x3, b"x"),
            "reserved bits": bytes([0xF2]) + ws_frame(0x2, b"x")[1:],
            "oversized message": ws_frame(0x2, b"")[:1] + bytes([0x80 | 127]) +
            struct.pack("!Q", 1 << 40) + os.urandom(4),
            "fragmented control": ws_frame(0x9, b"ping", fin=False),
        }
        for name, frame in cases.items():
            with self.subTest(name):
                ws = RawWs(self.ports["ws"])
                self.addCleanup(ws.close)
                self.assertEqual(ws.status, 101)
                ws.send(frame)
                self.assertTrue(ws.closed_within(5), "%s frame did not close" % name)
        self.assert_hub_serves()

    def test_wrong_path_and_bad_upgrades_refused(self):
        for kw, status in ((dict(path="/other"), 404),
                           (dict(protocol=None), 400),
                           (dict(protocol="mqttv3.1"), 400),
                           (dict(upgrade=False), 426)):
            with self.subTest(**{k: str(v) for k, v in kw.items()}):
                ws = RawWs(self.ports["ws"], **kw)
                self.addCleanup(ws.close)
                self.assertEqual(ws.status, status)
                self.assertTrue(closed_by_peer(ws.sock, 5))
        c = Paho(self, self.ports["ws"], transport="ws", path="/wrong")
        with self.assertRaises(Exception):
            c.connect(timeout=3)
        with socket.create_connection((HOST, self.ports["ws"]), timeout=5) as s:
            s.sendall(b"\x00garbage that is not HTTP\r\n\r\n")
            self.assertTrue(closed_by_peer(s, 5))
        with socket.create_connection((HOST, self.ports["ws"]), timeout=5) as s:
            s.sendall(b"GET /mqtt HTTP/1.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n")
            self.assertTrue(closed_by_peer(s, 5), "an oversized request was kept")
        self.assert_hub_serves()


class ConfigErrorsTest(unittest.TestCase):
    """A listener that cannot work stops start-up with a message that names
    it, the key and what to do."""

    @classmethod
    def setUpClass(cls):
        cls.certs = Certs()

    @classmethod
    def tearDownClass(cls):
        cls.certs.cleanup()

    def listener(self, **keys):
        lines = ["[[listener]]", 'name = "secure"', 'bind = "127.0.0.1:%d"' % harness.free_port()]
        lines += ['%s = "%s"' % (k, v) for k, v in keys.items()]
        return "\n".join(lines) + "\n"

    def test_errors(self):
        c = self.certs
        cases = [
            (dict(transport="tls", cert_file="/nonexistent/server.crt", key_file=c.path("server.key")),
             ["listener secure", "cert_file /nonexistent/server.crt does not exist",
              "docs/security.md"]),
            (dict(transport="tls", cert_file=c.path("server.crt")),
             ["key_file is required"]),
            (dict(transport="tls", cert_file=c.path("server.crt"), key_file=c.path("device-1.key")),
             ["does not belong to the certificate"]),
            (dict(transport="tls", cert_file=c.path("server.ext"), key_file=c.path("server.key")),
             ["cannot load cert_file"]),
            (dict(transport="wss", cert_file=c.path("server.crt"), key_file=c.path("server.key"),
                  client_certs="sometimes"),
             ["client_certs 'sometimes'"]),
            (dict(transport="ws", cert_file=c.path("server.crt")), ["use transport = \"wss\""]),
            (dict(transport="quic"), ["transport 'quic'"]),
            (dict(transport="ws", ws_path="mqtt"), ["ws_path 'mqtt'"]),
            (dict(transport="tcp", certfile="x"), ["unknown key 'certfile'"]),
        ]
        for keys, expected in cases:
            with self.subTest(**keys):
                code, err = start_failing_hub(self.listener(**keys))
                self.assertNotEqual(code, 0, err)
                for text in expected:
                    self.assertIn(text, err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
