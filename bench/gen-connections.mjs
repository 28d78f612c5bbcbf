#!/usr/bin/env node
// Builds a large classic pcap for the end-to-end benchmark by replaying a real lab capture
// (samples/tw-stale-ack-ts-stripped/server.pcap: 100 connections, 2581 packets made by
// Linux 6.18) COPIES times. Copy k gets client address 198.18.(k >> 8).(k & 255) and
// starts where copy k-1 ended, so every connection stays real in shape and distinct.
// Usage: node bench/gen-connections.mjs [copies=1000] [out=bench/out/connections.pcap]
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

const copies = Number(process.argv[2] ?? 1000);
const out = process.argv[3] ?? 'bench/out/connections.pcap';
const src = readFileSync(new URL('../samples/tw-stale-ack-ts-stripped/server.pcap', import.meta.url));
if (src.readUInt32LE(0) !== 0xa1b2c3d4 || src.readUInt32LE(20) !== 1) throw new Error('expected a little-endian µs Ethernet pcap');

// Record offsets and the capture's time span.
const recs = [];
for (let at = 24; at + 16 <= src.length;) {
  const incl = src.readUInt32LE(at + 8);
  recs.push(at);
  at += 16 + incl;
}
const t0 = src.readUInt32LE(24) * 1e6 + src.readUInt32LE(28);
const last = recs[recs.length - 1];
const span = src.readUInt32LE(last) * 1e6 + src.readUInt32LE(last + 4) - t0 + 1000;
const CLIENT = [198, 18, 1, 2];

mkdirSync(dirname(out), { recursive: true });
const fd = openSync(out, 'w');
writeSync(fd, src.subarray(0, 24));
const buf = Buffer.alloc(8 << 20);
let used = 0;
for (let k = 0; k < copies; k++) {
  for (const at of recs) {
    const incl = src.readUInt32LE(at + 8);
    if (used + 16 + incl > buf.length) { writeSync(fd, buf, 0, used); used = 0; }
    src.copy(buf, used, at, at + 16 + incl);
    const t = src.readUInt32LE(at) * 1e6 + src.readUInt32LE(at + 4) - t0 + t0 + k * span;
    buf.writeUInt32LE(Math.floor(t / 1e6), used);
    buf.writeUInt32LE(t % 1e6, used + 4);
    // IPv4 TCP after a 14-byte Ethernet header: rewrite whichever address is the client, and
    // shift both sides' sequence spaces so every copy has its own ISNs, as real hosts would.
    // Anything else (the source's two IPv6 neighbour discoveries) is copied as it is.
    const ip = used + 16 + 14;
    if (buf.readUInt16BE(used + 16 + 12) !== 0x0800 || buf[ip + 9] !== 6) { used += 16 + incl; continue; }
    const tcp = ip + (buf[ip] & 15) * 4;
    const fromClient = buf[ip + 12] === CLIENT[0] && buf[ip + 13] === CLIENT[1] && buf[ip + 14] === CLIENT[2] && buf[ip + 15] === CLIENT[3];
    const cShift = (k * 2654435761) >>> 0;
    const sShift = (k * 40503 * 65537) >>> 0;
    const ackFlag = (buf[tcp + 13] & 0x10) !== 0;
    buf.writeUInt32BE((buf.readUInt32BE(tcp + 4) + (fromClient ? cShift : sShift)) >>> 0, tcp + 4);
    if (ackFlag) buf.writeUInt32BE((buf.readUInt32BE(tcp + 8) + (fromClient ? sShift : cShift)) >>> 0, tcp + 8);
    for (const off of [12, 16]) {
      if (buf[ip + off] === CLIENT[0] && buf[ip + off + 1] === CLIENT[1] && buf[ip + off + 2] === CLIENT[2] && buf[ip + off + 3] === CLIENT[3]) {
        buf[ip + off + 2] = k >> 8;
        buf[ip + off + 3] = k & 255;
      }
    }
    used += 16 + incl;
  }
}
writeSync(fd, buf, 0, used);
closeSync(fd);
console.log(`${out}: ${copies * recs.length} packets, ${copies * 100} connections`);
