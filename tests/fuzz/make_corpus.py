#!/usr/bin/env python3
"""Writes the seed corpus for decode_fuzzer: one valid packet of every type
in MQTT 5 and 3.1.1, built byte by byte from the specification (independently
of the codec under test). File names start with the version ("v5-",
"v311-"); the unit tests decode every seed with that version.

Usage: tests/fuzz/make_corpus.py [output dir]   (default: corpus/decode)
"""
import os
import struct
import sys


def vbi(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def s(x):
    """Two-byte length prefixed string or binary data (§1.5.4, §1.5.6)."""
    if isinstance(x, str):
        x = x.encode()
    return struct.pack(">H", len(x)) + x


def packet(first_byte, *parts):
    body = b"".join(parts)
    return bytes([first_byte]) + vbi(len(body)) + body


def props(*items):
    body = b"".join(items)
    return vbi(len(body)) + body


# Property constructors (§2.2.2.2).
def p8(pid, v): return bytes([pid, v])
def p16(pid, v): return bytes([pid]) + struct.pack(">H", v)
def p32(pid, v): return bytes([pid]) + struct.pack(">I", v)
def pvbi(pid, v): return bytes([pid]) + vbi(v)
def pstr(pid, v): return bytes([pid]) + s(v)
def puser(k, v): return b"\x26" + s(k) + s(v)


def u16(v): return struct.pack(">H", v)


def connect(level, flags, keep_alive, properties, payload):
    return packet(0x10, s("MQTT"), bytes([level, flags]), u16(keep_alive), properties, payload)


V5 = {
    "connect-minimal": connect(5, 0x02, 60, props(), s("c1")),
    "connect-full": connect(
        5, 0xEE, 10,
        props(p32(0x11, 3600), pstr(0x15, "SCRAM-SHA-1"), pstr(0x16, b"\x00\x01"), p8(0x17, 0),
              p8(0x19, 1), p16(0x21, 20), p16(0x22, 5), p32(0x27, 1 << 20), puser("a", "b")),
        s("dev-1") + props(p8(0x01, 1), p32(0x02, 30), pstr(0x03, "text/plain"),
                           pstr(0x08, "reply"), pstr(0x09, b"\x01\x02"), p32(0x18, 5),
                           puser("w", "x")) +
        s("status/dev-1") + s(b"offline\xff") + s("user") + s(b"\x00pass")),
    "connect-password-only": connect(5, 0x40, 0, props(), s("") + s(b"token")),
    "connack-success": packet(
        0x20, b"\x01\x00",
        props(p32(0x11, 0), pstr(0x12, "auto-1"), p16(0x13, 30), pstr(0x1A, "resp/"),
              p16(0x21, 100), p16(0x22, 10), p8(0x24, 1), p8(0x25, 1), p32(0x27, 65536),
              p8(0x28, 1), p8(0x29, 1), p8(0x2A, 0), puser("k", "v"))),
    "connack-error": packet(0x20, b"\x00\x9c", props(pstr(0x1C, "other:1883"),
                                                    pstr(0x1F, "moved"))),
    "publish-qos0": packet(0x30, s("a/b"), props(), b"hello"),
    "publish-qos1-properties": packet(
        0x33, s("sensors/t1"), u16(10),
        props(p8(0x01, 1), p32(0x02, 60), pstr(0x03, "application/json"), pstr(0x08, "r/1"),
              pstr(0x09, b"\xde\xad"), pvbi(0x0B, 1), pvbi(0x0B, 16384), p16(0x23, 3),
              puser("k", "v")),
        b'{"t":21.5}'),
    "publish-qos2-alias": packet(0x3C, s(""), u16(0x1234), props(p16(0x23, 7)), b"\x00\x01"),
    "puback-short": packet(0x40, u16(7)),
    "puback-reason": packet(0x40, u16(7), b"\x10"),
    "pubrec-properties": packet(0x50, u16(8), b"\x97", props(pstr(0x1F, "quota"),
                                                           puser("a", ""))),
    "pubrel": packet(0x62, u16(8), b"\x92"),
    "pubcomp": packet(0x70, u16(8)),
    "subscribe": packet(0x82, u16(1), props(pvbi(0x0B, 5), puser("x", "y")),
                        s("a/+/c"), b"\x2d", s("$share/g/b/#"), b"\x01", s("#"), b"\x00"),
    "suback": packet(0x90, u16(1), props(pstr(0x1F, "ok")), b"\x01\x80\x9e"),
    "unsubscribe": packet(0xA2, u16(2), props(puser("k", "v")), s("a/+/c"), s("#")),
    "unsuback": packet(0xB0, u16(2), props(), b"\x00\x11"),
    "pingreq": packet(0xC0),
    "pingresp": packet(0xD0),
    "disconnect-short": packet(0xE0),
    "disconnect-properties": packet(0xE0, b"\x04", props(p32(0x11, 10), pstr(0x1F, "bye"),
                                                        pstr(0x1C, "srv"))),
    "auth-short": packet(0xF0),
    "auth-continue": packet(0xF0, b"\x18", props(pstr(0x15, "SCRAM-SHA-1"),
                                                 pstr(0x16, b"c=biws"), pstr(0x1F, "step"))),
}
# A session as it arrives on a socket: several packets back to back.
V5["stream"] = V5["connect-minimal"] + V5["publish-qos1-properties"] + V5["pingreq"] + \
    V5["disconnect-short"]

V311 = {
    "connect-minimal": connect(4, 0x02, 60, b"", s("c1")),
    "connect-full": connect(4, 0xF4, 30, b"",
                            s("dev-1") + s("status") + s(b"gone\x00") + s("u") + s("p")),
    "connack": packet(0x20, b"\x01\x00"),
    "connack-refused": packet(0x20, b"\x00\x05"),
    "publish-qos0": packet(0x30, s("a/b"), b"hello"),
    "publish-qos1": packet(0x33, s("a/b"), u16(10), b"hi"),
    "puback": packet(0x40, u16(7)),
    "pubrel": packet(0x62, u16(7)),
    "subscribe": packet(0x82, u16(1), s("a/+"), b"\x01", s("b/#"), b"\x02"),
    "suback": packet(0x90, u16(1), b"\x01\x02\x80"),
    "unsubscribe": packet(0xA2, u16(2), s("a/+")),
    "unsuback": packet(0xB0, u16(2)),
    "disconnect": packet(0xE0),
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus", "decode")
    os.makedirs(out, exist_ok=True)
    for prefix, seeds in (("v5", V5), ("v311", V311)):
        for name, data in seeds.items():
            with open(os.path.join(out, f"{prefix}-{name}"), "wb") as f:
                f.write(data)
    print(f"wrote {len(V5) + len(V311)} seeds to {out}")


if __name__ == "__main__":
    main()
