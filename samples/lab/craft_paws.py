#!/usr/bin/env python3
"""CRAFTED capture: per-host PAWS SYN drops (tcp_tw_recycle) with two hosts behind NAT.

    python3 samples/lab/craft_paws.py [OUTDIR]     # default samples/paws-drop-crafted

Why crafted: the drop modelled here was done by tcp_tw_recycle, removed in
Linux 4.12; this lab's kernel (6.18) cannot produce it. Everything else in
samples/ is real kernel traffic.

What it models: a server-side capture (server 198.19.2.2:3306, a server that
closes first on QUIT) of an old kernel (< 4.10, no per-connection timestamp
offsets) with net.ipv4.tcp_tw_recycle=1, whose clients sit behind one NAT
address 198.19.2.1. In such kernels tcp_conn_request() (net/ipv4/tcp_input.c)
called tcp_peer_is_proven(req, dst, true) (net/ipv4/tcp_metrics.c) and dropped
the SYN (LINUX_MIB_PAWSPASSIVEREJECTED, "passive connections rejected because
of time stamp") when the per-peer-ADDRESS metrics entry held a timestamp
stamped less than TCP_PAWS_MSL (60 s) ago and
    (s32)(tcpm_ts - syn_tsval) > TCP_PAWS_WINDOW (1).
The entry's timestamp is the last TSval the server received on a connection
whose socket entered TIME_WAIT (tcp_tw_remember_stamp / tcp_remember_stamp),
i.e. for this server-closes-first protocol: the TSval of the client's FIN.
Host A's TSval clock is ~1.9e9 ms (long uptime), host B's ~1.7e8 ms; so once
host A has closed a connection, every SYN of host B within 60 s is dropped
silently, and host B's connect() retries on the old kernel's schedule (SYN
retransmits 1, 3, 7 s after the first SYN), then the application gives up
after 10 s. When the entry is > 60 s old, host B gets through (and its low
TSval becomes the entry); host A's SYNs are never dropped, because a TSval
moving FORWARD is always accepted.

Packet layout copied from the real lab capture samples/refused/server.pcap
(kernel 6.18 SYN seen at the server): Ethernet + IPv4 (DF, TTL 63 after the
NAT hop) + TCP; SYN options mss 1460, sackOK, TS, nop, wscale 10 (window
64240), SYN-ACK options mss 1460, sackOK, TS, nop, wscale 10 (window 65160),
later segments nop nop TS; the client sends 100 filler bytes + "QUIT\\n", the
server answers "BYE\\n" and closes first. Snaplen 128 like the lab (frames
cut to 128 bytes; checksums computed over the full segment). Classic
little-endian microsecond pcap, linktype 1.

Outputs: paws-drop-crafted.pcap, bookkeeping.json (the generator's own
record of every SYN and the rule's decision), expected.json, README.md.
"""
import heapq
import json
import os
import random
import struct
import subprocess
import sys

LAB = os.path.dirname(os.path.abspath(__file__))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(LAB), "paws-drop-crafted")
PCAP = "paws-drop-crafted.pcap"
NAT, SRV, SPORT = "198.19.2.1", "198.19.2.2", 3306
MAC_GW, MAC_SRV = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")
SNAP = 128
T0 = 1795500000.0            # capture start (epoch s), arbitrary
PAWS_MSL, PAWS_WINDOW = 60, 1
RTX = [1.0, 3.0, 7.0]        # old kernel: SYN retransmits 1, 3, 7 s after the first SYN
APP_TIMEOUT = 10.0           # the client application gives up after 10 s
M32 = 0xFFFFFFFF
rnd = random.Random(4711)    # deterministic output

HOSTS = {"A": {"ts0": 1915000000, "ip_id": 0x1000, "port": 51000},
         "B": {"ts0": 171000000, "ip_id": 0x7000, "port": 42000}}
SRV_TS0 = 1200000000         # server's own TSval clock (no offsets on these kernels)
# (host, start time s) of each connect(), in time order
PLAN = [("A", 0.5 + 2 * i) for i in range(11)] + [("B", 5.2), ("B", 30.0), ("B", 85.0), ("A", 87.0), ("B", 89.0)]
END = 100.0                  # capture end


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def tsval(host, t):          # 1 ms clock (HZ=1000)
    return (HOSTS[host]["ts0"] + int(t * 1000)) & M32 if host != "S" else (SRV_TS0 + int(t * 1000)) & M32


def frame(src, dst, sport, dport, seq, ack, flags, win, opts, payload_len, ip_id, ttl):
    payload = (b"x" * max(0, payload_len - 5) + b"QUIT\n") if payload_len > 4 else b"BYE\n"[:payload_len]
    thl = 20 + len(opts)
    seq, ack, ip_id = seq & M32, ack & M32, ip_id & 0xFFFF
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, (thl // 4) << 4, flags, win, 0, 0) + opts + payload
    ph = ip4(src) + ip4(dst) + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(ph + tcp)) + tcp[18:]
    iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), ip_id, 0x4000, ttl, 6, 0, ip4(src), ip4(dst))
    iph = iph[:10] + struct.pack("!H", csum(iph)) + iph[12:]
    eth = (MAC_SRV + MAC_GW if src == NAT else MAC_GW + MAC_SRV) + b"\x08\x00"
    return eth + iph + tcp


def syn_opts(tsv, tse):
    return bytes.fromhex("020405b40402") + b"\x08\x0a" + struct.pack("!II", tsv, tse) + bytes.fromhex("0103030a")


def ts_opts(tsv, tse):
    return b"\x01\x01\x08\x0a" + struct.pack("!II", tsv, tse)


def main():
    os.makedirs(OUT, exist_ok=True)
    pkts = []                 # (time, bytes)
    book = {"syns": [], "connections": []}
    closes = []               # (time, client FIN TSval): server sockets entering TIME_WAIT
    conns = []
    for i, (h, start) in enumerate(PLAN):
        H = HOSTS[h]
        cport = H["port"] + 2 * sum(1 for x, s in PLAN[:i] if x == h)
        conns.append({"host": h, "client_port": cport, "isn": rnd.getrandbits(32), "start_s": start,
                      "syns": 0, "accepted": False})
    book["connections"] = conns
    # Events in time order: (time of this SYN, connection index, attempt number)
    heap = [(c["start_s"], i, 0) for i, c in enumerate(conns)]
    heapq.heapify(heap)
    while heap:
        t, i, k = heapq.heappop(heap)
        conn = conns[i]
        h, cport, isn, start = conn["host"], conn["client_port"], conn["isn"], conn["start_s"]
        H = HOSTS[h]
        if True:  # (one SYN)
            # the server's tcp_metrics entry for the NAT address: the latest close before t
            done = [c for c in closes if c[0] <= t]
            record = (max(done)[1], max(done)[0]) if done else None
            v = tsval(h, t)
            # tcp_peer_is_proven(): drop if the record is < 60 s old and
            # (s32)(record_ts - syn_tsval) > TCP_PAWS_WINDOW
            behind = (record[0] - v) & M32 if record else 0
            drop = record is not None and t - record[1] < PAWS_MSL and PAWS_WINDOW < behind < 0x80000000
            book["syns"].append({"t_s": round(t, 6), "host": h, "client_port": cport, "isn": isn, "tsval": v,
                                 "retransmit": k > 0, "record_tsval": record[0] if record else None,
                                 "record_age_s": round(t - record[1], 3) if record else None,
                                 "dropped": drop})
            conn["syns"] += 1
            H["ip_id"] = (H["ip_id"] + rnd.randint(1, 40)) & 0xFFFF
            pkts.append((t, frame(NAT, SRV, cport, SPORT, isn, 0, 0x02, 64240, syn_opts(v, 0), 0, H["ip_id"], 63)))
            if drop:
                if k < len(RTX) and RTX[k] < APP_TIMEOUT:
                    heapq.heappush(heap, (start + RTX[k], i, k + 1))
                continue
            conn["accepted"] = True
            # a normal short session, server closes first (like the lab's quit mode)
            sisn = rnd.getrandbits(32)
            d = lambda n: t + n * 0.000060      # ~60 us between packets at the server
            sid = rnd.getrandbits(16)
            seqc, seqs = isn + 1, sisn + 1
            out = [
                (d(1), 0, frame(SRV, NAT, SPORT, cport, sisn, seqc, 0x12, 65160, syn_opts(tsval("S", d(1)), v), 0, 0, 64)),
                (d(3), 0, frame(NAT, SRV, cport, SPORT, seqc, seqs, 0x10, 63, ts_opts(tsval(h, d(3)), tsval("S", d(1))), 0, H["ip_id"] + 1, 63)),
                (d(4), 0, frame(NAT, SRV, cport, SPORT, seqc, seqs, 0x18, 63, ts_opts(tsval(h, d(4)), tsval("S", d(1))), 105, H["ip_id"] + 2, 63)),
                (d(5), 0, frame(SRV, NAT, SPORT, cport, seqs, seqc + 105, 0x10, 64, ts_opts(tsval("S", d(5)), tsval(h, d(4))), 0, sid, 64)),
                (d(20), 0, frame(SRV, NAT, SPORT, cport, seqs, seqc + 105, 0x18, 64, ts_opts(tsval("S", d(20)), tsval(h, d(4))), 4, sid + 1, 64)),
                (d(22), 0, frame(NAT, SRV, cport, SPORT, seqc + 105, seqs + 4, 0x10, 63, ts_opts(tsval(h, d(22)), tsval("S", d(20))), 0, H["ip_id"] + 3, 63)),
                (d(23), 0, frame(SRV, NAT, SPORT, cport, seqs + 4, seqc + 105, 0x11, 64, ts_opts(tsval("S", d(23)), tsval(h, d(22))), 0, sid + 2, 64)),
                (d(25), 0, frame(NAT, SRV, cport, SPORT, seqc + 105, seqs + 5, 0x11, 63, ts_opts(tsval(h, d(25)), tsval("S", d(23))), 0, H["ip_id"] + 4, 63)),
                (d(26), 0, frame(SRV, NAT, SPORT, cport, seqs + 5, seqc + 106, 0x10, 64, ts_opts(tsval("S", d(26)), tsval(h, d(25))), 0, sid + 3, 64)),
            ]
            H["ip_id"] = (H["ip_id"] + 4) & 0xFFFF
            pkts += [(tt, b) for tt, _, b in out]
            conn["server_isn"] = sisn
            conn["client_fin_tsval"] = tsval(h, d(25))
            # the server's socket enters TIME_WAIT on the client's FIN: remember its TSval
            closes.append((d(25), tsval(h, d(25))))
    pkts.sort(key=lambda x: x[0])
    with open(os.path.join(OUT, PCAP), "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, SNAP, 1))
        for t, b in pkts:
            ts = T0 + t
            sec, usec = int(ts), int(round((ts - int(ts)) * 1e6))
            if usec == 1000000:
                sec, usec = sec + 1, 0
            f.write(struct.pack("<IIII", sec, usec, min(SNAP, len(b)), len(b)) + b[:SNAP])
    dropped = [s for s in book["syns"] if s["dropped"]]
    book["summary"] = {
        "packets": len(pkts), "syn_packets": len(book["syns"]), "dropped_syns_paws": len(dropped),
        "dropped_syns_by_host": {h: sum(1 for s in dropped if s["host"] == h) for h in HOSTS},
        "connections": len(book["connections"]),
        "connections_accepted": sum(c["accepted"] for c in book["connections"]),
        "connections_never_answered": sum(not c["accepted"] for c in book["connections"]),
        "syn_retransmits": sum(1 for s in book["syns"] if s["retransmit"]),
    }
    json.dump(book, open(os.path.join(OUT, "bookkeeping.json"), "w"), indent=1)
    expected(book)


def sh(cmd):
    return subprocess.run(["bash", "-c", cmd], cwd=OUT, capture_output=True, text=True, check=True).stdout


def count(cmd):
    return int(sh(cmd).strip() or 0)


def expected(book):
    Q = "tshark -r %s -Y '{}' 2>/dev/null | wc -l" % PCAP
    cmds = {
        "packets": "tshark -r %s 2>/dev/null | wc -l" % PCAP,
        "syn_packets": Q.format("tcp.flags.syn==1 && tcp.flags.ack==0"),
        "synack_packets": Q.format("tcp.flags.syn==1 && tcp.flags.ack==1"),
        "connections": ("tshark -r %s -Y 'tcp.flags.syn==1 && tcp.flags.ack==0' -T fields -e tcp.srcport "
                        "-e tcp.seq_raw 2>/dev/null | sort -u | wc -l" % PCAP),
        "syn_retransmits_wireshark_flag": Q.format("tcp.flags.syn==1 && tcp.flags.ack==0 && tcp.analysis.retransmission"),
        "rst_packets": Q.format("tcp.flags.reset==1"),
        "server_fin_first": ("tshark -r %s -Y 'tcp.flags.fin==1' -T fields -e tcp.stream -e ip.src 2>/dev/null | "
                             "awk '!seen[$1]++ && $2==\"%s\"{n++} END{print n+0}'" % (PCAP, SRV)),
        "client_fin_first": ("tshark -r %s -Y 'tcp.flags.fin==1' -T fields -e tcp.stream -e ip.src 2>/dev/null | "
                             "awk '!seen[$1]++ && $2==\"%s\"{n++} END{print n+0}'" % (PCAP, NAT)),
        # SYNs (incl. retransmits) of tuples that never got a SYN-ACK = the dropped SYNs
        "syns_never_answered": ("tshark -r %s -Y 'tcp.flags.syn==1' -T fields -e tcp.stream -e tcp.flags 2>/dev/null | "
                                "awk '$2==\"0x0002\"{s[$1]++} $2==\"0x0012\"{a[$1]=1} END{for(k in s) if(!a[k]) n+=s[k]; "
                                "print n+0}'" % PCAP),
        "connections_never_answered": ("tshark -r %s -Y 'tcp.flags.syn==1' -T fields -e tcp.stream -e tcp.flags "
                                       "2>/dev/null | awk '$2==\"0x0002\"{s[$1]=1} $2==\"0x0012\"{a[$1]=1} END{for(k in s) "
                                       "if(!a[k]) n++; print n+0}'" % PCAP),
        # SYNs whose TSval is more than 1 below the highest TSval seen from the same source address
        # in the previous 60 s (any packet): the per-host PAWS test, evaluated on the capture
        "syns_tsval_below_source_max_60s": (
            "tshark -r %s -Y 'ip.src==%s' -T fields -e frame.time_epoch -e tcp.flags -e tcp.options.timestamp.tsval "
            "2>/dev/null | awk '{t[NR]=$1; v[NR]=$3; if($2==\"0x0002\"){m=0; for(i=1;i<NR;i++) if($1-t[i]<60 && v[i]>m) "
            "m=v[i]; if(m-$3>1) n++}} END{print n+0}'" % (PCAP, NAT)),
    }
    got = {k: count(c) for k, c in cmds.items()}
    sm = book["summary"]
    issues = []
    for k_b, k_t in (("syn_packets", "syn_packets"), ("connections", "connections"),
                     ("dropped_syns_paws", "syns_never_answered"), ("dropped_syns_paws", "syns_tsval_below_source_max_60s"),
                     ("connections_never_answered", "connections_never_answered"), ("packets", "packets"),
                     ("syn_retransmits", "syn_retransmits_wireshark_flag")):
        if sm[k_b] != got[k_t]:
            issues.append("bookkeeping %s=%s vs tshark %s=%s" % (k_b, sm[k_b], k_t, got[k_t]))
    dropped = [s for s in book["syns"] if s["dropped"]]
    gaps = []
    prev = {}
    for s in book["syns"]:
        k = (s["client_port"], s["isn"])
        if k in prev:
            gaps.append(round((s["t_s"] - prev[k]) * 1000, 1))
        prev[k] = s["t_s"]
    regress = []
    for s in dropped:
        regress.append({"t_s": s["t_s"], "client_port": s["client_port"], "tsval": s["tsval"],
                        "server_record_tsval": s["record_tsval"], "record_age_s": s["record_age_s"],
                        "tsval_behind_by": (s["record_tsval"] - s["tsval"]) & M32})
    facts = {
        "crafted": True,
        "models": "tcp_tw_recycle=1 server (kernel < 4.10), clients behind one NAT address, server closes first",
        "connections": sm["connections"],
        "syn_packets": got["syn_packets"],
        "syn_retransmits": sm["syn_retransmits"],
        "syn_retransmit_gaps_ms": gaps,
        "syn_retransmit_schedule": "Linux < 6.5: 1, 3, 7 s after the first SYN (gaps 1, 2, 4 s)",
        "synack_packets": got["synack_packets"],
        "handshakes_completed": sm["connections_accepted"],
        "connections_without_any_server_reply": sm["connections_never_answered"],
        "connections_refused_rst": 0,
        "server_closes_first_connections": got["server_fin_first"],
        "client_closes_first_connections": got["client_fin_first"],
        "bare_ack_replies_to_syn": 0, "bare_ack_matches_old_fin": 0, "client_rst_after_bare_ack": 0,
        "port_reuses_within_60s": 0, "synack_isn_tw_plus_65537": 0,
        "syns_with_10_nop_run": 0, "timestamps_stripped": False,
        "connections_already_open_at_capture_start": 0,
        "dropped_syns_paws": sm["dropped_syns_paws"],
        "dropped_syns_source": NAT,
        "dropped_syns_by_host": sm["dropped_syns_by_host"],
        "hosts_behind_nat": 2,
        "hosts_distinguishable_by": ["TSval clock (host A ~1.9e9, host B ~1.7e8; no per-connection offsets on these kernels)",
                                     "source port range (A 51000+, B 42000+) - a generator choice, not a NAT property"],
        "tsval_regressions": regress,
        "syns_tsval_below_source_max_60s": got["syns_tsval_below_source_max_60s"],
        "rst_packets": got["rst_packets"],
        "kernel_counter_that_would_count_the_drops": "TcpExtPAWSPassive (LINUX_MIB_PAWSPASSIVEREJECTED)",
    }
    e = {
        "scenario": "paws-drop-crafted",
        "made_by": "python3 samples/lab/craft_paws.py (CRAFTED, not kernel traffic)",
        "kernel": "none (crafted; models Linux < 4.10 with net.ipv4.tcp_tw_recycle=1)",
        "captures": [{"file": PCAP, "point": "server", "format": "pcap",
                      "bytes": os.path.getsize(os.path.join(OUT, PCAP)), "packets": got["packets"],
                      "tcp_packets": got["packets"]}],
        "addresses": {"client": NAT, "server": SRV, "server_port": SPORT, "nat_public": NAT,
                      "hosts": {"A": "behind NAT, TSval clock ~1.9e9 ms", "B": "behind NAT, TSval clock ~1.7e8 ms"}},
        "facts": facts,
        "nstat": {},
        "how": {
            "per_capture_commands": {PCAP: cmds},
            "bookkeeping": "bookkeeping.json: every SYN the generator wrote, the server's per-address record "
                           "(TSval, age) at that moment and the rule's decision; summary = counts",
            "dropped_syns_paws": "generator bookkeeping; equals syns_never_answered and "
                                 "syns_tsval_below_source_max_60s (tshark commands above)",
            "syn_retransmits": "generator bookkeeping (SYNs repeating (port, ISN)); equals syn_retransmits_wireshark_flag",
            "syn_retransmit_gaps_ms": "bookkeeping: time between SYNs with the same (port, ISN)",
            "server/client_closes_first_connections": "direction of the first FIN per tcp.stream (commands above)",
            "nstat": "none: no kernel ran",
        },
    }
    if issues:
        e["cross_check_issues"] = issues
    json.dump(e, open(os.path.join(OUT, "expected.json"), "w"), indent=1)
    readme(e, cmds, got)
    print(json.dumps(sm), "issues:", issues)


def readme(e, cmds, got):
    f = e["facts"]
    doc = __doc__.split("Outputs:")[0].strip().split("\n", 2)[2]
    L = ["# paws-drop-crafted (CRAFTED capture)", "",
         "**This capture is crafted, not recorded.** `paws-drop-crafted.pcap` was written byte by byte by "
         "`python3 samples/lab/craft_paws.py`; no kernel produced it. The behaviour it shows (SYNs dropped by "
         "PAWS per source address, tcp_tw_recycle) was removed in Linux 4.12, so it cannot be reproduced in this "
         "lab (kernel 6.18). Use it to test detection, not as evidence of any kernel's timing.", "",
         "## What it models", "", doc, "",
         "## Timeline", "",
         "- Host A connects every 2 s from t=0.5 s to t=20.5 s (11 connections, ports 51000, 51002, ...): all accepted.",
         "- Host B at t=5.2 s (port 42000) and t=30 s (42002): the record from host A's last close is < 60 s old and "
         "its TSval is far above B's, so every SYN is dropped; SYN retransmits at +1, +3, +7 s, then B gives up (10 s).",
         "- Host B at t=85 s (42004): the record is now > 60 s old: accepted; B's low TSval becomes the record.",
         "- Host A at t=87 s: TSval forward of the record: accepted (A is never dropped); its close puts A's high TSval back.",
         "- Host B at t=89 s (42006): dropped again (4 SYNs at 89, 90, 92, 96 s). Capture ends at the last packet.", "",
         "## Files", "",
         "| file | point | format | bytes | packets |", "|---|---|---|---|---|",
         "| %s | server side (crafted) | pcap (LE, us, linktype 1, snaplen 128) | %d | %d |" % (
             PCAP, e["captures"][0]["bytes"], got["packets"]),
         "", "- bookkeeping.json: the generator's record of every SYN (time, host, port, ISN, TSval, server record, "
         "decision). expected.json: the facts below.", "",
         "## Facts (expected.json)", ""]
    for k, v in f.items():
        if k != "tsval_regressions":
            L.append("- `%s`: %s" % (k, json.dumps(v)))
    L += ["", "Dropped SYNs (TSval behind the server's per-address record):", "",
          "| t (s) | port | TSval | record TSval | record age (s) |", "|---|---|---|---|---|"]
    for r in f["tsval_regressions"]:
        L.append("| %.3f | %d | %d | %d | %.3f |" % (r["t_s"], r["client_port"], r["tsval"], r["server_record_tsval"],
                                                   r["record_age_s"]))
    L += ["", "## How each number was obtained", "",
          "From the generator's bookkeeping, and checked against these tshark commands run on the output "
          "(any mismatch would be listed under cross_check_issues in expected.json):", ""]
    for k, c in cmds.items():
        L.append("- %s = %d: `%s`" % (k, got[k], c))
    L += ["", "## Notes", "",
          "- SYN retransmit gaps are exactly 1, 2, 4 s (no timer slack modelled); the schedule is the pre-6.5 "
          "exponential one, NOT this lab kernel's linear 1 s schedule.",
          "- On a real tcp_tw_recycle server the drop is counted in TcpExtPAWSPassive; no counters exist here.",
          "- IP TTL is 63 for both hosts (one hop behind the NAT); only the TSval clock tells them apart.", ""]
    open(os.path.join(OUT, "README.md"), "w").write("\n".join(L))


if __name__ == "__main__":
    main()
