#!/bin/bash
# The TIME_WAIT incident captured by one tcpdump rotating by size, `-C 1 -w x.pcap`
# (tcpdump 4.99: a new file once the current one is larger than 1 000 000 bytes; the
# files are x.pcap, x.pcap1, x.pcap2, ...: the first has no number), so a test can
# require that the set, given in any order, is read as one capture point in time order
# and analysed as the files merged by mergecap (no two-point analysis of one point).
#
#   usage (as root, by hand, never in CI):  samples/lab/rotated_c.sh [OUTDIR]
#
# Topology: $P-rc [$P-r0 198.18.41.1] -- [$P-r1 198.18.41.2] $P-rs, one veth pair
# (LAB_PREFIX, default tc). The server closes first, the client reuses ports
# 40000-40003, the timestamp option is NOPed out on the way (TCPOPTSTRIP on each
# side's output), 1000 connects 2 ms apart, enough packets for three 1 MB files at
# snaplen 96. The pieces are stored compressed (zstd -19, lossless; sha256 of what
# tcpdump wrote in pieces.sha256). Only 198.18.0.0/15 is used; no default routes.
set -euo pipefail

LAB=$(cd "$(dirname "$0")" && pwd)
SAMPLES=$(dirname "$LAB")
OUT=${1:-$SAMPLES/rotated-tcpdump-size}
P=${LAB_PREFIX:-tc}
NS_C=$P-rc; NS_S=$P-rs
SNAP=96
WORK=$(mktemp -d /tmp/$P-lab.XXXXXX)
PIDS=()

cleanup() {
    set +e
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    sleep 0.5
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    for ns in $NS_C $NS_S; do [ -n "$ns" ] && ip netns del "$ns" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

for ns in $NS_C $NS_S; do
    if [ -e "/run/netns/$ns" ]; then
        echo "namespace $ns exists already (another lab running? set LAB_PREFIX)" >&2
        NS_C=; NS_S=; exit 1
    fi
done
for ns in $NS_C $NS_S; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip link add $P-r0 netns $NS_C type veth peer name $P-r1 netns $NS_S
ip -n $NS_C addr add 198.18.41.1/24 dev $P-r0; ip -n $NS_C link set $P-r0 up
ip -n $NS_S addr add 198.18.41.2/24 dev $P-r1; ip -n $NS_S link set $P-r1 up
ip netns exec $NS_C sysctl -qw net.ipv4.ip_local_port_range="40000 40003"
ip netns exec $NS_C iptables -t mangle -A POSTROUTING -o $P-r0 -p tcp -j TCPOPTSTRIP --strip-options timestamp
ip netns exec $NS_S iptables -t mangle -A POSTROUTING -o $P-r1 -p tcp -j TCPOPTSTRIP --strip-options timestamp

mkdir -p "$OUT"
rm -f "$OUT"/x.pcap* "$OUT"/*.csv "$OUT"/*.txt "$OUT"/pieces.sha256

ip netns exec $NS_S python3 "$LAB/server.py" --bind 198.18.41.2 --port 3306 --close server \
    --log "$OUT/server-log.csv" --max-seconds 180 >"$WORK/server.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do grep -q listening "$WORK/server.out" && break; sleep 0.1; done
# In WORK first: tcpdump -C names the pieces from the -w name, and only they must be there.
mkdir "$WORK/cap"
ip netns exec $NS_S tcpdump -i $P-r1 -s $SNAP -U -Z root --immediate-mode -B 8192 -C 1 -w "$WORK/cap/x.pcap" >"$WORK/cap.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do grep -q 'listening on' "$WORK/cap.log" 2>/dev/null && break; sleep 0.1; done
grep -q 'listening on' "$WORK/cap.log" || { echo "capture did not start: $(cat "$WORK/cap.log")" >&2; exit 1; }
ip netns exec $NS_C python3 "$LAB/client.py" --dst 198.18.41.2 --port 3306 --count 1000 --payload 200000 \
    --mode quit --timeout 10 --gap-ms 2 --tag main --log "$OUT/client-log.csv" --max-seconds 180
sleep 2
for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
PIDS=()
grep -v '^$' "$WORK/cap.log" > "$OUT/capture-stats.txt"
(cd "$WORK/cap" && ls -l --time-style=+%T x.pcap* >> "$OUT/capture-stats.txt" && sha256sum x.pcap* > "$OUT/pieces.sha256")
for f in "$WORK"/cap/x.pcap*; do zstd -q -19 "$f" -o "$OUT/$(basename "$f").zst"; done
{
    echo "# uname -r"; uname -r
    echo "# date -u"; date -u +%FT%TZ
    echo "# tcpdump --version"; tcpdump --version 2>&1 | head -2
    echo "# tcpdump command (in $NS_S)"; echo "tcpdump -i $P-r1 -s $SNAP -U -Z root --immediate-mode -B 8192 -C 1 -w x.pcap"
    for ns in $NS_C $NS_S; do
        echo "# $ns iptables-save -t mangle"; ip netns exec "$ns" iptables-save -t mangle | grep -v '^#'
    done
    echo "# $NS_C sysctl"; ip netns exec $NS_C sysctl net.ipv4.ip_local_port_range net.ipv4.tcp_timestamps
} > "$OUT/lab-env.txt"
chmod 644 "$OUT"/*
echo "wrote $OUT"
