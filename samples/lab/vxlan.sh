#!/bin/bash
# The TIME_WAIT incident carried over VXLAN, captured on the underlay (what a
# traffic mirror or an overlay host sees) and on the VXLAN device (the same
# packets plain) at the same time, so a test can require that tcpdiag's
# analysis of the tunnelled capture equals that of the plain one.
#
#   usage (as root, by hand, never in CI):  samples/lab/vxlan.sh [OUTDIR]
#
# Topology (two namespaces, one veth pair, two VXLAN devices over it):
#
#   tv-vc [tv-u0 198.18.9.1] ---- underlay ---- [tv-u1 198.18.9.2] tv-vs
#   tv-vc [tv-vx0 198.19.9.1]  VXLAN VNI 4242, UDP 4789  [tv-vx0 198.19.9.2] tv-vs
#   tv-vc [tv-vx1 198.19.10.1] VXLAN VNI 77,   UDP 8472  [tv-vx1 198.19.10.2] tv-vs
#
# As in run.sh's tw-stale-ack-ts-stripped: the server closes first, the
# client reuses ports 40000-40003, and the timestamp option is NOPed out on
# the way (TCPOPTSTRIP on each side's VXLAN device output, in place of the
# incident's gateway). Only 198.18.0.0/15 is used; no default routes.
set -euo pipefail

LAB=$(cd "$(dirname "$0")" && pwd)
SAMPLES=$(dirname "$LAB")
OUT=${1:-$SAMPLES/vxlan-tw-stale-ack}
NS_C=tv-vc; NS_S=tv-vs
SNAP_UNDER=200   # outer Ethernet+IP+UDP+VXLAN (50) + inner headers with options
SNAP_OVER=128
. "$LAB/lib.sh"
lab_init tv-lab   # WORK, PIDS, the trap that stops everything and deletes the namespaces
                  # (the VXLAN devices go with them)

lab_netns $NS_C $NS_S
lab_veth $NS_C tv-u0 198.18.9.1/24 $NS_S tv-u1 198.18.9.2/24
vx() {  # vx NS DEV VNI PORT LOCAL REMOTE UNDERDEV OVERLAY_ADDR
    ip -n "$1" link add "$2" type vxlan id "$3" dstport "$4" local "$5" remote "$6" dev "$7"
    ip -n "$1" addr add "$8" dev "$2"; ip -n "$1" link set "$2" up
}
vx $NS_C tv-vx0 4242 4789 198.18.9.1 198.18.9.2 tv-u0 198.19.9.1/24
vx $NS_S tv-vx0 4242 4789 198.18.9.2 198.18.9.1 tv-u1 198.19.9.2/24
vx $NS_C tv-vx1 77 8472 198.18.9.1 198.18.9.2 tv-u0 198.19.10.1/24
vx $NS_S tv-vx1 77 8472 198.18.9.2 198.18.9.1 tv-u1 198.19.10.2/24
ip netns exec $NS_C sysctl -qw net.ipv4.ip_local_port_range="40000 40003"
for ns in $NS_C $NS_S; do
    for d in tv-vx0 tv-vx1; do
        ip netns exec "$ns" iptables -t mangle -A POSTROUTING -o $d -p tcp -j TCPOPTSTRIP --strip-options timestamp
    done
done

mkdir -p "$OUT"
rm -f "$OUT"/*.pcap "$OUT"/*.csv "$OUT"/*.txt

cap() {  # NS IFACE SNAPLEN FILE
    lab_cap "$(basename "$4")" "$1" tcpdump -i "$2" -s "$3" "${LAB_TCPDUMP[@]}" -w "$4"
}

run() {  # run PORT_LABEL SERVER_ADDR COUNT
    local tag=$1 srv=$2 count=$3
    lab_server "$tag" $NS_S --bind "$srv" --port 3306 --close server \
        --log "$OUT/server-log-$tag.csv" --max-seconds 120
    # Server side: the underlay veth (tunnelled) and the VXLAN device (plain), at once.
    cap $NS_S tv-u1 $SNAP_UNDER "$OUT/underlay-$tag.pcap"
    local dev=tv-vx0; [ "$tag" = 8472 ] && dev=tv-vx1
    cap $NS_S $dev $SNAP_OVER "$OUT/overlay-$tag.pcap"
    ip netns exec $NS_C python3 "$LAB/client.py" --dst "$srv" --port 3306 --count "$count" --payload 200000 \
        --mode quit --timeout 10 --gap-ms 2 --tag main --log "$OUT/client-log-$tag.csv" --max-seconds 120
    lab_stop   # both captures and the server
}
run 4789 198.19.9.2 100
run 8472 198.19.10.2 30

{
    lab_env_head
    for ns in $NS_C $NS_S; do
        echo "# $ns ip -d link show type vxlan"; ip -n "$ns" -d link show type vxlan
        lab_env_mangle "$ns"
        echo "# $ns sysctl"; ip netns exec "$ns" sysctl net.ipv4.ip_local_port_range net.ipv4.tcp_timestamps
    done
} > "$OUT/lab-env.txt"
chmod 644 "$OUT"/*.pcap "$OUT"/*.csv "$OUT"/*.txt
echo "wrote $OUT"
