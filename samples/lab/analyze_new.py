"""Scenario-specific facts for the scenarios added for the next detectors
(listen-overflow*, snat-port-pool*, nat-clients-ts2, two-point-mss-clamp).

Called by analyze.py when lab-meta.json has a "kind"; adds to the same
expected.json. Same rules as analyze.py: only tshark output, the client /
server logs and nstat are used, never tcpdiag. Each tshark filter used is
run verbatim and stored under "how".
"""
import csv
import glob
import os

M32 = 0xFFFFFFFF


def _fields(sh, cap, filt, fields):
    out = sh("tshark -r %s -Y '%s' -T fields -E occurrence=f %s 2>/dev/null"
             % (cap, filt, " ".join("-e " + f for f in fields)))
    return [dict(zip(fields, line.split("\t"))) for line in out.splitlines()]


def extra(D, meta, facts, nstat, per, how, addresses, sh, count, load, caps):
    kind = meta["kind"]
    caps = [os.path.basename(c) for c in caps]
    srv = meta["server"]
    cmds = {}

    # --- SYN-ACK retransmits, every kind -------------------------------------------
    q = "tshark -r {f} -Y '{y}' 2>/dev/null | wc -l"
    sar = {}
    for fn in caps:
        c = q.format(f=fn, y="tcp.flags.syn==1 && tcp.flags.ack==1 && tcp.analysis.retransmission")
        cmds.setdefault(fn, {})["synack_retransmits"] = c
        v = count(c)
        # own count: a SYN-ACK repeating the (4-tuple, server ISN) of an earlier one
        seen, own = set(), 0
        for p in load(fn):
            if not p["c"] and p["syn"] and p["ack"]:
                k = (p["cport"], p["sport"], p["seq"])
                own += k in seen
                seen.add(k)
        if own != v:
            facts.setdefault("cross_check_notes", []).append(
                "%s synack_retransmits: same (tuple, ISN) %d vs tshark flag %d" % (fn, own, v))
        sar[fn] = own
    facts["synack_retransmits"] = _merge(sar)
    how["synack_retransmits"] = ("SYN-ACKs repeating the (4-tuple, server ISN) of an earlier SYN-ACK; the tshark "
                                 "filter 'tcp.flags.syn==1 && tcp.flags.ack==1 && tcp.analysis.retransmission' "
                                 "gives the same count (commands under per_capture_commands_new)")

    # bare ACKs answering a SYN, counted per connection attempt (analyze.py's
    # bare_ack_replies_to_syn counts packets; one attempt can get several when
    # its retransmits meet further TIME_WAIT sockets, e.g. behind a NAT)
    bac = {}
    for fn in caps:
        last, conns_with = {}, set()
        for p in load(fn):
            k = (p["cport"], p["sport"])
            if p["c"]:
                if p["syn"] and not p["ack"]:
                    last[k] = ("syn", p["seq"])
                elif p["syn"] or p["rst"] or p["len"] or p["fin"] or p["ack"]:
                    if last.get(k, ("",))[0] != "syn" or not p["rst"]:
                        last[k] = ("other", None)
            elif last.get(k, ("",))[0] == "syn":
                if p["flags"] == 0x10 and p["len"] == 0 and p["ackn"] != (last[k][1] + 1) & M32:
                    conns_with.add((k, last[k][1]))
                else:
                    last[k] = ("other", None)
        bac[fn] = len(conns_with)
    facts["connections_with_bare_ack_reply"] = _merge(bac)
    how["connections_with_bare_ack_reply"] = ("distinct (4-tuple, ISN) whose SYN got a bare ACK (flags 0x010, len 0, "
                                              "ack != ISN+1) before any other server answer")

    if kind == "listen-overflow":
        _listen_overflow(D, meta, facts, nstat, how, caps, sh, count, load, cmds)
    elif kind == "nat":
        _nat(D, meta, facts, how, caps, sh, load, addresses)
    elif kind == "mss-clamp":
        _mss(meta, facts, how, caps, sh, count, cmds)
    how["per_capture_commands_new"] = cmds


def _merge(d):
    vals = list(d.values())
    return vals[0] if all(v == vals[0] for v in vals) else d


def _listen_overflow(D, meta, facts, nstat, how, caps, sh, count, load, cmds):
    s = nstat.get("server", {})
    facts["listen_overflows"] = s.get("TcpExtListenOverflows")
    facts["listen_drops"] = s.get("TcpExtListenDrops")
    facts["syncookies_sent"] = s.get("TcpExtSyncookiesSent")
    facts["syncookies_recv"] = s.get("TcpExtSyncookiesRecv")
    facts["reqq_full_do_cookies"] = s.get("TcpExtTCPReqQFullDoCookies")
    facts["reqq_full_drop"] = s.get("TcpExtTCPReqQFullDrop")
    facts["listen_backlog"] = int(meta["backlog"])
    facts["server_tcp_syncookies"] = int(meta["syncookies"])
    facts["accept_delay_ms"] = float(meta["accept_delay_ms"])
    facts["concurrent_connects"] = int(meta["concurrent"])
    thr = float(meta["unacked_threshold_ms"])
    facts["client_data_unacked_threshold_ms"] = thr

    # Client data not acknowledged: first client data segment (seq s, len l) and
    # the first later server packet with ack >= s + l (mod 2^32).
    unacked, never, waits, rtx = {}, {}, {}, {}
    for fn in caps:
        conns = {}
        for p in load(fn):
            k = (p["cport"], p["sport"])
            c = conns.setdefault(k, {"data": None, "acked_at": None})
            if p["c"] and p["len"] > 0 and c["data"] is None:
                c["data"] = (p["t"], (p["seq"] + p["len"]) & M32)
            elif not p["c"] and p["ack"] and c["data"] and c["acked_at"] is None:
                if ((p["ackn"] - c["data"][1]) & M32) < 0x80000000:
                    c["acked_at"] = p["t"]
        w = []
        n_un = n_never = 0
        for c in conns.values():
            if c["data"] is None:
                continue
            if c["acked_at"] is None:
                n_never += 1
                n_un += 1
                continue
            d = (c["acked_at"] - c["data"][0]) * 1000
            w.append(round(d, 1))
            if d > thr:
                n_un += 1
        unacked[fn], never[fn], waits[fn] = n_un, n_never, sorted(w)
        c = ("tshark -r %s -Y 'ip.src!=%s && tcp.len>0 && tcp.analysis.retransmission' 2>/dev/null | wc -l"
             % (fn, meta["server"]))
        cmds.setdefault(fn, {})["client_data_retransmits"] = c
        rtx[fn] = count(c)
    facts["client_data_unacked_connections"] = _merge(unacked)
    facts["client_data_never_acked_connections"] = _merge(never)
    facts["client_data_ack_wait_ms"] = _merge(waits)
    facts["client_data_retransmits"] = _merge(rtx)
    how["client_data_unacked_connections"] = (
        "per connection: first client segment with tcp.len>0 (time t0, end = seq+len) and the first later "
        "server packet whose ack >= end (mod 2^32); counted if none or later than client_data_unacked_threshold_ms; "
        "client_data_never_acked_connections = none at all; client_data_ack_wait_ms = the acked waits, sorted")
    how["listen_overflows/listen_drops/syncookies_*/reqq_full_*"] = (
        "nstat deltas in the server namespace: TcpExtListenOverflows, TcpExtListenDrops, TcpExtSyncookiesSent, "
        "TcpExtSyncookiesRecv, TcpExtTCPReqQFullDoCookies, TcpExtTCPReqQFullDrop")
    rows = []
    for fn in sorted(glob.glob(os.path.join(D, "client*-log.csv"))):
        rows += list(csv.DictReader(open(fn)))
    ok = sorted(round(float(r["connect_ms"]), 1) for r in rows if r["result"] == "ok")
    facts["connect_ms_all"] = ok
    b = {}
    for v in ok:
        key = "%d s" % round(v / 1000)
        b[key] = b.get(key, 0) + 1
    facts["connects_by_latency_rounded_s"] = b
    tot = sorted(round(float(r["total_ms"]) / 1000, 1) for r in rows)
    facts["session_total_s_all"] = tot
    how["connect_ms_all"] = "client-log.csv connect_ms of result==ok rows, sorted; connects_by_latency_rounded_s buckets them by round(ms/1000)"
    how["session_total_s_all"] = "client-log.csv total_ms/1000 of every row (connect .. server close or recv timeout), sorted"


def _nat(D, meta, facts, how, caps, sh, load, addresses):
    clients = meta["clients"].split(",")
    settings = {}
    for item in meta.get("host_settings", "").split(","):
        if item:
            a, *kv = item.split(":")
            settings[a] = dict(x.split("=") for x in kv)
    addresses["clients"] = clients
    addresses["nat_public"] = meta["nat_public"]
    if meta.get("nat_ports"):
        addresses["nat_ports"] = meta["nat_ports"]
    F = ["frame.time_epoch", "ip.src", "ip.ttl", "tcp.srcport", "tcp.dstport", "tcp.seq_raw",
         "tcp.options.timestamp.tsval", "ip.id"]
    filt = "tcp.flags.syn==1 && tcp.flags.ack==0"
    isn_host, cli_syns, cli_first, cli_port = {}, {}, {}, {}
    per_host = {a: {"client_capture": None, "syn_packets_at_client": 0, "connections_at_client": 0} for a in clients}
    for fn in caps:
        if not fn.startswith("client"):
            continue
        for r in _fields(sh, fn, filt, F):
            a = r["ip.src"]
            h = per_host[a]
            h["client_capture"] = fn
            h["syn_packets_at_client"] += 1
            isn = int(r["tcp.seq_raw"])
            if isn not in isn_host:
                h["connections_at_client"] += 1
                cli_first[isn] = float(r["frame.time_epoch"])
                h.setdefault("ttl_at_client", set()).add(int(r["ip.ttl"]))
            isn_host[isn] = a
            cli_syns[isn] = cli_syns.get(isn, 0) + 1
            cli_port.setdefault(isn, int(r["tcp.srcport"]))
    srv_caps = [fn for fn in caps if fn.startswith("server")]
    sfn = srv_caps[0]
    srows = _fields(sh, sfn, filt, F)
    seen, unknown = {}, 0
    delays = []
    for r in srows:
        isn = int(r["tcp.seq_raw"])
        a = isn_host.get(isn)
        if a is None:
            unknown += 1
            continue
        h = per_host[a]
        h["syn_packets_at_server"] = h.get("syn_packets_at_server", 0) + 1
        seen[isn] = seen.get(isn, 0) + 1
        if seen[isn] > 1:
            continue
        t = float(r["frame.time_epoch"])
        delays.append((t - cli_first[isn]) * 1000)
        h["connections_at_server"] = h.get("connections_at_server", 0) + 1
        h.setdefault("ttl_at_server", set()).add(int(r["ip.ttl"]))
        h.setdefault("public_ports", set()).add(int(r["tcp.srcport"]))
        ts = r["tcp.options.timestamp.tsval"]
        h.setdefault("_ts", []).append((t, int(ts) if ts else None))
        h.setdefault("_ipid", []).append(int(r["ip.id"], 16) if r["ip.id"].startswith("0x") else int(r["ip.id"]))
    for a, h in per_host.items():
        ts = [x for x in h.pop("_ts", []) if x[1] is not None]
        h["syns_with_timestamp_at_server"] = len(ts)
        if ts:
            h["tsval_min"] = min(x[1] for x in ts)
            h["tsval_max"] = max(x[1] for x in ts)
            # TSval minus wall-clock ms of each first SYN: constant (+- a few ms) for
            # one clock, scattered for per-connection offsets
            d = [x[1] - x[0] * 1000 for x in ts]
            h["tsval_minus_time_ms_spread"] = round(max(d) - min(d), 1)
            mono = all(((b[1] - a_[1]) & M32) < 0x80000000 for a_, b in zip(ts, ts[1:]))
            h["tsval_monotonic_over_connections"] = mono
        for k in ("ttl_at_client", "ttl_at_server", "public_ports"):
            if k in h:
                h[k] = sorted(h[k])
        if a in settings:
            h["setting"] = settings[a]
        cls = ("no timestamps" if not ts else
               "one TSval clock across connections" if h["tsval_minus_time_ms_spread"] < 50 and len(ts) > 1 else
               "per-connection TSval offsets")
        h["tsval_class"] = cls
        if cls.startswith("one"):
            d = sorted(x[1] - x[0] * 1000 for x in ts)
            h["_clock"] = d[len(d) // 2]   # median TSval - capture ms of this host's one clock
        h["signature_at_server"] = "ttl=%s, %s" % ("/".join(map(str, h.get("ttl_at_server", []))), cls)
        # IP IDs of the host's first SYNs at the server, in time order: a global counter climbs by a
        # small step from one SYN to the next; Linux's per-connection random start does not.
        ids = h.pop("_ipid", [])
        steps = [(b - a_) & 0xFFFF for a_, b in zip(ids, ids[1:])]
        h["syn_ip_id_steps"] = len(steps)
        h["syn_ip_id_steps_1_to_2048"] = sum(1 for x in steps if 1 <= x <= 2048)
        h["syn_ip_id_distinct"] = len(set(ids))
    # Hosts whose one clock is the same clock (namespaces share the kernel's clock: with
    # tcp_timestamps=2 the TSval is the kernel's own ms clock without offset), grouped by
    # median TSval - capture ms within 50 ms; the signature names the clock.
    clocks = []
    for a, h in per_host.items():
        if "_clock" in h:
            c = h.pop("_clock")
            for i, c0 in enumerate(clocks):
                if abs(c - c0) < 50:
                    break
            else:
                clocks.append(c)
                i = len(clocks) - 1
            h["tsval_clock"] = "clock %d (TSval - capture ms = %d)" % (i + 1, round(clocks[i]))
            h["signature_at_server"] += ", clock %d" % (i + 1)
    facts["hosts_behind_nat"] = sum(1 for h in per_host.values() if h.get("connections_at_server"))
    facts["nat_hosts"] = per_host
    sigs = {}
    for a, h in per_host.items():
        sigs.setdefault(h["signature_at_server"], []).append(a)
    facts["host_signatures_at_server"] = sigs
    facts["hosts_distinguishable_from_server_capture"] = len(sigs)
    by = []
    if len({tuple(h.get("ttl_at_server", [])) for h in per_host.values()}) > 1:
        by.append("ip.ttl")
    if len({h["tsval_class"] for h in per_host.values()}) > 1:
        by.append("tcp timestamps (absent / one clock / per-connection offsets)")
    facts["hosts_distinguishable_by"] = by
    # The true number of hosts: the client network namespaces run.sh created (lab-meta.json
    # client_namespaces), each one host with its own address on its own veth; checked against
    # the captures (every host's ISNs reached the server).
    nss = meta.get("client_namespaces", "").split(",") if meta.get("client_namespaces") else []
    facts["true_hosts_behind_nat"] = facts["hosts_behind_nat"]
    if nss and len(nss) != facts["hosts_behind_nat"]:
        facts.setdefault("cross_check_notes", []).append(
            "client namespaces %d but hosts with connections at the server %d" % (len(nss), facts["hosts_behind_nat"]))
    facts["client_namespaces"] = nss
    addresses["client_namespaces"] = nss
    # Per host: connect() calls in its own log, and its ephemeral ports in connect order.
    for k, a in enumerate(clients):
        fn = os.path.join(D, "client-log.csv" if k == 0 else "client%d-log.csv" % (k + 1))
        if os.path.exists(fn):
            rows = list(csv.DictReader(open(fn)))
            per_host[a]["connects_in_log"] = len(rows)
            ports = [int(r["local_port"]) for r in rows]
            per_host[a]["local_ports_increasing_steps"] = sum(1 for x, y in zip(ports, ports[1:]) if y > x)
            per_host[a]["local_ports_steps"] = max(0, len(ports) - 1)
    how["true_hosts_behind_nat"] = (
        "client network namespaces created by run.sh (lab-meta.json client_namespaces), each one Linux host with "
        "its own address and veth, whose connections reached the server (ISNs of its client-side capture seen in "
        "server.pcap); the server sees all of them from nat_public")
    how["nat_hosts.syn_ip_id_*"] = (
        "ip.id of each host's first SYNs at the server in time order: syn_ip_id_steps_1_to_2048 = consecutive pairs "
        "whose ID climbed by 1..2048 (a global IP ID counter would climb on almost every pair; Linux starts each "
        "connected socket at a random ID, tcp_v4_connect)")
    how["nat_hosts.local_ports_*"] = (
        "client-log local_port in connect order: local_ports_increasing_steps = pairs where the next port is higher "
        "(Linux __inet_hash_connect walks the range upwards from a per-destination offset)")
    how["nat_hosts.tsval_clock"] = (
        "hosts whose TSval - capture ms is constant within 50 ms (one clock) grouped by the median of that "
        "difference within 50 ms: the same clock number = indistinguishable clocks")

    _attempts(D, facts, how, caps, sfn, srows, load, isn_host, cli_port, cli_syns)
    facts["nat_public_ports_used"] = sorted({int(r["tcp.srcport"]) for r in srows})
    facts["server_syns_from_unknown_isn"] = unknown
    facts["nat_syns_not_forwarded"] = sum(cli_syns.values()) - sum(seen.values())
    facts["nat_connections_never_forwarded"] = sum(1 for i in cli_syns if i not in seen)
    delays.sort()
    if delays:
        facts["nat_first_syn_delay_ms"] = {"min": round(delays[0], 3), "max": round(delays[-1], 3),
                                           "over_5ms": sum(1 for d in delays if d > 5)}

    # Reuse of a public 4-tuple at the server, and by which host.
    conns, cur = [], {}
    for p in load(sfn):
        k = (p["cport"], p["sport"])
        if p["c"] and p["syn"] and not p["ack"]:
            c = cur.get(k)
            if c is not None and c["isn"] == p["seq"]:
                c["last"] = p["t"]
                continue
            c = {"key": k, "isn": p["seq"], "first": p["t"], "last": p["t"], "host": isn_host.get(p["seq"]),
                 "prev": cur.get(k), "answer": None, "syn_ts": p["tsval"], "last_cts": None}
            cur[k] = c
            conns.append(c)
            continue
        c = cur.get(k)
        if c is None:
            continue
        c["last"] = p["t"]
        if p["fin"]:
            c.setdefault("finby", set()).add(p["c"])
            c["fins"] = len(c["finby"]) == 2
        if p["c"] and p["tsval"] is not None:
            c["last_cts"] = p["tsval"]
        if not p["c"] and c["answer"] is None:
            if p["syn"] and p["ack"]:
                c["answer"] = "syn-ack"
            elif p["rst"]:
                c["answer"] = "rst"
            elif p["flags"] == 0x10 and p["len"] == 0:
                c["answer"] = "bare-ack"
    same = other = 0
    outcome = {}
    for c in conns:
        pv = c["prev"]
        if pv is None or c["first"] - pv["last"] >= 60:
            continue
        if pv["host"] == c["host"]:
            same += 1
        else:
            other += 1
        o = c["answer"] or "none"
        outcome[o] = outcome.get(o, 0) + 1
    # The kernel's TIME_WAIT PAWS check (tcp_timewait_state_process -> tcp_paws_reject): a SYN
    # reaching a TIME_WAIT socket whose TSval is more than 1 behind the last TSval the server got
    # on the old connection is rejected and answered with the old connection's ACK. A TIME_WAIT
    # socket exists only if the previous attempt on the tuple completed (FIN both ways).
    pred = 0
    for c in conns:
        pv = c["prev"]
        if pv is None or not pv.get("fins") or pv.get("last_cts") is None or c.get("syn_ts") is None:
            continue
        d = (pv["last_cts"] - c["syn_ts"]) & M32
        if 1 < d < 0x80000000:
            pred += 1
    facts["reused_syns_paws_rejected_by_timewait_rule"] = pred
    how["reused_syns_paws_rejected_by_timewait_rule"] = (
        "server capture: reusing SYNs whose previous connection on the public 4-tuple completed (FIN both "
        "ways, so the server holds TIME_WAIT) and whose TSval is more than 1 behind the last TSval the client "
        "sent on it (tcp_paws_reject in tcp_timewait_state_process); compare TcpExtPAWSTimewait (server nstat) "
        "and the bare ACKs")
    facts["port_reuses_within_60s_same_host"] = same
    facts["port_reuses_within_60s_other_host"] = other
    facts["port_reuse_first_server_answer"] = outcome
    how["nat_hosts"] = (
        "client SYNs (tshark -Y '%s' -e ip.src -e ip.ttl -e tcp.seq_raw -e tcp.options.timestamp.tsval ...) in each "
        "client-side capture give ISN -> host; the server-side SYNs are attributed by their ISN (NAT rewrites "
        "address/port, never the sequence number). Per host, at the server: connections, SYN packets, ip.ttl, "
        "public ports, TSval range of first SYNs, tsval_minus_time_ms_spread = spread of TSval - capture time in ms "
        "(< 50 = one clock). hosts_distinguishable_from_server_capture = number of distinct (TTL, TSval class) "
        "signatures; hosts_behind_nat = hosts with at least one connection at the server (ground truth: the "
        "client namespaces)" % filt)
    how["nat_syns_not_forwarded"] = ("client SYN packets (all client captures) minus server SYN packets with a known "
                                     "ISN; nat_connections_never_forwarded = client ISNs never seen at the server; "
                                     "nat_first_syn_delay_ms = server time - client time of each connection's first SYN")
    how["port_reuses_within_60s_same_host/other_host"] = (
        "server capture: new-ISN SYN on a public 4-tuple whose previous connection's last packet is < 60 s "
        "earlier, split by whether the previous connection was the same client host (by ISN); "
        "port_reuse_first_server_answer = first server packet after such a SYN (syn-ack / bare-ack / rst / none)")


def _mss(meta, facts, how, caps, sh, count, cmds):
    F = ["tcp.options.mss_val", "tcp.option_kind"]
    for what, filt in (("syn", "tcp.flags.syn==1 && tcp.flags.ack==0"), ("synack", "tcp.flags.syn==1 && tcp.flags.ack==1")):
        mss, sack = {}, {}
        for fn in caps:
            rows = _fields(sh, fn, filt, ["tcp.options.mss_val"])
            mss[fn] = sorted({int(r["tcp.options.mss_val"]) for r in rows if r["tcp.options.mss_val"]})
            c = "tshark -r %s -Y '%s && tcp.option_kind==4' 2>/dev/null | wc -l" % (fn, filt)
            cmds.setdefault(fn, {})["%ss_with_sack_perm" % what] = c
            sack[fn] = count(c)
        facts["%s_mss_values" % what] = _merge(mss)
        facts["%ss_with_sack_perm" % what] = _merge(sack)
    seg = {}
    for fn in caps:
        c = "tshark -r %s -Y 'tcp.options.sack_le' 2>/dev/null | wc -l" % fn
        cmds.setdefault(fn, {})["packets_with_sack_blocks"] = c
        seg[fn] = count(c)
    facts["packets_with_sack_blocks"] = _merge(seg)
    facts["clamp_mss"] = int(meta["clamp_mss"])
    how["syn_mss_values/synack_mss_values"] = "distinct tcp.options.mss_val of SYNs / SYN-ACKs in each capture"
    how["syns_with_sack_perm"] = "SYNs / SYN-ACKs with tcp.option_kind==4 (SACK permitted), commands under per_capture_commands_new"


def _attempts(D, facts, how, caps, sfn, srows, load, isn_host, cli_port, cli_syns):
    """Connection attempts across the NAT: one attempt per client connect() that sent a SYN (its
    ISN, from the client-side captures); at the server the same ISN may come from several public
    ports when the NAT moved the retry (the NAT rewrites address and port, never the sequence)."""
    rows = []
    for fn in sorted(glob.glob(os.path.join(D, "client*-log.csv"))):
        rows += list(csv.DictReader(open(fn)))
    facts["attempts_client_connect_calls"] = len(rows)
    facts["attempts_by_client_isn"] = len(cli_syns)
    ports, ssyn = {}, {}
    for r in srows:
        isn = int(r["tcp.seq_raw"])
        if isn in isn_host:
            pl = ports.setdefault(isn, [])
            p = int(r["tcp.srcport"])
            if p not in pl:
                pl.append(p)
            ssyn[isn] = ssyn.get(isn, 0) + 1
    # stale ACKs at the server, per client ISN: a bare ACK (0x010, len 0, ack != ISN+1) that is the
    # first server answer after that ISN's SYN on the public tuple
    last, stale = {}, {}
    for p in load(sfn):
        k = (p["cport"], p["sport"])
        if p["c"]:
            if p["syn"] and not p["ack"]:
                last[k] = p["seq"]
            elif not p["rst"]:
                last.pop(k, None)
        elif k in last:
            isn = last.pop(k)
            if p["flags"] == 0x10 and p["len"] == 0 and p["ackn"] != (isn + 1) & M32:
                stale[isn] = stale.get(isn, 0) + 1
    facts["attempts_at_server_by_client_isn"] = len(ports)
    hist = {}
    for pl in ports.values():
        hist[str(len(pl))] = hist.get(str(len(pl)), 0) + 1
    facts["attempts_by_public_ports_used"] = hist
    facts["attempts_on_several_public_ports"] = sum(1 for pl in ports.values() if len(pl) > 1)
    facts["attempts_with_stale_ack_at_server"] = len(stale)
    facts["attempts_with_stale_ack_then_other_port"] = sum(1 for i in stale if len(ports.get(i, [])) > 1)
    # SYN retransmits of the attempts, linked by ISN: at the client every SYN after an attempt's first
    # (compare TcpExtTCPSynRetrans); at the server the same, whatever public port each SYN came from.
    facts["syn_retransmits_by_client_isn"] = {"client_side": sum(cli_syns.values()) - len(cli_syns),
                                              "server_side": sum(ssyn.values()) - len(ssyn)}
    lst = []
    for isn in sorted(cli_syns, key=lambda i: (isn_host[i], cli_port[i], i)):
        lst.append({"host": isn_host[isn], "private_port": cli_port[isn], "isn": isn,
                    "syns_at_client": cli_syns[isn], "syns_at_server": ssyn.get(isn, 0),
                    "public_ports": ports.get(isn, []), "stale_acks_at_server": stale.get(isn, 0)})
    facts["private_connections"] = lst
    how["attempts_*"] = (
        "attempts_client_connect_calls = rows of client*-log.csv (one per connect()); attempts_by_client_isn = "
        "distinct client SYN ISNs in the client-side captures; attempts_at_server_by_client_isn = those ISNs seen "
        "in server.pcap; attempts_by_public_ports_used = how many distinct public source ports each such ISN "
        "came from at the server; attempts_with_stale_ack_at_server = ISNs whose SYN was answered at the server "
        "by a bare ACK (flags 0x010, len 0, ack != ISN+1) as the first server packet after it on that tuple; "
        "attempts_with_stale_ack_then_other_port = of those, ISNs seen on more than one public port; "
        "syn_retransmits_by_client_isn = SYN packets minus distinct ISNs, over all client-side captures / in server.pcap "
        "(a retry the NAT moved to another port is still a retransmit of its attempt)")
    how["private_connections"] = (
        "one entry per client ISN (client-side captures): host, private source port, SYNs at the client and at "
        "the server (tshark -Y 'tcp.flags.syn==1 && tcp.flags.ack==0' -e tcp.seq_raw), public ports at the "
        "server in order of appearance, stale ACKs at the server for it")
