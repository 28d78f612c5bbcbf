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

NAT_HOSTS_STORY = """N client hosts (one network namespace each, own veth and address
198.18.1.2, 198.18.3.2, 198.18.4.2, ...) behind one SNAT address
(`iptables -t nat -A POSTROUTING -o <gw-server-veth> -p tcp -j SNAT --to-source 198.19.2.1`,
ports kept where free), every host at the namespace DEFAULTS (tcp_timestamps=1,
ip_default_ttl 64; lab-env.txt). Host k makes 100 / 80 / 60 / 90 / 70 short
connections (1000 filler bytes + QUIT, server closes first, 40 ms apart), all
hosts at the same time, so their connections interleave at the server. The
true host count is true_hosts_behind_nat (the client namespaces); nat_hosts
gives per host the connections attributed by client-side ISN (NAT rewrites
address and port, never the sequence number). Nothing in the server capture
tells these hosts apart: each connection has its own TSval offset (a hash of
the 4-tuple), each connected socket starts at a random IP ID
(syn_ip_id_steps_1_to_2048 ~ 1/32 of the steps, as random IDs give), and all
SYNs arrive with TTL 63 - hosts_distinguishable_from_server_capture = 1. Each
host's ephemeral ports climb (local_ports_increasing_steps), which is how
Linux walks its port range, not a host identity the server can prove."""

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
    "tw-remedy-wider-range": """The remedy pair of tw-stale-ack-ts-stripped: a wider client port range.
Everything else is the incident's (server closes first on QUIT and holds
TIME_WAIT, gateway TCPOPTSTRIP timestamp, 100 connections of 200 000 bytes +
`QUIT\\n`, connects 2 ms apart); only the client's
`ip_local_port_range` is `32768 60999` (the kernel's default) instead of
`40000 40003`. The client draws a fresh port for every connect, so no 4-tuple
comes back while the server holds it in TIME_WAIT: no port reuse, no stale
ACKs, no client RSTs, no SYN retransmits. The server still holds one TIME_WAIT
socket per connection (TcpExtTW=100, 100 sockets in `ss` afterwards).""",
    "tw-remedy-pooling": """The remedy pair of tw-stale-ack-ts-stripped: connection pooling.
The same 100 requests of 200 000 bytes, 2 ms apart, the same 4-port client
range 40000-40003, the same gateway timestamp stripping and the same server
close behaviour (server closes first on QUIT), but carried by 4 long-lived
connections opened once (client.py `--mode pooled --count 4 --requests 100`):
each request is filler + `REQ\\n`, answered `OK\\n`, round-robin over the pool,
so each connection carries 25 requests and then QUIT. Only 4 SYNs are sent,
every 4-tuple is used once, and nothing is reused while the server holds it in
TIME_WAIT: no stale ACKs, no SYN retransmits.""",
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
    "listen-overflow": """CONCURRENCY, not TIME_WAIT: a server with `listen(1)` and a slow accept loop
(sleeps 100 ms after each accept) and 40 clients connecting at the same moment
(client.py --concurrent 40, connect timeout 20 s, recv timeout 30 s; each sends
100 filler bytes + QUIT as soon as connect() succeeds). Server sysctls are the
namespace defaults: tcp_abort_on_overflow=0, **tcp_syncookies=1**,
tcp_synack_retries=5 (lab-env.txt). What the kernel did: with the accept queue
full (backlog+1 = 2 sockets) SYNs are dropped (ListenOverflows/ListenDrops) and
the client retransmits them after ~1 s; SYNs that arrive while only the
request queue is "full" (qlen >= backlog) are answered with a SYN COOKIE
(TcpExtTCPReqQFullDoCookies / SyncookiesSent), so no request socket exists and
there are NO SYN-ACK retransmits. The client then believes it is connected,
sends its data, and the server drops the ACK and the data every time the
accept queue is full (SyncookiesRecv counts the valid cookies, each of them
also a ListenOverflow). All clients' data retransmits run on the same RTO
schedule (0.2, 0.4, 0.8, 1.6, 3.3, 6.6, 13.3 s after the first send), so they
arrive in waves and only ~2 per wave fit in the queue: several clients never
got their data acknowledged within their 30 s recv timeout (connect_results
`io-timed out` = recv timeout AFTER a successful connect, not a connect
failure). Those connections end in the capture without any FIN.""",
    "listen-overflow-no-syncookies": """Like listen-overflow but with `tcp_syncookies=0` in the server namespace,
`listen(2)`, and the client sends only 1.5 s after connect() succeeded (as if
waiting for a server greeting), so a handshake whose final ACK was dropped is
completed by the server's SYN-ACK retransmit rather than by client data.
Observed: without cookies the SYN is also dropped whenever the request queue
holds `backlog` entries (TcpExtTCPReqQFullDrop), not only when the accept queue
is full (TcpExtListenOverflows); TcpExtListenDrops counts both. Most of the
delay is therefore SYN retransmits on the 1 s linear schedule (connect
latencies in whole seconds); connects whose SYNs were dropped every time hit the
20 s connect timeout (`timeout`) and show at the server as SYN-only
connections. Final ACKs dropped on a full accept queue: the server keeps the
request (tcp_abort_on_overflow=0) and retransmits its SYN-ACK after 1 s
(synack_retransmits), the client ACKs again and the handshake completes.""",
    "snat-port-pool": """Two client hosts (td-cli 198.18.1.2 and td-cli2 198.18.3.2, each on its own
veth to the gateway) behind a Linux SNAT with a 4-port pool:
`iptables -t nat -A POSTROUTING -o td-g1 -p tcp -j SNAT --to-source 198.19.2.1:40000-40003`.
Both hosts make 40 short connections each (25 ms apart, at the same time, 2000
filler bytes + QUIT, server closes first), so the server holds TIME_WAIT for
every public 4-tuple 198.19.2.1:4000x -> 198.19.2.2:3306. Timestamps KEPT.
Captured at each client's veth (client.pcap, client2.pcap: private address and
ephemeral port) and at the server (server.pcap: 198.19.2.1:40000-40003); the
NAT rewrites address and port but never sequence numbers, so connections are
matched across captures by ISN (nat_hosts).
Observed (kernel 6.18): the NAT reuses public tuples within 2*MSL heavily and
only when the new SYN's sequence has advanced past the old connection
(reused_syn_isn_before_old_rcv_nxt at the server ~0, nf_nat_used_tuple_harder /
nf_seq_has_advanced) - **and yet stale ACKs appear**: each private 4-tuple has
its own TSval offset (hash of the 4-tuple), so a reusing SYN from a different
private tuple (another host OR the same host on another ephemeral port) carries
an unrelated TSval; when it is behind the TIME_WAIT socket's ts_recent the
server's PAWS check rejects it (TcpExtPAWSTimewait) and answers with the old
connection's ACK; the client RSTs and retransmits ~10 ms later - often leaving
on ANOTHER public port (the RST removed the NAT mapping), so the same ISN shows
up on several public ports at the server. reused_syns_paws_rejected_by_timewait_rule
(computed from the server capture) equals the bare ACKs. When no public tuple
is usable the NAT drops the SYN (nat_syns_not_forwarded: seen at the client,
never at the server), the client retransmits after ~1 s, and a few connects
hit the 10 s connect timeout.
Counting note: at the server one ISN can come back on a tuple after another
connection used it in between; analyze.py counts that as a new connection
attempt (it is a new incarnation of the tuple), the `sort -u` cross-check
command counts distinct (port, ISN) pairs - hence the one-off difference listed
under cross_check_issues.""",
    "snat-port-pool-ts-stripped": """Same as snat-port-pool, but the gateway also strips timestamps
(`iptables -t mangle -A FORWARD -p tcp -j TCPOPTSTRIP --strip-options timestamp`,
applied after SNAT in the path, so both directions run without timestamps).
Observed: **no stale ACKs at all** - every reuse of a public 4-tuple within
2*MSL was accepted from TIME_WAIT by the sequence rule (SYN-ACK ISN = old
snd_nxt + 65537), because Linux's NAT hands out a tuple in TIME_WAIT only to a
SYN whose sequence has advanced, and without timestamps there is no PAWS check
to fail. The inversion of the single-host incident: here stripping timestamps
REMOVES the stale ACKs. SYNs the NAT could not map are dropped as in
snat-port-pool (nat_syns_not_forwarded).""",
    "nat-clients-ts2": """Three client hosts behind one SNAT address
(`iptables -t nat -A POSTROUTING -o td-g1 -p tcp -j SNAT --to-source 198.19.2.1`,
ports kept where free), each with different settings so that the true number
of hosts (3) and what distinguishes them are known:
td-cli 198.18.1.2 tcp_timestamps=1, TTL 64 (per-4-tuple TSval offset);
td-cli2 198.18.3.2 tcp_timestamps=2 (timestamps without random offset: one
clock for all its connections), TTL 64; td-cli3 198.18.4.2 tcp_timestamps=0,
ip_default_ttl=128 (like Windows). 15 short connections each, 70 ms apart, at
the same time; server closes first. At the server every connection comes from
198.19.2.1; nat_hosts attributes them by ISN (from the client-side captures)
and lists per host the TTL seen at the server, the TSval range and whether
TSval - time is constant (one clock). Hosts with tcp_timestamps=1 cannot be
linked by TSval at all (each connection its own clock): the host count here
works only because the three hosts differ in TTL / timestamp mode.""",
    "nat-hosts-2": """NAT_HOSTS_STORY""",
    "nat-hosts-3": """NAT_HOSTS_STORY""",
    "nat-hosts-5": """NAT_HOSTS_STORY""",
    "nat-hosts-mixed": """Four client hosts behind one SNAT address
(`iptables -t nat -A POSTROUTING -o <gw-server-veth> -p tcp -j SNAT --to-source 198.19.2.1`):
host 1 (198.18.1.2) tcp_timestamps=1 (the default: per-4-tuple TSval offset),
hosts 2 and 3 (198.18.3.2, 198.18.4.2) tcp_timestamps=2 (timestamps without
offset: the TSval is the kernel's own millisecond clock), host 4 (198.18.5.2)
tcp_timestamps=0; all TTL 64. 90 / 70 / 80 / 60 short connections (1000
filler bytes + QUIT, server closes first), all hosts at the same time, 40 ms
apart each. The true host count is 4 (true_hosts_behind_nat; per host the
connections attributed by client-side ISN in nat_hosts). What the server
capture can prove: one clock (hosts 2 and 3: all four namespaces run on ONE
kernel, so the two tcp_timestamps=2 hosts send the SAME clock - see
nat_hosts.*.tsval_clock - and cannot be told apart from each other), one set
of per-connection offsets (host 1), SYNs without timestamps (host 4), one TTL:
hosts_distinguishable_from_server_capture = 3 signatures, so "at least 3" is
provable and 4 is not. On separate machines the two tcp_timestamps=2 hosts
would run separate clocks and be 2 provable hosts.""",
    "tw-incident-one-host-500": """The incident of tw-stale-ack-ts-stripped, longer: ONE client host
(one network namespace, true_hosts_behind_nat = 1), 520 connects 2 ms apart
from ports 40000-40003 (only 40000 and 40002 used), 100 000 filler bytes +
QUIT each, server closes first, gateway strips timestamps
(`iptables -t mangle -A FORWARD -p tcp -j TCPOPTSTRIP --strip-options timestamp`).
Every reusing SYN whose ISN is before the old rcv_nxt is answered by the stale
ACK, the client RSTs and retransmits ~10 ms later. Nothing here is a NAT: one
Linux host whose connections each start at a random IP ID and whose two
4-tuples each keep their own TSval offset (the offsets do not reach the server:
timestamps are stripped). No server-side pcapng (only client.pcap, server.pcap).""",
    "one-host-500": """ONE Linux client host at the namespace defaults (tcp_timestamps=1,
ip_local_port_range 32768-60999, TTL 64), no NAT, no stripping: 500 short
connections 5 ms apart (1000 filler bytes + QUIT, server closes first). Each
connection leaves from its own source port, with its own TSval offset (a hash
of the 4-tuple) and a random first IP ID (tcp_v4_connect), so its SYNs look
like 500 unrelated clocks and IP ID counters - and they are one host
(true_hosts_behind_nat = 1). The negative control for counting hosts.""",
    "snat-retry-other-port": """A NAT that forgets closed connections early and moves the retry to another
public port. Two client hosts (198.18.1.2, 198.18.3.2, tcp_timestamps=1, TTL
64) behind a Linux SNAT with a 16-port pool
(`iptables -t nat -A POSTROUTING -o <gw-server-veth> -p tcp -j SNAT --to-source 198.19.2.1:40000-40015`)
whose conntrack TIME_WAIT is 1 s
(`sysctl net.netfilter.nf_conntrack_tcp_timeout_time_wait=1` in the gateway
namespace: a per-namespace setting on this kernel), and timestamps stripped
(`iptables -t mangle -A FORWARD -p tcp -j TCPOPTSTRIP --strip-options timestamp`).
100 connects per host, 200 ms apart, both hosts at the same time, 2000 filler
bytes + QUIT, server closes first (it holds TIME_WAIT 60 s for every public
4-tuple). Once the conntrack entry is gone (1 s) the NAT hands the public
4-tuple to any private connection without Linux NAT's sequence check
(nf_seq_has_advanced applies only while the entry exists), so the reusing
SYN's ISN is unrelated to the old connection's: about half are before the old
rcv_nxt and, with no timestamps, the server's TIME_WAIT answers with the stale
ACK. The client RSTs; the RST ends the conntrack entry; the SYN retransmitted
~10 ms later is a new conntrack entry with a new random port from the pool
(nf_nat_l4proto_unique_tuple picks a random start for SNAT), so at the server
the same client ISN reappears from another public port.
private_connections lists, per client ISN (= per connect() that sent a SYN),
the public ports it used at the server; attempts_* summarise them and
attempts_client_connect_calls is the number of connect() calls.""",
    "two-point-snat": """The same traffic captured on both sides of a source NAT: one client host
(198.18.1.2, ports 40000-40003, only 40000 and 40002 used), the gateway SNATs
to its own address (`iptables -t nat -A POSTROUTING -o <gw-server-veth> -p tcp -j SNAT --to-source 198.19.2.1`,
port kept) and strips timestamps
(`iptables -t mangle -A FORWARD -p tcp -j TCPOPTSTRIP --strip-options timestamp`);
250 connects 2 ms apart, 200 000 filler bytes + QUIT, server closes first.
client.pcap shows 198.18.1.2:4000x, server.pcap 198.19.2.1:4000x: the
connections match across the two points by ISN (the NAT rewrites only the
address). Stale ACKs as in the incident appear at both points
(bare_ack_replies_to_syn per capture); attempts_client_connect_calls =
connect() calls, attempts_at_server_by_client_isn = those that reached the server.""",
    "two-point-mss-clamp": """Options rewritten on the path: the gateway clamps the MSS of SYNs and
SYN-ACKs to 1200 (`iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN
-j TCPMSS --set-mss 1200`) and removes SACK-permitted
(`-j TCPOPTSTRIP --strip-options sack-permitted`, which writes 2 NOPs in its
place). 20 connections, 20 000 filler bytes each, server closes first.
The client-side capture shows MSS 1460 + SACK-permitted in SYNs, the
server-side capture MSS 1200 and no SACK-permitted; SYN-ACKs the other way
round. Timestamps are kept. Veth GSO means data segments at the capture
points may be larger than the MSS.""",
}

KEYS = ["connects_attempted", "connects_ok", "connects_failed", "connect_results", "connects_by_tag",
        "connect_latency_ms", "client_local_ports_used", "server_accepted",
        "connections", "connections_already_open_at_capture_start", "handshakes_completed",
        "syn_packets", "syn_retransmits", "synack_packets", "bare_ack_replies_to_syn",
        "bare_ack_matches_old_fin", "client_rst_after_bare_ack", "rst_ack_replies_to_syn",
        "connections_without_any_server_reply", "no_reply_syn_times_s",
        "server_closes_first_connections", "client_closes_first_connections",
        "port_reuses_within_60s", "port_reuses_within_time_wait", "port_reuse_gap_ms", "reused_syn_isn_before_old_rcv_nxt",
        "reused_syn_tsval_vs_old_last_client_tsval", "reused_syns_unacceptable_to_timewait_rule",
        "synack_isn_tw_plus_65537", "syn_retransmit_gap_after_client_rst_ms",
        "syns_with_timestamp", "syns_with_10_nop_run", "longest_nop_run_in_syn",
        "timestamps_stripped", "nop_run_in_syn_at_server", "active_closer",
        "timewait_sockets_after_run",
        # facts of the scenarios added for the next detectors (analyze_new.py)
        "synack_retransmits", "listen_backlog", "server_tcp_syncookies", "accept_delay_ms", "concurrent_connects",
        "listen_overflows", "listen_drops", "syncookies_sent", "syncookies_recv", "reqq_full_do_cookies",
        "reqq_full_drop", "client_data_unacked_threshold_ms", "client_data_unacked_connections",
        "client_data_never_acked_connections", "client_data_retransmits", "client_data_ack_wait_ms",
        "connects_by_latency_rounded_s", "connect_ms_all", "session_total_s_all",
        "hosts_behind_nat", "hosts_distinguishable_from_server_capture", "hosts_distinguishable_by",
        "host_signatures_at_server", "nat_public_ports_used", "nat_syns_not_forwarded",
        "nat_connections_never_forwarded", "nat_first_syn_delay_ms", "server_syns_from_unknown_isn",
        "port_reuses_within_60s_same_host", "port_reuses_within_60s_other_host", "port_reuse_first_server_answer",
        "reused_syns_paws_rejected_by_timewait_rule", "true_hosts_behind_nat", "client_namespaces",
        "attempts_client_connect_calls", "attempts_by_client_isn", "attempts_at_server_by_client_isn",
        "attempts_by_public_ports_used", "attempts_on_several_public_ports", "attempts_with_stale_ack_at_server",
        "attempts_with_stale_ack_then_other_port", "syn_retransmits_by_client_isn", "nat_hosts",
        "syn_mss_values", "synack_mss_values", "syns_with_sack_perm", "synacks_with_sack_perm",
        "packets_with_sack_blocks", "clamp_mss"]

# Namespace / veth prefix the run used (run.sh LAB_PREFIX, default td), from the recorded namespaces.
P = (f.get("client_namespaces") or ["td-cli"])[0].rsplit("-", 1)[0]
story = STORY.get(sc, "").replace("NAT_HOSTS_STORY", NAT_HOSTS_STORY).replace("<gw-server-veth>", P + "-g1")
made = e["made_by"] if P == "td" else "LAB_PREFIX=%s %s" % (P, e["made_by"])
out = ["# %s" % sc, "", "Made by `%s` (as root, by hand) on kernel %s. Real Linux kernel traffic "
       "between network namespaces (client %s-cli %s, gateway %s-gw, server %s-srv %s, port %s); "
       "see samples/lab/README.md for the topology." % (made, e["kernel"], P, e["addresses"]["client"], P, P,
                                                        e["addresses"]["server"], e["addresses"]["server_port"]),
       "", "## What happens", "", story, "", "## Files", "",
       "| file | capture point | format | bytes | packets | tcp packets |", "|---|---|---|---|---|---|"]
for c in e["captures"]:
    out.append("| %s | %s-side veth | %s | %d | %d | %d |" % (c["file"], c["point"], c["format"], c["bytes"],
                                                            c["packets"], c["tcp_packets"]))
out += ["",
        "Snaplen 128 (headers only). Client-side capture on %s-c0 in %s-cli (host k > 1: %s-cK in %s-cliK), "
        "server-side on %s-s0 in %s-srv, " % (P, P, P, P, P, P) +
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
        *["- %s: %s" % (k, v) for k, v in e["how"].items() if k not in (
            "per_capture_commands", "per_connection_logic", "connect_latency_ms", "connects_attempted/ok/failed",
            "server_accepted", "nstat", "timewait_sockets_after_run", "nop_run_in_syn_at_server",
            "per_capture_commands_new")],
        "", "Commands run verbatim by analyze.py in this folder (their output must equal the fact of the same "
        "name, which analyze.py also computes its own way; any mismatch would be listed under "
        "cross_check_issues in expected.json):", ""]
for fn, cmds in e["how"]["per_capture_commands"].items():
    out.append("%s:" % fn)
    out.append("")
    for k, cmd in cmds.items():
        out.append("- %s: `%s`" % (k, cmd))
    out.append("")
if e["how"].get("per_capture_commands_new"):
    out += ["Further commands (scenario-specific facts):", ""]
    for fn, cmds in e["how"]["per_capture_commands_new"].items():
        out += ["%s:" % fn, ""] + ["- %s: `%s`" % (k, c) for k, c in cmds.items()] + [""]
if e.get("cross_check_issues"):
    out += ["Cross-check issues:", ""] + ["- " + x for x in e["cross_check_issues"]]
out += ["## Notes", "",
        "- TcpRetransSegs counts retransmitted MSS-sized segments (GSO segments count several), so it can exceed "
        "the retransmitted packets in the capture; TcpExtTCPSynRetrans counts SYN retransmits.",
        "- TcpExtTCPACKSkippedTimeWait stayed 0: each TIME_WAIT socket got one unacceptable SYN, answered it, and "
        "was killed by the client's RST, so the per-socket rate limit (tcp_invalid_ratelimit=500 ms) never applied.",
        ""]
open(os.path.join(D, "README.md"), "w").write("\n".join(out))
