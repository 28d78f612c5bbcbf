#!/usr/bin/env python3
"""Write samples/<scenario>/README.md from expected.json plus the per-scenario
story below (run.sh calls it after analyze.py). Numbers are never typed in by
hand: they are read from expected.json, which analyze.py derived from the
captures, the client/server logs and nstat."""
import json
import os
import sys

D = sys.argv[1]
e = json.load(open(os.path.join(D, "expected.json")))
f, sc = e["facts"], e["scenario"]

STORY = {
    "tw-stale-ack-ts-stripped": """The incident (seeds/003): a MySQL-like server closes first on QUIT, so the
SERVER holds TIME_WAIT; the gateway strips TCP timestamps like the cloud VPC
gateway; the client reuses a tiny set of ephemeral ports
(`ip_local_port_range = 40000 40003`; Linux prefers one parity, so only 40000
and 40002 are used). Each connection sends 200 000 filler bytes + `QUIT\\n`, so
the old connection's rcv_nxt is ~200 000 ahead of its ISN while the clock-based
ISN of the reusing SYN advances only ~15 600 per ms: a SYN reusing the tuple
within ~13 ms is "before" the old rcv_nxt, and with no timestamps the server's
TIME_WAIT socket cannot accept it. It answers with a bare ACK of the OLD
connection (seq = old server FIN + 1, ack = old client FIN + 1), the client
(SYN_SENT) answers with RST (seq = that ack), the RST kills the TIME_WAIT
socket, and the client's SYN timer fires after TCP_TIMEOUT_MIN, so the same SYN
is retransmitted ~10 ms later and gets a SYN-ACK from the listener.
Gateway: `iptables -t mangle -A FORWARD -p tcp -j TCPOPTSTRIP --strip-options timestamp`.
Connects are 2 ms apart (`--gap-ms 2`), as in tw-reuse-ts-kept, so the only
difference between the two folders is the stripping.""",
    "tw-stale-ack-ts-stripped-ipv6": """Same as tw-stale-ack-ts-stripped, over IPv6 ULA (fd18:1::2 -> fd19:2::2),
gateway rule `ip6tables -t mangle -A FORWARD -p tcp -j TCPOPTSTRIP --strip-options timestamp`.""",
    "tw-reuse-ts-kept": """Control for tw-stale-ack-ts-stripped: identical (server closes first, ports
40000-40003, 200 000 bytes per connection, 2 ms between connects) but the
gateway does NOT strip timestamps. Tuples are reused a few ms after close while
the server holds them in TIME_WAIT, and most reusing SYNs are even "before" the
old rcv_nxt (reused_syn_isn_before_old_rcv_nxt) - yet each SYN carries a TSval
newer than the old connection's last one, so tcp_timewait_state_process()
accepts it (RFC 6191) and the SYN-ACK's ISN is old snd_nxt + 65537. No stale
ACKs, no SYN retransmits.""",
    "tw-reuse-ts-kept-same-ms": """Same as tw-reuse-ts-kept but with connects back to back (`--gap-ms 0`).
Surprise worth a test: with timestamps KEPT, stale ACKs still appear. TSval
ticks once per millisecond; a reusing SYN sent within the same millisecond as
the old connection's last client segment carries an EQUAL TSval, which the
TIME_WAIT rule does not count as newer, and if its ISN is also before the old
rcv_nxt the server sends the stale ACK -> RST -> ~10 ms retransmit, exactly as
in the stripped case. reused_syns_unacceptable_to_timewait_rule (computed from
the capture with the kernel's rule) equals the observed stale ACKs.""",
    "client-closes-first": """The client closes first (server waits for the client's FIN after BYE), so the
CLIENT holds TIME_WAIT (100 sockets in `ss` afterwards, TcpExtTW=100 in the
client namespace). Wider port range 40000-40999, timestamps kept: no port is
reused, no stale ACKs, no retransmits.""",
    "refused": """Ten connects to a closed port (3307) on the server: each SYN is answered by
RST-ACK from the server kernel (ECONNREFUSED in the client log, TcpOutRsts=10
at the server, TcpAttemptFails=10 at the client). Then five ordinary
connections to the open port 3306 (server closes first) for contrast.""",
    "syn-drop-gateway": """Captured with dumpcap (pcapng) at both points. The gateway drops every third
SYN towards 3306 (`iptables -A FORWARD -p tcp --syn -d 198.19.2.2 --dport 3306
-m statistic --mode nth --every 3 --packet 0 -j DROP`); the client's SYN
retransmit ~1 s later passes, so half the connects take ~1.02 s. All SYNs to
port 3308 are dropped (`-p tcp --syn --dport 3308 -j DROP`): two connects with
a 4.5 s timeout get no answer at all (S0) - SYN at 0 s and retransmits at ~1,
2, 3, 4 s (tcp_syn_linear_timeouts=4), then the client gives up. The client
port range is 41000-41001 and the server closes first, so every connection
reuses port 41000 right after the previous one closed (accepted from
TIME_WAIT by timestamp: SYN-ACK ISN = old snd_nxt + 65537). Connects 50 ms
apart. Normal SF connections make up the rest.""",
    "mid-connection-start": """A long-lived connection is opened first; the captures start ~1 s after its
handshake (so neither capture has its SYN), then it exchanges 20 PING/PONG
round trips 100 ms apart and closes (server closes first on QUIT). Two
ordinary short connections follow, fully inside the captures.""",
}

KEYS = ["connects_attempted", "connects_ok", "connects_failed", "connect_results", "connects_by_tag",
        "connect_latency_ms", "client_local_ports_used", "server_accepted",
        "connections", "connections_already_open_at_capture_start", "handshakes_completed",
        "syn_packets", "syn_retransmits", "synack_packets", "bare_ack_replies_to_syn",
        "bare_ack_matches_old_fin", "client_rst_after_bare_ack", "rst_ack_replies_to_syn",
        "connections_without_any_server_reply", "no_reply_syn_times_s",
        "server_closes_first_connections", "client_closes_first_connections",
        "port_reuses_within_60s", "port_reuse_gap_ms", "reused_syn_isn_before_old_rcv_nxt",
        "reused_syn_tsval_vs_old_last_client_tsval", "reused_syns_unacceptable_to_timewait_rule",
        "synack_isn_tw_plus_65537", "syn_retransmit_gap_after_client_rst_ms",
        "syns_with_timestamp", "syns_with_10_nop_run", "longest_nop_run_in_syn",
        "timestamps_stripped", "nop_run_in_syn_at_server", "active_closer",
        "timewait_sockets_after_run"]

out = ["# %s" % sc, "", "Made by `%s` (as root, by hand) on kernel %s. Real Linux kernel traffic "
       "between three network namespaces (client td-cli %s, gateway td-gw, server td-srv %s, port %s); "
       "see samples/lab/README.md for the topology." % (e["made_by"], e["kernel"], e["addresses"]["client"],
                                                        e["addresses"]["server"], e["addresses"]["server_port"]),
       "", "## What happens", "", STORY.get(sc, ""), "", "## Files", "",
       "| file | capture point | format | bytes | packets | tcp packets |", "|---|---|---|---|---|---|"]
for c in e["captures"]:
    out.append("| %s | %s-side veth | %s | %d | %d | %d |" % (c["file"], c["point"], c["format"], c["bytes"],
                                                            c["packets"], c["tcp_packets"]))
out += ["",
        "Snaplen 128 (headers only). Client-side capture on td-c0 in td-cli, server-side on td-s0 in td-srv, "
        "started before the first connect (except mid-connection-start) and stopped 2 s after the last. "
        "tcpdump `-s 128 -U --immediate-mode -B 8192` (pcap) / dumpcap `-s 128` (pcapng); the tools' "
        "own drop counters are in capture-stats.txt (0 dropped). Non-TCP packets (a warm-up UDP datagram, "
        "ICMP unreachable, IPv6 MLD/ND) may appear and are not part of the scenario. Veth offloads were left "
        "at the defaults (GSO/GRO on), so bulk data shows as a few large segments per connection.",
        "",
        "- client-log.csv: one row per connect() (local port, start time, connect_ms, result, total_ms).",
        "- server-log-PORT.csv: one row per accept() (peer port, times, bytes read, who closed).",
        "- nstat-{client,gateway,server}-{before,after}.txt: `nstat -asz` in each namespace.",
        "- ss-timewait-after.txt: `ss -tanH state time-wait` in client and server right after the run.",
        "- lab-env.txt: kernel, namespaced sysctls, gateway iptables/ip6tables rules.",
        "- lab-meta.json: parameters run.sh used; expected.json: the facts below.",
        "", "## Facts (expected.json)", "",
        "A value given as {file: value} differs between captures; a plain value holds for every capture.", ""]
for k in KEYS:
    if k in f and f[k] not in (None, [], {}):
        out.append("- `%s`: %s" % (k, json.dumps(f[k])))
gaps = f.get("syn_retransmit_gaps_ms")
if gaps:
    out.append("- `syn_retransmit_gaps_ms`: %s" % json.dumps(gaps))
out += ["", "nstat deltas (after - before), non-zero only:", ""]
for who, d in e["nstat"].items():
    nz = {k: v for k, v in d.items() if v}
    out.append("- %s: %s" % (who, json.dumps(nz)))
out += ["", "## How each number was obtained", "",
        "- connects_*, connect_latency_ms, client_local_ports_used: %s; %s." % (
            e["how"]["connects_attempted/ok/failed"], e["how"]["connect_latency_ms"]),
        "- server_accepted: %s." % e["how"]["server_accepted"],
        "- nstat: %s." % e["how"]["nstat"],
        "- timewait_sockets_after_run: %s." % e["how"]["timewait_sockets_after_run"],
        "- nop_run_in_syn_at_server: %s." % e["how"]["nop_run_in_syn_at_server"],
        "- per-connection facts: %s" % e["how"]["per_connection_logic"],
        "", "Commands run verbatim by analyze.py in this folder (their output must equal the fact of the same "
        "name, which analyze.py also computes its own way; any mismatch would be listed under "
        "cross_check_issues in expected.json):", ""]
for fn, cmds in e["how"]["per_capture_commands"].items():
    out.append("%s:" % fn)
    out.append("")
    for k, cmd in cmds.items():
        out.append("- %s: `%s`" % (k, cmd))
    out.append("")
if e.get("cross_check_issues"):
    out += ["Cross-check issues:", ""] + ["- " + x for x in e["cross_check_issues"]]
out += ["## Notes", "",
        "- TcpRetransSegs counts retransmitted MSS-sized segments (GSO segments count several), so it can exceed "
        "the retransmitted packets in the capture; TcpExtTCPSynRetrans counts SYN retransmits.",
        "- TcpExtTCPACKSkippedTimeWait stayed 0: each TIME_WAIT socket got one unacceptable SYN, answered it, and "
        "was killed by the client's RST, so the per-socket rate limit (tcp_invalid_ratelimit=500 ms) never applied.",
        ""]
open(os.path.join(D, "README.md"), "w").write("\n".join(out))
