"""Facts for the anomaly samples' expected.json, from tshark and the lab's own logs (never tcpdiag).

  python3 samples/lab/anomaly_facts.py SAMPLE_DIR   (syn-flood | spoofed-syns | synack-loss | tfo-lab | capture-loss-derived)
"""
import csv, json, os, re, subprocess, sys

d = sys.argv[1].rstrip('/')
name = os.path.basename(d)

def ts(pcap, flt, *fields):
    out = subprocess.run(['tshark', '-r', pcap, '-n', '-o', 'tcp.relative_sequence_numbers:FALSE', '-Y', flt, '-T', 'fields',
                          '-E', 'separator=\t'] + [a for f in fields for a in ('-e', f)], capture_output=True, text=True, check=True).stdout
    return [l.split('\t') for l in out.splitlines() if l]

def count(pcap, flt):
    return len(ts(pcap, flt, 'frame.number'))

def nstat(path, key):
    for l in open(path):
        p = l.split()
        if p and p[0] == key:
            return int(p[1])
    return 0

def hping_sent(path):
    m = re.search(r'(\d+) packets transmitted', open(path).read())
    return int(m.group(1))

facts = {}
if name == 'syn-flood':
    p = f'{d}/server.pcap'
    facts = {
        'hping3_syns_sent_9001': hping_sent(f'{d}/hping3-9001.log'),
        'hping3_syns_sent_9002': hping_sent(f'{d}/hping3-9002.log'),
        'syns_with_nonzero_ack': count(p, 'tcp.flags.syn==1 && tcp.flags.ack==0 && tcp.ack.nonzero'),
        'syns_9001': count(p, 'tcp.flags.syn==1 && tcp.flags.ack==0 && tcp.dstport==9001'),
        'syns_9002': count(p, 'tcp.flags.syn==1 && tcp.flags.ack==0 && tcp.dstport==9002'),
        'synacks_9001': count(p, 'tcp.flags.syn==1 && tcp.flags.ack==1 && tcp.srcport==9001'),
        'synacks_9002': count(p, 'tcp.flags.syn==1 && tcp.flags.ack==1 && tcp.srcport==9002'),
        'holder_connections_9002': int(re.search(r'held (\d+)', open(f'{d}/holders-9002.log').read()).group(1)),
        'server_listen_overflows': nstat(f'{d}/nstat-server-after.txt', 'TcpExtListenOverflows'),
        'server_listen_drops': nstat(f'{d}/nstat-server-after.txt', 'TcpExtListenDrops'),
        'source_addresses': len({r[0] for r in ts(p, 'tcp.flags.syn==1 && tcp.flags.ack==0', 'ip.src')}),
        'hping3_syns_sent_9003': hping_sent(f'{d}/hping3-9003.log'),
        'synacks_9003': count(p, 'tcp.flags.syn==1 && tcp.flags.ack==1 && tcp.srcport==9003'),
        'client_rsts_9003': count(p, 'tcp.flags.reset==1 && tcp.dstport==9003'),
        'client_acks_9003': count(p, 'tcp.flags.reset==0 && tcp.flags.syn==0 && tcp.flags.ack==1 && tcp.dstport==9003'),
    }
elif name == 'spoofed-syns':
    p = f'{d}/server.pcap'
    rows = list(csv.DictReader(open(f'{d}/client-9200.csv')))
    synack = ts(p, 'tcp.flags.syn==1 && tcp.flags.ack==1', 'tcp.ack')
    real_isn = (int(synack[0][0]) - 1) % 2**32
    syns = ts(p, 'tcp.flags.syn==1 && tcp.flags.ack==0', 'tcp.seq', 'tcp.ack')
    facts = {
        'real_client_port': int(rows[0]['local_port']), 'real_connect_ms': float(rows[0]['connect_ms']),
        'real_client_isn': real_isn, 'real_client_syns': sum(1 for s in syns if int(s[0]) == real_isn),
        'hping3_syns_sent': hping_sent(f'{d}/hping3-9200.log'),
        'other_isn_syns': sum(1 for s in syns if int(s[0]) != real_isn),
        'syns_with_nonzero_ack': count(p, 'tcp.flags.syn==1 && tcp.flags.ack==0 && tcp.ack.nonzero'),
    }
elif name == 'synack-loss':
    p = f'{d}/server.pcap'
    rows = list(csv.DictReader(open(f'{d}/client-9300.csv')))
    facts = {
        'connects': len(rows), 'connects_ok': sum(1 for r in rows if r['result'].startswith('ok')),
        'connects_over_1s': sum(1 for r in rows if r['connect_ms'] and float(r['connect_ms']) > 1000),
        'synack_packets': count(p, 'tcp.flags.syn==1 && tcp.flags.ack==1'),
        'syn_packets': count(p, 'tcp.flags.syn==1 && tcp.flags.ack==0'),
        'client_listen_overflows_server': nstat(f'{d}/nstat-server-after.txt', 'TcpExtListenOverflows'),
    }
elif name == 'tfo-lab':
    p = f'{d}/server.pcap'
    syns = {(r[0], r[1]): (int(r[2]), int(r[3])) for r in ts(p, 'tcp.flags.syn==1 && tcp.flags.ack==0', 'tcp.srcport', 'tcp.dstport', 'tcp.seq', 'tcp.len')}
    syn_only = data_acked = 0
    for r in ts(p, 'tcp.flags.syn==1 && tcp.flags.ack==1', 'tcp.dstport', 'tcp.srcport', 'tcp.ack'):
        seq, ln = syns[(r[0], r[1])]
        if ln > 0 and int(r[2]) == (seq + 1) % 2**32: syn_only += 1
        if ln > 0 and int(r[2]) == (seq + 1 + ln) % 2**32: data_acked += 1
    facts = {
        'connections_9100': len(list(csv.DictReader(open(f'{d}/client-9100.csv')))),
        'connections_9101': len(list(csv.DictReader(open(f'{d}/client-9101.csv')))),
        'syns_with_data': sum(1 for v in syns.values() if v[1] > 0),
        'syns_with_data_9100': sum(1 for k, v in syns.items() if v[1] > 0 and k[1] == '9100'),
        'syns_with_data_9101': sum(1 for k, v in syns.items() if v[1] > 0 and k[1] == '9101'),
        'tshark_tfo_syn': count(p, 'tcp.analysis.tfo_syn'), 'tshark_tfo_ack': count(p, 'tcp.analysis.tfo_ack'),
        'tshark_tfo_ignored': count(p, 'tcp.analysis.tfo_ignored'), 'tfo_cookie_requests': count(p, 'tcp.options.tfo.request'),
        'synack_acks_syn_only_of_data_syn': syn_only, 'synack_acks_data': data_acked,
        'client_data_resent_after_handshake_9101': count(p, 'tcp.dstport==9101 && tcp.analysis.retransmission && tcp.len>0'),
    }
elif name == 'synack-new-isn':
    p = f'{d}/server.pcap'
    rows = list(csv.DictReader(open(f'{d}/client-9400.csv')))
    per = {}
    for port, seq in ts(p, 'tcp.flags.syn==1 && tcp.flags.ack==1', 'tcp.dstport', 'tcp.seq'):
        per.setdefault(port, []).append(int(seq))
    acked = {r[0]: int(r[1]) for r in ts(p, 'tcp.flags.syn==0 && tcp.flags.ack==1 && tcp.srcport!=9400', 'tcp.srcport', 'tcp.ack')[::-1]}
    facts = {
        'connects': len(rows), 'connect_ms': [float(r['connect_ms']) for r in rows],
        'synacks_per_connection': [len(per[r['local_port']]) for r in rows],
        'server_isns_per_connection': [len(set(per[r['local_port']])) for r in rows],
        'synacks_with_first_isn': [sum(1 for x in per[r['local_port']] if x == per[r['local_port']][0]) for r in rows],
        'client_acks_last_isn': all(acked[r['local_port']] == (per[r['local_port']][-1] + 1) % 2**32 for r in rows),
        'syn_packets': count(p, 'tcp.flags.syn==1 && tcp.flags.ack==0'),
    }
elif name == 'capture-loss-derived':
    p = f'{d}/client.pcap'
    facts = {
        'derived_from': 'samples/client-closes-first/client.pcap', 'frames_removed': [3, 7, 26, 30],
        'tshark_ack_lost_segment_frames': [int(r[0]) for r in ts(p, 'tcp.analysis.ack_lost_segment', 'frame.number')],
        'tshark_lost_segment_frames': [int(r[0]) for r in ts(p, 'tcp.analysis.lost_segment', 'frame.number')],
        'streams_without_synack': sorted({int(r[0]) for r in ts(p, 'tcp.flags.syn==1 && tcp.flags.ack==0', 'tcp.stream')}
                                         - {int(r[0]) for r in ts(p, 'tcp.flags.syn==1 && tcp.flags.ack==1', 'tcp.stream')}),
        'syn_packets': count(p, 'tcp.flags.syn==1 && tcp.flags.ack==0'),
        'synack_packets': count(p, 'tcp.flags.syn==1 && tcp.flags.ack==1'),
    }
json.dump({'suite': 'anomalies', 'facts': facts}, open(f'{d}/expected.json', 'w'), indent=1)
print(json.dumps(facts))
