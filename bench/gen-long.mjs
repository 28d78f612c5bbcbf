#!/usr/bin/env node
// Builds the long-connection benchmark capture (issue #16's "fewer long ones") by replaying a
// real lab capture, bench/source/server.pcap (bench/source/README.md: 50 connections of
// 200 000 bytes each with segmentation offloads off, 9086 packets, ~180 per connection, the
// incident's stale ACKs, made by Linux 6.18), COPIES times as COPIES client hosts.
//
// Usage: node bench/gen-long.mjs [copies=320] [out=bench/out/long.pcap] [atOnce=200]
//   320 copies: 2 907 520 packets, 16 000 connections, 320 client addresses (~300 MB).
//
// Copy k (0-based) is client host 198.18.((k+1) >> 8).((k+1) & 255) and starts k * STRIDE after
// copy 0, STRIDE = source span / atOnce, so about atOnce clients are mid-transfer at any moment
// (interleaved, as a server's capture sees its clients) rather than one client after another;
// the records of all copies are merged in time order. Per copy, both sequence spaces get their
// own offset (client side cShift, server side sShift), applied to every field that carries a
// sequence number of that side: SEQ of the side's own segments, ACK and SACK block edges of the
// peer's. One offset per copy and side keeps every relation inside a copy that the detectors
// read: the stale ACK's seq/ack still equal the previous connection's FIN + 1, the reusing
// SYN's ISN stays before the old rcv_nxt by the same distance, the SYN-ACK of a reuse accepted
// from TIME_WAIT stays old snd_nxt + 65537 (tcp_timewait_state_process), and the client's RST
// still carries the stale ACK's ack. A segment without the ACK flag keeps its ACK field as sent
// (Linux writes 0 there). The source has no timestamp option (stripped by the lab's gateway:
// NOPs), so there is no TSval to move.
// The IPv4 header checksums are valid in the source (ip_send_check), so both the IPv4 and the
// TCP checksum are updated incrementally for every rewritten 16-bit word (RFC 1624, eqn. 3):
// a checksum that verified in the source verifies in the copy, and one the capture point saw
// before checksum offload filled it in stays as wrong as it was.
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

const copies = Number(process.argv[2] ?? 320);
const out = process.argv[3] ?? 'bench/out/long.pcap';
const atOnce = Number(process.argv[4] ?? 200);
if (!(copies >= 1 && copies <= 65535 && Number.isInteger(copies))) throw new Error('copies: 1..65535 (client addresses in 198.18.0.0/16)');
if (!(atOnce >= 1)) throw new Error('atOnce: >= 1');
const src = readFileSync(new URL('./source/server.pcap', import.meta.url));
if (src.readUInt32LE(0) !== 0xa1b2c3d4 || src.readUInt32LE(20) !== 1) throw new Error('expected a little-endian µs Ethernet pcap');

const CLIENT = [198, 18, 1, 2];
const recs = [];
const times = [];
for (let at = 24; at + 16 <= src.length;) {
  recs.push(at);
  times.push(src.readUInt32LE(at) * 1e6 + src.readUInt32LE(at + 4));
  at += 16 + src.readUInt32LE(at + 8);
}
const t0 = times[0];
const span = times[times.length - 1] - t0 + 1;
const stride = Math.max(1, Math.ceil(span / atOnce));
// Connections in the source: client SYNs with a new (source port, ISN); a retransmitted SYN
// repeats both (bench/source/expected.json counts them the same way: 50).
const syns = new Set();
for (const at of recs) {
  const ip = at + 16 + 14;
  const tcp = ip + (src[ip] & 15) * 4;
  if (src.readUInt16BE(ip - 2) === 0x0800 && src[ip + 9] === 6 && (src[tcp + 13] & 0x12) === 0x02) syns.add(`${src.readUInt16BE(tcp)}:${src.readUInt32BE(tcp + 4)}`);
}
const connections = syns.size;

// Time-ordered merge of the copies: a binary min-heap of copy numbers keyed by the time of each
// copy's next record (ties: the lower copy first, so the output is deterministic).
const next = new Uint32Array(copies); // index of each copy's next record
const heap = new Int32Array(copies);
let size = 0;
const key = (k) => times[next[k]] + k * stride;
const less = (a, b) => key(a) < key(b) || (key(a) === key(b) && a < b);
function down(i) {
  for (;;) {
    const l = 2 * i + 1;
    if (l >= size) return;
    const c = l + 1 < size && less(heap[l + 1], heap[l]) ? l + 1 : l;
    if (!less(heap[c], heap[i])) return;
    const x = heap[i]; heap[i] = heap[c]; heap[c] = x;
    i = c;
  }
}
for (let k = 0; k < copies; k++) heap[size++] = k; // keys grow with k: already a heap
/** Copy k (the heap's top) wrote its record: move to its next one, or drop it when done. */
function advance(k) {
  if (++next[k] === recs.length) heap[0] = heap[--size];
  down(0);
}

const isClient = (b, off) => b[off] === CLIENT[0] && b[off + 1] === CLIENT[1] && b[off + 2] === CLIENT[2] && b[off + 3] === CLIENT[3];

// One's-complement checksum update (RFC 1624 eqn. 3): HC' = ~(~HC + ~m + m').
let delta = 0;
function word(buf, off, value) {
  const old = buf.readUInt16BE(off);
  delta += (~old & 0xffff) + value;
  buf.writeUInt16BE(value, off);
}
function add32(buf, off, shift) {
  const v = (buf.readUInt32BE(off) + shift) >>> 0;
  word(buf, off, v >>> 16);
  word(buf, off + 2, v & 0xffff);
}
function fix(buf, off, d) {
  let s = (~buf.readUInt16BE(off) & 0xffff) + d;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  buf.writeUInt16BE(~s & 0xffff, off);
}

mkdirSync(dirname(out), { recursive: true });
const fd = openSync(out, 'w');
writeSync(fd, src.subarray(0, 24));
const buf = Buffer.alloc(8 << 20);
let used = 0;
let written = 0;
while (size > 0) {
  const k = heap[0];
  const at = recs[next[k]];
  const incl = src.readUInt32LE(at + 8);
  if (used + 16 + incl > buf.length) { writeSync(fd, buf, 0, used); used = 0; }
  src.copy(buf, used, at, at + 16 + incl);
  const t = times[next[k]] + k * stride;
  buf.writeUInt32LE(Math.floor(t / 1e6), used);
  buf.writeUInt32LE(t % 1e6, used + 4);
  // TCP over IPv4 after a 14-byte Ethernet header: every packet of the source is; anything else
  // (none today) would be copied as it is, only moved in time.
  const ip = used + 16 + 14;
  if (buf.readUInt16BE(ip - 2) !== 0x0800 || buf[ip + 9] !== 6 || incl < 14 + 40) { used += 16 + incl; written++; advance(k); continue; }
  const ihl = (buf[ip] & 15) * 4;
  const tcp = ip + ihl;
  const end = used + 16 + incl;
  const fromClient = isClient(buf, ip + 12);
  // The address word changes both checksums (the TCP one through the pseudo-header).
  delta = 0;
  if (fromClient) word(buf, ip + 14, k + 1);
  else if (isClient(buf, ip + 16)) word(buf, ip + 18, k + 1);
  fix(buf, ip + 10, delta);
  // Knuth's multiplicative hash spreads the copies' offsets over the 32-bit space.
  const cShift = (k * 2654435761) >>> 0;
  const sShift = (k * 40503 * 65537) >>> 0;
  const own = fromClient ? cShift : sShift;
  const peer = fromClient ? sShift : cShift;
  add32(buf, tcp + 4, own);
  if ((buf[tcp + 13] & 0x10) !== 0) add32(buf, tcp + 8, peer);
  // SACK blocks (kind 5) acknowledge the peer's sequence numbers (RFC 2018).
  const optEnd = Math.min(tcp + (buf[tcp + 12] >> 4) * 4, end);
  for (let o = tcp + 20; o < optEnd;) {
    const kind = buf[o];
    if (kind === 0) break;
    if (kind === 1) { o++; continue; }
    const len = o + 1 < optEnd ? buf[o + 1] : 0;
    if (len < 2 || o + len > optEnd) break;
    if (kind === 5) for (let e = o + 2; e + 4 <= o + len; e += 4) add32(buf, e, peer);
    o += len;
  }
  if (tcp + 18 <= end) fix(buf, tcp + 16, delta);
  used += 16 + incl;
  written++;
  advance(k);
}
writeSync(fd, buf, 0, used);
closeSync(fd);
console.log(`${out}: ${written} packets, ${copies * connections} connections, ${copies} clients, `
  + `${atOnce} at once (copy k starts k * ${stride} µs after copy 0)`);
