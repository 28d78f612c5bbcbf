# samples/lab/lib.sh: the network-namespace plumbing the lab scripts share
# (samples/lab/run.sh, rotated.sh, rotated_c.sh, vxlan.sh, anomalies.sh and
# bench/source/make.sh). Sourced, never run:  . "$LAB/lib.sh"
#
# What every lab does the same way lives here: a scratch folder and a trap that
# stops every background process and deletes exactly the namespaces this run
# created (their veth and VXLAN devices go with them); namespaces with lo up;
# veth pairs with their addresses; one UDP datagram each way so ARP/ND is done
# before the first SYN; captures started in a namespace and waited for until
# they listen, stopped with SIGTERM, their own statistics kept; the server
# started and waited for; nstat / ss snapshots; the head of lab-env.txt.
# What differs between labs (topology, addresses, sysctls, iptables/tc rules,
# tool options, file names) stays in each script.
#
# Globals: WORK (scratch folder), PIDS (every background process: the trap
# stops them), LAB_CAP_PIDS (the captures among them), LAB_NETNS (namespaces
# this run created), LAB_PID (the last process started by lab_bg/lab_cap/lab_server).

LAB_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# tcpdump options common to the labs: -U flush per packet; -Z root: stay root,
# so the file can be written into any folder; --immediate-mode: without it the
# kernel ring (TPACKET_V3) hands packets over in blocks and the last ~second was
# lost when tcpdump was stopped; -B 8192: an 8 MB buffer, no drops in bursts.
LAB_TCPDUMP=(-U -Z root --immediate-mode -B 8192)

# lab_init TAG : scratch folder /tmp/TAG.XXXXXX and the cleanup trap.
lab_init() {
    WORK=$(mktemp -d "/tmp/$1.XXXXXX")
    PIDS=(); LAB_CAP_PIDS=(); LAB_NETNS=(); LAB_PID=
    trap lab_cleanup EXIT INT TERM
}

# Stop every background process (SIGTERM, then SIGKILL after 0.5 s), delete the
# namespaces this run created, remove the scratch folder.
lab_cleanup() {
    set +e
    local p ns
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    sleep 0.5
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    for ns in "${LAB_NETNS[@]}"; do ip netns del "$ns" 2>/dev/null; done
    rm -rf "$WORK"
}

# lab_netns_free NS... : exit 1 if one of them exists. Never take over a
# namespace that exists already: it may be another lab's run (pick another
# LAB_PREFIX), or a leftover to remove by hand. Nothing is deleted then.
lab_netns_free() {
    local ns
    for ns in "$@"; do
        if [ -e "/run/netns/$ns" ]; then
            echo "namespace $ns exists already (another lab running? set LAB_PREFIX)" >&2
            exit 1
        fi
    done
}

# lab_netns NS... : create the namespaces (refusing any that exists), lo up.
lab_netns() {
    local ns
    lab_netns_free "$@"
    for ns in "$@"; do
        ip netns add "$ns"
        LAB_NETNS+=("$ns")
        ip -n "$ns" link set lo up
    done
}

# lab_addr NS IFACE ADDR/PLEN : IPv6 addresses with nodad, usable at once
# (no 1-2 s tentative period that would delay the run).
lab_addr() {
    case $3 in
        *:*) ip -n "$1" addr add "$3" dev "$2" nodad ;;
        *)   ip -n "$1" addr add "$3" dev "$2" ;;
    esac
}

# lab_veth NS_A IF_A "ADDRS_A" NS_B IF_B "ADDRS_B" : one veth pair between two
# namespaces, each end with its addresses (space-separated ADDR/PLEN, may be
# empty), both ends up.
lab_veth() {
    local a
    ip link add "$2" netns "$1" type veth peer name "$5" netns "$4"
    for a in $3; do lab_addr "$1" "$2" "$a"; done
    for a in $6; do lab_addr "$4" "$5" "$a"; done
    ip -n "$1" link set "$2" up
    ip -n "$4" link set "$5" up
}

# lab_warmup NS ADDR... : one UDP datagram from NS to the discard port of each
# address, so ARP/ND does not delay the first SYN. The ICMP unreachable that
# comes back is harmless and happens before any capture starts.
lab_warmup() {
    local ns=$1; shift
    ip netns exec "$ns" python3 -c "import socket, sys
for a in sys.argv[1:]:
    socket.socket(socket.AF_INET6 if ':' in a else socket.AF_INET, socket.SOCK_DGRAM).sendto(b'warmup', (a, 9))" "$@"
}

# lab_bg NS CMD... : CMD in NS in the background (stdout/stderr as the caller
# redirects lab_bg). `ip netns exec` execs CMD, so $! is the process itself and
# the trap can stop it by PID.
lab_bg() {
    local ns=$1; shift
    ip netns exec "$ns" "$@" &
    LAB_PID=$!; PIDS+=($!)
}

# lab_cap LABEL NS CMD... : a capture tool (tcpdump, dumpcap) in NS in the
# background, its output in $WORK/cap.LABEL.log; returns once the tool says it
# is listening, exits the lab if it does not within 5 s.
lab_cap() {
    local label=$1 ns=$2 log=$WORK/cap.$1.log; shift 2
    lab_bg "$ns" "$@" >"$log" 2>&1
    LAB_CAP_PIDS+=($LAB_PID)
    for _ in $(seq 50); do
        grep -qE 'listening on|Capturing on' "$log" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "capture $label in $ns did not start: $(cat "$log")" >&2; exit 1
}

# lab_server LABEL NS SERVER.PY-ARGS... : samples/lab/server.py in NS in the
# background, waited for until it listens (output in $WORK/server-LABEL.out).
lab_server() {
    local label=$1 ns=$2 out=$WORK/server-$1.out; shift 2
    lab_bg "$ns" python3 "$LAB_LIB_DIR/server.py" "$@" >"$out" 2>&1
    for _ in $(seq 50); do grep -q listening "$out" && return 0; sleep 0.1; done
    echo "server $label did not start: $(cat "$out")" >&2; exit 1
}

# lab_stop : 2 s for trailing FIN/ACKs and for the capture tools to drain, then
# SIGTERM to every background process and wait for each. (dumpcap ignores
# SIGINT when started in the background of a script; both tools write their
# statistics on SIGTERM.)
lab_stop() {
    local p
    sleep 2
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    PIDS=(); LAB_CAP_PIDS=()
}

# lab_stop_caps : the same for the captures only; servers and other background
# processes keep running (stopped by the trap).
lab_stop_caps() {
    local p keep=()
    sleep 2
    for p in "${LAB_CAP_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${LAB_CAP_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do
        [[ " ${LAB_CAP_PIDS[*]} " == *" $p "* ]] || keep+=("$p")
    done
    PIDS=("${keep[@]}"); LAB_CAP_PIDS=()
}

# lab_cap_stats FILE [HEADER] : the capture tools' own output (packets
# captured / dropped by kernel) into FILE, blank lines left out, in the order
# of their labels; with HEADER, each log is preceded by a line HEADER + LABEL.
lab_cap_stats() {
    local l
    for l in "$WORK"/cap.*.log; do
        [ -e "$l" ] || continue
        [ $# -ge 2 ] && echo "$2$(basename "$l" .log | sed 's/^cap\.//')"
        grep -v '^$' "$l" || true
    done > "$1"
}

# lab_nstat NS FILE : every counter, absolute (-a), without touching nstat's
# history (-s), zeros included (-z).
lab_nstat() { ip netns exec "$1" nstat -asz > "$2"; }

# lab_ss_timewait NS_CLIENT NS_SERVER FILE : the TIME-WAIT sockets each side
# holds, independent of the captures.
lab_ss_timewait() {
    { echo "# client ss -tan state time-wait"; ip netns exec "$1" ss -tanH state time-wait
      echo "# server ss -tan state time-wait"; ip netns exec "$2" ss -tanH state time-wait; } > "$3"
}

# lab_env_head : the first lines of every lab-env.txt (kernel, date).
lab_env_head() {
    echo "# uname -r"; uname -r
    echo "# date -u"; date -u +%FT%TZ
}

# lab_env_mangle NS : NS's mangle table, as lab-env.txt records it.
lab_env_mangle() {
    echo "# $1 iptables-save -t mangle"; ip netns exec "$1" iptables-save -t mangle | grep -v '^#'
}
