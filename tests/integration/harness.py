"""Shared harness for the broker's black-box integration tests.

Starts the real `allscene hub` binary (path in $ALLSCENE_BIN) on a free
127.0.0.1 port with a temporary data directory, waits (bounded) until it
accepts TCP connections, and stops it by PID: SIGTERM, then SIGKILL after a
bounded wait.  Every process started here is killed at interpreter exit even
when a test fails.  The hub's stderr goes to a file; its tail is printed when
a test fails.

Clients: paho-mqtt 1.6.1 (`PahoClient`, both protocol versions) for the
independent-client view and `mqttproto.RawClient` for exact bytes.
"""

import atexit
import itertools
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

import mqttproto as mp

HOST = "127.0.0.1"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0

_live_processes = []


def _kill_leftovers():
    for proc in list(_live_processes):
        if proc.poll() is None:
            try:
                proc.kill()
                proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass


atexit.register(_kill_leftovers)


def hub_binary():
    path = os.environ.get("ALLSCENE_BIN")
    if not path:
        raise unittest.SkipTest("ALLSCENE_BIN is not set (run through ctest)")
    if not os.access(path, os.X_OK):
        raise RuntimeError("ALLSCENE_BIN=%s is not an executable" % path)
    return path


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout, interval=0.02):
    """Polls `predicate` until it is truthy or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def log_shows(log_path, text, timeout=5.0):
    """Waits until the hub log at `log_path` contains `text`: the hub may
    write a line just after the event a test observed."""
    def shows():
        try:
            with open(log_path, "rb") as f:
                return text in f.read().decode("utf-8", "replace")
        except OSError:
            return False
    return wait_until(shows, timeout)


def track(proc):
    """Registers a child process so it is killed at exit whatever happens."""
    _live_processes.append(proc)
    return proc


class Hub:
    """One running `allscene hub` process."""

    def __init__(self, *extra_args, data_dir=None, port=None, env=None):
        self.extra_args = [str(a) for a in extra_args]
        self.env = dict(os.environ, **(env or {}))
        self.port = port or free_port()
        self._own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="allscene-it-")
        self.log_path = os.path.join(self.data_dir, "..", os.path.basename(self.data_dir) + ".log")
        self.log_path = os.path.abspath(self.log_path)
        self.proc = None
        self._log = None
        self.keep_log = False  # set when a test using this hub failed

    def start(self):
        cmd = [hub_binary(), "hub", "--listen", "%s:%d" % (HOST, self.port),
               "--data-dir", self.data_dir, "--log-level", "debug"] + self.extra_args
        self._log = open(self.log_path, "ab")
        self._log.write(("$ %s\n" % " ".join(cmd)).encode())
        self._log.flush()
        self.proc = track(subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                           stdout=self._log, stderr=self._log,
                                           env=self.env, start_new_session=True))
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("hub exited with %s during start-up\n%s"
                                   % (self.proc.returncode, self.log_tail()))
            try:
                with socket.create_connection((HOST, self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        self.kill()
        raise RuntimeError("hub did not accept TCP on port %d within %.0fs\n%s"
                           % (self.port, START_TIMEOUT, self.log_tail()))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM, then SIGKILL after `timeout`.  Returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self._finish()

    def kill(self):
        """SIGKILL (simulated crash).  Returns the exit code."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        return self._finish()

    def _finish(self):
        code = self.proc.returncode
        if self.proc in _live_processes:
            _live_processes.remove(self.proc)
        if self._log:
            self._log.close()
            self._log = None
        return code

    def cleanup(self):
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            if not self.keep_log:
                try:
                    os.unlink(self.log_path)
                except OSError:
                    pass
            else:
                sys.stderr.write("hub log kept: %s\n" % self.log_path)

    def log_tail(self, lines=60):
        try:
            with open(self.log_path, "rb") as f:
                data = f.read()[-64 * 1024:]
        except OSError:
            return "(no hub log)"
        text = data.decode("utf-8", "replace").splitlines()[-lines:]
        return "\n".join(text)


_topic_counter = itertools.count()


def start_http_hub(*args):
    """A started hub with its REST endpoint on a free port, once it has
    announced it (admin.json): (hub, http port, admin token)."""
    port = free_port()
    hub = Hub("--http", "%s:%d" % (HOST, port), *args)
    hub.start()
    if not wait_until(lambda: os.path.exists(os.path.join(hub.data_dir, "admin.json")), 5.0):
        raise RuntimeError("no admin.json within 5 s\n" + hub.log_tail())
    with open(os.path.join(hub.data_dir, "admin.token")) as f:
        return hub, port, f.read().strip()


class HubTestCase(unittest.TestCase):
    """Base class: one hub per test class (HUB_ARGS), unique topic prefixes.

    Subclasses may set HUB_ARGS.  `self.hub` is shared by the class; tests that
    need other flags start their own with `self.start_hub(...)`, which is
    stopped in cleanup.
    """

    HUB_ARGS = ()
    hub = None

    @classmethod
    def setUpClass(cls):
        cls.hub = Hub(*cls.HUB_ARGS)
        cls.hub.start()

    @classmethod
    def tearDownClass(cls):
        if cls.hub is not None:
            cls.hub.cleanup()

    def setUp(self):
        self.prefix = "it/%s/%d" % (uuid.uuid4().hex[:8], next(_topic_counter))
        self._hubs = [self.hub]
        if self.hub is not None and not self.hub.alive():
            self.fail("hub is not running (died in an earlier test?)\n" + self.hub.log_tail())

    def run(self, result=None):
        result = result if result is not None else self.defaultTestResult()
        before = len(result.failures) + len(result.errors)
        self._hubs = [type(self).hub]
        out = super().run(result)
        if len(result.failures) + len(result.errors) > before:
            for hub in getattr(self, "_hubs", []):
                if hub is None:
                    continue
                hub.keep_log = True
                status = "running" if hub.alive() else "exited %s" % hub.proc.returncode
                sys.stderr.write("\n---- hub log tail (port %d, %s) for %s ----\n%s\n---- end ----\n"
                                 % (hub.port, status, self.id(), hub.log_tail()))
        return out

    # --- helpers
    def topic(self, suffix=""):
        return self.prefix + ("/" + suffix if suffix else "")

    def start_hub(self, *args, data_dir=None):
        hub = Hub(*args, data_dir=data_dir)
        self._hubs.append(hub)
        self.addCleanup(hub.cleanup)
        return hub.start()

    def raw(self, version=mp.V5, hub=None, timeout=5.0):
        c = mp.RawClient((hub or self.hub).port, version, timeout=timeout)
        self.addCleanup(c.close)
        return c

    def raw_connected(self, client_id=None, version=mp.V5, hub=None, **kw):
        c = self.raw(version, hub)
        if client_id is None:
            client_id = "raw-" + uuid.uuid4().hex[:12]
        ack = c.connect(client_id, **kw)
        self.assertEqual(ack.reason, 0, ack)
        c.connack = ack
        c.client_id = client_id
        return c

    def paho(self, client_id=None, version=mp.V5, hub=None, connect=True, **kw):
        c = PahoClient(hub or self.hub, client_id, version)
        self.addCleanup(c.close)
        if connect:
            c.connect(**kw)
        return c

    def assertClosedAfter(self, client, reasons=None, timeout=5.0, msg=None):
        """Asserts the server closes `client`; with `reasons`, a DISCONNECT
        with one of those reason codes must come first (v5).  Returns the
        packets read before the close."""
        pkts, closed = client.packets_until_closed(timeout)
        self.assertTrue(closed, "server did not close the connection within %.1fs; got %r %s"
                        % (timeout, pkts, msg or ""))
        if reasons is not None:
            discs = [p for p in pkts if p.type == mp.DISCONNECT]
            self.assertTrue(discs, "no DISCONNECT before close; got %r %s" % (pkts, msg or ""))
            self.assertIn(discs[-1].reason, reasons,
                          "DISCONNECT reason 0x%02x not in %s %s"
                          % (discs[-1].reason, ["0x%02x" % r for r in reasons], msg or ""))
        return pkts


def make_props(packet_type, **values):
    """paho Properties from keyword names (e.g. SessionExpiryInterval=10)."""
    props = Properties(packet_type)
    for k, v in values.items():
        setattr(props, k, v)
    return props


class Message:
    def __init__(self, msg):
        self.topic = msg.topic
        self.payload = msg.payload
        self.qos = msg.qos
        self.retain = bool(msg.retain)
        self.mid = msg.mid
        self.properties = getattr(msg, "properties", None)
        self.time = time.monotonic()

    def prop(self, name, default=None):
        if self.properties is None:
            return default
        return getattr(self.properties, name, default)

    def __repr__(self):
        return "<Message %s qos=%d retain=%d %r>" % (self.topic, self.qos, self.retain,
                                                     self.payload[:40])


class PahoClient:
    """paho-mqtt client with blocking, bounded helpers."""

    def __init__(self, hub, client_id=None, version=mp.V5):
        self.hub = hub
        self.version = version
        self.client_id = client_id if client_id is not None else "paho-" + uuid.uuid4().hex[:12]
        self.protocol = paho.MQTTv5 if version == mp.V5 else paho.MQTTv311
        self.messages = queue.Queue()
        self._connack = queue.Queue()
        self._subacks = {}
        self._unsubacks = {}
        self._published = set()
        self._lock = threading.Lock()
        self.disconnects = queue.Queue()
        self.connected = False
        self._clean_session = None
        self.client = None

    def _make(self, clean_session):
        if self.version == mp.V5:
            c = paho.Client(client_id=self.client_id, protocol=self.protocol,
                            reconnect_on_failure=False)
        else:
            c = paho.Client(client_id=self.client_id, clean_session=clean_session,
                            protocol=self.protocol, reconnect_on_failure=False)
        c.max_inflight_messages_set(0)  # unlimited: tests control flow themselves
        c.max_queued_messages_set(0)
        c.on_connect = self._on_connect
        c.on_message = self._on_message
        c.on_subscribe = self._on_subscribe
        c.on_unsubscribe = self._on_unsubscribe
        c.on_publish = self._on_publish
        c.on_disconnect = self._on_disconnect
        return c

    # --- callbacks (paho's network thread)
    def _on_connect(self, client, userdata, flags, rc, properties=None):
        self._connack.put((flags, rc, properties))

    def _on_message(self, client, userdata, msg):
        self.messages.put(Message(msg))

    def _on_subscribe(self, client, userdata, mid, granted, properties=None):
        with self._lock:
            self._subacks[mid] = granted

    def _on_unsubscribe(self, client, userdata, mid, properties=None, reasons=None):
        with self._lock:
            self._unsubacks[mid] = reasons

    def _on_publish(self, client, userdata, mid):
        with self._lock:
            self._published.add(mid)

    def _on_disconnect(self, client, userdata, rc, properties=None):
        self.connected = False
        self.disconnects.put(rc)

    # --- operations
    def connect(self, clean=True, keepalive=60, properties=None, will=None,
                session_expiry=None, timeout=5.0, expect_rc=0, username=None, password=None,
                bind_address=""):
        """Connects and waits for CONNACK.  Returns (flags, rc, properties).

        v5: clean -> Clean Start; session_expiry -> Session Expiry Interval.
        v3.1.1: clean -> Clean Session.  will = dict(topic, payload, qos,
        retain, properties).  bind_address: the source IP (127.x.y.z)."""
        self.close()
        self.client = self._make(clean if self.version == mp.V311 else None)
        if username is not None:
            self.client.username_pw_set(username, password)
        if will:
            self.client.will_set(will["topic"], will.get("payload", b""), will.get("qos", 0),
                                 will.get("retain", False), will.get("properties"))
        kwargs = {}
        if self.version == mp.V5:
            if session_expiry is not None:
                properties = properties or Properties(PacketTypes.CONNECT)
                properties.SessionExpiryInterval = session_expiry
            kwargs = dict(clean_start=clean, properties=properties)
        self.client.connect(HOST, self.hub.port, keepalive=keepalive, bind_address=bind_address,
                            **kwargs)
        self.client.loop_start()
        try:
            flags, rc, props = self._connack.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no CONNACK within %.1fs for %s" % (timeout, self.client_id))
        code = rc.value if hasattr(rc, "value") else rc
        if expect_rc is not None and code != expect_rc:
            raise AssertionError("CONNACK rc %r for %s" % (rc, self.client_id))
        self.connected = code == 0
        self.session_present = bool(flags.get("session present"))
        self.connack_props = props
        return flags, rc, props

    def subscribe(self, topic, qos=0, options=None, properties=None, timeout=5.0):
        """Returns the list of granted QoS / reason codes (ints)."""
        if options is not None:
            result, mid = self.client.subscribe(topic, options=options, properties=properties)
        elif isinstance(topic, list):
            result, mid = self.client.subscribe(topic, properties=properties)
        else:
            result, mid = self.client.subscribe(topic, qos, properties=properties)
        if result != paho.MQTT_ERR_SUCCESS:
            raise AssertionError("subscribe failed locally: %s" % result)
        granted = wait_until(lambda: self._pop(self._subacks, mid), timeout)
        if granted is None:
            raise AssertionError("no SUBACK within %.1fs" % timeout)
        return [g.value if hasattr(g, "value") else g for g in granted]

    def unsubscribe(self, topic, properties=None, timeout=5.0):
        result, mid = self.client.unsubscribe(topic, properties=properties)
        got = wait_until(lambda: self._has(self._unsubacks, mid), timeout)
        if not got:
            raise AssertionError("no UNSUBACK within %.1fs" % timeout)
        reasons = self._unsubacks.pop(mid)
        if reasons is None:
            return []
        if not isinstance(reasons, list):
            reasons = [reasons]
        return [r.value if hasattr(r, "value") else r for r in reasons]

    def _pop(self, d, key):
        with self._lock:
            return d.pop(key, None)

    def _has(self, d, key):
        with self._lock:
            return key in d

    def publish(self, topic, payload=b"", qos=0, retain=False, properties=None,
                wait=True, timeout=5.0):
        info = self.client.publish(topic, payload, qos, retain, properties)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise AssertionError("publish failed locally: %s" % info.rc)
        if wait and qos > 0:
            if not wait_until(lambda: self._has(self._published, info.mid), timeout):
                raise AssertionError("QoS %d publish to %s not acknowledged within %.1fs"
                                     % (qos, topic, timeout))
        return info

    def wait_published(self, infos, timeout=10.0):
        mids = {i.mid for i in infos}
        ok = wait_until(lambda: mids <= self._published_snapshot(), timeout)
        if not ok:
            raise AssertionError("%d of %d publishes unacknowledged after %.1fs"
                                 % (len(mids - self._published_snapshot()), len(mids), timeout))

    def _published_snapshot(self):
        with self._lock:
            return set(self._published)

    def get(self, timeout=5.0):
        """Next message or None."""
        try:
            return self.messages.get(timeout=timeout)
        except queue.Empty:
            return None

    def expect(self, timeout=5.0, topic=None):
        m = self.get(timeout)
        if m is None:
            raise AssertionError("%s: no message within %.1fs" % (self.client_id, timeout))
        if topic is not None and m.topic != topic:
            raise AssertionError("%s: expected topic %s, got %r" % (self.client_id, topic, m))
        return m

    def collect(self, count, timeout=10.0):
        """Up to `count` messages within `timeout` seconds."""
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < count:
            m = self.get(max(0.0, deadline - time.monotonic()))
            if m is None:
                break
            out.append(m)
        return out

    def quiet(self, duration=0.5):
        """Messages arriving within `duration` (expected to be none)."""
        out = []
        deadline = time.monotonic() + duration
        while True:
            m = self.get(max(0.0, deadline - time.monotonic()))
            if m is None:
                return out
            out.append(m)

    def disconnect(self, reasoncode=None, properties=None, timeout=5.0):
        """Clean DISCONNECT.  v5: reasoncode is an int (0 or 4)."""
        if self.client is None:
            return
        if self.version == mp.V5 and reasoncode is not None:
            from paho.mqtt.reasoncodes import ReasonCodes
            rc = ReasonCodes(PacketTypes.DISCONNECT, identifier=reasoncode)
            self.client.disconnect(reasoncode=rc, properties=properties)
        elif self.version == mp.V5:
            self.client.disconnect(properties=properties)
        else:
            self.client.disconnect()
        wait_until(lambda: not self.disconnects.empty(), timeout)
        self.client.loop_stop()
        self.client = None
        self.connected = False

    def kill(self):
        """Abnormal disconnect: the TCP connection ends without DISCONNECT."""
        if self.client is None:
            return
        c, self.client = self.client, None
        sock = c.socket()
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        c.loop_stop()
        self.connected = False

    def close(self):
        if self.client is not None:
            self.kill()
