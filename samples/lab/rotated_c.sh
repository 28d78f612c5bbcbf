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
. "$LAB/lib.sh"
lab_init $P-lab   # WORK, PIDS, the trap that stops everything and deletes the namespaces

lab_netns $NS_C $NS_S
lab_veth $NS_C $P-r0 198.18.41.1/24 $NS_S $P-r1 198.18.41.2/24
ip netns exec $NS_C sysctl -qw net.ipv4.ip_local_port_range="40000 40003"
ip netns exec $NS_C iptables -t mangle -A POSTROUTING -o $P-r0 -p tcp -j TCPOPTSTRIP --strip-options timestamp
ip netns exec $NS_S iptables -t mangle -A POSTROUTING -o $P-r1 -p tcp -j TCPOPTSTRIP --strip-options timestamp

mkdir -p "$OUT"
rm -f "$OUT"/x.pcap* "$OUT"/*.csv "$OUT"/*.txt "$OUT"/pieces.sha256

lab_server log $NS_S --bind 198.18.41.2 --port 3306 --close server \
    --log "$OUT/server-log.csv" --max-seconds 180
# In WORK first: tcpdump -C names the pieces from the -w name, and only they must be there.
mkdir "$WORK/cap"
lab_cap x $NS_S tcpdump -i $P-r1 -s $SNAP "${LAB_TCPDUMP[@]}" -C 1 -w "$WORK/cap/x.pcap"
ip netns exec $NS_C python3 "$LAB/client.py" --dst 198.18.41.2 --port 3306 --count 1000 --payload 200000 \
    --mode quit --timeout 10 --gap-ms 2 --tag main --log "$OUT/client-log.csv" --max-seconds 180
lab_stop
lab_cap_stats "$OUT/capture-stats.txt"
(cd "$WORK/cap" && ls -l --time-style=+%T x.pcap* >> "$OUT/capture-stats.txt" && sha256sum x.pcap* > "$OUT/pieces.sha256")
for f in "$WORK"/cap/x.pcap*; do zstd -q -19 "$f" -o "$OUT/$(basename "$f").zst"; done
{
    lab_env_head
    echo "# tcpdump --version"; tcpdump --version 2>&1 | head -2
    echo "# tcpdump command (in $NS_S)"; echo "tcpdump -i $P-r1 -s $SNAP ${LAB_TCPDUMP[*]} -C 1 -w x.pcap"
    for ns in $NS_C $NS_S; do lab_env_mangle "$ns"; done
    echo "# $NS_C sysctl"; ip netns exec $NS_C sysctl net.ipv4.ip_local_port_range net.ipv4.tcp_timestamps
} > "$OUT/lab-env.txt"
chmod 644 "$OUT"/*
echo "wrote $OUT"
