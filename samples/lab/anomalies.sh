#!/bin/bash
# tcpdiag anomaly lab: real captures of SYN floods, TCP Fast Open, SYN-ACK loss and
# spoofed SYNs on a live tuple, made by this machine's kernel in two namespaces.
#
#   usage (as root, by hand, never in CI):  samples/lab/anomalies.sh SCENARIO OUTDIR
#   scenarios: syn-flood | tfo | synack-loss | spoofed-syns | synack-new-isn
#
# Topology: ta-cli [ta-c0 198.18.20.2] -- [ta-s0 198.18.20.1] ta-srv (the samples were made when these were
# named td-acli, td-ac0, td-as0, td-asrv; renamed so as not to meet run.sh's td-* names). No routes beyond
# the /24. hping3 (Debian package hping3) sends the crafted SYNs. Every loop is bounded;
# namespaces and processes are removed on exit.
set -euo pipefail
LAB=$(cd "$(dirname "$0")" && pwd)
SC=${1:?scenario}; OUT=${2:?outdir}
NC=ta-cli; NS=ta-srv; C4=198.18.20.2; S4=198.18.20.1; SNAP=128
mkdir -p "$OUT"
. "$LAB/lib.sh"
lab_init ta-lab   # WORK, PIDS, the trap that stops everything and deletes the namespaces
inc() { ip netns exec $NC "$@"; }; ins() { ip netns exec $NS "$@"; }
lab_netns $NC $NS
lab_veth $NC ta-c0 $C4/24 $NS ta-s0 $S4/24
sleep 1
cap() { # cap NS IF FILE : TCP only; tcpdump without -Z root (drops to its own user)
  lab_cap "$3" "$1" tcpdump -i "$2" -s $SNAP -U --immediate-mode -B 8192 -w "$OUT/$3" tcp; }
# The captures only: the listeners and the connections holding 9002's accept queue stay
# until the trap, so the "after" counters are taken with them still open (1 s later, as before).
stopcaps() { lab_stop_caps; sleep 1; lab_cap_stats "$OUT/capture-stats.txt"; }
nst() { lab_nstat "$1" "$OUT/nstat-$2.txt"; }
{ uname -r; for ns in $NC $NS; do echo "== $ns"; ip netns exec $ns sysctl net.ipv4.tcp_syncookies net.ipv4.tcp_fastopen net.ipv4.tcp_syn_linear_timeouts net.ipv4.tcp_max_syn_backlog 2>/dev/null; done; } > "$OUT/lab-env.txt"

case "$SC" in
syn-flood)
  # Port 9001: SYNs dropped in the server namespace (nothing answers; captured before INPUT).
  # Port 9002: a listener with backlog 1 that never accepts, its accept queue filled first.
  ins iptables -A INPUT -p tcp --syn --dport 9001 -j DROP
  lab_bg $NS python3 "$LAB/anomaly_listen.py" $S4 9002 1 30 > "$OUT/server-9002.log"
  sleep 0.5; nst $NS server-before
  cap $NS ta-s0 server.pcap; sleep 1
  # 300 SYNs each, 4 ms apart, source port counting up from 20000 (hping3's default).
  inc hping3 -S -p 9001 -s 20000 -i u4000 -c 300 $S4 > "$OUT/hping3-9001.log" 2>&1 || true
  # Two real connections fill 9002's accept queue (backlog 1 holds two: sk_acceptq_is_full
  # tests > backlog); they stay open, never accepted, while hping3 sends its SYNs.
  lab_bg $NC python3 -c "import socket,time; s=[socket.create_connection(('$S4', 9002), timeout=3) for _ in range(2)]; print('held', len(s), flush=True); time.sleep(8)" > "$OUT/holders-9002.log" 2>&1
  sleep 1
  inc hping3 -S -p 9002 -s 30000 -i u4000 -c 300 $S4 > "$OUT/hping3-9002.log" 2>&1 || true
  # Port 9003: a listener that accepts. hping3's SYNs get SYN-ACKs, which hping3's own kernel
  # resets (no socket of its own on that port: tcp_v4_send_reset): half-open attempts.
  lab_bg $NS python3 "$LAB/anomaly_tfo.py" server $S4 9003 0 > "$OUT/server-9003.log"
  sleep 0.5
  inc hping3 -S -p 9003 -s 40000 -i u4000 -c 150 $S4 > "$OUT/hping3-9003.log" 2>&1 || true
  stopcaps; nst $NS server-after ;;
tfo)
  # Server: net.ipv4.tcp_fastopen=3. Port 9100 has TCP_FASTOPEN set; port 9101 has not.
  # Client to 9100 with tcp_fastopen=1: the first SYN asks for a cookie (no data), later SYNs
  # carry the cookie and the data, which the server takes (SYN-ACK ack = ISN + 1 + length).
  # Client to 9101 with tcp_fastopen=5 (4: data in the SYN without a cookie): the server ignores
  # the data (SYN-ACK ack = ISN + 1) and the client sends it again after the handshake.
  ins sysctl -qw net.ipv4.tcp_fastopen=3
  lab_bg $NS python3 "$LAB/anomaly_tfo.py" server $S4 9100 1 > "$OUT/server-9100.log"
  lab_bg $NS python3 "$LAB/anomaly_tfo.py" server $S4 9101 0 > "$OUT/server-9101.log"
  sleep 0.5; nst $NC client-before; nst $NS server-before
  cap $NS ta-s0 server.pcap; sleep 1
  inc sysctl -qw net.ipv4.tcp_fastopen=1
  inc python3 "$LAB/anomaly_tfo.py" client $S4 9100 150 > "$OUT/client-9100.csv"
  inc sysctl -qw net.ipv4.tcp_fastopen=5
  inc python3 "$LAB/anomaly_tfo.py" client $S4 9101 150 > "$OUT/client-9101.csv"
  { echo "== after the run"; inc sysctl net.ipv4.tcp_fastopen; ins sysctl net.ipv4.tcp_fastopen; } >> "$OUT/lab-env.txt"
  stopcaps; nst $NC client-after; nst $NS server-after ;;
synack-loss)
  # The client namespace drops every second SYN-ACK it receives (the first of each handshake):
  # SYN, SYN-ACK (lost), SYN again, SYN-ACK again, ACK. Captured at both ends.
  inc iptables -A INPUT -p tcp --tcp-flags SYN,ACK SYN,ACK -m statistic --mode nth --every 2 --packet 0 -j DROP
  lab_bg $NS python3 "$LAB/anomaly_tfo.py" server $S4 9300 0 > "$OUT/server-9300.log"
  sleep 0.5; nst $NC client-before; nst $NS server-before
  cap $NS ta-s0 server.pcap; cap $NC ta-c0 client.pcap; sleep 1
  inc python3 "$LAB/anomaly_tfo.py" plain $S4 9300 30 > "$OUT/client-9300.csv"
  stopcaps; nst $NC client-after; nst $NS server-after ;;
spoofed-syns)
  # A real client connects from port 40000 while the server drops SYNs for 2.5 s, so its SYN
  # is retransmitted (same ISN) until one passes; meanwhile hping3 sends 20 SYNs on the same
  # tuple, 2 ms apart, each with its own ISN (hping3 -k keeps the source port).
  lab_bg $NS python3 "$LAB/anomaly_tfo.py" server $S4 9200 0 > "$OUT/server-9200.log"
  ins iptables -A INPUT -p tcp --syn --dport 9200 -j DROP
  sleep 0.5; cap $NS ta-s0 server.pcap; sleep 1
  lab_bg $NC python3 "$LAB/anomaly_tfo.py" bound $S4 9200 40000 > "$OUT/client-9200.csv"; CL=$LAB_PID
  sleep 0.5
  inc hping3 -S -p 9200 -s 40000 -k -i u2000 -c 20 $S4 > "$OUT/hping3-9200.log" 2>&1 || true
  sleep 2; ins iptables -D INPUT -p tcp --syn --dport 9200 -j DROP
  wait $CL || true
  stopcaps ;;
synack-new-isn)
  # The server gives up on a request after one SYN-ACK retransmit (net.ipv4.tcp_synack_retries=1:
  # about 3 s), while the client namespace drops every SYN-ACK for the first 6 s. The client's
  # SYN retransmits (same ISN) first draw SYN-ACK retransmits of the same request; once the
  # request is gone the next one makes a new request with a new server ISN (tcp_conn_request).
  # Three connections, one after the other.
  ins sysctl -qw net.ipv4.tcp_synack_retries=1
  lab_bg $NS python3 "$LAB/anomaly_tfo.py" server $S4 9400 0 > "$OUT/server-9400.log"
  sleep 0.5; cap $NS ta-s0 server.pcap; sleep 1
  for i in 0 1 2; do
    inc iptables -A INPUT -p tcp --tcp-flags SYN,ACK SYN,ACK -j DROP
    ( sleep 6; inc iptables -D INPUT -p tcp --tcp-flags SYN,ACK SYN,ACK -j DROP ) & DROPPER=$!
    inc python3 "$LAB/anomaly_tfo.py" plain $S4 9400 1 | sed "s/^0,/$i,/" | { [ $i = 0 ] && cat || tail -n +2; } >> "$OUT/client-9400.csv"
    wait $DROPPER
  done
  { echo "== after the run"; ins sysctl net.ipv4.tcp_synack_retries; } >> "$OUT/lab-env.txt"
  stopcaps ;;
*) echo "unknown scenario $SC" >&2; exit 2 ;;
esac
