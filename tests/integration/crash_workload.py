#!/usr/bin/python3
"""Crash workload: numbered QoS 1/2 messages through a broker that is killed
with SIGKILL at random moments and restarted on the same data directory,
then a check that nothing acknowledged was lost.

Used by test_crash.py (ctest) and runnable on its own as a soak, also against
Debian's mosquitto (persistence on, autosave every second) for comparison:

    ALLSCENE_BIN=build/allscene /usr/bin/python3 tests/integration/crash_workload.py \\
        --broker allscene --cycles 20 --seed 1 --durability fsync [--json]
    /usr/bin/python3 tests/integration/crash_workload.py --broker mosquitto --cycles 20 --seed 1

Clients are raw sockets (mqttproto's codec) driven by one event loop, so the
test decides exactly what "acknowledged" means:

- Message n of a publisher is *published* once sent; it is *acknowledged*
  when its PUBACK (QoS 1) or PUBREC (QoS 2) with a reason code below 0x80
  arrived.  Publishers (MQTT 5 and 3.1.1) keep persistent sessions and,
  after a restart, resend unacknowledged PUBLISHes (DUP, same packet id) and
  PUBRELs in their original order (§4.4); without a session they abandon them.
- Subscribers keep persistent sessions; some are online and slow (delayed
  acks, small Receive Maximum), some stay offline for whole cycles.  QoS 2
  receive follows §4.3.3: deliver on the first PUBLISH, remember the packet
  id until PUBREL, a PUBLISH with a remembered id is a retransmission.  That
  state lives here and survives the broker's restarts.
- Each cycle the broker runs a random time (sometimes only long enough for
  sessions to resume) and is killed then, or, in a seeded share of cycles,
  right after the next PUBACK/PUBREC while every publisher's window is full.
  At least one offline subscriber sits out each cycle, so every kill finds
  acknowledged messages queued for an absent session.

The checker, per subscriber and publisher: every acknowledged message
published after the subscriber's first SUBACK was delivered (else *lost*,
counted per subscriber and message); at QoS 2 (the lower of publish and
subscription QoS) none was delivered twice (*duplicated*, per subscriber and
message); first deliveries come in increasing order (else *out_of_order*);
nothing was delivered that was never published (unknown topic, number or
payload: *phantom*).

It relies on the broker, beyond the letter of the spec, for: sessions,
subscriptions and in-flight state that survive a kill (else sessions_lost);
an outgoing QoS 2 PUBLISH resent after a restart with the packet id it was
first sent with §4.4 (a new id is a new message to the receiver);
incoming QoS 2 packet ids awaiting PUBREL kept across a kill, so a resent
PUBLISH is not routed twice.

Exit status: 1 when a violation is found and the configuration promises none
(allscene with durability fsync, or batch without --powerloss, and without
--early-ack), else 0.
"""

import argparse
import collections
import contextlib
import dataclasses
import json
import os
import random
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
import mqttproto as mp  # noqa: E402

HOST = harness.HOST
SESSION_EXPIRY = 3600
KEEPALIVE = 30
PING_AFTER = 10.0          # idle seconds before a PINGREQ
CONNECT_TIMEOUT = 2.0      # TCP connect
CONNACK_TIMEOUT = 15.0     # generous: a sanitizer build may be recovering
RETRY_DELAY = 0.05         # between connection attempts
SETUP_TIMEOUT = 30.0       # all subscribers subscribed
ACK_KILL_GRACE = 2.0       # after_ack kills: longest wait for an ack
MOSQUITTO = "/usr/sbin/mosquitto"

# (name, protocol version, QoS).  Every publisher has its own topic.
PUBLISHERS = [
    ("p5q1", mp.V5, 1),
    ("p5q2", mp.V5, 2),
    ("p3q1", mp.V311, 1),
    ("p3q2", mp.V311, 2),
]

LIVE, SLOW, OFFLINE = "live", "slow", "offline"

# (name, protocol version, subscription QoS, kind).  Every subscriber
# subscribes to all publishers' topics with one wildcard filter.
SUBSCRIBERS = [
    ("live5", mp.V5, 2, LIVE),
    ("slow5", mp.V5, 2, SLOW),
    ("slow3", mp.V311, 1, SLOW),
    ("off5", mp.V5, 2, OFFLINE),
    ("off3", mp.V311, 2, OFFLINE),
    ("off5q1", mp.V5, 1, OFFLINE),
]

SLOW_RECEIVE_MAXIMUM = 8
EXAMPLE_KINDS = ("lost", "duplicated", "out of order", "packet id reused")
EXAMPLES_PER_KIND = 4
RC_PACKET_ID_NOT_FOUND = {mp.V5: mp.RC_PACKET_ID_NOT_FOUND, mp.V311: 0}  # 3.1.1 has no codes


@dataclasses.dataclass
class Config:
    broker: str = "allscene"          # allscene | mosquitto
    durability: str = "fsync"         # allscene --durability
    threads: int = 0                  # allscene --threads (0: one per core)
    cycles: int = 20                  # kill/restart cycles
    seed: int = 1
    early_ack: bool = False           # hub test hook: ack before the commit
    powerloss: bool = False           # hub test hook: SIGKILL drops unsynced writes
    up_min: float = 1.0               # seconds a broker runs before it is killed
    up_max: float = 2.4
    early_kill_share: float = 0.15    # kills instead within early_up_max: during session resumption
    early_up_max: float = 0.3
    after_ack_share: float = 0.5      # kills made right after an ack arrived
    rate: float = 40.0                # messages/s per publisher
    burst: int = 4                    # messages sent together
    window: int = 16                  # unacknowledged messages per publisher
    payload_size: int = 64
    ack_delay_min: float = 0.005      # slow subscribers
    ack_delay_max: float = 0.025
    offline_share: float = 0.5        # chance an offline-kind subscriber sits a cycle out
    max_offline_run: int = 3          # bounds the offline backlog (cycles)
    drain_timeout: float = 90.0
    quiet: float = 5.0                # drain ends after this long without traffic
    mosquitto_autosave: int = 1       # seconds
    verbose: bool = False

    def promises_no_loss(self):
        """docs/durability.md: batch survives a crash, fsync also power loss,
        none (memory only) nothing."""
        if self.broker != "allscene" or self.early_ack or self.durability == "none":
            return False
        return not self.powerloss or self.durability == "fsync"


@dataclasses.dataclass
class Result:
    broker: str
    durability: str
    seed: int
    cycles: int
    crashes: int = 0
    published: int = 0
    acknowledged: int = 0
    expected: int = 0              # (subscriber, acknowledged message) pairs owed
    delivered: int = 0             # of those, delivered
    lost: int = 0                  # expected - delivered
    lost_messages: int = 0         # distinct acknowledged messages lost somewhere
    duplicated: int = 0            # QoS 2 (subscriber, message) delivered twice or more
    out_of_order: int = 0
    phantom: int = 0
    wrong_qos: int = 0             # delivered at another QoS than min(pub, sub)
    qos1_redelivered: int = 0      # extra QoS 1 deliveries (allowed)
    qos2_retransmissions: int = 0  # PUBLISHes with a remembered packet id (allowed)
    ids_reused: int = 0            # ... carrying another message: a server bug
    sessions_lost: int = 0         # reconnects that found no session
    abandoned: int = 0             # unacknowledged publishes given up with a lost session
    rejected: int = 0              # PUBACK/PUBREC with a reason code >= 0x80
    undelivered_at_kill: int = 0   # acknowledged, not yet delivered, summed over kills
    kills_with_undelivered: int = 0
    elapsed: float = 0.0
    per_subscriber: dict = dataclasses.field(default_factory=dict)
    examples: list = dataclasses.field(default_factory=list)  # a few of each violation

    def ok(self):
        return not (self.lost or self.duplicated or self.out_of_order or self.phantom
                    or self.wrong_qos)

    def summary(self):
        return ("crash-workload broker=%s durability=%s seed=%d: messages=%d acknowledged=%d "
                "delivered=%d/%d crashes=%d lost=%d duplicated=%d out_of_order=%d phantom=%d "
                "| wrong_qos=%d lost_messages=%d sessions_lost=%d undelivered_at_kill=%d "
                "(%d/%d kills) qos1_redelivered=%d qos2_retransmissions=%d ids_reused=%d "
                "abandoned=%d rejected=%d elapsed=%.1fs"
                % (self.broker, self.durability, self.seed, self.published, self.acknowledged,
                   self.delivered, self.expected, self.crashes, self.lost, self.duplicated,
                   self.out_of_order, self.phantom, self.wrong_qos, self.lost_messages,
                   self.sessions_lost, self.undelivered_at_kill, self.kills_with_undelivered,
                   self.crashes, self.qos1_redelivered, self.qos2_retransmissions,
                   self.ids_reused, self.abandoned, self.rejected, self.elapsed))

    def to_json(self):
        return json.dumps(dataclasses.asdict(self), sort_keys=True)


# ---------------------------------------------------------------- brokers

class AllsceneBroker:
    """`allscene hub` on a fixed port and data dir; each start is a new Hub."""

    name = "allscene"

    def __init__(self, cfg):
        self.args = ["--durability", cfg.durability, "--threads", str(cfg.threads)]
        self.env = {}
        if cfg.early_ack:
            self.env["ALLSCENE_TEST_EARLY_ACK"] = "1"
        if cfg.powerloss:
            self.env["ALLSCENE_TEST_VFS"] = "powerloss"
        self.data_dir = tempfile.mkdtemp(prefix="allscene-crash-")
        self.port = harness.free_port()
        self.hub = None
        self.log_path = None

    def start(self):
        self.hub = harness.Hub(*self.args, data_dir=self.data_dir, port=self.port, env=self.env)
        self.log_path = self.hub.log_path
        self.hub.start()

    def kill(self):
        self.hub.kill()

    def stop(self):
        if self.hub is not None:
            self.hub.stop()

    def log_tail(self):
        return self.hub.log_tail() if self.hub else "(hub never started)"

    def cleanup(self, keep):
        self.stop()
        if keep:
            sys.stderr.write("crash workload kept: data %s, log %s\n"
                             % (self.data_dir, self.log_path))
            return
        shutil.rmtree(self.data_dir, ignore_errors=True)
        if self.log_path:
            with contextlib.suppress(OSError):
                os.unlink(self.log_path)


class MosquittoBroker:
    """Debian's mosquitto with persistence: it saves its whole state every
    autosave_interval, so a kill loses what changed since.  Its queues are
    unbounded here so that a full queue (which also reorders) does not pass
    for a crash loss.  Mosquitto 2.0.11 also does not restore an MQTT 5
    session created with Clean Start 1 after a restart (sessions_lost)."""

    name = "mosquitto"

    def __init__(self, cfg):
        self.data_dir = tempfile.mkdtemp(prefix="mosquitto-crash-")
        self.port = harness.free_port()
        self.log_path = os.path.join(self.data_dir, "mosquitto.log")
        self.conf_path = os.path.join(self.data_dir, "mosquitto.conf")
        conf = ["listener %d %s" % (self.port, HOST), "allow_anonymous true",
                "persistence true", "persistence_location %s/" % self.data_dir,
                "autosave_interval %d" % cfg.mosquitto_autosave,
                "max_queued_messages 0", "max_inflight_messages 20",
                "log_dest stderr", "log_type error", "log_type warning", "log_type notice"]
        if os.geteuid() == 0:
            conf.append("user root")  # else it drops to `mosquitto`: no access to data_dir
        with open(self.conf_path, "w") as f:
            f.write("\n".join(conf) + "\n")
        self.proc = None

    def start(self):
        with open(self.log_path, "ab") as log:
            self.proc = harness.track(subprocess.Popen(
                [MOSQUITTO, "-c", self.conf_path], stdin=subprocess.DEVNULL,
                stdout=log, stderr=log, start_new_session=True))
        deadline = time.monotonic() + harness.START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("mosquitto exited with %s\n%s"
                                   % (self.proc.returncode, self.log_tail()))
            try:
                with socket.create_connection((HOST, self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.02)
        self.kill()
        raise RuntimeError("mosquitto did not accept on port %d" % self.port)

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=harness.STOP_TIMEOUT)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=harness.STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-8192:].decode("utf-8", "replace")
        except OSError:
            return "(no mosquitto log)"

    def cleanup(self, keep):
        self.stop()
        if keep:
            sys.stderr.write("crash workload kept: %s\n" % self.data_dir)
        else:
            shutil.rmtree(self.data_dir, ignore_errors=True)


# ---------------------------------------------------------------- clients

class Link:
    """One non-blocking MQTT connection: buffered output, packets in."""

    def __init__(self, port, version):
        self.version = version
        self.sock = socket.create_connection((HOST, port), timeout=CONNECT_TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.out = bytearray()
        self.inbuf = bytearray()
        self.dead = False
        self.last_send = time.monotonic()

    def send(self, data):
        if self.dead:
            return
        self.out += data
        self.last_send = time.monotonic()
        self.flush()

    def flush(self):
        while self.out and not self.dead:
            try:
                n = self.sock.send(self.out)
            except BlockingIOError:
                return
            except OSError:
                self.dead = True
                return
            del self.out[:n]

    def receive(self):
        """Whole packets read so far; `dead` is set on EOF or error."""
        for _ in range(16):
            try:
                chunk = self.sock.recv(65536)
            except BlockingIOError:
                break
            except OSError:
                self.dead = True
                break
            if not chunk:
                self.dead = True
                break
            self.inbuf += chunk
        packets = []
        while len(self.inbuf) >= 2:
            try:
                length, pos = mp.decode_vbi(self.inbuf, 1)
            except mp.ProtocolViolation:
                if len(self.inbuf) < 5:
                    break
                raise
            if len(self.inbuf) < pos + length:
                break
            raw = bytes(self.inbuf[:pos + length])
            del self.inbuf[:pos + length]
            packets.append(mp.parse_packet(raw, self.version))
        return packets

    def close(self):
        self.dead = True
        with contextlib.suppress(OSError):
            self.sock.close()


DOWN, CONNECTING, UP = "down", "connecting", "up"


class Client:
    """Connection life cycle shared by publishers and subscribers: persistent
    session (v5 Clean Start 1 only on the very first connect, v3.1.1 Clean
    Session 0 always), reconnect after every loss."""

    def __init__(self, wl, name, version):
        self.wl = wl
        self.name = name
        self.client_id = "crash-%s-%s" % (wl.run_id, name)
        self.version = version
        self.link = None
        self.state = DOWN
        self.retry_at = 0.0
        self.connack_deadline = 0.0
        self.has_session = False
        self.want_online = True
        self.connack = None

    def connect_props(self):
        return [(mp.SESSION_EXPIRY, SESSION_EXPIRY)]

    def tick(self, now):
        if self.state == DOWN:
            if self.want_online and now >= self.retry_at:
                self._connect(now)
        elif self.state == CONNECTING:
            if now >= self.connack_deadline:
                self.drop(now)
        elif not self.want_online:
            self.link.send(mp.disconnect(version=self.version))
            self.link.flush()
            self.drop(now)
        elif now - self.link.last_send >= PING_AFTER:
            self.link.send(mp.pingreq())

    def _connect(self, now):
        try:
            self.link = Link(self.wl.broker.port, self.version)
        except OSError:
            self.link = None
            self.retry_at = now + RETRY_DELAY
            return
        if self.version == mp.V5:
            pkt = mp.connect(self.client_id, mp.V5, clean=not self.has_session,
                             keepalive=KEEPALIVE, props=self.connect_props())
        else:
            pkt = mp.connect(self.client_id, mp.V311, clean=False, keepalive=KEEPALIVE)
        self.link.send(pkt)
        self.state = CONNECTING
        self.connack_deadline = now + CONNACK_TIMEOUT

    def drop(self, now, delay=RETRY_DELAY):
        if self.link is not None:
            self.link.close()
        self.link = None
        self.state = DOWN
        self.retry_at = now + delay
        self.on_down()

    def handle(self, pkt, now):
        if pkt.type == mp.CONNACK and self.state == CONNECTING:
            if pkt.reason != 0:
                self.wl.note("%s: CONNACK 0x%02x" % (self.name, pkt.reason))
                self.drop(now, delay=0.5)
                return
            self.connack = pkt
            self.state = UP
            lost = self.has_session and not pkt.session_present
            if lost:
                self.wl.sessions_lost += 1
                self.wl.note("%s: session lost" % self.name)
            self.has_session = True
            self.on_up(pkt.session_present)
        elif pkt.type == mp.DISCONNECT:
            self.wl.note("%s: DISCONNECT 0x%02x from the server" % (self.name, pkt.reason))
            self.drop(now)
        elif pkt.type == mp.PINGRESP:
            pass
        else:
            self.on_packet(pkt, now)

    def next_timer(self):
        if self.state == DOWN and self.want_online:
            return self.retry_at
        return None

    # subclass hooks
    def on_up(self, session_present):
        pass

    def on_down(self):
        pass

    def on_packet(self, pkt, now):
        pass


def payload_for(pub_name, seq, size):
    head = b"%s %d " % (pub_name.encode(), seq)
    fill = b"%08d" % seq
    return head + (fill * (size // len(fill) + 1))[:max(0, size - len(head))]


class Publisher(Client):
    """Sends numbered messages 1, 2, ... at QoS 1 or 2 to its own topic."""

    def __init__(self, wl, name, version, qos):
        super().__init__(wl, name, version)
        self.qos = qos
        self.topic = "crash/%s/%s" % (wl.run_id, name)
        self.next_seq = 1
        self.acked = set()
        self.inflight = collections.OrderedDict()  # pid -> [seq, "publish" | "pubrel"]
        self.next_pid = 1
        self.due = 0.0
        self.receive_maximum = 65535
        self.rejected = 0
        self.abandoned = 0

    def payload(self, seq):
        return payload_for(self.name, seq, self.wl.cfg.payload_size)

    def _publish_packet(self, pid, seq, dup):
        return mp.publish(self.topic, self.payload(seq), self.qos, dup=dup, pid=pid,
                          version=self.version)

    def on_up(self, session_present):
        self.receive_maximum = 65535
        if self.version == mp.V5:
            self.receive_maximum = self.connack.prop(mp.RECEIVE_MAXIMUM, 65535)
        if not session_present:
            # §3.2.2.1.1: without a session our state goes too; the
            # unacknowledged messages stay "published", never acknowledged.
            self.abandoned += sum(1 for _, st in self.inflight.values() if st == "publish")
            self.inflight.clear()
            return
        # §4.4 resend in the original order, original packet ids.
        for pid, (seq, st) in self.inflight.items():
            if st == "publish":
                self.link.send(self._publish_packet(pid, seq, dup=True))
            else:
                self.link.send(mp.pubrel(pid, version=self.version))

    def _pid(self):
        for _ in range(65535):
            pid = self.next_pid
            self.next_pid = pid % 65535 + 1
            if pid not in self.inflight:
                return pid
        raise RuntimeError("no free packet id")

    def tick(self, now):
        super().tick(now)
        if self.state != UP or not self.wl.publishing:
            return
        room = min(self.wl.cfg.window, self.receive_maximum) - len(self.inflight)
        if self.wl.kill_armed:
            count = room  # a full window in process when the ack that triggers the kill comes
        elif now >= self.due:
            count = min(self.wl.cfg.burst, room)
        else:
            return
        for _ in range(count):
            pid, seq = self._pid(), self.next_seq
            self.next_seq += 1
            self.inflight[pid] = [seq, "publish"]
            self.link.send(self._publish_packet(pid, seq, dup=False))
        if count > 0:
            interval = self.wl.cfg.burst / self.wl.cfg.rate
            self.due = now + interval * self.wl.rng_traffic.uniform(0.5, 1.5)

    def next_timer(self):
        t = super().next_timer()
        if self.state == UP and self.wl.publishing and len(self.inflight) < self.wl.cfg.window:
            return self.due if t is None else min(t, self.due)
        return t  # a full window waits for acks, not for a timer

    def on_packet(self, pkt, now):
        entry = self.inflight.get(pkt.pid)
        if pkt.type == mp.PUBACK and self.qos == 1 and entry and entry[1] == "publish":
            del self.inflight[pkt.pid]
            if pkt.reason < 0x80:
                self.acked.add(entry[0])
                self.wl.on_ack()
            else:
                self.rejected += 1
        elif pkt.type == mp.PUBREC and self.qos == 2 and entry:
            if entry[1] == "publish" and pkt.reason >= 0x80:
                del self.inflight[pkt.pid]
                self.rejected += 1
                return
            first = entry[1] == "publish"
            entry[1] = "pubrel"
            self.link.send(mp.pubrel(pkt.pid, version=self.version))
            if first:
                self.acked.add(entry[0])
                self.wl.on_ack()
        elif pkt.type == mp.PUBCOMP and entry and entry[1] == "pubrel":
            del self.inflight[pkt.pid]
        elif pkt.type == mp.PUBREC and entry is None:
            # A server that recovered older state; §3.6.2.1: "not an error
            # during recovery".
            self.link.send(mp.pubrel(pkt.pid, RC_PACKET_ID_NOT_FOUND[self.version],
                                     version=self.version))
            self.wl.note("%s: PUBREC for unknown packet id %d" % (self.name, pkt.pid))
        else:
            self.wl.note("%s: unexpected %r" % (self.name, pkt))


class Subscriber(Client):
    """A persistent-session subscriber to every publisher's topic."""

    def __init__(self, wl, name, version, sub_qos, kind):
        super().__init__(wl, name, version)
        self.sub_qos = sub_qos
        self.kind = kind
        self.granted = None
        self.sub_pid = None
        self.from_seq = None           # publisher name -> first seq sent after the SUBACK
        self.awaiting_pubrel = {}      # QoS 2 packet id delivered, PUBREL not yet seen -> payload
        self.counts = {p: {} for p, _, _ in PUBLISHERS}    # seq -> deliveries
        self.highest = {p: 0 for p, _, _ in PUBLISHERS}    # highest first delivery
        self.out_of_order = 0
        self.phantom = 0
        self.wrong_qos = 0
        self.retransmissions = 0
        self.ids_reused = 0
        self.acks = collections.deque()  # (due, packet)
        self.offline_run = 0

    def connect_props(self):
        props = super().connect_props()
        if self.kind == SLOW:
            props.append((mp.RECEIVE_MAXIMUM, SLOW_RECEIVE_MAXIMUM))
        return props

    def on_up(self, session_present):
        if not session_present or self.from_seq is None:
            # §3.2.2.1.1 our session state goes with the server's; the
            # subscription is renewed, the first SUBACK still counts.
            self.awaiting_pubrel.clear()
            self.sub_pid = 1
            flt = "crash/%s/+" % self.wl.run_id
            self.link.send(mp.subscribe(self.sub_pid, [(flt, self.sub_qos)],
                                        version=self.version))

    def on_down(self):
        self.acks.clear()  # unsent acks die with the connection

    def _ack_later(self, now, packet):
        delay = 0.0
        if self.kind == SLOW:
            delay = self.wl.rng_traffic.uniform(self.wl.cfg.ack_delay_min,
                                                self.wl.cfg.ack_delay_max)
        due = max(now + delay, self.acks[-1][0] if self.acks else 0.0)
        self.acks.append((due, packet))

    def tick(self, now):
        super().tick(now)
        while self.state == UP and self.acks and self.acks[0][0] <= now:
            self.link.send(self.acks.popleft()[1])

    def next_timer(self):
        t = super().next_timer()
        if self.state == UP and self.acks:
            return self.acks[0][0] if t is None else min(t, self.acks[0][0])
        return t

    def on_packet(self, pkt, now):
        v = self.version
        if pkt.type == mp.SUBACK and pkt.pid == self.sub_pid:
            self.sub_pid = None
            if not pkt.reasons or pkt.reasons[0] >= 0x80:
                raise RuntimeError("%s: subscription refused %r" % (self.name, pkt))
            self.granted = pkt.reasons[0]
            if self.from_seq is None:
                self.from_seq = {p.name: p.next_seq for p in self.wl.publishers}
        elif pkt.type == mp.PUBLISH:
            if pkt.qos == 2:
                if pkt.pid in self.awaiting_pubrel:
                    self.retransmissions += 1
                    if self.awaiting_pubrel[pkt.pid] != pkt.payload:
                        # Still a retransmission for §4.3.3; the server broke
                        # §2.2.1 (an id in use) and may lose this one.
                        self.ids_reused += 1
                        self.wl.example("packet id reused", "%s id %d: %s"
                                        % (self.name, pkt.pid, pkt.payload[:10].decode()))
                else:
                    self.awaiting_pubrel[pkt.pid] = pkt.payload
                    self._deliver(pkt)
                self._ack_later(now, mp.pubrec(pkt.pid, version=v))
            else:
                self._deliver(pkt)
                if pkt.qos == 1:
                    self._ack_later(now, mp.puback(pkt.pid, version=v))
        elif pkt.type == mp.PUBREL:
            known = pkt.pid in self.awaiting_pubrel
            self.awaiting_pubrel.pop(pkt.pid, None)
            reason = 0 if known else RC_PACKET_ID_NOT_FOUND[v]
            self._ack_later(now, mp.pubcomp(pkt.pid, reason, version=v))
        else:
            self.wl.note("%s: unexpected %r" % (self.name, pkt))

    def _deliver(self, pkt):
        pub = self.wl.publisher_by_topic.get(pkt.topic)
        try:
            seq = int(pkt.payload.split(b" ", 2)[1])
        except (IndexError, ValueError):
            seq = None
        if pub is None or seq is None or not 0 < seq < pub.next_seq \
                or pkt.payload != pub.payload(seq):
            self.phantom += 1
            return
        if pkt.qos != min(pub.qos, self.granted if self.granted is not None else self.sub_qos):
            self.wrong_qos += 1
        counts = self.counts[pub.name]
        n = counts.get(seq, 0)
        counts[seq] = n + 1
        if n == 0:
            if seq < self.highest[pub.name]:
                self.out_of_order += 1
                self.wl.example("out of order", "%s<-%s#%d after #%d"
                                % (self.name, pub.name, seq, self.highest[pub.name]))
            self.highest[pub.name] = max(self.highest[pub.name], seq)

    def owed(self, pub):
        """Acknowledged messages of `pub` this subscriber must get."""
        start = self.from_seq[pub.name]
        return {s for s in pub.acked if s >= start}

    def missing(self, pub):
        return self.owed(pub) - self.counts[pub.name].keys()


# ---------------------------------------------------------------- workload

class Workload:
    def __init__(self, cfg):
        self.cfg = cfg
        self.rng_plan = random.Random(cfg.seed)                 # kills, offline cycles
        self.rng_traffic = random.Random(cfg.seed * 7919 + 1)   # timing jitter, ack delays
        self.run_id = "%08x" % self.rng_plan.getrandbits(32)
        self.broker = (MosquittoBroker if cfg.broker == "mosquitto" else AllsceneBroker)(cfg)
        self.publishers = [Publisher(self, n, v, q) for n, v, q in PUBLISHERS]
        self.subscribers = [Subscriber(self, n, v, q, k) for n, v, q, k in SUBSCRIBERS]
        self.clients = self.publishers + self.subscribers
        self.publisher_by_topic = {p.topic: p for p in self.publishers}
        self.publishing = False
        self.kill_armed = False
        self.killed = False
        self.crashes = 0
        self.sessions_lost = 0
        self.undelivered_at_kill = 0
        self.kills_with_undelivered = 0
        self.last_traffic = time.monotonic()
        self.notes = []
        self.examples = collections.OrderedDict((k, []) for k in EXAMPLE_KINDS)

    def note(self, text):
        self.notes.append(text)
        if self.cfg.verbose:
            sys.stderr.write("  %s\n" % text)

    def example(self, kind, text):
        if len(self.examples[kind]) < EXAMPLES_PER_KIND:
            self.examples[kind].append(text)

    def log(self, text):
        if self.cfg.verbose:
            sys.stderr.write(text + "\n")

    # --- event loop
    def pump(self, until, deadline):
        """Runs the clients until `until()` or `deadline` (monotonic)."""
        while time.monotonic() < deadline:
            if until():
                return True
            now = time.monotonic()
            for c in self.clients:
                c.tick(now)
            timers = [t for t in (c.next_timer() for c in self.clients) if t is not None]
            timeout = min([0.05, deadline - now] + [t - now for t in timers])
            linked = [c for c in self.clients if c.link is not None]
            readers = [c.link.sock for c in linked]
            writers = [c.link.sock for c in linked if c.link.out]
            try:
                readable, _, _ = select.select(readers, writers, [], max(0.0, timeout))
            except (OSError, ValueError):
                readable = readers
            readable = set(readable)
            for c in linked:
                if c.link is None:
                    continue
                c.link.flush()
                if c.link.sock in readable:
                    self._read(c, time.monotonic())
                if c.link is not None and c.link.dead:
                    c.drop(time.monotonic())
        return until()

    def _read(self, client, now):
        packets = client.link.receive()
        if any(p.type != mp.PINGRESP for p in packets):
            self.last_traffic = now
        for pkt in packets:
            if client.link is None:
                break
            client.handle(pkt, now)

    # --- crashes
    def on_ack(self):
        if self.kill_armed:
            self.kill()

    def kill(self):
        """SIGKILL now; the figures of what was owed and undelivered at this
        moment; then every client reads what the dead broker left and drops."""
        self.kill_armed = False
        self.broker.kill()
        self.killed = True
        self.crashes += 1
        undelivered = sum(len(s.missing(p)) for s in self.subscribers for p in self.publishers)
        self.undelivered_at_kill += undelivered
        if undelivered:
            self.kills_with_undelivered += 1
        self.log("  kill %d: %d acknowledged deliveries outstanding" % (self.crashes, undelivered))

    def _after_kill(self):
        now = time.monotonic()
        for c in self.clients:
            if c.link is not None:
                for _ in range(4):
                    self._read(c, now)
                    if c.link is None or c.link.dead:
                        break
            c.drop(now, delay=0.0)

    def _plan_offline(self):
        offline_kind = [s for s in self.subscribers if s.kind == OFFLINE]
        for s in offline_kind:
            s.want_online = (s.offline_run >= self.cfg.max_offline_run
                             or self.rng_plan.random() >= self.cfg.offline_share)
        if all(s.want_online for s in offline_kind):
            # Every kill finds queued messages for at least one offline session.
            eligible = [s for s in offline_kind if s.offline_run < self.cfg.max_offline_run]
            if eligible:
                self.rng_plan.choice(eligible).want_online = False
        for s in offline_kind:
            s.offline_run = 0 if s.want_online else s.offline_run + 1

    def _quiet(self):
        return time.monotonic() - self.last_traffic > self.cfg.quiet

    @staticmethod
    def _every(interval, predicate):
        """`predicate`, evaluated at most once per `interval` seconds."""
        last = [0.0, False]

        def throttled():
            now = time.monotonic()
            if now - last[0] >= interval:
                last[0], last[1] = now, predicate()
            return last[1]
        return throttled

    def _all_subscribed(self):
        return all(s.from_seq is not None and s.state == UP for s in self.subscribers)

    def drained(self):
        """Nothing in flight and every owed message delivered.  Costs a set
        difference per subscriber and publisher: call it a few times a second."""
        if any(p.inflight for p in self.publishers):
            return False
        for s in self.subscribers:
            if s.state != UP or s.awaiting_pubrel or s.acks:
                return False
            if any(s.missing(p) for p in self.publishers):
                return False
        return True

    def run(self):
        cfg = self.cfg
        started = time.monotonic()
        self.broker.start()
        if not self.pump(self._all_subscribed, time.monotonic() + SETUP_TIMEOUT):
            raise RuntimeError("subscribers not subscribed within %.0fs; notes: %s"
                               % (SETUP_TIMEOUT, self.notes[-10:]))
        for cycle in range(1, cfg.cycles + 1):
            self._plan_offline()
            # Not in the first cycle: sessions there are brand new and need
            # not be durable before their first acknowledged message.
            if self.rng_plan.random() < cfg.early_kill_share and cycle > 1:
                up = self.rng_plan.uniform(0.0, cfg.early_up_max)
            else:
                up = self.rng_plan.uniform(cfg.up_min, cfg.up_max)
            after_ack = self.rng_plan.random() < cfg.after_ack_share
            self.log("cycle %d: up %.2fs, kill %s, offline %s"
                     % (cycle, up, "after an ack" if after_ack else "at once",
                        [s.name for s in self.subscribers if not s.want_online]))
            self.publishing = True
            self.killed = False
            kill_at = time.monotonic() + up
            self.pump(lambda: self.killed, kill_at)
            if not self.killed and after_ack:
                self.kill_armed = True
                self.pump(lambda: self.killed, kill_at + ACK_KILL_GRACE)
            if not self.killed:
                self.kill()
            self._after_kill()
            self.broker.start()
        # Drain: no new messages, everyone online, until all owed arrived
        # (then a grace period for late duplicates) or traffic stops.
        self.publishing = False
        for s in self.subscribers:
            s.want_online = True
        deadline = time.monotonic() + cfg.drain_timeout
        self.last_traffic = time.monotonic()
        if self.pump(self._every(0.2, lambda: self.drained() or self._quiet()), deadline) \
                and self.drained():
            self.pump(lambda: False, min(deadline, time.monotonic() + 0.5))
        for c in self.clients:
            if c.state == UP:
                c.link.send(mp.disconnect(version=c.version))
                c.link.flush()
            c.drop(time.monotonic())
        result = self.check()
        self.broker.stop()
        result.elapsed = time.monotonic() - started
        return result

    def close(self, keep=False):
        for c in self.clients:
            if c.link is not None:
                c.link.close()
        self.broker.cleanup(keep)

    # --- checker
    def check(self):
        cfg = self.cfg
        r = Result(self.broker.name, cfg.durability if cfg.broker == "allscene" else "-",
                   cfg.seed, cfg.cycles)
        r.crashes = self.crashes
        r.sessions_lost = self.sessions_lost
        r.undelivered_at_kill = self.undelivered_at_kill
        r.kills_with_undelivered = self.kills_with_undelivered
        r.published = sum(p.next_seq - 1 for p in self.publishers)
        r.acknowledged = sum(len(p.acked) for p in self.publishers)
        r.abandoned = sum(p.abandoned for p in self.publishers)
        r.rejected = sum(p.rejected for p in self.publishers)
        lost_messages = set()
        for s in self.subscribers:
            mine = dict(lost=0, duplicated=0, expected=0)
            for p in self.publishers:
                owed = s.owed(p)
                missing = owed - s.counts[p.name].keys()
                mine["expected"] += len(owed)
                mine["lost"] += len(missing)
                lost_messages.update((p.name, seq) for seq in missing)
                for seq in sorted(missing)[:2]:
                    self.example("lost", "%s<-%s#%d" % (s.name, p.name, seq))
                qos = min(p.qos, s.granted)
                extra = sum(n - 1 for n in s.counts[p.name].values() if n > 1)
                if qos == 2:
                    dups = sorted(seq for seq, n in s.counts[p.name].items() if n > 1)
                    mine["duplicated"] += len(dups)
                    for seq in dups[:2]:
                        self.example("duplicated", "%s<-%s#%d" % (s.name, p.name, seq))
                else:
                    r.qos1_redelivered += extra
            mine.update(out_of_order=s.out_of_order, phantom=s.phantom, wrong_qos=s.wrong_qos)
            r.per_subscriber[s.name] = mine
            r.expected += mine["expected"]
            r.lost += mine["lost"]
            r.duplicated += mine["duplicated"]
            r.out_of_order += s.out_of_order
            r.phantom += s.phantom
            r.wrong_qos += s.wrong_qos
            r.qos2_retransmissions += s.retransmissions
            r.ids_reused += s.ids_reused
        r.delivered = r.expected - r.lost
        r.lost_messages = len(lost_messages)
        r.examples = ["%s: %s" % (kind, ", ".join(texts))
                      for kind, texts in self.examples.items() if texts]
        return r


def run(cfg):
    """Runs the workload; returns (Result, Workload).  The caller cleans up
    with `workload.close(keep)` (keep the data dir and log on failure)."""
    wl = Workload(cfg)
    try:
        return wl.run(), wl
    except BaseException:
        wl.close(keep=True)
        raise


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--broker", choices=["allscene", "mosquitto"], default="allscene")
    ap.add_argument("--cycles", type=int, default=20)
    ap.add_argument("--seed", type=int, default=None, help="default: from the clock")
    ap.add_argument("--durability", choices=["fsync", "batch", "none"], default="fsync")
    ap.add_argument("--threads", type=int, default=0, help="allscene event loops (0: per core)")
    ap.add_argument("--early-ack", action="store_true",
                    help="hub test hook ALLSCENE_TEST_EARLY_ACK=1 (losses expected)")
    ap.add_argument("--powerloss", action="store_true",
                    help="hub test hook ALLSCENE_TEST_VFS=powerloss")
    ap.add_argument("--up-min", type=float, default=Config.up_min)
    ap.add_argument("--up-max", type=float, default=Config.up_max)
    ap.add_argument("--after-ack-share", type=float, default=Config.after_ack_share)
    ap.add_argument("--rate", type=float, default=Config.rate, help="messages/s per publisher")
    ap.add_argument("--window", type=int, default=Config.window)
    ap.add_argument("--burst", type=int, default=Config.burst)
    ap.add_argument("--payload-size", type=int, default=Config.payload_size)
    ap.add_argument("--mosquitto-autosave", type=int, default=Config.mosquitto_autosave)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--keep", action="store_true", help="keep the data dir and log")
    ap.add_argument("-v", "--verbose", action="store_true", help="progress on stderr")
    a = ap.parse_args(argv)
    if a.cycles < 1 or a.up_min <= 0 or a.up_max < a.up_min:
        ap.error("need --cycles >= 1 and 0 < --up-min <= --up-max")
    if a.burst < 1 or a.window < 1 or a.rate <= 0:
        ap.error("need --burst, --window >= 1 and --rate > 0")
    seed = a.seed if a.seed is not None else int(time.time()) % 100000
    cfg = Config(broker=a.broker, durability=a.durability, threads=a.threads, cycles=a.cycles,
                 seed=seed,
                 early_ack=a.early_ack, powerloss=a.powerloss, up_min=a.up_min,
                 up_max=a.up_max, after_ack_share=a.after_ack_share, rate=a.rate,
                 window=a.window, burst=a.burst, payload_size=a.payload_size,
                 mosquitto_autosave=a.mosquitto_autosave, verbose=a.verbose)
    result, wl = run(cfg)
    failed = cfg.promises_no_loss() and not result.ok()
    wl.close(keep=a.keep or failed)
    print(result.to_json() if a.json else result.summary())
    if result.examples and not a.json:
        print("e.g.: %s" % "; ".join(result.examples))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
