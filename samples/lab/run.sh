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

NS_C=td-cli; NS_G=td-gw; NS_S=td-srv
C4=198.18.1.2; G4C=198.18.1.1; G4S=198.19.2.1; S4=198.19.2.2
C6=fd18:1::2;  G6C=fd18:1::1;  G6S=fd19:2::1;  S6=fd19:2::2
SNAP=128              # snaplen: headers only, keeps captures small

WORK=$(mktemp -d /tmp/td-lab.XXXXXX)
PIDS=()

cleanup() {
    set +e
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    sleep 0.5
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    for ns in $NS_C $NS_G $NS_S; do ip netns del "$ns" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

inc() { ip netns exec $NS_C "$@"; }
ing() { ip netns exec $NS_G "$@"; }
ins() { ip netns exec $NS_S "$@"; }

build_net() {
    for ns in $NS_C $NS_G $NS_S; do
        ip netns del "$ns" 2>/dev/null || true
        ip netns add "$ns"
        ip -n "$ns" link set lo up
    done
    ip link add td-c0 netns $NS_C type veth peer name td-g0 netns $NS_G
    ip link add td-s0 netns $NS_S type veth peer name td-g1 netns $NS_G
    ip -n $NS_C addr add $C4/24 dev td-c0
    ip -n $NS_G addr add $G4C/24 dev td-g0
    ip -n $NS_G addr add $G4S/24 dev td-g1
    ip -n $NS_S addr add $S4/24 dev td-s0
    # nodad: usable at once, no 1-2 s tentative period that would delay the run
    ip -n $NS_C addr add $C6/64 dev td-c0 nodad
    ip -n $NS_G addr add $G6C/64 dev td-g0 nodad
    ip -n $NS_G addr add $G6S/64 dev td-g1 nodad
    ip -n $NS_S addr add $S6/64 dev td-s0 nodad
    for pair in "$NS_C td-c0" "$NS_G td-g0" "$NS_G td-g1" "$NS_S td-s0"; do
        set -- $pair; ip -n "$1" link set "$2" up
    done
    # Routes to the other side only (no default route).
    ip -n $NS_C route add 198.19.2.0/24 via $G4C
    ip -n $NS_S route add 198.18.1.0/24 via $G4S
    ip -n $NS_C -6 route add fd19:2::/64 via $G6C
    ip -n $NS_S -6 route add fd18:1::/64 via $G6S
    ing sysctl -qw net.ipv4.ip_forward=1
    ing sysctl -qw net.ipv6.conf.all.forwarding=1
    # Warm up neighbour caches so ARP/ND does not delay the first SYN.
    # (one UDP datagram each way to the discard port; the ICMP unreachable
    # that comes back is harmless and happens before any capture starts)
    inc python3 -c "import socket
for a, f in (('$S4', socket.AF_INET), ('$S6', socket.AF_INET6)):
    socket.socket(f, socket.SOCK_DGRAM).sendto(b'warmup', (a, 9))"
    ins python3 -c "import socket
for a, f in (('$C4', socket.AF_INET), ('$C6', socket.AF_INET6)):
    socket.socket(f, socket.SOCK_DGRAM).sendto(b'warmup', (a, 9))"
    sleep 1.5
}

# Record the environment the capture was made in (kernel, sysctls, rules).
save_env() {
    {
        echo "# uname -r"; uname -r
        echo "# date -u"; date -u +%FT%TZ
        for ns in $NS_C $NS_G $NS_S; do
            echo "# $ns sysctls"
            ip netns exec "$ns" sysctl net.ipv4.ip_local_port_range net.ipv4.tcp_timestamps \
                net.ipv4.tcp_tw_reuse net.ipv4.tcp_rfc1337 net.ipv4.tcp_invalid_ratelimit \
                net.ipv4.tcp_syn_retries net.ipv4.tcp_syn_linear_timeouts net.ipv4.tcp_max_tw_buckets \
                net.ipv4.tcp_sack net.ipv4.tcp_window_scaling 2>&1
        done
        echo "# $NS_G iptables-save -t mangle / -t filter"
        ing iptables-save -t mangle | grep -v '^#'; ing iptables-save -t filter | grep -v '^#'
        echo "# $NS_G ip6tables-save -t mangle / -t filter"
        ing ip6tables-save -t mangle | grep -v '^#'; ing ip6tables-save -t filter | grep -v '^#'
        echo "# veth offloads: left at the kernel defaults (GSO/GRO on), so bulk data"
        echo "# shows up as a few large segments per connection at the capture points."
    } > "$OUT/lab-env.txt"
}

nstat_all() {  # $1 = before|after ; -a absolute, -s do not touch history, -z zeros
    for pair in "client $NS_C" "gateway $NS_G" "server $NS_S"; do
        set -- $pair
        ip netns exec "$2" nstat -asz > "$OUT/nstat-$1-$SUF.txt"
    done
}

# Every background process is started as `ip netns exec NS prog` (which execs
# prog), so $! is the process itself and the trap can stop it by PID.
# start_cap NS IFACE FILE TOOL(tcpdump|dumpcap)
start_cap() {
    local ns=$1 ifc=$2 file=$3 tool=$4 log=$WORK/cap.$(basename "$3").log
    rm -f "$file"
    if [ "$tool" = dumpcap ]; then
        ip netns exec "$ns" dumpcap -i "$ifc" -s $SNAP -w "$file" -q >"$log" 2>&1 &
    else
        # -Z root: write directly into the samples folder; -U: flush per packet;
        # --immediate-mode: without it the kernel ring hands packets over in
        # blocks and the last ~second was lost when tcpdump was stopped.
        ip netns exec "$ns" tcpdump -i "$ifc" -s $SNAP -U -Z root --immediate-mode -B 8192 \
            -w "$file" >"$log" 2>&1 &
    fi
    PIDS+=($!)
    for _ in $(seq 50); do  # wait until the capture is really listening
        grep -qE 'listening on|Capturing on' "$log" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "capture on $ns/$ifc did not start: $(cat "$log")" >&2; exit 1
}

stop_caps() {
    sleep 2            # trailing FIN/ACKs, and let the capture tools drain
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    PIDS=()
    # keep the tools' own statistics (packets captured / dropped by kernel)
    for l in "$WORK"/cap.*.log; do
        [ -e "$l" ] && { echo "# $(basename "$l" .log | sed 's/^cap\.//')"; grep -v '^$' "$l"; }
    done > "$OUT/capture-stats.txt"
}

start_server() {  # start_server ADDR PORT CLOSE_MODE
    # ip netns exec directly (not the ins function) so $! is the server itself
    ip netns exec $NS_S python3 "$LAB/server.py" --bind "$1" --port "$2" --close "$3" \
        --log "$OUT/server-log-$2.csv" --max-seconds 300 >"$WORK/server-$2.out" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 50); do grep -q listening "$WORK/server-$2.out" && return 0; sleep 0.1; done
    echo "server did not start" >&2; exit 1
}

client() { inc python3 "$LAB/client.py" --log "$OUT/client-log.csv" --max-seconds 120 "$@"; }

ss_all() {  # TIME-WAIT holders, independent of the captures
    { echo "# client ss -tan state time-wait"; inc ss -tanH state time-wait;
      echo "# server ss -tan state time-wait"; ins ss -tanH state time-wait; } > "$OUT/ss-timewait-after.txt"
}

begin() {
    mkdir -p "$OUT"
    rm -f "$OUT"/client-log.csv "$OUT"/server-log-*.csv "$OUT"/nstat-*.txt "$OUT"/*.pcap "$OUT"/*.pcapng
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
    start_cap $NS_C td-c0 "$OUT/client.$1" "$2"
    start_cap $NS_S td-s0 "$OUT/server.$1" "$2"
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
tw_incident() {  # $1 = 4|6  $2 = strip|keep  $3 = gap ms
    local fam=$1 mode=$2 gap=$3 S=$S4 C=$C4
    [ "$fam" = 6 ] && { S=$S6; C=$C6; }
    begin
    inc sysctl -qw net.ipv4.ip_local_port_range="40000 40003"
    [ "$mode" = strip ] && strip_ts "$fam"
    write_meta scenario="$SC" client="$C" server="$S" server_port=3306 family="$fam" \
        timestamps_stripped=$([ "$mode" = strip ] && echo true || echo false) \
        client_port_range="40000-40003" payload=200000 active_closer=server gap_ms="$gap"
    start_server "$S" 3306 server
    caps_both pcap tcpdump
    # A real dumpcap pcapng of the same server-side traffic.
    [ "$fam" = 4 ] && start_cap $NS_S td-s0 "$OUT/server.pcapng" dumpcap
    SUF=before nstat_all
    client --dst "$S" --port 3306 --count 100 --payload 200000 --mode quit --timeout 10 --gap-ms "$gap" --tag main
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

case "$SC" in
    tw-stale-ack-ts-stripped)      tw_incident 4 strip 2 ;;
    tw-stale-ack-ts-stripped-ipv6) tw_incident 6 strip 2 ;;
    tw-reuse-ts-kept)              tw_incident 4 keep 2 ;;
    tw-reuse-ts-kept-same-ms)      tw_incident 4 keep 0 ;;
    client-closes-first)           client_closes_first ;;
    refused)                       refused ;;
    syn-drop-gateway)              syn_drop ;;
    mid-connection-start)          mid_connection_start ;;
    *) echo "usage: $0 {tw-stale-ack-ts-stripped|tw-stale-ack-ts-stripped-ipv6|tw-reuse-ts-kept|tw-reuse-ts-kept-same-ms|client-closes-first|refused|syn-drop-gateway|mid-connection-start} [OUTDIR]" >&2
       exit 2 ;;
esac
