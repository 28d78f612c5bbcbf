#!/bin/bash
# The TIME_WAIT incident captured twice on the same interface at the same time: once
# whole, once rotated by tcpdump itself (-G 1: a new file every second, as -G 60 does
# every minute; this tcpdump's -C counts whole megabytes, more than this run writes), so
# a test can require that the rotated set analysed as one capture
# point equals the whole capture (no two-point analysis of one point).
#
#   usage (as root, by hand, never in CI):  samples/lab/rotated.sh [OUTDIR]
#
# Topology: tv-rc [tv-r0 198.18.40.1] -- [tv-r1 198.18.40.2] tv-rs, one veth pair.
# The server closes first, the client reuses ports 40000-40003, the timestamp option is
# NOPed out on the way (TCPOPTSTRIP on each side's output), 250 connects 2 ms apart so the
# run spans a few seconds. Only 198.18.0.0/15 is used; no default routes.
set -euo pipefail

LAB=$(cd "$(dirname "$0")" && pwd)
SAMPLES=$(dirname "$LAB")
OUT=${1:-$SAMPLES/rotated-tcpdump}
NS_C=tv-rc; NS_S=tv-rs
SNAP=128
WORK=$(mktemp -d /tmp/tv-lab.XXXXXX)
PIDS=()

cleanup() {
    set +e
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    sleep 0.5
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    for ns in $NS_C $NS_S; do ip netns del "$ns" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

for ns in $NS_C $NS_S; do
    ip netns list | grep -qw "$ns" && { echo "namespace $ns exists; remove it first" >&2; exit 1; }
    ip netns add "$ns"; ip -n "$ns" link set lo up
done
ip link add tv-r0 netns $NS_C type veth peer name tv-r1 netns $NS_S
ip -n $NS_C addr add 198.18.40.1/24 dev tv-r0; ip -n $NS_C link set tv-r0 up
ip -n $NS_S addr add 198.18.40.2/24 dev tv-r1; ip -n $NS_S link set tv-r1 up
ip netns exec $NS_C sysctl -qw net.ipv4.ip_local_port_range="40000 40003"
ip netns exec $NS_C iptables -t mangle -A POSTROUTING -o tv-r0 -p tcp -j TCPOPTSTRIP --strip-options timestamp
ip netns exec $NS_S iptables -t mangle -A POSTROUTING -o tv-r1 -p tcp -j TCPOPTSTRIP --strip-options timestamp

mkdir -p "$OUT"
rm -f "$OUT"/*.pcap "$OUT"/*.csv "$OUT"/*.txt

start_cap() {  # LOGNAME tcpdump-args...
    local log=$WORK/cap.$1.log; shift
    ip netns exec $NS_S tcpdump -i tv-r1 -s $SNAP -U -Z root --immediate-mode -B 8192 "$@" >"$log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 50); do grep -q 'listening on' "$log" 2>/dev/null && return 0; sleep 0.1; done
    echo "capture did not start: $(cat "$log")" >&2; exit 1
}

ip netns exec $NS_S python3 "$LAB/server.py" --bind 198.18.40.2 --port 3306 --close server \
    --log "$OUT/server-log.csv" --max-seconds 120 >"$WORK/server.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do grep -q listening "$WORK/server.out" && break; sleep 0.1; done
start_cap whole -w "$OUT/whole.pcap"
start_cap g1 -G 1 -w "$OUT/g1-%H%M%S.pcap"
ip netns exec $NS_C python3 "$LAB/client.py" --dst 198.18.40.2 --port 3306 --count 250 --payload 200000 \
    --mode quit --timeout 10 --gap-ms 2 --tag main --log "$OUT/client-log.csv" --max-seconds 120
sleep 2
for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
PIDS=()
for l in "$WORK"/cap.*.log; do echo "# $(basename "$l" .log)"; grep -v '^$' "$l"; done > "$OUT/capture-stats.txt"
{
    echo "# uname -r"; uname -r
    echo "# date -u"; date -u +%FT%TZ
    echo "# tcpdump --version"; tcpdump --version 2>&1 | head -2
    for ns in $NS_C $NS_S; do
        echo "# $ns iptables-save -t mangle"; ip netns exec "$ns" iptables-save -t mangle | grep -v '^#'
    done
    echo "# $NS_C sysctl"; ip netns exec $NS_C sysctl net.ipv4.ip_local_port_range net.ipv4.tcp_timestamps
} > "$OUT/lab-env.txt"
chmod 644 "$OUT"/*
echo "wrote $OUT"
