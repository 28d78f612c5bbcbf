// Seeded mutations of real captures for the fault fuzzers: test/faults/fuzz.test.ts (a fixed
// number, within a minute in CI) and bench/fuzz.mjs (as many as a time budget allows).
// Plain ES module so both the TypeScript test and the bench script import the same code.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

/** xorshift32: the same inputs on every machine for a seed. */
export function rng(seed) {
  let x = seed >>> 0 || 0x9e3779b9;
  const next = () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 2 ** 32; };
  return { next, int: (n) => Math.floor(next() * n), pick: (a) => a[Math.floor(next() * a.length)] };
}

/**
 * Base captures: every corpus file and lab sample under maxBytes (pcap, pcapng, gzip),
 * sorted so a seed always means the same inputs. Zstd is left out (refused before parsing).
 */
export function baseCaptures(samplesDir, maxBytes = 320_000) {
  const out = [];
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) { if (e.name !== 'lab') walk(p); continue; }
      if (!/\.(pcap|pcapng|gz)$/.test(e.name) || statSync(p).size > maxBytes || statSync(p).size === 0) continue;
      out.push({ path: p, bytes: readFileSync(p) });
    }
  };
  walk(samplesDir);
  return out;
}

/** Values that break lengths, counts and timestamps: limits of the fields' widths. */
const EDGES = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff];

/** One to four damages: bit flips, edge values in 4-byte fields (lengths, times), cuts, copies, inserts. */
export function mutate(r, src) {
  let b = Buffer.from(src);
  const n = 1 + r.int(4);
  const kinds = [];
  for (let i = 0; i < n; i++) {
    const k = r.int(7);
    const at = r.int(Math.max(1, b.length));
    if (k === 0) { b[at] ^= 1 << r.int(8); kinds.push('bit'); }
    else if (k === 1) { b[at] = r.pick([0, 0xff, 0x7f, 0x80]); kinds.push('byte'); }
    else if (k === 2 && b.length >= 4) { const o = Math.min(at, b.length - 4) & ~3; b.writeUInt32LE(r.pick(EDGES) >>> 0, o); kinds.push('u32'); }
    else if (k === 3) { b = b.subarray(0, at); kinds.push('cut'); }
    else if (k === 4) { const len = 1 + r.int(2048); b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + len), b.subarray(at)]); kinds.push('dup'); }
    else if (k === 5) { const junk = Buffer.alloc(1 + r.int(64)); for (let j = 0; j < junk.length; j++) junk[j] = r.int(256); b = Buffer.concat([b.subarray(0, at), junk, b.subarray(at)]); kinds.push('insert'); }
    else { const o = (at & ~3) + 16; if (o + 8 <= b.length) { b.writeUInt32LE(0xffffffff, o); b.writeUInt32LE(r.int(2 ** 32) >>> 0, o + 4); } kinds.push('time'); }
  }
  return { bytes: b, kinds };
}

/**
 * A fuzz input: a base capture mutated. A gzip base is mutated inside (decompressed,
 * damaged, compressed again) or in its compressed bytes, half each; a plain one is
 * sometimes gzipped after damage, so the gzip path sees damaged captures too.
 */
export function fuzzInput(r, bases) {
  const base = r.pick(bases);
  const gz = base.bytes[0] === 0x1f && base.bytes[1] === 0x8b;
  if (gz && r.next() < 0.5) {
    let inner;
    try { inner = gunzipSync(base.bytes); } catch { inner = base.bytes; }
    const m = mutate(r, inner);
    return { base: base.path, bytes: gzipSync(m.bytes), kinds: ['inside-gzip', ...m.kinds] };
  }
  const m = mutate(r, base.bytes);
  if (!gz && r.next() < 0.15) return { base: base.path, bytes: gzipSync(m.bytes), kinds: [...m.kinds, 'gzipped'] };
  return { base: base.path, ...m };
}
