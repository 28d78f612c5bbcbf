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
. "$LAB/lib.sh"
lab_init tv-lab   # WORK, PIDS, the trap that stops everything and deletes the namespaces

lab_netns $NS_C $NS_S
lab_veth $NS_C tv-r0 198.18.40.1/24 $NS_S tv-r1 198.18.40.2/24
ip netns exec $NS_C sysctl -qw net.ipv4.ip_local_port_range="40000 40003"
ip netns exec $NS_C iptables -t mangle -A POSTROUTING -o tv-r0 -p tcp -j TCPOPTSTRIP --strip-options timestamp
ip netns exec $NS_S iptables -t mangle -A POSTROUTING -o tv-r1 -p tcp -j TCPOPTSTRIP --strip-options timestamp

mkdir -p "$OUT"
rm -f "$OUT"/*.pcap "$OUT"/*.csv "$OUT"/*.txt

cap() {  # LABEL tcpdump-args... : on the server's veth
    lab_cap "$1" $NS_S tcpdump -i tv-r1 -s $SNAP "${LAB_TCPDUMP[@]}" "${@:2}"
}

lab_server log $NS_S --bind 198.18.40.2 --port 3306 --close server \
    --log "$OUT/server-log.csv" --max-seconds 120
cap whole -w "$OUT/whole.pcap"
cap g1 -G 1 -w "$OUT/g1-%H%M%S.pcap"
ip netns exec $NS_C python3 "$LAB/client.py" --dst 198.18.40.2 --port 3306 --count 250 --payload 200000 \
    --mode quit --timeout 10 --gap-ms 2 --tag main --log "$OUT/client-log.csv" --max-seconds 120
lab_stop
lab_cap_stats "$OUT/capture-stats.txt" "# cap."
{
    lab_env_head
    echo "# tcpdump --version"; tcpdump --version 2>&1 | head -2
    for ns in $NS_C $NS_S; do lab_env_mangle "$ns"; done
    echo "# $NS_C sysctl"; ip netns exec $NS_C sysctl net.ipv4.ip_local_port_range net.ipv4.tcp_timestamps
} > "$OUT/lab-env.txt"
chmod 644 "$OUT"/*
echo "wrote $OUT"
