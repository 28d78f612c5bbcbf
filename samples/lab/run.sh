#!/bin/bash
# tcpdiag namespace lab: produce REAL captures of the TCP situations tcpdiag
# diagnoses, made by this machine's Linux kernel.
#
#   usage (as root, by hand, never in CI):  samples/lab/run.sh SCENARIO [OUTDIR]
#   scenarios: see the case statement at the bottom, or run without arguments.
#
# Topology (three network namespaces, two veth pairs, nothing else reachable):
#
#   td-cli [td-c0 198.18.1.2 fd18:1::2] -- [td-g0 198.18.1.1 fd18:1::1] td-gw
#   td-gw  [td-g1 198.19.2.1 fd19:2::1] -- [td-s0 198.19.2.2 fd19:2::2] td-srv
#
# The gateway namespace forwards and is where middlebox behaviour is applied
# (TCPOPTSTRIP of the timestamp option like a cloud VPC gateway, SYN drops).
# Captures are taken at the client-side veth (in td-cli) and at the
# server-side veth (in td-srv) at the same time, so a test can compare what
# left the client with what reached the server.
#
# Only 198.18.0.0/15 and fd00::/8 are used; no default routes exist, so no
# packet can leave for any other address. Every client loop is bounded in
# count and time. All namespaces and processes are removed on exit (trap).
set -euo pipefail

LAB=$(cd "$(dirname "$0")" && pwd)
SAMPLES=$(dirname "$LAB")
SC=${1:-}
OUT=${2:-$SAMPLES/$SC}

# LAB_PREFIX (default td) names every namespace and veth, so two labs can run
# side by side on one machine (e.g. LAB_PREFIX=tl -> tl-cli, tl-gw, tl-c0 ...).
P=${LAB_PREFIX:-td}
NS_C=$P-cli; NS_G=$P-gw; NS_S=$P-srv
# Extra client hosts, only in the NAT scenarios (each on its own veth and /24
# to the gateway): td-cli2 [td-c2 198.18.3.2] -- [td-g2 198.18.3.1] td-gw,
#                  td-cli3 [td-c3 198.18.4.2] -- [td-g3 198.18.4.1] td-gw
# and, for the NAT host-count scenarios, td-cli4 [td-c4 198.18.5.2] and
# td-cli5 [td-c5 198.18.6.2] the same way (host k on 198.18.(k+1).0/24).
NS_C2=$P-cli2; NS_C3=$P-cli3; NS_C4=$P-cli4; NS_C5=$P-cli5
C2_4=198.18.3.2; C3_4=198.18.4.2
NAT4=198.19.2.1       # the gateway's server-side address = the SNAT address
C4=198.18.1.2; G4C=198.18.1.1; G4S=198.19.2.1; S4=198.19.2.2
C6=fd18:1::2;  G6C=fd18:1::1;  G6S=fd19:2::1;  S6=fd19:2::2
SNAP=128              # snaplen: headers only, keeps captures small

. "$LAB/lib.sh"
lab_init $P-lab   # WORK, PIDS, the trap that stops everything and deletes the namespaces

inc() { ip netns exec $NS_C "$@"; }
ing() { ip netns exec $NS_G "$@"; }
ins() { ip netns exec $NS_S "$@"; }

build_net() {
    # All seven names must be free, also those only the NAT scenarios create.
    lab_netns_free $NS_C $NS_G $NS_S $NS_C2 $NS_C3 $NS_C4 $NS_C5
    lab_netns $NS_C $NS_G $NS_S
    lab_veth $NS_C $P-c0 "$C4/24 $C6/64" $NS_G $P-g0 "$G4C/24 $G6C/64"
    lab_veth $NS_S $P-s0 "$S4/24 $S6/64" $NS_G $P-g1 "$G4S/24 $G6S/64"
    # Routes to the other side only (no default route).
    ip -n $NS_C route add 198.19.2.0/24 via $G4C
    ip -n $NS_S route add 198.18.1.0/24 via $G4S
    ip -n $NS_C -6 route add fd19:2::/64 via $G6C
    ip -n $NS_S -6 route add fd18:1::/64 via $G6S
    ing sysctl -qw net.ipv4.ip_forward=1
    ing sysctl -qw net.ipv6.conf.all.forwarding=1
    lab_warmup $NS_C $S4 $S6
    lab_warmup $NS_S $C4 $C6
    sleep 1.5
}

extra_clients() {  # the extra client namespaces that exist (NAT scenarios only)
    local ns
    for ns in $NS_C2 $NS_C3 $NS_C4 $NS_C5; do [ -e "/run/netns/$ns" ] && echo "$ns"; done; return 0
}

# add_client NS IFNAME_C IFNAME_G ADDR_C ADDR_G : one more client host on its
# own veth and /24 to the gateway (route to the server subnet only).
add_client() {
    local ns=$1 ic=$2 ig=$3 ac=$4 ag=$5
    lab_netns "$ns"
    lab_veth "$ns" "$ic" "$ac/24" $NS_G "$ig" "$ag/24"
    ip -n "$ns" route add 198.19.2.0/24 via "$ag"
    lab_warmup "$ns" $S4
}

# Record the environment the capture was made in (kernel, sysctls, rules).
save_env() {
    {
        lab_env_head
        for ns in $NS_C $NS_G $NS_S $(extra_clients); do
            echo "# $ns sysctls"
            ip netns exec "$ns" sysctl net.ipv4.ip_local_port_range net.ipv4.tcp_timestamps \
                net.ipv4.tcp_tw_reuse net.ipv4.tcp_rfc1337 net.ipv4.tcp_invalid_ratelimit \
                net.ipv4.tcp_syn_retries net.ipv4.tcp_syn_linear_timeouts net.ipv4.tcp_max_tw_buckets \
                net.ipv4.tcp_sack net.ipv4.tcp_window_scaling 2>&1
            [ "$ns" = "$NS_C" ] || [ "$ns" = "$NS_G" ] || [ "$ns" = "$NS_S" ] || \
                ip netns exec "$ns" sysctl net.ipv4.ip_default_ttl 2>&1
            [ "$ns" = "$NS_S" ] && [ -n "${LAB_SRV_SYSCTLS:-}" ] && ip netns exec "$ns" sysctl $LAB_SRV_SYSCTLS 2>&1
        done
        if [ -n "$(ing iptables-save -t nat | grep -v '^#' | grep -- '-A')" ]; then
            echo "# $NS_G iptables-save -t nat"; ing iptables-save -t nat | grep -v '^#'
            echo "# $NS_G sysctl net.netfilter.nf_conntrack_tcp_timeout_time_wait"
            ing sysctl net.netfilter.nf_conntrack_tcp_timeout_time_wait 2>&1
        fi
        echo "# $NS_G iptables-save -t mangle / -t filter"
        ing iptables-save -t mangle | grep -v '^#'; ing iptables-save -t filter | grep -v '^#'
        echo "# $NS_G ip6tables-save -t mangle / -t filter"
        ing ip6tables-save -t mangle | grep -v '^#'; ing ip6tables-save -t filter | grep -v '^#'
        echo "# veth offloads: left at the kernel defaults (GSO/GRO on), so bulk data"
        echo "# shows up as a few large segments per connection at the capture points."
    } > "$OUT/lab-env.txt"
}

nstat_all() {  # $1 = before|after ; -a absolute, -s do not touch history, -z zeros
    local pairs=("client $NS_C" "gateway $NS_G" "server $NS_S") ns
    for ns in $(extra_clients); do pairs+=("client${ns#$NS_C} $ns"); done   # client2, client3
    for pair in "${pairs[@]}"; do
        set -- $pair
        lab_nstat "$2" "$OUT/nstat-$1-$SUF.txt"
    done
}

# start_cap NS IFACE FILE TOOL(tcpdump|dumpcap)
start_cap() {
    local ns=$1 ifc=$2 file=$3 tool=$4
    rm -f "$file"
    if [ "$tool" = dumpcap ]; then
        lab_cap "$(basename "$file")" "$ns" dumpcap -i "$ifc" -s $SNAP -w "$file" -q
    else
        lab_cap "$(basename "$file")" "$ns" tcpdump -i "$ifc" -s $SNAP "${LAB_TCPDUMP[@]}" -w "$file"
    fi
}

stop_caps() {
    lab_stop   # the captures, the server and any client left
    # keep the tools' own statistics (packets captured / dropped by kernel)
    lab_cap_stats "$OUT/capture-stats.txt" "# "
}

start_server() {  # start_server ADDR PORT CLOSE_MODE [extra server.py options]
    lab_server "$2" $NS_S --bind "$1" --port "$2" --close "$3" \
        --log "$OUT/server-log-$2.csv" --max-seconds 300 "${@:4}"
}

client() { inc python3 "$LAB/client.py" --log "$OUT/client-log.csv" --max-seconds 120 "$@"; }

ss_all() {  # TIME-WAIT holders, independent of the captures
    lab_ss_timewait $NS_C $NS_S "$OUT/ss-timewait-after.txt"
}

begin() {
    mkdir -p "$OUT"
    rm -f "$OUT"/client-log.csv "$OUT"/client[0-9]-log.csv "$OUT"/server-log-*.csv "$OUT"/nstat-*.txt "$OUT"/*.pcap "$OUT"/*.pcapng
    build_net
}

finish() {
    ss_all
    SUF=after nstat_all
    stop_caps
    save_env
    # Captures were written by root; make them readable for the test suite.
    chmod 644 "$OUT"/*.pcap* "$OUT"/*.csv "$OUT"/*.txt 2>/dev/null || true
    python3 "$LAB/analyze.py" "$OUT"
    python3 "$LAB/make_readme.py" "$OUT"
}

strip_ts() {  # $1 = 4|6 : NOP out the timestamp option in both directions,
              # as the incident's VPC gateway did
    if [ "$1" = 6 ]; then
        ing ip6tables -t mangle -A FORWARD -p tcp -j TCPOPTSTRIP --strip-options timestamp
    else
        ing iptables -t mangle -A FORWARD -p tcp -j TCPOPTSTRIP --strip-options timestamp
    fi
}

caps_both() {  # caps_both EXT TOOL  (client side + server side)
    start_cap $NS_C $P-c0 "$OUT/client.$1" "$2"
    start_cap $NS_S $P-s0 "$OUT/server.$1" "$2"
}

write_meta() {  # scenario parameters analyze.py needs
    python3 - "$OUT/lab-meta.json" "$@" <<'EOF'
import json, sys
out = sys.argv[1]; kv = dict(a.split("=", 1) for a in sys.argv[2:])
json.dump(kv, open(out, "w"), indent=1)
EOF
}

# ---------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------

# The incident: server closes first (QUIT), gateway strips timestamps, client
# reuses a tiny set of ephemeral ports. Each connection carries ~200 KB so the
# old connection's rcv_nxt is ahead of the reused tuple's new ISN (Linux ISNs
# advance 1 per 64 ns: 200 KB ~ 13 ms of clock) and the SYN is not acceptable
# to the server's TIME_WAIT socket -> stale ACK, client RST, fast retransmit.
#
# $3 = pause between connects in ms. 2 ms by default so that a reused tuple's
# SYN always carries a TSval at least one tick (1 ms) newer than the old
# connection's last one; with 0 ms, SYNs sent in the same millisecond carry an
# equal TSval, which the TIME_WAIT rule does not count as newer, and stale ACKs
# appear even with timestamps kept (scenario tw-reuse-ts-kept-same-ms).
# $4 = connects (100), $5 = filler bytes per connection (200000), $6 = pcapng|nopcapng
tw_incident() {  # $1 = 4|6  $2 = strip|keep  $3 = gap ms  [$4 count $5 payload $6 pcapng|nopcapng $7 port range]
    local fam=$1 mode=$2 gap=$3 n=${4:-100} pl=${5:-200000} ng=${6:-pcapng} range=${7:-40000-40003} S=$S4 C=$C4
    [ "$fam" = 6 ] && { S=$S6; C=$C6; }
    begin
    inc sysctl -qw net.ipv4.ip_local_port_range="${range%-*} ${range#*-}"
    [ "$mode" = strip ] && strip_ts "$fam"
    write_meta scenario="$SC" client="$C" server="$S" server_port=3306 family="$fam" \
        timestamps_stripped=$([ "$mode" = strip ] && echo true || echo false) \
        client_port_range="$range" payload="$pl" active_closer=server gap_ms="$gap" \
        client_namespaces="$NS_C"
    start_server "$S" 3306 server
    caps_both pcap tcpdump
    # A real dumpcap pcapng of the same server-side traffic.
    [ "$fam" = 4 ] && [ "$ng" = pcapng ] && start_cap $NS_S $P-s0 "$OUT/server.pcapng" dumpcap
    SUF=before nstat_all
    client --dst "$S" --port 3306 --count "$n" --payload "$pl" --mode quit --timeout 10 --gap-ms "$gap" --tag main
    finish
}

# Remedy "pooling" for the incident: the same 100 requests of 200 000 bytes,
# 2 ms apart, the same 4-port range, server-closes-first and timestamp
# stripping, but carried by 4 long-lived connections (25 requests each), so
# only 4 SYNs are sent and no 4-tuple is needed again while the server holds
# it in TIME_WAIT.
tw_pooled() {
    begin
    inc sysctl -qw net.ipv4.ip_local_port_range="40000 40003"
    strip_ts 4
    write_meta scenario="$SC" client="$C4" server="$S4" server_port=3306 family=4 \
        timestamps_stripped=true client_port_range="40000-40003" payload=200000 active_closer=server gap_ms=2 \
        pooled_connections=4 requests=100 client_namespaces="$NS_C"
    start_server "$S4" 3306 server
    caps_both pcap tcpdump
    start_cap $NS_S $P-s0 "$OUT/server.pcapng" dumpcap
    SUF=before nstat_all
    client --dst "$S4" --port 3306 --count 4 --requests 100 --payload 200000 --mode pooled --timeout 10 --gap-ms 2 --tag main
    finish
}

client_closes_first() {
    begin
    # Wide enough that no port is needed twice: the client holds TIME_WAIT.
    inc sysctl -qw net.ipv4.ip_local_port_range="40000 40999"
    write_meta scenario="$SC" client="$C4" server="$S4" server_port=3306 family=4 \
        timestamps_stripped=false client_port_range="40000-40999" payload=200000 active_closer=client
    start_server "$S4" 3306 client
    caps_both pcap tcpdump
    SUF=before nstat_all
    client --dst "$S4" --port 3306 --count 100 --payload 200000 --mode client --timeout 10 --tag main
    finish
}

refused() {
    begin
    write_meta scenario="$SC" client="$C4" server="$S4" server_port=3306 closed_port=3307 family=4 \
        timestamps_stripped=false active_closer=server payload=1000
    start_server "$S4" 3306 server
    caps_both pcap tcpdump
    SUF=before nstat_all
    # Nothing listens on 3307: the server kernel answers each SYN with RST-ACK.
    client --dst "$S4" --port 3307 --count 10 --mode connect --timeout 3 --gap-ms 20 --tag refused
    client --dst "$S4" --port 3306 --count 5 --payload 1000 --mode quit --timeout 3 --gap-ms 20 --tag open
    finish
}

syn_drop() {
    begin
    # Two client ports only: every connection reuses a port the server still
    # holds in TIME_WAIT (accepted via the timestamp rule, timestamps kept).
    inc sysctl -qw net.ipv4.ip_local_port_range="41000 41001"
    # Deterministic loss: every 3rd SYN towards 3306 is dropped (the match
    # counts SYNs only because -p tcp --syn comes first), so the kernel's
    # 1 s SYN retransmit is what lets those connects through.
    ing iptables -A FORWARD -p tcp --syn -d $S4 --dport 3306 -m statistic --mode nth --every 3 --packet 0 -j DROP
    # Port 3308: every SYN dropped -> connections with no answer at all (S0).
    ing iptables -A FORWARD -p tcp --syn -d $S4 --dport 3308 -j DROP
    write_meta scenario="$SC" client="$C4" server="$S4" server_port=3306 blackhole_port=3308 family=4 \
        timestamps_stripped=false client_port_range="41000-41001" payload=2000 active_closer=server
    start_server "$S4" 3306 server
    caps_both pcapng dumpcap
    SUF=before nstat_all
    client --dst "$S4" --port 3306 --count 30 --payload 2000 --mode quit --timeout 10 --gap-ms 50 --tag main
    # Give up after 4.5 s: SYN at 0 s, retransmits at ~1, 2, 3, 4 s, no answer.
    client --dst "$S4" --port 3308 --count 2 --mode connect --timeout 4.5 --tag blackhole
    finish
}

mid_connection_start() {
    begin
    write_meta scenario="$SC" client="$C4" server="$S4" server_port=3306 family=4 \
        timestamps_stripped=false active_closer=server payload=0
    start_server "$S4" 3306 server
    SUF=before nstat_all
    # Long-lived connection: connect first, start the captures only afterwards,
    # then let it exchange 20 PING/PONGs and close (server closes on QUIT).
    ip netns exec $NS_C python3 "$LAB/client.py" --log "$OUT/client-log.csv" --max-seconds 60 \
        --dst "$S4" --port 3306 --count 1 --mode long --pings 20 --ping-gap-ms 100 \
        --ready-file "$WORK/ready" --go-file "$WORK/go" --tag long &
    local cpid=$!
    PIDS+=($cpid)   # killed by the trap if the run is interrupted
    for _ in $(seq 100); do [ -e "$WORK/ready" ] && break; sleep 0.05; done
    sleep 1
    caps_both pcap tcpdump
    touch "$WORK/go"
    wait $cpid || true
    # Two ordinary short connections afterwards, fully inside the capture.
    client --dst "$S4" --port 3306 --count 2 --payload 1000 --mode quit --gap-ms 100 --tag short
    finish
}

# ---------------------------------------------------------------------------
# Scenarios for the next detectors (NAT, listen-queue overflow, two-point
# captures with rewriting on the path). paws-drop-crafted is not made here:
# see craft_paws.py (no current kernel drops SYNs per host by PAWS).
# ---------------------------------------------------------------------------

# A server with a tiny listen backlog and a slow accept loop (100 ms sleep
# after each accept), 40 clients connecting at the same moment.
# $1 = cookies|nocookies (server tcp_syncookies 1 = default, or 0)  $2 = backlog
# $3 = ms the client waits after connect() before sending
# Everything else default: tcp_abort_on_overflow=0, tcp_synack_retries=5.
listen_overflow() {
    local ck=$1 bl=$2 sd=$3
    begin
    [ "$ck" = nocookies ] && ins sysctl -qw net.ipv4.tcp_syncookies=0
    LAB_SRV_SYSCTLS="net.ipv4.tcp_abort_on_overflow net.ipv4.tcp_syncookies net.ipv4.tcp_synack_retries net.ipv4.tcp_max_syn_backlog net.core.somaxconn"
    write_meta scenario="$SC" kind=listen-overflow client="$C4" server="$S4" server_port=3306 family=4 \
        timestamps_stripped=false active_closer=server payload=100 backlog="$bl" accept_delay_ms=100 \
        concurrent=40 unacked_threshold_ms=200 send_delay_ms="$sd" syncookies=$([ "$ck" = cookies ] && echo 1 || echo 0)
    start_server "$S4" 3306 server --backlog "$bl" --accept-delay-ms 100
    caps_both pcap tcpdump
    SUF=before nstat_all
    # 40 connects at once; each sends 100 filler bytes + QUIT as soon as
    # connect() reports success and waits (recv timeout 30 s) for the close.
    # nocookies: the client sends only 1.5 s after connect() succeeded (as if
    # waiting for a server greeting), so a handshake whose final ACK was
    # dropped is completed by the server's SYN-ACK retransmit, not by data.
    client --dst "$S4" --port 3306 --concurrent 40 --payload 100 --mode quit --timeout 20 \
        --read-timeout 30 --send-delay-ms "$sd" --tag burst
    finish
}

# Two client hosts behind a Linux SNAT with a 4-port pool; the server closes
# first, so it holds TIME_WAIT for every public 4-tuple.
# $1 = keep|strip (strip: the gateway also NOPs out timestamps)
snat_pool() {
    local mode=$1
    begin
    add_client $NS_C2 $P-c2 $P-g2 $C2_4 198.18.3.1
    ing iptables -t nat -A POSTROUTING -o $P-g1 -p tcp -j SNAT --to-source $NAT4:40000-40003
    [ "$mode" = strip ] && strip_ts 4
    write_meta scenario="$SC" kind=nat client="$C4" clients="$C4,$C2_4" nat_public="$NAT4" \
        nat_ports="40000-40003" server="$S4" server_port=3306 family=4 \
        timestamps_stripped=$([ "$mode" = strip ] && echo true || echo false) \
        payload=2000 active_closer=server
    start_server "$S4" 3306 server
    start_cap $NS_C $P-c0 "$OUT/client.pcap" tcpdump
    start_cap $NS_C2 $P-c2 "$OUT/client2.pcap" tcpdump
    start_cap $NS_S $P-s0 "$OUT/server.pcap" tcpdump
    SUF=before nstat_all
    # Both hosts at the same time, 40 connects each, 25 ms apart.
    ip netns exec $NS_C2 python3 "$LAB/client.py" --log "$OUT/client2-log.csv" --max-seconds 120 \
        --dst "$S4" --port 3306 --count 40 --payload 2000 --mode quit --timeout 10 --gap-ms 25 --tag host2 &
    local c2=$!; PIDS+=($c2)
    client --dst "$S4" --port 3306 --count 40 --payload 2000 --mode quit --timeout 10 --gap-ms 25 --tag host1
    wait $c2 || true
    finish
}

# Three client hosts behind one SNAT address, made distinguishable by their
# settings: td-cli tcp_timestamps=1 (per-4-tuple TSval offset), TTL 64;
# td-cli2 tcp_timestamps=2 (no offset: one clock), TTL 64; td-cli3
# tcp_timestamps=0, TTL 128 (ip_default_ttl, like Windows).
nat_clients_ts() {
    begin
    add_client $NS_C2 $P-c2 $P-g2 $C2_4 198.18.3.1
    add_client $NS_C3 $P-c3 $P-g3 $C3_4 198.18.4.1
    inc sysctl -qw net.ipv4.tcp_timestamps=1
    ip netns exec $NS_C2 sysctl -qw net.ipv4.tcp_timestamps=2
    ip netns exec $NS_C3 sysctl -qw net.ipv4.tcp_timestamps=0
    ip netns exec $NS_C3 sysctl -qw net.ipv4.ip_default_ttl=128
    ing iptables -t nat -A POSTROUTING -o $P-g1 -p tcp -j SNAT --to-source $NAT4
    write_meta scenario="$SC" kind=nat client="$C4" clients="$C4,$C2_4,$C3_4" nat_public="$NAT4" \
        server="$S4" server_port=3306 family=4 timestamps_stripped=false payload=1000 active_closer=server \
        host_settings="$C4:tcp_timestamps=1:ttl=64,$C2_4:tcp_timestamps=2:ttl=64,$C3_4:tcp_timestamps=0:ttl=128"
    start_server "$S4" 3306 server
    start_cap $NS_C $P-c0 "$OUT/client.pcap" tcpdump
    start_cap $NS_C2 $P-c2 "$OUT/client2.pcap" tcpdump
    start_cap $NS_C3 $P-c3 "$OUT/client3.pcap" tcpdump
    start_cap $NS_S $P-s0 "$OUT/server.pcap" tcpdump
    SUF=before nstat_all
    local p2 p3
    ip netns exec $NS_C2 python3 "$LAB/client.py" --log "$OUT/client2-log.csv" --max-seconds 60 \
        --dst "$S4" --port 3306 --count 15 --payload 1000 --mode quit --timeout 10 --gap-ms 70 --tag host2 &
    p2=$!; PIDS+=($p2)
    ip netns exec $NS_C3 python3 "$LAB/client.py" --log "$OUT/client3-log.csv" --max-seconds 60 \
        --dst "$S4" --port 3306 --count 15 --payload 1000 --mode quit --timeout 10 --gap-ms 70 --tag host3 &
    p3=$!; PIDS+=($p3)
    client --dst "$S4" --port 3306 --count 15 --payload 1000 --mode quit --timeout 10 --gap-ms 70 --tag host1
    wait $p2 || true; wait $p3 || true
    finish
}

# The gateway clamps the MSS of SYNs to 1200 and strips SACK-permitted
# (TCPOPTSTRIP writes 2 NOPs over it): options rewritten between the points.
mss_clamp() {
    begin
    ing iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1200
    ing iptables -t mangle -A FORWARD -p tcp -j TCPOPTSTRIP --strip-options sack-permitted
    write_meta scenario="$SC" kind=mss-clamp client="$C4" server="$S4" server_port=3306 family=4 \
        timestamps_stripped=false payload=20000 active_closer=server clamp_mss=1200
    start_server "$S4" 3306 server
    caps_both pcap tcpdump
    SUF=before nstat_all
    client --dst "$S4" --port 3306 --count 20 --payload 20000 --mode quit --timeout 10 --gap-ms 20 --tag main
    finish
}

# ---------------------------------------------------------------------------
# Host counting behind one SNAT address, retries moved by a NAT, two points
# through a NAT (issue: hosts behind NAT must never be over-counted).
# Host k (1..5): namespace $NS_C (k=1) or $P-cliK, address 198.18.(k+1).2
# (198.18.1.2 for k=1), client-side veth $P-c0 / $P-cK, capture clientK.pcap
# (client.pcap for k=1), log clientK-log.csv.
# ---------------------------------------------------------------------------
host_ns()   { if [ "$1" = 1 ]; then echo $NS_C; else echo $P-cli$1; fi; }
host_addr() { if [ "$1" = 1 ]; then echo $C4; else echo 198.18.$(( $1 + 1 )).2; fi; }
host_if()   { if [ "$1" = 1 ]; then echo $P-c0; else echo $P-c$1; fi; }
host_file() { if [ "$1" = 1 ]; then echo client; else echo client$1; fi; }

add_hosts() {  # add_hosts N : hosts 2..N on their own veth and /24
    local k
    for k in $(seq 2 "$1"); do
        add_client "$(host_ns $k)" $P-c$k $P-g$k "$(host_addr $k)" 198.18.$(( k + 1 )).1
    done
}

caps_hosts() {  # caps_hosts N : one capture per client host + the server side
    local k
    for k in $(seq 1 "$1"); do start_cap "$(host_ns $k)" "$(host_if $k)" "$OUT/$(host_file $k).pcap" tcpdump; done
    start_cap $NS_S $P-s0 "$OUT/server.pcap" tcpdump
}

# run_hosts "COUNT1 COUNT2 ..." GAP_MS PAYLOAD : every host's client loop at the
# same moment (so their connections interleave at the server), then wait.
run_hosts() {
    local counts=($1) gap=$2 pl=$3 k p pids=()
    for k in $(seq 1 ${#counts[@]}); do
        ip netns exec "$(host_ns $k)" python3 "$LAB/client.py" --log "$OUT/$(host_file $k)-log.csv" \
            --max-seconds 120 --dst "$S4" --port 3306 --count "${counts[$((k - 1))]}" --payload "$pl" \
            --mode quit --timeout 10 --gap-ms "$gap" --tag host$k &
        p=$!; pids+=($p); PIDS+=($p)
    done
    for p in "${pids[@]}"; do wait "$p" || true; done
}

# N Linux client hosts behind one SNAT address (port kept where free), server
# closes first, ~60-100 short connections per host at the same time.
# $1 = N (2..5); $2 = default | mixed
#   default: every host at the namespace defaults (tcp_timestamps=1, TTL 64):
#            nothing in their SYNs tells them apart (per-4-tuple TSval offsets,
#            random per-connection IP IDs, one TTL).
#   mixed (N=4): host1 tcp_timestamps=1, host2 and host3 tcp_timestamps=2 (no
#            offset: the kernel's own ms clock), host4 tcp_timestamps=0; TTL 64.
nat_hosts() {
    local n=$1 mode=$2 k ts cl="" nss="" hs="" counts
    begin
    add_hosts "$n"
    if [ "$mode" = mixed ]; then counts="90 70 80 60"; else counts=$(echo "100 80 60 90 70" | cut -d' ' -f1-"$n"); fi
    for k in $(seq 1 "$n"); do
        ts=1
        if [ "$mode" = mixed ]; then
            case $k in 2|3) ts=2 ;; 4) ts=0 ;; esac
            ip netns exec "$(host_ns $k)" sysctl -qw net.ipv4.tcp_timestamps=$ts
        fi
        cl+="${cl:+,}$(host_addr $k)"; nss+="${nss:+,}$(host_ns $k)"
        hs+="${hs:+,}$(host_addr $k):tcp_timestamps=$ts:ttl=$(ip netns exec "$(host_ns $k)" sysctl -n net.ipv4.ip_default_ttl)"
    done
    ing iptables -t nat -A POSTROUTING -o $P-g1 -p tcp -j SNAT --to-source $NAT4
    write_meta scenario="$SC" kind=nat client="$C4" clients="$cl" client_namespaces="$nss" nat_public="$NAT4" \
        server="$S4" server_port=3306 family=4 timestamps_stripped=false payload=1000 active_closer=server \
        host_settings="$hs" host_connects="$counts" gap_ms=40
    start_server "$S4" 3306 server
    caps_hosts "$n"
    SUF=before nstat_all
    run_hosts "$counts" 40 1000
    finish
}

# A NAT that forgets closed connections early and moves retries to another
# public port: two hosts behind a Linux SNAT with a 16-port pool whose conntrack
# TIME_WAIT is 1 s (nf_conntrack_tcp_timeout_time_wait, per network namespace),
# timestamps stripped. After 1 s the NAT hands a public 4-tuple the server
# still holds in TIME_WAIT (60 s) to any private connection, without the
# nf_seq_has_advanced check, so about half of the reusing SYNs fall before the
# old rcv_nxt -> stale ACK -> client RST (which ends the conntrack entry) ->
# the retransmitted SYN gets a new mapping, on a random free port of the pool.
snat_retry_other_port() {
    begin
    add_hosts 2
    ing iptables -t nat -A POSTROUTING -o $P-g1 -p tcp -j SNAT --to-source $NAT4:40000-40015
    ing sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_time_wait=1
    strip_ts 4
    write_meta scenario="$SC" kind=nat client="$C4" clients="$C4,$(host_addr 2)" \
        client_namespaces="$NS_C,$(host_ns 2)" nat_public="$NAT4" nat_ports="40000-40015" \
        conntrack_time_wait_s=1 server="$S4" server_port=3306 family=4 timestamps_stripped=true \
        payload=2000 active_closer=server host_connects="100 100" gap_ms=200 \
        host_settings="$C4:tcp_timestamps=1:ttl=64,$(host_addr 2):tcp_timestamps=1:ttl=64"
    start_server "$S4" 3306 server
    caps_hosts 2
    SUF=before nstat_all
    run_hosts "100 100" 200 2000
    finish
}

# The incident through a source NAT, captured on both sides of the gateway: one
# host (ports 40000-40003), SNAT to the gateway's address (port kept), timestamps
# stripped, server closes first. The same traffic at two points whose addresses
# differ (198.18.1.2 at the client, 198.19.2.1 at the server).
two_point_snat() {
    begin
    inc sysctl -qw net.ipv4.ip_local_port_range="40000 40003"
    ing iptables -t nat -A POSTROUTING -o $P-g1 -p tcp -j SNAT --to-source $NAT4
    strip_ts 4
    write_meta scenario="$SC" kind=nat client="$C4" clients="$C4" client_namespaces="$NS_C" nat_public="$NAT4" \
        server="$S4" server_port=3306 family=4 timestamps_stripped=true client_port_range="40000-40003" \
        payload=200000 active_closer=server gap_ms=2 host_settings="$C4:tcp_timestamps=1:ttl=64"
    start_server "$S4" 3306 server
    caps_both pcap tcpdump
    SUF=before nstat_all
    client --dst "$S4" --port 3306 --count 250 --payload 200000 --mode quit --timeout 10 --gap-ms 2 --tag main
    finish
}

# One Linux host at the defaults (tcp_timestamps=1, full ephemeral range, no
# NAT, no stripping), 500 short connections 5 ms apart, server closes first:
# 500 source ports, each with its own TSval offset and a random first IP ID.
# The negative control for the host count: one host, whatever its SYNs look like.
one_host_many() {
    begin
    write_meta scenario="$SC" client="$C4" server="$S4" server_port=3306 family=4 timestamps_stripped=false \
        payload=1000 active_closer=server gap_ms=5 client_namespaces="$NS_C"
    start_server "$S4" 3306 server
    caps_both pcap tcpdump
    SUF=before nstat_all
    client --dst "$S4" --port 3306 --count 500 --payload 1000 --mode quit --timeout 10 --gap-ms 5 --tag main
    finish
}

case "$SC" in
    tw-stale-ack-ts-stripped)      tw_incident 4 strip 2 ;;
    tw-stale-ack-ts-stripped-ipv6) tw_incident 6 strip 2 ;;
    tw-reuse-ts-kept)              tw_incident 4 keep 2 ;;
    tw-remedy-wider-range)         tw_incident 4 strip 2 100 200000 pcapng 32768-60999 ;;
    tw-remedy-pooling)             tw_pooled ;;
    tw-reuse-ts-kept-same-ms)      tw_incident 4 keep 0 ;;
    client-closes-first)           client_closes_first ;;
    refused)                       refused ;;
    syn-drop-gateway)              syn_drop ;;
    mid-connection-start)          mid_connection_start ;;
    listen-overflow)               listen_overflow cookies 1 0 ;;
    listen-overflow-no-syncookies) listen_overflow nocookies 2 1500 ;;
    snat-port-pool)                snat_pool keep ;;
    snat-port-pool-ts-stripped)    snat_pool strip ;;
    nat-clients-ts2)               nat_clients_ts ;;
    two-point-mss-clamp)           mss_clamp ;;
    nat-hosts-2)                   nat_hosts 2 default ;;
    nat-hosts-3)                   nat_hosts 3 default ;;
    nat-hosts-5)                   nat_hosts 5 default ;;
    nat-hosts-mixed)               nat_hosts 4 mixed ;;
    tw-incident-one-host-500)      tw_incident 4 strip 2 520 100000 nopcapng ;;
    snat-retry-other-port)         snat_retry_other_port ;;
    two-point-snat)                two_point_snat ;;
    one-host-500)                  one_host_many ;;
    *) echo "usage: $0 {tw-stale-ack-ts-stripped|tw-remedy-wider-range|tw-remedy-pooling|tw-stale-ack-ts-stripped-ipv6|tw-reuse-ts-kept|tw-reuse-ts-kept-same-ms|client-closes-first|refused|syn-drop-gateway|mid-connection-start|listen-overflow|listen-overflow-no-syncookies|snat-port-pool|snat-port-pool-ts-stripped|nat-clients-ts2|two-point-mss-clamp|nat-hosts-2|nat-hosts-3|nat-hosts-5|nat-hosts-mixed|tw-incident-one-host-500|snat-retry-other-port|two-point-snat|one-host-500} [OUTDIR]" >&2
       echo "(paws-drop-crafted is made by samples/lab/craft_paws.py, not by this script)" >&2
       exit 2 ;;
esac
