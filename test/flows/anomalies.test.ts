import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ANOMALY_KINDS, type AnomalyKind } from '../../src/flows/anomalies.js';
import { anomalyCounts, captureLoss } from '../../src/flows/anomalyQuery.js';
import type { Store } from '../../src/flows/store.js';
import type { Finding } from '../../src/detectors/index.js';
import { hasTshark, pipeline, SAMPLES, scenarios, tsharkFields } from '../helpers/pipeline.js';

/**
 * The anomaly stage against independent sources: tshark's own expert flags and fields
 * (tcp.analysis.lost_segment, ack_lost_segment, tcp.ack.nonzero, tfo_ack / tfo_ignored), the
 * lab's logs and nstat counters (samples/<sample>/expected.json, made by
 * samples/lab/anomaly_facts.py), and the frames editcap removed. Every kind has a capture
 * that shows it and one that must not.
 */

const stores: Store[] = [];
afterAll(() => { for (const s of stores) s.close(); });

interface Run { store: Store; findings: Finding[]; rows: Record<string, any>[]; counts: Record<AnomalyKind, number> }
const cache = new Map<string, Promise<Run>>();
function run(file: string): Promise<Run> {
  let r = cache.get(file);
  if (!r) {
    r = pipeline([join(SAMPLES, file)]).then(({ store, findings }) => {
      stores.push(store);
      const rows = store.db.prepare('SELECT a.*, c.client_port, c.server_port, c.client_isn FROM anomalies a JOIN connections c ON c.id = a.conn_id ORDER BY a.frame').all() as Record<string, any>[];
      return { store, findings, rows, counts: anomalyCounts(store.db) };
    });
    cache.set(file, r);
  }
  return r;
}
const facts = (name: string): Record<string, any> => scenarios('anomalies').find((s) => s.name === name)!.expected.facts;
const of = (r: Run, kind: AnomalyKind): Record<string, any>[] => r.rows.filter((x) => x.kind === kind);
const frames = (file: string, filter: string): number[] => tsharkFields(join(SAMPLES, file), filter, ['frame.number']).map((x) => Number(x[0]));

/** Captures that show no anomaly of any kind (clean lab traffic, plain public handshakes). */
const CLEAN = ['client-closes-first/client.pcap', 'refused/client.pcap', 'two-point-mss-clamp/server.pcap', 'corpus/zeek-tcp-syn-synack.pcap'];

describe('anomaly counts', () => {
  it('have every kind, zero where none was seen', async () => {
    for (const f of CLEAN) {
      const r = await run(f);
      expect(Object.keys(r.counts).sort()).toEqual([...ANOMALY_KINDS].sort());
      expect(Object.values(r.counts).every((n) => n === 0)).toBe(true);
      expect(captureLoss(r.store.db).connections).toBe(0);
    }
  });
});

describe.skipIf(!hasTshark())('capture loss (Wireshark: ACKed segment that wasn\'t captured, previous segment not captured)', () => {
  // Files where tshark flags capture gaps, and one it flags nowhere.
  const GAPS = ['capture-loss-derived/client.pcap', 'corpus/zeek-tcp-reassembly.pcap', 'corpus/suricata-tcp-rst-unacked-stream-09.pcap'];
  for (const f of GAPS) {
    it(`${f}: the first gap of each connection is where tshark flags one`, async () => {
      const r = await run(f);
      const lost = frames(f, 'tcp.analysis.lost_segment');
      const acked = frames(f, 'tcp.analysis.ack_lost_segment');
      expect(of(r, 'previous-segment-not-captured').length).toBeGreaterThan(0);
      for (const a of of(r, 'previous-segment-not-captured')) expect(lost).toContain(a.frame);
      for (const a of of(r, 'ack-of-unseen-data')) expect(acked).toContain(a.frame);
      // Each tshark stream with a flag has the anomaly, and no other does.
      const streamOf = new Map(tsharkFields(join(SAMPLES, f), 'tcp', ['frame.number', 'tcp.stream']).map(([n, s]) => [Number(n), Number(s)]));
      const ours = (k: AnomalyKind): number[] => [...new Set(of(r, k).map((a) => streamOf.get(a.frame)!))].sort();
      expect(ours('previous-segment-not-captured')).toEqual([...new Set(lost.map((n) => streamOf.get(n)!))].sort());
      expect(ours('ack-of-unseen-data')).toEqual([...new Set(acked.map((n) => streamOf.get(n)!))].sort());
      // Packet counts: Wireshark flags each ACK beyond its mark; ours, like its mark, moves on once a
      // hole is named, so the counts agree within one per connection.
      const total = of(r, 'ack-of-unseen-data').reduce((n, a) => n + a.count, 0);
      expect(Math.abs(total - acked.length)).toBeLessThanOrEqual(of(r, 'ack-of-unseen-data').length);
    });
  }

  it('capture-loss-derived: the SYN-ACKs editcap removed are named, and they are not stale ACKs', async () => {
    const f = facts('capture-loss-derived');
    const r = await run('capture-loss-derived/client.pcap');
    expect(f.frames_removed).toEqual([3, 7, 26, 30]);
    expect(f.syn_packets - f.synack_packets).toBe(2);
    const missing = of(r, 'synack-not-captured');
    expect(missing).toHaveLength(f.streams_without_synack.length);
    // The client's ACK names the server ISN + 1 of the SYN-ACK the capture lacks: the next
    // server segment's sequence (tshark's tcp.seq of the server's first packet on the stream).
    for (const a of missing) {
      const [stream] = tsharkFields(join(SAMPLES, 'capture-loss-derived/client.pcap'), `frame.number == ${a.frame}`, ['tcp.stream'])[0];
      const [serverSeq] = tsharkFields(join(SAMPLES, 'capture-loss-derived/client.pcap'), `tcp.stream == ${stream} && tcp.srcport == 3306`, ['tcp.seq'],
        ['-o', 'tcp.relative_sequence_numbers:FALSE'])[0];
      expect(a.dir).toBe('c2s');
      expect(a.ack).toBe(Number(serverSeq));
    }
    expect(r.findings.filter((x) => x.detector === 'stale-ack')).toHaveLength(0);
    const loss = captureLoss(r.store.db);
    expect(loss.connections).toBe(2);
    expect(loss.synAckNotCaptured).toBe(2);
    // The original capture, with every packet: none of it.
    const whole = await run('client-closes-first/client.pcap');
    expect(of(whole, 'synack-not-captured')).toHaveLength(0);
    expect(frames('client-closes-first/client.pcap', 'tcp.analysis.lost_segment || tcp.analysis.ack_lost_segment')).toEqual([]);
  });

  it('a hole filled by a reordered segment (GRO at the lab\'s capture point) is a gap, not capture loss', async () => {
    const f = 'tw-reuse-ts-kept-same-ms/server.pcap';
    const r = await run(f);
    const gaps = of(r, 'previous-segment-not-captured');
    expect(gaps.length).toBeGreaterThan(0);
    for (const a of gaps) expect(frames(f, 'tcp.analysis.lost_segment')).toContain(a.frame);
    // tshark: each such hole is filled (an out-of-order segment, or one it calls a retransmission)
    // before the receiver acknowledges past it: the segment whose seq is the gap's start.
    const pk = tsharkFields(join(SAMPLES, f), 'tcp.len > 0', ['frame.number', 'tcp.stream', 'tcp.seq_raw', 'tcp.analysis.out_of_order', 'tcp.analysis.retransmission']);
    const streamOf = new Map(pk.map((x) => [Number(x[0]), x[1]]));
    for (const a of gaps) {
      const fill = pk.find((x) => x[1] === streamOf.get(a.frame) && Number(x[2]) === ((a.seq - a.bytes) >>> 0) && Number(x[0]) > a.frame);
      expect(fill).toBeDefined();
      expect(fill![3] !== '' || fill![4] !== '').toBe(true);
    }
    expect(of(r, 'ack-of-unseen-data')).toHaveLength(0);
    expect(captureLoss(r.store.db)).toMatchObject({ connections: 0, connectionsWithSequenceGaps: gaps.length });
  });

  it('a crafted ACK|FIN with ack 0 after a SYN is no proof of a SYN-ACK (tcpdump-tfo)', async () => {
    const r = await run('corpus/tcpdump-tfo-5c1fa7f9ae91.pcap');
    expect(of(r, 'synack-not-captured')).toHaveLength(0);
  });
});

describe.skipIf(!hasTshark())('crafted SYNs', () => {
  it('syn-with-nonzero-ack: every hping3 SYN (Wireshark tcp.ack.nonzero), no kernel SYN', async () => {
    const f = facts('syn-flood');
    const r = await run('syn-flood/server.pcap');
    expect(of(r, 'syn-with-nonzero-ack')).toHaveLength(f.hping3_syns_sent_9001 + f.hping3_syns_sent_9002 + f.hping3_syns_sent_9003);
    expect(of(r, 'syn-with-nonzero-ack')).toHaveLength(f.syns_with_nonzero_ack);
    for (const c of CLEAN) expect(of(await run(c), 'syn-with-nonzero-ack')).toHaveLength(0);
  });

  it('syn-isn-change: hping3 SYNs on the real client\'s tuple, and the real attempt keeps its own SYNs', async () => {
    const f = facts('spoofed-syns');
    const r = await run('spoofed-syns/server.pcap');
    expect(of(r, 'syn-isn-change')).toHaveLength(f.other_isn_syns);
    expect(f.other_isn_syns).toBe(f.hping3_syns_sent);
    const real = r.store.db.prepare('SELECT syn_count, connect_usec, client_port FROM connections WHERE client_isn = ?').get(f.real_client_isn) as Record<string, number>;
    expect(real.syn_count).toBe(f.real_client_syns);
    expect(real.client_port).toBe(f.real_client_port);
    // The client's connect() time (its own log) against SYN -> SYN-ACK at the server, within 1 ms.
    expect(Math.abs(real.connect_usec / 1000 - f.real_connect_ms)).toBeLessThan(1);
    // An application that gave up after 4.5 s and connected again from the same port: not one.
    expect(of(await run('syn-drop-gateway/client.pcapng'), 'syn-isn-change')).toHaveLength(0);
  });
});

describe.skipIf(!hasTshark())('SYN with data (TFO, RFC 7413)', () => {
  it('tfo-lab: the SYN-ACK took the data (tshark tfo_ack) or only the SYN (no TCP_FASTOPEN on 9101)', async () => {
    const f = facts('tfo-lab');
    const r = await run('tfo-lab/server.pcap');
    const rows = of(r, 'syn-with-data');
    expect(rows).toHaveLength(f.syns_with_data);
    expect(rows.filter((a) => a.detail === 'data-acked')).toHaveLength(f.tshark_tfo_ack);
    expect(rows.filter((a) => a.detail === 'data-acked')).toHaveLength(f.synack_acks_data);
    expect(rows.filter((a) => a.detail === 'syn-only-acked')).toHaveLength(f.synack_acks_syn_only_of_data_syn);
    expect(rows.filter((a) => a.detail === 'syn-only-acked' && a.server_port === 9101)).toHaveLength(f.syns_with_data_9101);
    // The TFO option (kind 34) is in the cookie-carrying SYNs only (tshark tfo_syn).
    expect(rows.filter((a) => a.value === 34)).toHaveLength(f.tshark_tfo_syn);
    // Not SYN loss: no SYN was retransmitted, none is reported dropped.
    expect(r.findings.filter((x) => x.detector === 'syn-retransmit')).toHaveLength(0);
    expect(r.findings.filter((x) => x.detector === 'syn-flood' || x.detector === 'listen-overflow')).toHaveLength(0);
  });

  it('public TFO captures: what tshark says the SYN-ACK did with the data', async () => {
    const ignored = await run('corpus/suricata-tcp-fastopen-11-reject-syn-data.pcap');
    // tshark 4 flags "ignoring TFO data" only with a cookie option it recognises; the ack field says it: ISN + 1.
    const [seq, len] = tsharkFields(join(SAMPLES, 'corpus/suricata-tcp-fastopen-11-reject-syn-data.pcap'), 'tcp.flags.syn==1 && tcp.flags.ack==0', ['tcp.seq', 'tcp.len'], ['-o', 'tcp.relative_sequence_numbers:FALSE'])[0];
    const [ack] = tsharkFields(join(SAMPLES, 'corpus/suricata-tcp-fastopen-11-reject-syn-data.pcap'), 'tcp.flags.syn==1 && tcp.flags.ack==1', ['tcp.ack'], ['-o', 'tcp.relative_sequence_numbers:FALSE'])[0];
    expect(Number(ack)).toBe(Number(seq) + 1);
    expect(of(ignored, 'syn-with-data')).toMatchObject([{ detail: 'syn-only-acked', bytes: Number(len), value: 34 }]);
    const accepted = await run('corpus/suricata-tcp-fastopen-01.pcap');
    expect(frames('corpus/suricata-tcp-fastopen-01.pcap', 'tcp.analysis.tfo_ack')).toHaveLength(1);
    expect(of(accepted, 'syn-with-data')).toMatchObject([{ detail: 'data-acked', value: 254 }]);
    for (const c of CLEAN) expect(of(await run(c), 'syn-with-data')).toHaveLength(0);
  });
});

describe.skipIf(!hasTshark())('handshakes that are not SYN, SYN-ACK, ACK', () => {
  it('split handshakes (suricata 4whs, 5whs): the responder\'s SYN, then the SYN sender\'s SYN-ACK', async () => {
    for (const f of ['corpus/suricata-tcp-split-handshake-01-4whs.pcap', 'corpus/suricata-tcp-split-handshake-02-5whs.pcap']) {
      const r = await run(f);
      const serverSyn = frames(f, 'tcp.flags.syn==1 && tcp.flags.ack==0 && tcp.srcport==80');
      const clientSynAck = frames(f, 'tcp.flags.syn==1 && tcp.flags.ack==1 && tcp.srcport==12345');
      expect(of(r, 'simultaneous-open').map((a) => a.frame)).toEqual(serverSyn);
      expect(of(r, 'split-handshake').map((a) => a.frame)).toEqual(clientSynAck);
      expect(of(r, 'split-handshake')[0].ref_frame).toBe(serverSyn[0]);
      // The client's RST ends a connection it did complete (its SYN-ACK was acknowledged): not an abandoned attempt.
      expect(of(r, 'rst-from-syn-sender')).toHaveLength(0);
    }
    for (const c of CLEAN) {
      expect(of(await run(c), 'simultaneous-open')).toHaveLength(0);
      expect(of(await run(c), 'split-handshake')).toHaveLength(0);
    }
  });

  it('missing-syn: the SYN-ACK opens the connection (zeek-tcp-missing-syn), not where the SYN was captured', async () => {
    const r = await run('corpus/zeek-tcp-missing-syn.pcap');
    expect(frames('corpus/zeek-tcp-missing-syn.pcap', 'tcp.flags.syn==1 && tcp.flags.ack==0')).toEqual([]);
    expect(of(r, 'missing-syn').map((a) => a.frame)).toEqual(frames('corpus/zeek-tcp-missing-syn.pcap', 'tcp.flags.syn==1 && tcp.flags.ack==1').slice(0, 1));
    for (const c of CLEAN) expect(of(await run(c), 'missing-syn')).toHaveLength(0);
  });

  it('synack-resent-before-ack: SYN-ACK loss in the lab, once per slow connect; after-ack only where the queue was full', async () => {
    const f = facts('synack-loss');
    const r = await run('synack-loss/server.pcap');
    expect(of(r, 'synack-resent-before-ack')).toHaveLength(f.connects_over_1s);
    expect(of(r, 'synack-resent-after-ack')).toHaveLength(0);
    expect(r.findings.filter((x) => x.detector === 'listen-overflow')).toHaveLength(0);
    // Both kinds of resend are counted: the server's timer and the answer to the SYN retransmit.
    expect(of(r, 'synack-resent-before-ack').reduce((n, a) => n + a.count, 0)).toBe(f.synack_packets - f.connects);
    const full = await run('listen-overflow-no-syncookies/server.pcap');
    const expected = scenarios().find((s) => s.name === 'listen-overflow-no-syncookies')!.expected.facts;
    expect(of(full, 'synack-resent-after-ack')).toHaveLength(expected.synack_retransmits);
    for (const c of CLEAN) expect(of(await run(c), 'synack-resent-before-ack')).toHaveLength(0);
  });
});

describe('a server that answers from two ISNs (synack-new-isn)', () => {
  it('names the SYN-ACK with the new ISN, completes the handshake on it, and counts only same-ISN resends as retransmits', async () => {
    const f = facts('synack-new-isn');
    const r = await run('synack-new-isn/server.pcap');
    expect(f.server_isns_per_connection).toEqual([2, 2, 2]);
    expect(of(r, 'synack-isn-change')).toHaveLength(f.connects);
    const conns = r.store.db.prepare('SELECT handshake_acked, synack_count FROM connections ORDER BY id').all() as Record<string, number>[];
    expect(conns.map((c) => c.synack_count)).toEqual(f.synacks_per_connection);
    expect(f.client_acks_last_isn).toBe(true);
    expect(conns.every((c) => c.handshake_acked === 1)).toBe(true);
    const per = r.findings.filter((x) => x.detector === 'syn-retransmit' && x.connId !== null);
    expect(per.map((x) => (x.evidence.synAckRetransmits as unknown[]).length)).toEqual(f.synacks_with_first_isn.map((n: number) => n - 1));
    expect(per.every((x) => (x.evidence.synAckOtherIsn as unknown[]).length === 1)).toBe(true);
    for (const c of CLEAN) expect(of(await run(c), 'synack-isn-change')).toHaveLength(0);
    expect(of(await run('synack-loss/server.pcap'), 'synack-isn-change')).toHaveLength(0);
  });
});

describe.skipIf(!hasTshark())('resets and one-sided captures', () => {
  it('rst-from-syn-sender: the hping3 host\'s kernel resets SYN-ACKs for no socket of its own; not the RST to a stale ACK', async () => {
    const f = facts('syn-flood');
    const r = await run('syn-flood/server.pcap');
    const rst = of(r, 'rst-from-syn-sender');
    expect(rst).toHaveLength(f.client_rsts_9003);
    expect(f.client_rsts_9003).toBe(f.synacks_9003);
    expect(rst.every((a) => a.detail === 'after-synack' && a.server_port === 9003)).toBe(true);
    // nmap -sV completes the handshake before its RST (tshark: the client ACKs the SYN-ACK first).
    const nmap = await run('corpus/zeek-nmap-vsn-refused.pcap');
    expect(of(nmap, 'rst-from-syn-sender')).toHaveLength(0);
    // Stale ACK scenarios: every client RST answers a stale ACK (RFC 9293 §3.10.7.3), none is named here.
    const tw = await run('tw-stale-ack-ts-stripped/client.pcap');
    expect(tw.findings.filter((x) => x.detector === 'stale-ack').length).toBeGreaterThan(0);
    expect(of(tw, 'rst-from-syn-sender')).toHaveLength(0);
  });

  it('rst-then-synack: an RST that does not acknowledge the SYN, then the real SYN-ACK (zeek-tcp-rst-inject-rae)', async () => {
    const f = 'corpus/zeek-tcp-rst-inject-rae.pcap';
    const r = await run(f);
    const [rst] = tsharkFields(join(SAMPLES, f), 'tcp.flags.reset==1', ['frame.number', 'tcp.ack'], ['-o', 'tcp.relative_sequence_numbers:FALSE']);
    const [synSeq] = tsharkFields(join(SAMPLES, f), 'tcp.flags.syn==1 && tcp.flags.ack==0', ['tcp.seq'], ['-o', 'tcp.relative_sequence_numbers:FALSE'])[0];
    expect(of(r, 'rst-then-synack')).toMatchObject([{ frame: Number(rst[0]), ack: Number(rst[1]), detail: Number(rst[1]) === Number(synSeq) + 1 ? 'acceptable' : 'not-acceptable' }]);
    expect(of(r, 'rst-then-synack')[0].detail).toBe('not-acceptable');
    const refused = await run('refused/client.pcap');
    expect(of(refused, 'rst-then-synack')).toHaveLength(0);
  });

  it('one-sided-capture: only the server\'s packets (suricata-tcp-async-01)', async () => {
    const f = 'corpus/suricata-tcp-async-01.pcap';
    const r = await run(f);
    const srcs = new Set(tsharkFields(join(SAMPLES, f), 'tcp', ['ip.src']).map((x) => x[0]));
    expect(srcs.size).toBe(1);
    expect(of(r, 'one-sided-capture')).toMatchObject([{ detail: 'server-only', count: frames(f, 'tcp').length }]);
    for (const c of CLEAN) expect(of(await run(c), 'one-sided-capture')).toHaveLength(0);
    // An unanswered SYN is an attempt, not a one-sided capture.
    expect(of(await run('syn-flood/server.pcap'), 'one-sided-capture')).toHaveLength(0);
  });
});

describe('detectors on the anomaly samples', () => {
  it('syn-flood: the unanswered SYNs per endpoint, from the lab\'s hping3 logs and nstat; no port pressure, no NAT', async () => {
    const f = facts('syn-flood');
    const r = await run('syn-flood/server.pcap');
    const flood = new Map(r.findings.filter((x) => x.detector === 'syn-flood').map((x) => [x.evidence.server as string, x.evidence]));
    expect([...flood.keys()].sort()).toEqual(['198.18.20.1:9001', '198.18.20.1:9002', '198.18.20.1:9003']);
    expect(flood.get('198.18.20.1:9001')).toMatchObject({ unanswered: f.syns_9001, anyAnswered: false, completed: 0, sources: f.source_addresses, crafted: f.hping3_syns_sent_9001 });
    // 9002's accept queue was full: the kernel dropped every hping3 SYN (nstat TcpExtListenDrops),
    // and the two connections that filled it completed.
    expect(flood.get('198.18.20.1:9002')).toMatchObject({ unanswered: f.server_listen_drops, completed: f.holder_connections_9002, anyAnswered: true });
    expect(flood.get('198.18.20.1:9003')).toMatchObject({ unanswered: 0, answeredNotCompleted: f.synacks_9003, completed: f.client_acks_9003 });
    for (const e of flood.values()) expect(typeof e.ratePerS === 'number' || e.burst === true).toBe(true);
    for (const d of ['exhaustion-forecast', 'nat-clients', 'listen-overflow', 'stale-ack']) expect(r.findings.filter((x) => x.detector === d)).toHaveLength(0);
    // No path summary from crafted SYNs (the two real connections to 9002 are a separate matter).
    expect(r.findings.filter((x) => x.detector === 'port-reuse' && x.evidence.reuses !== 0)).toHaveLength(0);
    expect(r.findings.filter((x) => x.detector === 'port-reuse' && (x.evidence.path as string).endsWith(':9001'))).toHaveLength(0);
    // Nowhere else: the lab's real traffic has no flood.
    for (const c of CLEAN) expect((await run(c)).findings.filter((x) => x.detector === 'syn-flood')).toHaveLength(0);
  });

  it('spoofed SYNs on a live tuple are no port reuse, and the real client\'s retransmits are its own', async () => {
    const f = facts('spoofed-syns');
    const r = await run('spoofed-syns/server.pcap');
    expect(r.findings.filter((x) => x.detector === 'port-reuse' || x.detector === 'exhaustion-forecast')).toHaveLength(0);
    const rtx = r.findings.find((x) => x.detector === 'syn-retransmit' && x.connId !== null)!;
    expect(rtx.evidence.retransmits as unknown[]).toHaveLength(f.real_client_syns - 1);
    expect(Math.abs((rtx.evidence.connectUsec as number) / 1000 - f.real_connect_ms)).toBeLessThan(1);
  });
});

describe('tcpdiag flows --anomalies', () => {
  const CLI = join(SAMPLES, '..', 'dist/cli.js');
  const flows = (...args: string[]): { code: number; out: string; err: string } => {
    const r = spawnSync('node', [CLI, 'flows', ...args], { encoding: 'utf8' });
    return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
  };
  it('lists the stored rows as json and csv, filtered by kind', async () => {
    const file = join(SAMPLES, 'corpus/suricata-tcp-split-handshake-02-5whs.pcap');
    const json = flows('--anomalies', '--format', 'json', file);
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.out) as { kind: string; frame: number }[];
    const r = await run('corpus/suricata-tcp-split-handshake-02-5whs.pcap');
    expect(rows.map((x) => [x.kind, x.frame])).toEqual(r.rows.map((x) => [x.kind, x.frame]));
    const csv = flows('--anomalies', '--kind', 'split-handshake', '--format', 'csv', file).out.trim().split('\n');
    expect(csv[0].split(',').slice(0, 4)).toEqual(['conn_id', 'capture_id', 'kind', 'frame']);
    expect(csv.slice(1).map((l) => l.split(',')[2])).toEqual(['split-handshake']);
    expect(flows('--anomalies', file).out).toMatch(/simultaneous-open/);
  });
  it('refuses an unknown kind, or --kind without --anomalies, with one line and exit 2', () => {
    const file = join(SAMPLES, 'corpus/zeek-tcp-syn-synack.pcap');
    for (const args of [['--anomalies', '--kind', 'nope', file], ['--kind', 'syn-with-data', file]]) {
      const r = flows(...args);
      expect(r.code).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('the verdict names the capture\'s holes', () => {
  const CLI = join(SAMPLES, '..', 'dist/cli.js');
  const verdict = (file: string): string => JSON.parse(spawnSync('node', [CLI, 'analyze', '--format', 'json', join(SAMPLES, file)], { encoding: 'utf8' }).stdout).verdict.headline;
  it('with the count of connections whose SYN-ACK editcap removed, and not on the whole capture', () => {
    const f = facts('capture-loss-derived');
    expect(verdict('capture-loss-derived/client.pcap')).toContain(`missed packets on ${f.streams_without_synack.length} connections that their receivers got: ${f.streams_without_synack.length} SYN-ACKs the client acknowledged`);
    expect(verdict('client-closes-first/client.pcap')).not.toContain('missed packets');
  });
});
