#!/usr/bin/env python3
"""Derive expected.json for one lab scenario folder, independently of tcpdiag.

Sources, and nothing else:
  * the captures, read with tshark (shell commands are run verbatim and kept
    in expected.json "how" so anyone can re-run them);
  * client-log.csv / server-log-*.csv written by client.py / server.py;
  * nstat -asz snapshots taken in each namespace before and after the run;
  * lab-meta.json (the parameters run.sh used).

Per-connection logic (python, documented in "how") works on the tshark field
export `tshark -r F -Y tcp -T fields -e frame.time_epoch -e ip.src -e ipv6.src
-e tcp.srcport -e tcp.dstport -e tcp.flags -e tcp.seq_raw -e tcp.ack_raw
-e tcp.len -e tcp.options`:
  a "connection attempt" is a client SYN with a new (4-tuple, ISN); every later
  packet on the 4-tuple belongs to it until the next new-ISN SYN.
"""
import csv
import glob
import json
import math
import os
import re
import subprocess
import sys

M32 = 0xFFFFFFFF
D = sys.argv[1]
meta = json.load(open(os.path.join(D, "lab-meta.json")))
SRV, CLI, SPORT = meta["server"], meta["client"], int(meta["server_port"])
issues = []


def sh(cmd):
    r = subprocess.run(["bash", "-c", cmd], cwd=D, capture_output=True, text=True)
    if r.returncode:
        raise SystemExit("command failed: %s\n%s" % (cmd, r.stderr))
    return r.stdout


def count(cmd):
    return int(sh(cmd).strip() or 0)


FIELDS = ["frame.time_epoch", "ip.src", "ipv6.src", "tcp.srcport", "tcp.dstport", "tcp.flags",
          "tcp.seq_raw", "tcp.ack_raw", "tcp.len", "tcp.options", "tcp.options.timestamp.tsval"]


def load(cap):
    out = sh("tshark -r %s -Y tcp -T fields -E occurrence=f %s 2>/dev/null"
             % (cap, " ".join("-e " + f for f in FIELDS)))
    pk = []
    for line in out.splitlines():
        t, s4, s6, sp, dp, fl, sq, ak, ln, opt, tsv = line.split("\t")
        src = s4 or s6
        fl = int(fl, 16)
        frm_client = src != SRV   # (== CLI before the NAT scenarios: the server sees the NAT address)
        cport = int(sp) if frm_client else int(dp)
        sec, _, frac = t.partition(".")
        tus = int(sec) * 1000000 + int((frac + "000000")[:6])   # exact microseconds (pcap resolution)
        pk.append(dict(t=float(t), tus=tus, c=frm_client, cport=cport, sport=int(dp) if frm_client else int(sp),
                       syn=bool(fl & 2), ack=bool(fl & 16), rst=bool(fl & 4), fin=bool(fl & 1),
                       flags=fl, seq=int(sq), ackn=int(ak), len=int(ln), opt=opt.replace(":", ""),
                       tsval=int(tsv) if tsv else None))
    return pk


def option_kinds(opt_hex):
    b, i, kinds = bytes.fromhex(opt_hex), 0, []
    while i < len(b):
        k = b[i]
        kinds.append(k)
        if k in (0, 1):
            i += 1
            if k == 0:
                break
            continue
        if i + 1 >= len(b) or b[i + 1] < 2:
            break
        i += b[i + 1]
    return kinds


def longest_nop_run(opt_hex):
    b = bytes.fromhex(opt_hex)
    i = best = run = 0
    while i < len(b):  # walk options properly: a 0x01 inside a TSval is not a NOP
        k = b[i]
        if k == 1:
            run += 1; best = max(best, run); i += 1; continue
        run = 0
        if k == 0:
            break
        if i + 1 >= len(b) or b[i + 1] < 2:
            break
        i += b[i + 1]
    return best


def analyze(cap):
    pk = load(cap)
    conns = []          # list of dicts
    cur = {}            # (cport, sport) -> current conn
    hist = {}           # (cport, sport) -> [conns]
    f = dict(syn_packets=0, synack_packets=0, syn_retransmits=0, bare_ack_replies_to_syn=0,
             bare_ack_matches_old_fin=0, client_rst_after_bare_ack=0, rst_ack_replies_to_syn=0,
             syns_with_timestamp=0, syns_with_10_nop_run=0)
    gaps, gaps_after_rst, longest_runs = [], [], set()
    for p in pk:
        key = (p["cport"], p["sport"])
        if p["c"] and p["syn"] and not p["ack"]:
            f["syn_packets"] += 1
            if 8 in option_kinds(p["opt"]):
                f["syns_with_timestamp"] += 1
            run = longest_nop_run(p["opt"])
            longest_runs.add(run)
            if run >= 10:
                f["syns_with_10_nop_run"] += 1
            c = cur.get(key)
            if c is not None and c["isn"] == p["seq"]:
                f["syn_retransmits"] += 1
                # gap in ms to 0.1 ms, from exact microseconds, halves rounded up
                # (float seconds would misround an exact x.x5 ms gap)
                g = (p["tus"] - c["syn_us"][-1] + 50) // 100 / 10
                gaps.append(g)
                if c["rst_after_bare_ack"]:
                    gaps_after_rst.append(g)
                c["syn_times"].append(p["t"])
                c["syn_us"].append(p["tus"])
                c["pk"].append(p)
                continue
            c = dict(key=key, isn=p["seq"], syn_times=[p["t"]], syn_us=[p["tus"]], pk=[p], synack=None, bare_acks=[],
                     rst_after_bare_ack=False, first_fin=None, cfin=None, sfin=None, prev=None,
                     server_reply=False, rstack=False)
            prevs = hist.setdefault(key, [])
            c["prev"] = prevs[-1] if prevs else None
            prevs.append(c)
            cur[key] = c
            conns.append(c)
            continue
        c = cur.get(key)
        if c is None:   # traffic of a connection already open when the capture started
            c = dict(key=key, isn=None, syn_times=[], pk=[], synack=None, bare_acks=[],
                     rst_after_bare_ack=False, first_fin=None, cfin=None, sfin=None, prev=None,
                     server_reply=True, rstack=False, mid=True)
            hist.setdefault(key, []).append(c)
            cur[key] = c
            conns.append(c)
        c["pk"].append(p)
        if not p["c"]:
            c["server_reply"] = True
        if not p["c"] and p["syn"] and p["ack"]:
            f["synack_packets"] += 1
            if c["synack"] is None:
                c["synack"] = p
        elif not p["c"] and p["rst"] and c["isn"] is not None and c["synack"] is None \
                and p["ackn"] == (c["isn"] + 1) & M32:
            f["rst_ack_replies_to_syn"] += 1
            c["rstack"] = True
        elif (not p["c"] and p["flags"] == 0x10 and p["len"] == 0 and c["synack"] is None
              and c["isn"] is not None and p["ackn"] != (c["isn"] + 1) & M32):
            # a pure ACK answering our SYN that does not acknowledge it: stale ACK
            f["bare_ack_replies_to_syn"] += 1
            c["bare_acks"].append(p)
            pv = c["prev"]
            if pv and pv.get("sfin") and pv.get("cfin") and p["seq"] == (pv["sfin"]["seq"] + 1) & M32 \
                    and p["ackn"] == (pv["cfin"]["seq"] + 1) & M32:
                f["bare_ack_matches_old_fin"] += 1
        elif p["c"] and p["rst"] and c["bare_acks"] and c["synack"] is None \
                and p["seq"] == c["bare_acks"][-1]["ackn"]:
            f["client_rst_after_bare_ack"] += 1
            c["rst_after_bare_ack"] = True
        if p["fin"]:
            if c["first_fin"] is None:
                c["first_fin"] = "client" if p["c"] else "server"
            if p["c"] and c["cfin"] is None:
                c["cfin"] = p
            if not p["c"] and c["sfin"] is None:
                c["sfin"] = p

    real = [c for c in conns if c["isn"] is not None]
    f["connections"] = len(real)
    f["connections_already_open_at_capture_start"] = len(conns) - len(real)
    f["handshakes_completed"] = sum(1 for c in real if c["synack"] and c["synack"]["ackn"] == (c["isn"] + 1) & M32)
    f["connections_without_any_server_reply"] = sum(1 for c in real if not c["server_reply"])
    f["connections_refused_rst"] = sum(1 for c in real if c["rstack"])
    closed = [c for c in conns if c["first_fin"]]
    f["server_closes_first_connections"] = sum(1 for c in closed if c["first_fin"] == "server")
    f["client_closes_first_connections"] = sum(1 for c in closed if c["first_fin"] == "client")
    reuse = reuse60 = reuse_tw = isn65537 = before_rcv = 0
    unaccept = 0
    tscmp = {"newer": 0, "equal": 0, "older": 0, "no_timestamps": 0}
    reuse_gaps = []
    for c in real:
        pv = c["prev"]
        if pv is None:
            continue
        reuse += 1
        gap = c["syn_times"][0] - pv["pk"][-1]["t"] if pv["pk"] else None
        if gap is not None and gap < 60:
            reuse60 += 1
            reuse_gaps.append(gap * 1000)
            # TIME_WAIT follows only a close of a synchronized connection (RFC 9293 3.3.2): the
            # previous connection sent a FIN (either side) before this SYN.
            fins = [x for x in (pv.get("cfin"), pv.get("sfin")) if x]
            if fins and min(x["t"] for x in fins) < c["syn_times"][0]:
                reuse_tw += 1
        if pv.get("cfin") and ((c["isn"] - (pv["cfin"]["seq"] + 1)) & M32) >= 0x80000000:
            before_rcv += 1     # new ISN is "before" the old connection's rcv_nxt
        old_ts = [q["tsval"] for q in pv["pk"] if q["c"] and q["tsval"] is not None]
        new_ts = c["pk"][0]["tsval"]
        ts_newer = False
        if not old_ts or new_ts is None:
            tscmp["no_timestamps"] += 1
        else:
            d = (new_ts - old_ts[-1]) & M32
            tscmp["equal" if d == 0 else "newer" if d < 0x80000000 else "older"] += 1
            ts_newer = 0 < d < 0x80000000
        # tcp_timewait_state_process(): acceptable if seq after old rcv_nxt, or TSval newer
        if pv.get("sfin") and pv.get("cfin"):
            seq_after = 0 < ((c["isn"] - (pv["cfin"]["seq"] + 1)) & M32) < 0x80000000
            if not (seq_after or ts_newer):
                unaccept += 1
        if c["synack"] and pv.get("sfin") and c["synack"]["seq"] == (pv["sfin"]["seq"] + 1 + 65537) & M32:
            isn65537 += 1
    f["port_reuses"] = reuse
    f["port_reuses_within_60s"] = reuse60
    f["port_reuses_within_time_wait"] = reuse_tw
    f["reused_syn_isn_before_old_rcv_nxt"] = before_rcv
    f["synack_isn_tw_plus_65537"] = isn65537
    f["reused_syn_tsval_vs_old_last_client_tsval"] = tscmp
    f["reused_syns_unacceptable_to_timewait_rule"] = unaccept
    if reuse_gaps:
        reuse_gaps.sort()
        f["port_reuse_gap_ms"] = {"min": round(reuse_gaps[0], 2), "max": round(reuse_gaps[-1], 2)}
    f["syn_retransmit_gaps_ms"] = gaps
    if gaps_after_rst:
        s = sorted(gaps_after_rst)
        f["syn_retransmit_gap_after_client_rst_ms"] = {"min": s[0], "median": s[len(s) // 2], "max": s[-1]}
    f["longest_nop_run_in_syn"] = sorted(longest_runs)
    # SYN times of connections that got no answer at all (S0), relative to the first SYN
    s0 = [[round(t - c["syn_times"][0], 3) for t in c["syn_times"]] for c in real if not c["server_reply"]]
    f["no_reply_syn_times_s"] = s0
    return f


def pct(vals, p):  # nearest-rank percentile
    v = sorted(vals)
    return v[max(0, math.ceil(p / 100 * len(v)) - 1)]


# ---- client log --------------------------------------------------------------
rows = []
for fn in sorted(glob.glob(os.path.join(D, "client*-log.csv"))):  # client2/3-log.csv: NAT scenarios
    rows += list(csv.DictReader(open(fn)))
facts = {"connects_attempted": len(rows),
         "connects_ok": sum(r["result"] == "ok" for r in rows),
         "connects_failed": sum(r["result"] != "ok" for r in rows)}
res = {}
for r in rows:
    res[r["result"]] = res.get(r["result"], 0) + 1
facts["connect_results"] = res
tags = sorted(set(r["tag"] for r in rows))
if len(tags) > 1:
    facts["connects_by_tag"] = {t: {"attempted": sum(r["tag"] == t for r in rows),
                                    "ok": sum(r["tag"] == t and r["result"] == "ok" for r in rows)}
                                for t in tags}
oks = [float(r["connect_ms"]) for r in rows if r["result"] == "ok"]
if oks:
    facts["connect_latency_ms"] = {"p50": pct(oks, 50), "p99": pct(oks, 99), "max": max(oks), "n": len(oks)}
facts["client_local_ports_used"] = sorted(set(int(r["local_port"]) for r in rows))
facts["connects_slower_than_5ms"] = sum(1 for v in oks if v > 5)
facts["connects_slower_than_900ms"] = sum(1 for v in oks if v > 900)
srv_rows = []
for fn in sorted(glob.glob(os.path.join(D, "server-log-*.csv"))):
    srv_rows += list(csv.DictReader(open(fn)))
facts["server_accepted"] = len(srv_rows)
cb = {}
for r in srv_rows:
    cb[r["closed_by"]] = cb.get(r["closed_by"], 0) + 1
facts["server_closed_by"] = cb

# ---- captures ----------------------------------------------------------------
caps = sorted(glob.glob(os.path.join(D, "*.pcap")) + glob.glob(os.path.join(D, "*.pcapng")))
capinfo, per = [], {}
for path in caps:
    fn = os.path.basename(path)
    point = "client" if fn.startswith("client") else "server"
    # format from the file's magic number, not from the extension
    fmt = "pcapng" if open(path, "rb").read(4) == b"\x0a\x0d\x0d\x0a" else "pcap"
    capinfo.append({"file": fn, "point": point, "format": fmt, "bytes": os.path.getsize(path),
                    "packets": count("tshark -r %s 2>/dev/null | wc -l" % fn),
                    "tcp_packets": count("tshark -r %s -Y tcp 2>/dev/null | wc -l" % fn)})
    per[fn] = analyze(fn)

# Cross-checks: the simple counts again with plain tshark filters / awk, run verbatim.
how = {}
Q = "tshark -r {f} -Y '{y}' 2>/dev/null | wc -l"
for fn, f in per.items():
    h = {
        "syn_packets": Q.format(f=fn, y="tcp.flags.syn==1 && tcp.flags.ack==0"),
        "synack_packets": Q.format(f=fn, y="tcp.flags.syn==1 && tcp.flags.ack==1"),
        "connections": ("tshark -r %s -Y 'tcp.flags.syn==1 && tcp.flags.ack==0' -T fields -e tcp.srcport "
                        "-e tcp.seq_raw 2>/dev/null | sort -u | wc -l" % fn),
        "bare_ack_replies_to_syn": ("tshark -r %s -Y tcp -T fields -e tcp.srcport -e tcp.dstport -e tcp.flags "
                                    "-e tcp.len 2>/dev/null | awk '$2==%d{last[$1]=$3} $1==%d && $3==\"0x0010\" && "
                                    "$4==0 && last[$2]==\"0x0002\"{n++} END{print n+0}'" % (fn, SPORT, SPORT)),
        "client_rst_after_bare_ack": ("tshark -r %s -Y tcp -T fields -e tcp.srcport -e tcp.dstport -e tcp.flags "
                                      "-e tcp.len -e tcp.seq_raw -e tcp.ack_raw 2>/dev/null | awk '$1==%d && "
                                      "$3==\"0x0010\" && $4==0 && last[$2]==\"0x0002\"{stale[$2]=$6} "
                                      "$2==%d{last[$1]=$3; if(($3==\"0x0004\"||$3==\"0x0014\") && $5==stale[$1]){n++; "
                                      "delete stale[$1]}} END{print n+0}'" % (fn, SPORT, SPORT)),
        "syn_retransmits_wireshark_flag": Q.format(
            f=fn, y="tcp.flags.syn==1 && tcp.flags.ack==0 && tcp.analysis.retransmission"),
        "syns_with_timestamp": Q.format(f=fn, y="tcp.flags.syn==1 && tcp.flags.ack==0 && tcp.option_kind==8"),
        "rst_ack_replies_to_syn": Q.format(f=fn, y="%s.src==%s && tcp.flags==0x014" % ("ipv6" if ":" in SRV else "ip", SRV)),
    }
    # Only the first port is checked with awk for bare ACKs (others: analyze.py).
    for k, cmd in h.items():
        v = count(cmd)
        if k in f and f[k] != v and k not in ("rst_ack_replies_to_syn",):
            issues.append("%s %s: analyze.py %s vs command %s" % (fn, k, f[k], v))
        if k == "syn_retransmits_wireshark_flag":
            f[k] = v
        if k == "rst_ack_replies_to_syn" and f[k] != v:
            issues.append("%s %s: analyze.py %s vs command %s (RST-ACK not only to SYNs?)" % (fn, k, f[k], v))
    how[fn] = h


def merge(key):
    vals = {fn: per[fn].get(key) for fn in per}
    uniq = {json.dumps(v, sort_keys=True) for v in vals.values()}
    return next(iter(vals.values())) if len(uniq) == 1 else vals


keys = []
for f in per.values():
    for k in f:
        if k not in keys:
            keys.append(k)
for k in keys:
    facts[k] = merge(k)
facts["timestamps_stripped"] = meta.get("timestamps_stripped") == "true"
srv_caps = [fn for fn in per if fn.startswith("server")]
facts["nop_run_in_syn_at_server"] = (10 if srv_caps and all(
    per[fn]["syns_with_10_nop_run"] == per[fn]["syn_packets"] > 0 for fn in srv_caps) else 0)
facts["active_closer"] = meta.get("active_closer")


# ---- nstat ---------------------------------------------------------------------
def nst(fn):
    d = {}
    for line in open(fn):
        parts = line.split()
        if len(parts) >= 2 and not line.startswith("#"):
            d[parts[0]] = int(parts[1])
    return d


SEL = ["TcpActiveOpens", "TcpPassiveOpens", "TcpAttemptFails", "TcpEstabResets", "TcpRetransSegs",
       "TcpOutRsts", "TcpInSegs", "TcpOutSegs", "TcpExtTW", "TcpExtTWRecycled", "TcpExtTWKilled",
       "TcpExtTCPACKSkippedTimeWait", "TcpExtTCPTimeWaitOverflow", "TcpExtListenOverflows",
       "TcpExtListenDrops", "TcpExtTCPSynRetrans", "TcpExtPAWSActive", "TcpExtPAWSEstab",
       "TcpExtTCPTimeouts", "TcpExtTCPACKSkippedSynRecv", "TcpExtTCPChallengeACK",
       "IpForwDatagrams", "Ip6OutForwDatagrams", "IpExtInNoRoutes",
       "TcpExtSyncookiesSent", "TcpExtSyncookiesRecv", "TcpExtSyncookiesFailed",
       "TcpExtTCPReqQFullDoCookies", "TcpExtTCPReqQFullDrop", "TcpExtTCPAbortOnTimeout"]
nstat = {}
for who in ("client", "client2", "client3", "client4", "client5", "gateway", "server"):
    b, a = os.path.join(D, "nstat-%s-before.txt" % who), os.path.join(D, "nstat-%s-after.txt" % who)
    if os.path.exists(a):
        nb, na = nst(b), nst(a)
        nstat[who] = {k: na.get(k, 0) - nb.get(k, 0) for k in SEL if k in na}

ss = open(os.path.join(D, "ss-timewait-after.txt")).read().split("# server")
facts["timewait_sockets_after_run"] = {
    "client": len([l for l in ss[0].splitlines() if l and not l.startswith("#")]),
    "server": len([l for l in ss[1].splitlines()[1:] if l.strip()])}

kernel = ""
for line in open(os.path.join(D, "lab-env.txt")):
    if not line.startswith("#"):
        kernel = line.strip(); break

addresses = {"client": CLI, "server": SRV, "server_port": SPORT}
for k in ("closed_port", "blackhole_port"):
    if k in meta:
        addresses[k] = int(meta[k])
how_extra = {}
if meta.get("client_namespaces") and not meta.get("kind"):
    # One client network namespace (lab-meta.json client_namespaces) made all the traffic: the
    # true number of hosts behind the client address the server sees.
    nss = meta["client_namespaces"].split(",")
    facts["true_hosts_behind_nat"] = len(nss) if rows else 0
    facts["client_namespaces"] = nss
    how_extra["true_hosts_behind_nat"] = ("client network namespaces created by run.sh (lab-meta.json "
                                          "client_namespaces) that made connections (client-log.csv rows)")
if meta.get("pooled_connections"):
    # Pooled mode (tw-remedy-pooling): requests are counted independently of the connections,
    # from the server log (bytes read = requests * (payload + "REQ\n") + "QUIT\n") and from
    # the captures (the server's 3-byte "OK\n" answers; snaplen 128 keeps that payload).
    pl = int(meta["payload"])
    per_conn = [(int(r["bytes_read"]) - 5) / (pl + 4) for r in srv_rows]
    facts["requests_per_connection_server_log"] = sorted(int(v) if v == int(v) else v for v in per_conn)
    facts["requests_served_server_log"] = int(sum(per_conn)) if sum(per_conn) == int(sum(per_conn)) else sum(per_conn)
    facts["requests_per_connection_meta"] = int(meta["requests"]) // int(meta["pooled_connections"])
    ok_cmd = ("tshark -r {f} -Y 'tcp.srcport==%s && tcp.payload==4f:4b:0a' 2>/dev/null | wc -l"
              % meta["server_port"])
    facts["request_ok_replies"] = {os.path.basename(c): count(ok_cmd.format(f=os.path.basename(c)))
                                   for c in caps}
    how_extra["requests_per_connection_server_log"] = ("server-log-*.csv bytes_read: (bytes_read - 5) / "
                                                       "(payload + 4) per connection")
    how_extra["request_ok_replies"] = ok_cmd
if meta.get("kind"):
    import analyze_new  # scenario-specific facts of the NAT / listen-overflow / MSS scenarios
    analyze_new.extra(D, meta, facts, nstat, per, how_extra, addresses, sh, count, load, caps)

exp = {
    "scenario": meta["scenario"],
    "made_by": "samples/lab/run.sh " + meta["scenario"],
    "kernel": kernel,
    "captures": capinfo,
    "addresses": addresses,
    "facts": facts,
    "nstat": nstat,
    "how": {
        "per_capture_commands": how,
        "per_connection_logic": ("python3 samples/lab/analyze.py <folder> (run by run.sh) on the export of "
                                 "`tshark -r F -Y tcp -T fields -E occurrence=f " + " ".join("-e " + x for x in FIELDS)
                                 + "`: a connection attempt = client SYN with a new (4-tuple, ISN); "
                                 "syn_retransmits = SYNs repeating the (4-tuple, ISN); bare_ack_replies_to_syn = "
                                 "server pure ACK (flags 0x010, len 0) after a SYN and before any SYN-ACK, whose "
                                 "ack != ISN+1; bare_ack_matches_old_fin = its seq/ack equal the previous "
                                 "connection's server FIN seq+1 / client FIN seq+1; client_rst_after_bare_ack = "
                                 "client RST with seq == that ACK's ack; server/client_closes_first = direction "
                                 "of the first FIN; port_reuses_within_60s = new-ISN SYN on a 4-tuple whose "
                                 "previous connection's last packet is < 60 s earlier; port_reuses_within_time_wait = those of them "
                                 "whose previous connection sent a FIN (either side) before the new SYN (TIME_WAIT follows "
                                 "only the close of a synchronized connection); synack_isn_tw_plus_65537 "
                                 "= SYN-ACK seq == previous connection's server FIN seq + 1 + 65537 (mod 2^32); "
                                 "reused_syn_isn_before_old_rcv_nxt = new ISN before previous client FIN seq+1 "
                                 "(mod 2^32); reused_syn_tsval_vs_old_last_client_tsval compares the reusing SYN's TSval with the "
                                 "last TSval the client sent on the previous connection (what TIME_WAIT keeps as ts_recent); "
                                 "reused_syns_unacceptable_to_timewait_rule = reusing SYNs neither after the old rcv_nxt nor with a newer "
                                 "TSval as seen in this capture (the kernel's rule, predicts the stale ACKs); "
                                 "syn_retransmit_gaps_ms = time between SYNs with the same ISN; "
                                 "longest_nop_run_in_syn walks the option list (kind 1 = NOP)."),
        "connect_latency_ms": ("client-log.csv column connect_ms (connect() to writable, non-blocking, "
                               "result==ok rows); nearest-rank percentiles"),
        "connects_attempted/ok/failed": "client-log.csv rows / result==ok / result!=ok",
        "server_accepted": "rows of server-log-*.csv (one per accept())",
        "nstat": "after minus before of `ip netns exec NS nstat -asz` (files nstat-*-before/after.txt)",
        "timewait_sockets_after_run": "ss -tanH state time-wait in each namespace right after the last connect (ss-timewait-after.txt)",
        **how_extra,
        "nop_run_in_syn_at_server": "10 if every SYN at the server-side capture has >= 10 consecutive NOP option bytes "
                                    "(TCPOPTSTRIP writes 10 NOPs over the 10-byte timestamp option; Linux puts one more "
                                    "NOP before window scale, hence a longest run of 11)",
    },
}
if issues:
    exp["cross_check_issues"] = issues
json.dump(exp, open(os.path.join(D, "expected.json"), "w"), indent=1)
print(json.dumps({k: facts[k] for k in list(facts)[:60] if k != "syn_retransmit_gaps_ms"}, indent=None)[:4000])
print("nstat:", json.dumps(nstat))
if issues:
    print("CROSS-CHECK ISSUES:", *issues, sep="\n  ")
