"""Minimal MQTT 5 / 3.1.1 packet builder and parser for black-box tests.

Independent of the broker's codec on purpose: packets are built byte by byte
from the spec so that tests can also send exactly the malformed bytes they
want.  Properties are lists of (id, value) pairs because Subscription
Identifier and User Property may repeat and their order matters.
"""

import socket
import struct
import time

V311 = 4
V5 = 5

# Packet types (MQTT 5 §2.1.2).
CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK = 8, 9, 10, 11
PINGREQ, PINGRESP, DISCONNECT, AUTH = 12, 13, 14, 15

TYPE_NAMES = {
    1: "CONNECT", 2: "CONNACK", 3: "PUBLISH", 4: "PUBACK", 5: "PUBREC",
    6: "PUBREL", 7: "PUBCOMP", 8: "SUBSCRIBE", 9: "SUBACK", 10: "UNSUBSCRIBE",
    11: "UNSUBACK", 12: "PINGREQ", 13: "PINGRESP", 14: "DISCONNECT", 15: "AUTH",
}

# Property identifiers (MQTT 5 §2.2.2.2).
PAYLOAD_FORMAT = 0x01
MESSAGE_EXPIRY = 0x02
CONTENT_TYPE = 0x03
RESPONSE_TOPIC = 0x08
CORRELATION_DATA = 0x09
SUBSCRIPTION_ID = 0x0B
SESSION_EXPIRY = 0x11
ASSIGNED_CLIENT_ID = 0x12
SERVER_KEEP_ALIVE = 0x13
AUTH_METHOD = 0x15
AUTH_DATA = 0x16
REQUEST_PROBLEM_INFO = 0x17
WILL_DELAY = 0x18
REQUEST_RESPONSE_INFO = 0x19
RESPONSE_INFO = 0x1A
SERVER_REFERENCE = 0x1C
REASON_STRING = 0x1F
RECEIVE_MAXIMUM = 0x21
TOPIC_ALIAS_MAXIMUM = 0x22
TOPIC_ALIAS = 0x23
MAXIMUM_QOS = 0x24
RETAIN_AVAILABLE = 0x25
USER_PROPERTY = 0x26
MAXIMUM_PACKET_SIZE = 0x27
WILDCARD_SUB_AVAILABLE = 0x28
SUB_ID_AVAILABLE = 0x29
SHARED_SUB_AVAILABLE = 0x2A

_BYTE, _U16, _U32, _VBI, _STR, _BIN, _PAIR = range(7)
PROPERTY_KINDS = {
    PAYLOAD_FORMAT: _BYTE, MESSAGE_EXPIRY: _U32, CONTENT_TYPE: _STR,
    RESPONSE_TOPIC: _STR, CORRELATION_DATA: _BIN, SUBSCRIPTION_ID: _VBI,
    SESSION_EXPIRY: _U32, ASSIGNED_CLIENT_ID: _STR, SERVER_KEEP_ALIVE: _U16,
    AUTH_METHOD: _STR, AUTH_DATA: _BIN, REQUEST_PROBLEM_INFO: _BYTE,
    WILL_DELAY: _U32, REQUEST_RESPONSE_INFO: _BYTE, RESPONSE_INFO: _STR,
    SERVER_REFERENCE: _STR, REASON_STRING: _STR, RECEIVE_MAXIMUM: _U16,
    TOPIC_ALIAS_MAXIMUM: _U16, TOPIC_ALIAS: _U16, MAXIMUM_QOS: _BYTE,
    RETAIN_AVAILABLE: _BYTE, USER_PROPERTY: _PAIR, MAXIMUM_PACKET_SIZE: _U32,
    WILDCARD_SUB_AVAILABLE: _BYTE, SUB_ID_AVAILABLE: _BYTE,
    SHARED_SUB_AVAILABLE: _BYTE,
}

# Reason codes used by the tests (MQTT 5 §2.4).
RC_SUCCESS = 0x00
RC_GRANTED_QOS1 = 0x01
RC_GRANTED_QOS2 = 0x02
RC_DISCONNECT_WITH_WILL = 0x04
RC_NO_MATCHING_SUBSCRIBERS = 0x10
RC_NO_SUBSCRIPTION_EXISTED = 0x11
RC_UNSPECIFIED = 0x80
RC_MALFORMED = 0x81
RC_PROTOCOL_ERROR = 0x82
RC_IMPL_SPECIFIC = 0x83
RC_UNSUPPORTED_PROTOCOL_VERSION = 0x84
RC_CLIENT_ID_NOT_VALID = 0x85
RC_KEEP_ALIVE_TIMEOUT = 0x8D
RC_SESSION_TAKEN_OVER = 0x8E
RC_TOPIC_FILTER_INVALID = 0x8F
RC_TOPIC_NAME_INVALID = 0x90
RC_PACKET_ID_NOT_FOUND = 0x92
RC_RECEIVE_MAXIMUM_EXCEEDED = 0x93
RC_TOPIC_ALIAS_INVALID = 0x94
RC_PACKET_TOO_LARGE = 0x95
RC_QUOTA_EXCEEDED = 0x97
RC_SHARED_SUB_NOT_SUPPORTED = 0x9E


# ---------------------------------------------------------------- encoding

def vbi(n):
    """Variable Byte Integer (§1.5.5)."""
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        if n:
            b |= 0x80
        out.append(b)
        if not n:
            return bytes(out)


def u16(n):
    return struct.pack("!H", n)


def u32(n):
    return struct.pack("!I", n)


def mstr(s):
    """UTF-8 string with 2-byte length; bytes are sent as they are."""
    b = s.encode("utf-8") if isinstance(s, str) else bytes(s)
    return u16(len(b)) + b


def mbin(b):
    b = b.encode() if isinstance(b, str) else bytes(b)
    return u16(len(b)) + b


def encode_props(props):
    if props is None:
        props = []
    body = bytearray()
    for pid, value in props:
        body += vbi(pid)
        kind = PROPERTY_KINDS[pid]
        if kind == _BYTE:
            body.append(value)
        elif kind == _U16:
            body += u16(value)
        elif kind == _U32:
            body += u32(value)
        elif kind == _VBI:
            body += vbi(value)
        elif kind == _STR:
            body += mstr(value)
        elif kind == _BIN:
            body += mbin(value)
        else:
            body += mstr(value[0]) + mstr(value[1])
    return vbi(len(body)) + bytes(body)


def packet(first_byte, body):
    return bytes([first_byte]) + vbi(len(body)) + bytes(body)


def connect(client_id="", version=V5, clean=True, keepalive=60, props=None,
            will=None, username=None, password=None, proto_name="MQTT",
            flags_extra=0):
    """will = dict(topic, payload, qos=0, retain=False, props=None)."""
    flags = flags_extra
    if clean:
        flags |= 0x02
    if will is not None:
        flags |= 0x04 | (will.get("qos", 0) << 3)
        if will.get("retain"):
            flags |= 0x20
    if username is not None:
        flags |= 0x80
    if password is not None:
        flags |= 0x40
    body = mstr(proto_name) + bytes([version, flags]) + u16(keepalive)
    if version == V5:
        body += encode_props(props)
    body += mstr(client_id)
    if will is not None:
        if version == V5:
            body += encode_props(will.get("props"))
        body += mstr(will["topic"]) + mbin(will.get("payload", b""))
    if username is not None:
        body += mstr(username)
    if password is not None:
        body += mbin(password)
    return packet(0x10, body)


def publish(topic, payload=b"", qos=0, retain=False, dup=False, pid=None,
            props=None, version=V5):
    if isinstance(payload, str):
        payload = payload.encode()
    first = 0x30 | (qos << 1) | (0x01 if retain else 0) | (0x08 if dup else 0)
    body = mstr(topic)
    if qos > 0:
        body += u16(pid if pid is not None else 1)
    if version == V5:
        body += encode_props(props)
    return packet(first, body + payload)


def _ack(first, pid, reason, props, version):
    body = u16(pid)
    if version == V5 and (reason != 0 or props):
        body += bytes([reason])
        if props:
            body += encode_props(props)
    return packet(first, body)


def puback(pid, reason=0, props=None, version=V5):
    return _ack(0x40, pid, reason, props, version)


def pubrec(pid, reason=0, props=None, version=V5):
    return _ack(0x50, pid, reason, props, version)


def pubrel(pid, reason=0, props=None, version=V5):
    return _ack(0x62, pid, reason, props, version)


def pubcomp(pid, reason=0, props=None, version=V5):
    return _ack(0x70, pid, reason, props, version)


def sub_options(qos=0, no_local=False, rap=False, retain_handling=0):
    return qos | (0x04 if no_local else 0) | (0x08 if rap else 0) | (retain_handling << 4)


def subscribe(pid, filters, props=None, version=V5):
    """filters: list of (filter, options byte) pairs."""
    body = u16(pid)
    if version == V5:
        body += encode_props(props)
    for f, opts in filters:
        body += mstr(f) + bytes([opts])
    return packet(0x82, body)


def unsubscribe(pid, filters, props=None, version=V5):
    body = u16(pid)
    if version == V5:
        body += encode_props(props)
    for f in filters:
        body += mstr(f)
    return packet(0xA2, body)


def pingreq():
    return b"\xc0\x00"


def disconnect(reason=0, props=None, version=V5):
    if version != V5 or (reason == 0 and not props):
        return b"\xe0\x00"
    body = bytes([reason])
    if props:
        body += encode_props(props)
    return packet(0xE0, body)


# ---------------------------------------------------------------- decoding

class ProtocolViolation(Exception):
    """The server sent bytes that are not a valid packet."""


def decode_vbi(buf, pos):
    mult, value = 1, 0
    for i in range(4):
        if pos >= len(buf):
            raise ProtocolViolation("truncated variable byte integer")
        b = buf[pos]
        pos += 1
        value += (b & 0x7F) * mult
        if not b & 0x80:
            return value, pos
        mult *= 128
    raise ProtocolViolation("variable byte integer longer than 4 bytes")


def decode_props(buf, pos):
    length, pos = decode_vbi(buf, pos)
    end = pos + length
    if end > len(buf):
        raise ProtocolViolation("property length beyond packet")
    props = []
    while pos < end:
        pid, pos = decode_vbi(buf, pos)
        kind = PROPERTY_KINDS.get(pid)
        if kind is None:
            raise ProtocolViolation("unknown property 0x%02x" % pid)
        if kind == _BYTE:
            value = buf[pos]
            pos += 1
        elif kind == _U16:
            value = struct.unpack_from("!H", buf, pos)[0]
            pos += 2
        elif kind == _U32:
            value = struct.unpack_from("!I", buf, pos)[0]
            pos += 4
        elif kind == _VBI:
            value, pos = decode_vbi(buf, pos)
        elif kind in (_STR, _BIN):
            n = struct.unpack_from("!H", buf, pos)[0]
            raw = bytes(buf[pos + 2:pos + 2 + n])
            pos += 2 + n
            value = raw.decode("utf-8") if kind == _STR else raw
        else:
            n = struct.unpack_from("!H", buf, pos)[0]
            k = bytes(buf[pos + 2:pos + 2 + n]).decode("utf-8")
            pos += 2 + n
            n = struct.unpack_from("!H", buf, pos)[0]
            v = bytes(buf[pos + 2:pos + 2 + n]).decode("utf-8")
            pos += 2 + n
            value = (k, v)
        props.append((pid, value))
    if pos != end:
        raise ProtocolViolation("property overruns its length")
    return props, end


class Packet:
    """A decoded server-to-client packet.  Fields depend on the type."""

    def __init__(self, ptype, flags, raw):
        self.type = ptype
        self.flags = flags
        self.raw = raw
        self.props = []
        self.reason = 0
        self.reasons = []
        self.pid = None
        self.topic = None
        self.payload = b""
        self.qos = 0
        self.retain = False
        self.dup = False
        self.session_present = False

    @property
    def name(self):
        return TYPE_NAMES.get(self.type, "TYPE%d" % self.type)

    def prop(self, pid, default=None):
        for k, v in self.props:
            if k == pid:
                return v
        return default

    def props_all(self, pid):
        return [v for k, v in self.props if k == pid]

    def __repr__(self):
        extra = []
        if self.type == PUBLISH:
            extra.append("topic=%r qos=%d retain=%d dup=%d pid=%r payload=%r"
                         % (self.topic, self.qos, self.retain, self.dup, self.pid,
                            self.payload[:40]))
        elif self.type in (CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, DISCONNECT, AUTH):
            extra.append("reason=0x%02x" % self.reason)
        if self.reasons:
            extra.append("reasons=%s" % ["0x%02x" % r for r in self.reasons])
        if self.props:
            extra.append("props=%r" % (self.props,))
        return "<%s %s>" % (self.name, " ".join(extra))


def parse_packet(raw, version):
    """Parse one whole packet (fixed header included)."""
    first = raw[0]
    ptype, flags = first >> 4, first & 0x0F
    _, pos = decode_vbi(raw, 1)
    p = Packet(ptype, flags, bytes(raw))
    body_end = len(raw)
    if ptype == CONNACK:
        p.session_present = bool(raw[pos] & 1)
        p.reason = raw[pos + 1]
        if version == V5 and pos + 2 < body_end:
            p.props, _ = decode_props(raw, pos + 2)
    elif ptype == PUBLISH:
        p.qos = (flags >> 1) & 3
        p.retain = bool(flags & 1)
        p.dup = bool(flags & 8)
        n = struct.unpack_from("!H", raw, pos)[0]
        p.topic = bytes(raw[pos + 2:pos + 2 + n]).decode("utf-8")
        pos += 2 + n
        if p.qos:
            p.pid = struct.unpack_from("!H", raw, pos)[0]
            pos += 2
        if version == V5:
            p.props, pos = decode_props(raw, pos)
        p.payload = bytes(raw[pos:])
    elif ptype in (PUBACK, PUBREC, PUBREL, PUBCOMP):
        p.pid = struct.unpack_from("!H", raw, pos)[0]
        pos += 2
        if version == V5 and pos < body_end:
            p.reason = raw[pos]
            if pos + 1 < body_end:
                p.props, _ = decode_props(raw, pos + 1)
    elif ptype in (SUBACK, UNSUBACK):
        p.pid = struct.unpack_from("!H", raw, pos)[0]
        pos += 2
        if version == V5:
            p.props, pos = decode_props(raw, pos)
        p.reasons = list(raw[pos:])
    elif ptype in (DISCONNECT, AUTH):
        if pos < body_end:
            p.reason = raw[pos]
            if pos + 1 < body_end:
                p.props, _ = decode_props(raw, pos + 1)
    return p


class Closed(Exception):
    """The server closed the connection."""


class RawClient:
    """A blocking MQTT client over a plain socket, driven packet by packet."""

    def __init__(self, port, version=V5, host="127.0.0.1", timeout=5.0, source=None):
        """source: the local IP to connect from (another 127.x.y.z)."""
        self.version = version
        self.sock = socket.create_connection((host, port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.closed = False
        self.next_pid = 1
        self.aliases = {}  # server -> client topic aliases seen so far

    # --- plumbing
    def send(self, data):
        self.sock.sendall(data)

    def pid(self):
        p = self.next_pid
        self.next_pid = self.next_pid % 65535 + 1
        return p

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout()
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.closed = True
            raise Closed()
        self.buf += chunk

    def recv(self, timeout=5.0):
        """Next packet, or None on timeout.  Raises Closed on EOF."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                if len(self.buf) >= 2:
                    try:
                        length, pos = decode_vbi(self.buf, 1)
                    except ProtocolViolation:
                        if len(self.buf) < 5:
                            length = None
                        else:
                            raise
                    if length is not None and len(self.buf) >= pos + length:
                        raw = bytes(self.buf[:pos + length])
                        del self.buf[:pos + length]
                        pkt = parse_packet(raw, self.version)
                        if pkt.type == PUBLISH and self.version == V5:
                            self._resolve_alias(pkt)
                        return pkt
                self._fill(deadline)
        except socket.timeout:
            return None

    def _resolve_alias(self, pkt):
        alias = pkt.prop(TOPIC_ALIAS)
        if alias is None:
            return
        if pkt.topic:
            self.aliases[alias] = pkt.topic
        else:
            pkt.topic = self.aliases.get(alias)

    def expect(self, ptype, timeout=5.0):
        try:
            pkt = self.recv(timeout)
        except Closed:
            raise AssertionError("server closed the connection while we waited for %s"
                                 % TYPE_NAMES[ptype])
        if pkt is None:
            raise AssertionError("timed out waiting for %s" % TYPE_NAMES[ptype])
        if pkt.type != ptype:
            raise AssertionError("expected %s, got %r" % (TYPE_NAMES[ptype], pkt))
        return pkt

    def packets_until_closed(self, timeout=5.0):
        """Read until the server closes.  Returns (packets, closed)."""
        deadline = time.monotonic() + timeout
        pkts = []
        while time.monotonic() < deadline:
            try:
                pkt = self.recv(max(0.01, deadline - time.monotonic()))
            except Closed:
                return pkts, True
            if pkt is not None:
                pkts.append(pkt)
        return pkts, False

    def is_open(self, timeout=2.0):
        """Round-trips a PINGREQ; True if PINGRESP comes back."""
        try:
            self.send(pingreq())
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                pkt = self.recv(deadline - time.monotonic())
                if pkt is not None and pkt.type == PINGRESP:
                    return True
        except (Closed, OSError):
            return False
        return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def abort(self):
        """Close abruptly with RST (no DISCONNECT, no FIN handshake)."""
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close()

    # --- high level
    def connect(self, client_id="", **kw):
        kw.setdefault("version", self.version)
        self.send(connect(client_id, **kw))
        return self.expect(CONNACK)

    def subscribe(self, filters, props=None, timeout=5.0):
        """filters: [(filter, options)] or a single filter string (QoS 0)."""
        if isinstance(filters, str):
            filters = [(filters, 0)]
        pid = self.pid()
        self.send(subscribe(pid, filters, props, self.version))
        while True:
            pkt = self.recv(timeout)
            if pkt is None:
                raise AssertionError("no SUBACK")
            if pkt.type == SUBACK:
                assert pkt.pid == pid, pkt
                return pkt
            self.pending.append(pkt)

    @property
    def pending(self):
        if not hasattr(self, "_pending"):
            self._pending = []
        return self._pending

    def publish(self, topic, payload=b"", qos=0, retain=False, props=None, timeout=5.0):
        """Publishes and completes the QoS handshake; returns the final ack or None."""
        pid = self.pid() if qos else None
        self.send(publish(topic, payload, qos, retain, pid=pid, props=props, version=self.version))
        if qos == 0:
            return None
        want = PUBACK if qos == 1 else PUBREC
        while True:
            pkt = self.recv(timeout)
            if pkt is None:
                raise AssertionError("no %s for pid %d" % (TYPE_NAMES[want], pid))
            if pkt.type == want and pkt.pid == pid:
                break
            self.pending.append(pkt)
        if qos == 1 or pkt.reason >= 0x80:
            return pkt
        self.send(pubrel(pid, version=self.version))
        while True:
            comp = self.recv(timeout)
            if comp is None:
                raise AssertionError("no PUBCOMP for pid %d" % pid)
            if comp.type == PUBCOMP and comp.pid == pid:
                return pkt
            self.pending.append(comp)

    def next_publish(self, timeout=5.0, ack=True):
        """Next PUBLISH (acknowledged unless ack=False), or None on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            if self.pending:
                pkt = self.pending.pop(0)
            else:
                pkt = self.recv(max(0.0, deadline - time.monotonic()))
                if pkt is None:
                    return None
            if pkt.type == PUBLISH:
                if ack:
                    self.ack(pkt)
                return pkt
            if pkt.type == PUBREL:
                self.send(pubcomp(pkt.pid, version=self.version))

    def ack(self, pkt):
        if pkt.qos == 1:
            self.send(puback(pkt.pid, version=self.version))
        elif pkt.qos == 2:
            self.send(pubrec(pkt.pid, version=self.version))
            # PUBREL is answered from next_publish()/drain loops.

    def drain_publishes(self, timeout=1.0, ack=True):
        """All PUBLISHes arriving until `timeout` of silence."""
        out = []
        while True:
            pkt = self.next_publish(timeout, ack=ack)
            if pkt is None:
                return out
            out.append(pkt)
