#!/usr/bin/env python3
"""Derive tunnelled captures from a real lab capture by wrapping every packet
in tunnel headers, for the encapsulations this machine's kernel cannot make
(no geneve, gre, erspan, ipip or sit modules): Geneve, GRE (IP payload with
checksum+key+sequence, IPv6 payload over an IPv6 underlay, gretap), ERSPAN II
and III, IP in IP, IPv6 in IPv4 (sit), MPLS, PPPoE and PPP.

  usage (by hand):  samples/lab/wrap_tunnel.py OUTDIR IPV4_PCAP IPV6_PCAP

Only headers are added in front of each packet; the inner bytes, timestamps,
record order and captured/original lengths of the inner packet are unchanged
(a record cut by the snaplen stays cut the same way). Packets from the inner
client (the SYN sender's address) go outer A->B, the others B->A, as a mirror
session or a tunnel between two hosts would carry them. Outer addresses are in
198.18.20.0/24 and fd00:20::/64. Header layouts: RFC 8926 (Geneve), RFC 2784 +
RFC 2890 (GRE), draft-foschiano-erspan-03 (ERSPAN II/III), RFC 2003 (IP in IP),
RFC 4213 (6in4), RFC 3032 (MPLS), RFC 2516 (PPPoE), RFC 1661/1662 (PPP).
"""
import os
import struct
import sys

OUT, SRC4, SRC6 = sys.argv[1], sys.argv[2], sys.argv[3]
A4, B4 = bytes([198, 18, 20, 1]), bytes([198, 18, 20, 2])
A6 = bytes.fromhex("fd000020000000000000000000000001")
B6 = bytes.fromhex("fd000020000000000000000000000002")
MAC_A, MAC_B = bytes.fromhex("02000000a001"), bytes.fromhex("02000000b002")


def read_pcap(path):
    b = open(path, "rb").read()
    magic = struct.unpack("<I", b[:4])[0]
    assert magic in (0xA1B2C3D4, 0xA1B23C4D), "little-endian classic pcap expected"
    snap, lt = struct.unpack("<II", b[16:24])
    assert lt == 1, "Ethernet captures expected"
    recs, p = [], 24
    while p + 16 <= len(b):
        ts, tf, cap, orig = struct.unpack("<IIII", b[p:p + 16])
        recs.append((ts, tf, orig, b[p + 16:p + 16 + cap]))
        p += 16 + cap
    return b[:24], recs


def write_pcap(path, header, recs, linktype=1):
    hdr = bytearray(header)
    struct.pack_into("<I", hdr, 16, 65535)
    struct.pack_into("<I", hdr, 20, linktype)
    with open(path, "wb") as f:
        f.write(hdr)
        for ts, tf, orig, data in recs:
            f.write(struct.pack("<IIII", ts, tf, len(data), orig))
            f.write(data)


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ipv4(proto, src, dst, payload_len, ident):
    h = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + payload_len, ident & 0xFFFF, 0x4000, 64, proto, 0, src, dst))
    struct.pack_into("!H", h, 10, csum(bytes(h)))
    return bytes(h)


def ipv6(nh, src, dst, payload_len):
    return struct.pack("!IHBB16s16s", 0x60000000, payload_len, nh, 64, src, dst)


def eth(dst, src, etype):
    return dst + src + struct.pack("!H", etype)


def client_of(recs):
    """The inner client: source address of the first SYN without ACK."""
    for _, _, _, d in recs:
        et = struct.unpack("!H", d[12:14])[0]
        if et == 0x0800 and d[23] == 6:
            ihl = (d[14] & 15) * 4
            if d[14 + ihl + 13] & 0x12 == 0x02:
                return d[26:30]
        if et == 0x86DD and d[20] == 6 and d[14 + 40 + 13] & 0x12 == 0x02:
            return d[22:38]
    raise SystemExit("no SYN")


def from_client(d, client):
    et = struct.unpack("!H", d[12:14])[0]
    if et == 0x0800:
        return d[26:30] == client
    if et == 0x86DD:
        return d[22:38] == client
    return False


def wrap(recs, client, make, ip_only):
    """make(inner_bytes, inner_orig_len, forward, index) -> (outer_prefix, linktype).
    ip_only: the tunnel carries IP, so the inner Ethernet header is dropped (non-IP frames too)."""
    out, dropped = [], 0
    for i, (ts, tf, orig, d) in enumerate(recs):
        et = struct.unpack("!H", d[12:14])[0]
        if ip_only:
            if et not in (0x0800, 0x86DD):
                dropped += 1
                continue
            inner, inner_orig = d[14:], orig - 14
        else:
            inner, inner_orig = d, orig
        prefix = make(inner, inner_orig, from_client(d, client), i)
        out.append((ts, tf, inner_orig + len(prefix), prefix + inner))
    return out, dropped


def outer4(proto, hdr, inner_orig, fwd, i):
    src, dst = (A4, B4) if fwd else (B4, A4)
    mac = eth(MAC_B, MAC_A, 0x0800) if fwd else eth(MAC_A, MAC_B, 0x0800)
    return mac + ipv4(proto, src, dst, len(hdr) + inner_orig, i) + hdr


def outer6(nh, hdr, inner_orig, fwd):
    src, dst = (A6, B6) if fwd else (B6, A6)
    mac = eth(MAC_B, MAC_A, 0x86DD) if fwd else eth(MAC_A, MAC_B, 0x86DD)
    return mac + ipv6(nh, src, dst, len(hdr) + inner_orig) + hdr


def udp(sport, dport, body_len):
    return struct.pack("!HHHH", sport, dport, 8 + body_len, 0)  # checksum 0: allowed over IPv4 (RFC 768)


def geneve(inner, inner_orig, fwd, i):
    # One 4-byte option (class 0x0103, type 0x80, length 1 word) so the option walk is exercised.
    opt = struct.pack("!HBB", 0x0103, 0x80, 1) + struct.pack("!I", 0xC0FFEE00 | (i & 0xFF))
    g = struct.pack("!BBH", len(opt) // 4, 0, 0x6558) + struct.pack("!I", 4242 << 8) + opt
    body = g
    return outer4(17, udp(49152 + (i % 1024), 6081, len(body) + inner_orig) + body, inner_orig, fwd, i)


def gre_ip_csum_key_seq(inner, inner_orig, fwd, i):
    # C, K and S set; protocol from the inner IP version. The checksum covers what is captured.
    proto = 0x0800 if inner[0] >> 4 == 4 else 0x86DD
    h = bytearray(struct.pack("!HHHHII", 0xB000, proto, 0, 0, 0x1000 + (0 if fwd else 1), i))
    struct.pack_into("!H", h, 4, csum(bytes(h) + inner))
    return outer4(47, bytes(h), inner_orig, fwd, i)


def gre6_key(inner, inner_orig, fwd, i):
    return outer6(47, struct.pack("!HHI", 0x2000, 0x86DD, 7), inner_orig, fwd)


def gretap(inner, inner_orig, fwd, i):
    return outer4(47, struct.pack("!HHI", 0x2000, 0x6558, 0x2A), inner_orig, fwd, i)


def erspan2(inner, inner_orig, fwd, i):
    # GRE with S (sequence), protocol 0x88BE; ERSPAN II: ver 1, VLAN 0, CoS 0, En 0, T 0, session 100; index 0.
    gre = struct.pack("!HHI", 0x1000, 0x88BE, i)
    e = struct.pack("!HHI", (1 << 12) | 0, 100, 0)
    return outer4(47, gre + e, inner_orig, fwd, i)


def erspan3(inner, inner_orig, fwd, i):
    # GRE with S, protocol 0x22EB; ERSPAN III: ver 2, session 200, a timestamp, SGT 0, P 0, FT 0
    # (Ethernet), HW id 1, D 0, Gra 1 (100 us), O 1 + an 8-byte platform-specific subheader.
    gre = struct.pack("!HHI", 0x1000, 0x22EB, i)
    w2 = (0 << 16) | (0 << 15) | (0 << 10) | (1 << 4) | (0 << 3) | (1 << 1) | 1
    e = struct.pack("!HHII", (2 << 12) | 0, 200, i * 10, w2)
    plat = struct.pack("!II", (3 << 26) | 0, 0)  # platform id 3
    return outer4(47, gre + e + plat, inner_orig, fwd, i)


def ipip(inner, inner_orig, fwd, i):
    # Protocol 4 for IPv4 inside; the capture's few IPv6 frames (ND) go as protocol 41.
    return outer4(4 if inner[0] >> 4 == 4 else 41, b"", inner_orig, fwd, i)


def sit(inner, inner_orig, fwd, i):
    return outer4(41, b"", inner_orig, fwd, i)


def mpls(inner, inner_orig, fwd, i):
    labels = struct.pack("!II", (16 << 12) | (0 << 9) | 64, (17 << 12) | (0 << 9) | 0x100 | 64)
    return (eth(MAC_B, MAC_A, 0x8847) if fwd else eth(MAC_A, MAC_B, 0x8847)) + labels


def pppoe(inner, inner_orig, fwd, i):
    proto = 0x0021 if inner[0] >> 4 == 4 else 0x0057
    h = struct.pack("!BBHHH", 0x11, 0, 0x1234, 2 + inner_orig, proto)
    return (eth(MAC_B, MAC_A, 0x8864) if fwd else eth(MAC_A, MAC_B, 0x8864)) + h


def ppp(inner, inner_orig, fwd, i):
    return struct.pack("!BBH", 0xFF, 0x03, 0x0021 if inner[0] >> 4 == 4 else 0x0057)


os.makedirs(OUT, exist_ok=True)
h4, r4 = read_pcap(SRC4)
h6, r6 = read_pcap(SRC6)
c4, c6 = client_of(r4), client_of(r6)
JOBS = [
    ("geneve.pcap", h4, r4, c4, geneve, False, 1),
    ("gre-ip-csum-key-seq.pcap", h4, r4, c4, gre_ip_csum_key_seq, True, 1),
    ("gre6-ipv6-key.pcap", h6, r6, c6, gre6_key, True, 1),
    ("gretap.pcap", h4, r4, c4, gretap, False, 1),
    ("erspan2.pcap", h4, r4, c4, erspan2, False, 1),
    ("erspan3.pcap", h4, r4, c4, erspan3, False, 1),
    ("ipip.pcap", h4, r4, c4, ipip, True, 1),
    ("sit-ipv6-in-ipv4.pcap", h6, r6, c6, sit, True, 1),
    ("mpls.pcap", h4, r4, c4, mpls, True, 1),
    ("pppoe.pcap", h4, r4, c4, pppoe, True, 1),
    ("ppp-dlt9.pcap", h4, r4, c4, ppp, True, 9),
]
for name, hdr, recs, client, fn, ip_only, lt in JOBS:
    wrapped, dropped = wrap(recs, client, fn, ip_only)
    write_pcap(os.path.join(OUT, name), hdr, wrapped, lt)
    print(f"{name}: {len(wrapped)} records, {dropped} non-IP frames left out")
