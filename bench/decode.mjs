#!/usr/bin/env node
/**
 * Decode benchmark (not a test). Builds a >= 2 million packet classic pcap in
 * bench/out/ by repeating the records of real captures with advancing
 * timestamps and ports, then times three readers in child processes under
 * /usr/bin/time -v (wall time, peak RSS):
 *   (a) node dist/cli.js decode --count-only FILE   (full decode through TCP options; also the
 *       decode time it reports itself, without Node's start-up and module loading)
 *   (b) a plain chunked loop that only walks pcap record headers (the ceiling)
 *   (c) pcap-parser (event per packet)
 * The same packets are also written as pcapng (one Enhanced Packet Block each,
 * what dumpcap and Wireshark save by default) and decoded by (a) again; and (a)
 * runs once per round on a one-packet capture, which is the fixed start-up
 * cost (Node itself, module loading) inside (a)'s whole-process time.
 * TCPDIAG_DIST=<other build's dist> adds that build's (a) to every round, for
 * before/after comparisons on a machine whose speed drifts.
 * Usage: npm run build && node bench/decode.mjs [packets=2000000] [runs=5]
 * Wrap it in `flock /tmp/tcpdiag-bench.lock` on a shared machine.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'bench/out');
const N = Number(process.argv[2] ?? 2_000_000);
const RUNS = Number(process.argv[3] ?? 5);
const FILE = join(OUT, `bench-${N}.pcap`);
const FILE_NG = join(OUT, `bench-${N}.pcapng`);
const FILE_ONE = join(OUT, 'bench-1.pcap');
const SOURCES = ['tcpdump-ssh-synack-ts-nop-run.pcap', 'zeek-tcp-options.pcap', 'suricata-tcp-fastopen-01.pcap', 'zeek-vlan-qinqinq.pcap', 'suricata-bug-4376.pcap']
  .map((f) => join(ROOT, 'samples/corpus', f));

function records(path) {
  const b = readFileSync(path);
  const out = [];
  for (let p = 24; p + 16 <= b.length;) {
    const cap = b.readUInt32LE(p + 8);
    out.push(Buffer.from(b.subarray(p, p + 16 + cap)));
    p += 16 + cap;
  }
  return out;
}

function build() {
  if (existsSync(FILE)) return;
  mkdirSync(OUT, { recursive: true });
  const recs = SOURCES.flatMap(records).filter((r) => r.length < 400); // handshakes, ACKs, small data: a packet-rate test
  const hdr = Buffer.alloc(24);
  hdr.writeUInt32LE(0xa1b2c3d4, 0); hdr.writeUInt16LE(2, 4); hdr.writeUInt16LE(4, 6);
  hdr.writeUInt32LE(262144, 16); hdr.writeUInt32LE(1, 20);
  const fd = openSync(FILE, 'w');
  writeSync(fd, hdr);
  const buf = Buffer.alloc(8 << 20);
  let used = 0;
  for (let i = 0; i < N; i++) {
    const r = recs[i % recs.length];
    if (used + r.length > buf.length) { writeSync(fd, buf, 0, used); used = 0; }
    r.copy(buf, used);
    buf.writeUInt32LE(1700000000 + Math.floor(i / 100000), used); // advancing timestamps
    buf.writeUInt32LE((i % 100000) * 10, used + 4);
    // vary the client port per repetition so flows differ (Ethernet+IPv4 only: port at 14+20 when IHL=5)
    const rep = Math.floor(i / recs.length) & 0x3fff;
    if (r.readUInt16BE(16 + 12) === 0x0800 && (r[16 + 14] & 0x0f) === 5) {
      const tcp = used + 16 + 34;
      const sp = buf.readUInt16BE(tcp), dp = buf.readUInt16BE(tcp + 2);
      if (sp > 1024) buf.writeUInt16BE(1025 + ((sp + rep) % 60000), tcp); else if (dp > 1024) buf.writeUInt16BE(1025 + ((dp + rep) % 60000), tcp + 2);
    }
    used += r.length;
  }
  writeSync(fd, buf, 0, used);
  closeSync(fd);
}

/** The same records as pcapng: SHB, one Ethernet IDB (microsecond default), an EPB per record. */
function buildPcapng() {
  if (existsSync(FILE_NG)) return;
  const src = openSync(FILE, 'r');
  const fd = openSync(FILE_NG, 'w');
  const shb = Buffer.alloc(28);
  shb.writeUInt32LE(0x0a0d0d0a, 0); shb.writeUInt32LE(28, 4); shb.writeUInt32LE(0x1a2b3c4d, 8);
  shb.writeUInt16LE(1, 12); shb.writeUInt16LE(0, 14); shb.writeInt32LE(-1, 16); shb.writeInt32LE(-1, 20); shb.writeUInt32LE(28, 24);
  const idb = Buffer.alloc(20);
  idb.writeUInt32LE(1, 0); idb.writeUInt32LE(20, 4); idb.writeUInt16LE(1, 8); idb.writeUInt32LE(262144, 12); idb.writeUInt32LE(20, 16);
  writeSync(fd, shb); writeSync(fd, idb);
  const inBuf = Buffer.alloc(8 << 20);
  const outBuf = Buffer.alloc(10 << 20);
  let len = 0, pos = 24, used = 0;
  for (;;) {
    const r = readSync(src, inBuf, len, inBuf.length - len, null);
    len += r;
    while (pos + 16 <= len) {
      const cap = inBuf.readUInt32LE(pos + 8);
      if (pos + 16 + cap > len) break;
      const blockLen = 32 + ((cap + 3) & ~3);
      if (used + blockLen > outBuf.length) { writeSync(fd, outBuf, 0, used); used = 0; }
      const us = inBuf.readUInt32LE(pos) * 1e6 + inBuf.readUInt32LE(pos + 4);
      outBuf.fill(0, used, used + blockLen);
      outBuf.writeUInt32LE(6, used); outBuf.writeUInt32LE(blockLen, used + 4); outBuf.writeUInt32LE(0, used + 8);
      outBuf.writeUInt32LE(Math.floor(us / 2 ** 32), used + 12); outBuf.writeUInt32LE(us % 2 ** 32, used + 16);
      outBuf.writeUInt32LE(cap, used + 20); outBuf.writeUInt32LE(inBuf.readUInt32LE(pos + 12), used + 24);
      inBuf.copy(outBuf, used + 28, pos + 16, pos + 16 + cap);
      outBuf.writeUInt32LE(blockLen, used + blockLen - 4);
      used += blockLen;
      pos += 16 + cap;
    }
    if (r === 0) break;
    inBuf.copyWithin(0, pos, len); len -= pos; pos = 0;
  }
  writeSync(fd, outBuf, 0, used);
  closeSync(fd); closeSync(src);
}

/** The first record alone: tcpdiag's fixed cost per run. */
function buildOne() {
  if (existsSync(FILE_ONE)) return;
  const b = Buffer.alloc(24 + 16 + 262144);
  const fd = openSync(FILE, 'r');
  readSync(fd, b, 0, b.length, 0);
  closeSync(fd);
  writeFileSync(FILE_ONE, b.subarray(0, 24 + 16 + b.readUInt32LE(24 + 8)));
}

const PLAIN_LOOP = `
const fs = require('fs');
const fd = fs.openSync(process.argv[1], 'r');
let buf = Buffer.allocUnsafe(4 << 20), len = 0, pos = 24, n = 0, first = true;
for (;;) {
  const r = fs.readSync(fd, buf, len, buf.length - len, null);
  len += r;
  if (first) { first = false; }
  while (pos + 16 <= len) {
    const cap = buf[pos + 8] | (buf[pos + 9] << 8) | (buf[pos + 10] << 16) | (buf[pos + 11] << 24);
    if (pos + 16 + cap > len) break;
    pos += 16 + cap; n++;
  }
  if (r === 0) break;
  buf.copyWithin(0, pos, len); len -= pos; pos = 0;
}
console.log(n);
`;

const PCAP_PARSER = `
const pcapp = require(${JSON.stringify(join(ROOT, 'node_modules/pcap-parser'))});
let n = 0;
const p = pcapp.parse(process.argv[1]);
p.on('packet', () => { n++; });
p.on('end', () => console.log(n));
`;

/**
 * Read the file once, untimed, just before a reader runs: this machine's
 * kernel evicts page-cache pages it considers cold (DAMON reclaim), and a run
 * that waits on the disk times the disk, not the reader (node --cpu-prof
 * showed half a 10 M-packet run idle).
 */
function warmCache(file) {
  const fd = openSync(file, 'r');
  const buf = Buffer.allocUnsafe(8 << 20);
  while (readSync(fd, buf, 0, buf.length, null) > 0);
  closeSync(fd);
}

function timed(label, args) {
  warmCache(args[args.length - 1]);
  const r = spawnSync('/usr/bin/time', ['-v', ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(r.stderr);
  const secs = wall ? Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]) : NaN;
  const rssKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1]);
  // tcpdiag decode --count-only also reports its own decode time, without process start-up.
  const inner = /decoded in ([\d.]+) s/.exec(r.stderr);
  return { label, secs, rssMb: rssKb / 1024, out: r.stdout.trim().split('\n').pop(), status: r.status, innerSecs: inner ? Number(inner[1]) : null };
}

build();
buildPcapng();
buildOne();
const size = statSync(FILE).size;
console.log(`file: ${FILE} (${N} packets, ${(size / 1e6).toFixed(0)} MB; pcapng copy ${(statSync(FILE_NG).size / 1e6).toFixed(0)} MB); node ${process.version}; ${cpus()[0].model}`);
// The machine may be shared: each reader runs RUNS times, interleaved, and the
// median wall time is reported (with the spread) and the largest peak RSS.
const decodeArgs = (dist, file) => [process.execPath, join(dist, 'cli.js'), 'decode', '--count-only', file];
const readers = [
  ['tcpdiag decode --count-only', decodeArgs(join(ROOT, 'dist'), FILE)],
  ['  the same, pcapng', decodeArgs(join(ROOT, 'dist'), FILE_NG)],
  ...(process.env.TCPDIAG_DIST ? [['  the same, TCPDIAG_DIST build', decodeArgs(process.env.TCPDIAG_DIST, FILE)]] : []),
  ['plain record loop (ceiling)', [process.execPath, '-e', PLAIN_LOOP, FILE]],
  ['pcap-parser', [process.execPath, '-e', PCAP_PARSER, FILE]],
  ['tcpdiag start-up (1 packet)', decodeArgs(join(ROOT, 'dist'), FILE_ONE)],
];
const results = readers.map(() => []);
for (let i = 0; i < RUNS; i++) readers.forEach(([label, args], j) => results[j].push(timed(label, args)));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2; };
console.log(`${RUNS} runs each, interleaved; median wall time [min-max]`);
for (const rs of results) {
  const secs = median(rs.map((r) => r.secs));
  const lo = Math.min(...rs.map((r) => r.secs)), hi = Math.max(...rs.map((r) => r.secs));
  const rss = Math.max(...rs.map((r) => r.rssMb));
  if (rs[0].label.startsWith('tcpdiag start-up')) {
    console.log(`${rs[0].label.padEnd(30)} ${' '.repeat(19)}${secs.toFixed(2).padStart(6)} s [${lo.toFixed(2)}-${hi.toFixed(2)}]  peak RSS ${rss.toFixed(0).padStart(4)} MB`);
    continue;
  }
  console.log(`${rs[0].label.padEnd(30)} ${(N / secs / 1e6).toFixed(2).padStart(6)} M packets/s  ${secs.toFixed(2).padStart(6)} s [${lo.toFixed(2)}-${hi.toFixed(2)}]  peak RSS ${rss.toFixed(0).padStart(4)} MB  (${rs[0].out})`);
  if (rs[0].innerSecs !== null) {
    const inner = rs.map((r) => r.innerSecs);
    const m = median(inner);
    console.log(`${'    its decode loop alone'.padEnd(30)} ${(N / m / 1e6).toFixed(2).padStart(6)} M packets/s  ${m.toFixed(2).padStart(6)} s [${Math.min(...inner).toFixed(2)}-${Math.max(...inner).toFixed(2)}]  (time from the first read to the last packet, as it reports)`);
  }
}
void execFileSync;
