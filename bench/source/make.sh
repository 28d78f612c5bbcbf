#!/bin/bash
# Makes bench/source/server.pcap, the long-connection source that bench/gen-long.mjs replays:
# the incident of samples/tw-stale-ack-ts-stripped (server closes first, the gateway strips
# timestamps, the client reuses a 4-port range, 200 000 filler bytes + QUIT per connection),
# with 50 connections and every veth's segmentation offloads OFF (TSO, GSO, GRO), so each
# connection shows its ~140 MSS-sized data segments and their ACKs, as a capture taken off a
# switch port or a host with offloads disabled does, instead of a few 64 KB GSO super-packets.
#
#   usage (as root, by hand, never in CI):  bench/source/make.sh [OUTDIR=bench/source]
#
# The samples/lab topology and tools (client.py, server.py, analyze.py), its addresses
# (client 198.18.1.2, server 198.19.2.2:3306, only 198.18.0.0/15), namespaces named with
# LAB_PREFIX (default tb: tb-cli, tb-gw, tb-srv) and deleted on exit. Differences from
# samples/lab/run.sh tw_incident: offloads off, snaplen 96 (Ethernet + IPv4 + TCP with 40 bytes
# of options is 94), only the server-side capture, no IPv6 addresses, 50 connects. samples/lab/analyze.py then
# derives expected.json from the capture, the logs and nstat, independently of tcpdiag.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
LAB=$ROOT/samples/lab
OUT=${1:-$HERE}
P=${LAB_PREFIX:-tb}
NS_C=$P-cli; NS_G=$P-gw; NS_S=$P-srv
C4=198.18.1.2; G4C=198.18.1.1; G4S=198.19.2.1; S4=198.19.2.2
SNAP=96
COUNT=50; PAYLOAD=200000; GAP_MS=2; RANGE="40000 40003"

. "$LAB/lib.sh"
lab_init $P-benchsrc   # WORK, PIDS, the trap that stops everything and deletes the namespaces

inc() { ip netns exec $NS_C "$@"; }
ing() { ip netns exec $NS_G "$@"; }
ins() { ip netns exec $NS_S "$@"; }

lab_netns $NS_C $NS_G $NS_S
lab_veth $NS_C $P-c0 $C4/24 $NS_G $P-g0 $G4C/24
lab_veth $NS_S $P-s0 $S4/24 $NS_G $P-g1 $G4S/24
# Segmentation offloads off on all four ends: the sender cuts MSS-sized segments itself
# (tcp_write_xmit without TSO) and no receiver merges them (no GRO), so the capture points see
# what a wire would carry.
for pair in "$NS_C $P-c0" "$NS_G $P-g0" "$NS_G $P-g1" "$NS_S $P-s0"; do
    set -- $pair
    ip netns exec "$1" ethtool -K "$2" tso off gso off gro off >/dev/null
done
ip -n $NS_C route add 198.19.2.0/24 via $G4C
ip -n $NS_S route add 198.18.1.0/24 via $G4S
ing sysctl -qw net.ipv4.ip_forward=1
lab_warmup $NS_C $S4
lab_warmup $NS_S $C4
sleep 1.5

mkdir -p "$OUT"
rm -f "$OUT"/client-log.csv "$OUT"/server-log-*.csv "$OUT"/nstat-*.txt "$OUT"/*.pcap
inc sysctl -qw net.ipv4.ip_local_port_range="$RANGE"
# The incident's gateway: NOP out the timestamp option in both directions.
ing iptables -t mangle -A FORWARD -p tcp -j TCPOPTSTRIP --strip-options timestamp
python3 - "$OUT/lab-meta.json" <<EOF
import json, sys
json.dump({"scenario": "bench-long-source", "client": "$C4", "server": "$S4", "server_port": "3306",
           "family": "4", "timestamps_stripped": "true", "client_port_range": "${RANGE/ /-}",
           "payload": "$PAYLOAD", "active_closer": "server", "gap_ms": "$GAP_MS",
           "client_namespaces": "$NS_C"}, open(sys.argv[1], "w"), indent=1)
EOF

lab_server 3306 $NS_S --bind $S4 --port 3306 --close server \
    --log "$OUT/server-log-3306.csv" --max-seconds 300
lab_cap server.pcap $NS_S tcpdump -i $P-s0 -s $SNAP "${LAB_TCPDUMP[@]}" -w "$OUT/server.pcap"

for pair in "client $NS_C" "gateway $NS_G" "server $NS_S"; do
    set -- $pair; lab_nstat "$2" "$OUT/nstat-$1-before.txt"
done
inc python3 "$LAB/client.py" --log "$OUT/client-log.csv" --max-seconds 120 --dst $S4 --port 3306 \
    --count $COUNT --payload $PAYLOAD --mode quit --timeout 10 --gap-ms $GAP_MS --tag main
lab_ss_timewait $NS_C $NS_S "$OUT/ss-timewait-after.txt"
for pair in "client $NS_C" "gateway $NS_G" "server $NS_S"; do
    set -- $pair; lab_nstat "$2" "$OUT/nstat-$1-after.txt"
done
lab_stop_caps      # 2 s for trailing FIN/ACKs, then tcpdump; the server is left to the trap
lab_cap_stats "$OUT/capture-stats.txt" "# "
{
    lab_env_head
    for ns in $NS_C $NS_G $NS_S; do
        echo "# $ns sysctls"
        ip netns exec "$ns" sysctl net.ipv4.ip_local_port_range net.ipv4.tcp_timestamps \
            net.ipv4.tcp_tw_reuse net.ipv4.tcp_rfc1337 net.ipv4.tcp_invalid_ratelimit \
            net.ipv4.tcp_sack net.ipv4.tcp_window_scaling 2>&1
    done
    lab_env_mangle $NS_G
    for pair in "$NS_C $P-c0" "$NS_G $P-g0" "$NS_G $P-g1" "$NS_S $P-s0"; do
        set -- $pair
        echo "# $1 ethtool -k $2 (segmentation offloads)"
        ip netns exec "$1" ethtool -k "$2" | grep -E 'tcp-segmentation-offload|generic-segmentation|generic-receive'
    done
} > "$OUT/lab-env.txt"
chmod 644 "$OUT"/*.pcap "$OUT"/*.csv "$OUT"/*.txt
python3 "$LAB/analyze.py" "$OUT"
# analyze.py names run.sh as the maker; this folder was made by this script.
python3 - "$OUT/expected.json" <<'EOF2'
import json, sys
e = json.load(open(sys.argv[1]))
e["made_by"] = "bench/source/make.sh"
json.dump(e, open(sys.argv[1], "w"), indent=1)
EOF2
