import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasTshark, pipeline, SAMPLES, scenarios, tsharkFields } from '../helpers/pipeline.js';
import type { Store } from '../../src/flows/store.js';

/**
 * Connections rebuilt from real captures, checked against tshark's own TCP stream
 * tracking: per stream, the endpoints, packets, frame bytes and SYNs. tshark 4.x
 * also starts a new tcp.stream when a SYN reuses a closed conversation's ports, so
 * its streams and tcpdiag's incarnations should agree one to one.
 */

// Corpus files tshark sees TCP in that tcpdiag deliberately does not decode, with the reason.
const EXCLUDED: Record<string, string> = {
  'zeek-nflog-http.pcap': 'NFLOG (239) link type is counted and skipped, not decoded',
  'zeek-ipv4-fragmented-syn.pcap': 'the SYN is only visible after IPv4 reassembly, which tcpdiag does not do',
  'suricata-bug-6887-defrag-eth-vlan-ipv4-tcp-syn.pcap': 'the SYN is only visible after IPv4 reassembly',
  'pcapplusplus-pcapng-example.pcapng.zst': 'zstd input is refused with a clear error',
  'tcpdump-LINKTYPE_PKTAP.pcap': 'no TCP',
};

function captures(): string[] {
  const out: string[] = [];
  for (const s of [...scenarios(), ...scenarios('anomalies')]) for (const f of readdirSync(s.dir)) if (/\.pcap(ng)?(\.gz)?$/.test(f)) out.push(join(s.dir, f));
  const corpus = join(SAMPLES, 'corpus');
  if (existsSync(corpus)) for (const f of readdirSync(corpus)) if (/\.pcap(ng)?(\.gz)?$/.test(f) && !(f in EXCLUDED)) out.push(join(corpus, f));
  return out;
}

// Where tcpdiag keeps one connection that tshark splits, and why.
const MERGED: Record<string, string> = {
  // Client SYN, server ACK, server SYN, client SYN-ACK: a split (five-way) handshake. tshark
  // starts a new stream at the server's SYN ("port numbers reused"); the client's ISN never
  // changed, so for tcpdiag it is one connection opened the RFC 9293 §3.5 simultaneous way.
  'suricata-tcp-split-handshake-02-5whs.pcap': 'split handshake',
  // The real client's SYN (ISN A), 20 hping3 SYNs with other ISNs on its tuple, then A again:
  // tshark starts a stream at each new ISN and puts A's retransmits and handshake in the last
  // one; tcpdiag keeps A's first SYN with its retransmits (the anomaly stage sets the attempt
  // aside while the crafted SYNs pass), one connection instead of two.
  'server.pcap@spoofed-syns': 'real attempt kept across crafted SYNs',
};

/** MERGED's key: the corpus file name, or name@sample for a lab sample's capture. */
function mergedKey(file: string): string {
  const parts = file.split('/');
  const base = parts[parts.length - 1];
  return parts[parts.length - 2] === 'corpus' ? base : `${base}@${parts[parts.length - 2]}`;
}

const stores: Store[] = [];
afterAll(() => { for (const s of stores) s.close(); });

describe.skipIf(!hasTshark())('connections against tshark tcp.stream', () => {
  for (const file of captures()) {
    it(file.replace(SAMPLES, 'samples'), async () => {
      const rows = tsharkFields(file, 'tcp', ['tcp.stream', 'frame.len', 'tcp.flags.syn', 'tcp.flags.ack', 'ip.src', 'ipv6.src', 'tcp.srcport', 'ip.dst', 'ipv6.dst', 'tcp.dstport'],
        ['-o', 'tcp.analyze_sequence_numbers:TRUE']);
      const streams = new Map<string, { a: string; b: string; pkts: number; bytes: number; syns: number }>();
      for (const [stream, len, syn, ack, s4, s6, sp, d4, d6, dp] of rows) {
        const src = s4 ? `${s4}:${sp}` : `[${s6}]:${sp}`;
        const dst = d4 ? `${d4}:${dp}` : `[${d6}]:${dp}`;
        let st = streams.get(stream);
        if (!st) { st = { a: src < dst ? src : dst, b: src < dst ? dst : src, pkts: 0, bytes: 0, syns: 0 }; streams.set(stream, st); }
        st.pkts++;
        st.bytes += Number(len);
        if (syn === 'True' && ack === 'False') st.syns++;
        if (syn === '1' && ack === '0') st.syns++;
      }
      const theirs = [...streams.values()].map((s) => `${s.a} ${s.b} pkts=${s.pkts} bytes=${s.bytes} syns=${s.syns}`).sort();

      const { store } = await pipeline([file]);
      stores.push(store);
      const conns = store.db.prepare('SELECT * FROM connections').all() as Record<string, any>[];
      const ep = (a: string, p: number): string => (a.includes(':') ? `[${a}]:${p}` : `${a}:${p}`);
      const ours = conns.map((c) => {
        const x = ep(c.client_addr, c.client_port);
        const y = ep(c.server_addr, c.server_port);
        return `${x < y ? x : y} ${x < y ? y : x} pkts=${c.client_pkts + c.server_pkts} bytes=${c.client_bytes + c.server_bytes} syns=${c.syn_count + c.server_syn_count}`;
      }).sort();
      if (mergedKey(file) in MERGED) {
        const total = (xs: string[], k: string): number => xs.reduce((s, x) => s + Number(new RegExp(`${k}=(\\d+)`).exec(x)![1]), 0);
        expect(ours.length).toBe(theirs.length - 1);
        for (const k of ['pkts', 'bytes', 'syns']) expect(total(ours, k)).toBe(total(theirs, k));
        return;
      }
      expect(ours).toEqual(theirs);
    });
  }
});

/**
 * The same captures against `tshark -q -z conv,tcp`: one row per conversation (tshark 4
 * also splits a conversation at port reuse), frames each way; bytes where tshark prints
 * them unscaled ("N bytes"; "kB" figures are rounded, so they are not compared).
 */
const CONV_DIFFERS: Record<string, string> = {
  // Mobile IPv6: tshark's conversation uses the Home Address option (RFC 6275 §6.3) as the
  // source; tcpdiag keys connections by the IPv6 header's addresses (as tcp.stream above shows).
  'zeek-ip6-hoa-tcp.pcap': 'home address option',
  // Frame 1 is a SYN cut by the snaplen inside its options: tshark's TCP dissector stops
  // before the conversation table counts it; tcpdiag counts the SYN it could decode.
  'zeek-tcp-truncated-header.pcap': 'SYN cut inside its options',
};

describe.skipIf(!hasTshark())('connections against tshark conv,tcp', () => {
  for (const file of captures()) {
    const base = file.split('/').pop()!;
    if (mergedKey(file) in MERGED || base in CONV_DIFFERS) continue; // reasons above
    it(file.replace(SAMPLES, 'samples'), async () => {
      const out = execFileSync('tshark', ['-r', file, '-n', '-q', '-z', 'conv,tcp'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      const row = /^(\S+)\s+<->\s+(\S+)\s+(\d+)\s+(\d+)\s+(\w+)\s+(\d+)\s+(\d+)\s+(\w+)\s+(\d+)\s+(\d+)\s+(\w+)/;
      const theirs: string[] = [];
      for (const line of out.split('\n')) {
        const m = row.exec(line);
        if (!m) continue;
        const [, a, b, framesBA, bytesBA, unitBA, framesAB, bytesAB, unitAB] = m;
        // "<-" counts frames from B to A, "->" from A to B.
        theirs.push(`${a} ${b} ${framesAB}/${framesBA} ${unitAB === 'bytes' ? bytesAB : '*'}/${unitBA === 'bytes' ? bytesBA : '*'}`);
      }
      const { store } = await pipeline([file]);
      stores.push(store);
      const conns = store.db.prepare('SELECT * FROM connections').all() as Record<string, any>[];
      const ep = (a: string, p: number): string => (a.includes(':') ? `[${a}]:${p}` : `${a}:${p}`);
      const tsharkKey = (s: string): string => s.replace(/^\[(.*)\]:(\d+)$/, '$1:$2');
      const byA = new Map(theirs.map((t) => [t.split(' ').slice(0, 2).join(' '), true]));
      const ours = conns.map((c) => {
        const x = tsharkKey(ep(c.client_addr, c.client_port));
        const y = tsharkKey(ep(c.server_addr, c.server_port));
        // tshark puts first the address it saw first; take the orientation it used.
        const clientFirst = byA.has(`${x} ${y}`);
        const [a, b] = clientFirst ? [x, y] : [y, x];
        const fAB = clientFirst ? c.client_pkts : c.server_pkts;
        const fBA = clientFirst ? c.server_pkts : c.client_pkts;
        const bAB = clientFirst ? c.client_bytes : c.server_bytes;
        const bBA = clientFirst ? c.server_bytes : c.client_bytes;
        return { a, b, fAB, fBA, bAB, bBA };
      });
      const fmt = (o: typeof ours[number], t: string): string => {
        const [, , , bytes] = t.split(' ');
        const [tAB, tBA] = bytes.split('/');
        return `${o.a} ${o.b} ${o.fAB}/${o.fBA} ${tAB === '*' ? '*' : o.bAB}/${tBA === '*' ? '*' : o.bBA}`;
      };
      // Pair rows by endpoints and frame counts, then compare the byte columns tshark printed exactly.
      const pool = [...theirs];
      const mine: string[] = [];
      for (const o of ours) {
        const i = pool.findIndex((t) => t.startsWith(`${o.a} ${o.b} ${o.fAB}/${o.fBA} `));
        mine.push(i >= 0 ? fmt(o, pool.splice(i, 1)[0]) : `${o.a} ${o.b} ${o.fAB}/${o.fBA} unmatched`);
      }
      expect(mine.sort()).toEqual([...theirs].sort());
    });
  }
});
