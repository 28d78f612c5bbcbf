/** Byte builders for the decode unit tests: headers and whole captures from arrays. */

export const bytes = (...parts: (number[] | Uint8Array)[]): Uint8Array => {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
};

/** The DataView the decoder's functions read through (the reader makes one per chunk). */
export const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

export const be16 = (v: number): number[] => [(v >>> 8) & 255, v & 255];
export const be32 = (v: number): number[] => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
export const le16 = (v: number): number[] => [v & 255, (v >>> 8) & 255];
export const le32 = (v: number): number[] => [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255];

/** TCP header with options (padded by the caller) and payload. */
export function tcpHdr(o: { sport?: number; dport?: number; seq?: number; ack?: number; flags?: number; win?: number; opts?: number[]; hdrLen?: number; payload?: number }): Uint8Array {
  const opts = o.opts ?? [];
  const hdrLen = o.hdrLen ?? 20 + opts.length;
  const f = o.flags ?? 0x002;
  return bytes(be16(o.sport ?? 1234), be16(o.dport ?? 80), be32(o.seq ?? 1), be32(o.ack ?? 0),
    [((hdrLen / 4) << 4) | ((f >> 8) & 0x0f), f & 255], be16(o.win ?? 65535), [0, 0, 0, 0], opts,
    new Uint8Array(o.payload ?? 0));
}

export function ipv4Hdr(payload: Uint8Array, o: { proto?: number; src?: number; dst?: number; frag?: number; opts?: number[]; totalLen?: number } = {}): Uint8Array {
  const opts = o.opts ?? [];
  const ihl = 20 + opts.length;
  const total = o.totalLen ?? ihl + payload.length;
  return bytes([0x40 | (ihl / 4), 0], be16(total), be16(7), be16(o.frag ?? 0x4000), [64, o.proto ?? 6, 0, 0],
    be32(o.src ?? 0x0a000001), be32(o.dst ?? 0x0a000002), opts, payload);
}

/** IPv6 header; `chain` is the extension headers (already encoded) and first next-header value. */
export function ipv6Hdr(payload: Uint8Array, o: { nh?: number; ext?: Uint8Array; plen?: number } = {}): Uint8Array {
  const ext = o.ext ?? new Uint8Array(0);
  const plen = o.plen ?? ext.length + payload.length;
  const src = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
  const dst = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
  return bytes([0x60, 0, 0, 0], be16(plen), [o.nh ?? 6, 64], src, dst, ext, payload);
}

export const ether = (type: number, payload: Uint8Array, tags: [number, number][] = []): Uint8Array =>
  bytes([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2], ...tags.map(([tpid, tci]) => [...be16(tpid), ...be16(tci)]), be16(type), payload);

/** Classic pcap (µs unless ns), little or big endian. */
export function pcapFile(frames: Uint8Array[], o: { le?: boolean; ns?: boolean; linkType?: number; ts?: [number, number][]; origLens?: number[]; capLens?: number[] } = {}): Uint8Array {
  const le = o.le ?? true;
  const w16 = le ? le16 : be16;
  const w32 = le ? le32 : be32;
  const magic = o.ns ? 0xa1b23c4d : 0xa1b2c3d4;
  const parts: (number[] | Uint8Array)[] = [w32(magic), w16(2), w16(4), w32(0), w32(0), w32(262144), w32(o.linkType ?? 1)];
  frames.forEach((f, i) => {
    const [s, frac] = o.ts?.[i] ?? [1700000000 + i, 1000 * i];
    const cap = o.capLens?.[i] ?? f.length;
    parts.push(w32(s), w32(frac), w32(cap), w32(o.origLens?.[i] ?? f.length), f.subarray(0, cap));
  });
  return bytes(...parts);
}

/** pcapng block with its two length fields. */
export function block(type: number, body: Uint8Array | number[], le = true, trailer?: number): Uint8Array {
  const w32 = le ? le32 : be32;
  const pad = (4 - (body.length % 4)) % 4;
  const len = 12 + body.length + pad;
  return bytes(w32(type), w32(len), body, new Array(pad).fill(0), w32(trailer ?? len));
}

export function shb(le = true): Uint8Array {
  const w16 = le ? le16 : be16;
  const w32 = le ? le32 : be32;
  return block(0x0a0d0d0a, [...w32(0x1a2b3c4d), ...w16(1), ...w16(0), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], le);
}

export function idb(linkType: number, o: { le?: boolean; tsresol?: number; tsoffset?: [number, number]; snap?: number } = {}): Uint8Array {
  const le = o.le ?? true;
  const w16 = le ? le16 : be16;
  const w32 = le ? le32 : be32;
  const opts: number[] = [];
  if (o.tsresol !== undefined) opts.push(...w16(9), ...w16(1), o.tsresol, 0, 0, 0);
  if (o.tsoffset !== undefined) {
    const [hi, lo] = o.tsoffset;
    opts.push(...w16(14), ...w16(8), ...(le ? [...le32(lo), ...le32(hi)] : [...be32(hi), ...be32(lo)]));
  }
  if (opts.length) opts.push(0, 0, 0, 0);
  return block(1, [...w16(linkType), 0, 0, ...w32(o.snap ?? 0), ...opts], le);
}

export function epb(iface: number, hi: number, lo: number, data: Uint8Array, le = true, origLen?: number): Uint8Array {
  const w32 = le ? le32 : be32;
  return block(6, bytes(w32(iface), w32(hi), w32(lo), w32(data.length), w32(origLen ?? data.length), data), le);
}

export function spb(data: Uint8Array, le = true): Uint8Array {
  const w32 = le ? le32 : be32;
  return block(3, bytes(w32(data.length), data), le);
}

/** A small valid Ethernet/IPv4 SYN with MSS, SACK-permitted, timestamps, NOP, window scale. */
export const SYN_OPTS = [2, 4, 5, 0xb4, 4, 2, 8, 10, 0xff, 0xff, 0x54, 0xe9, 0, 0, 0, 0, 1, 3, 3, 7];
export const synFrame = (sport = 1234): Uint8Array => ether(0x0800, ipv4Hdr(tcpHdr({ sport, opts: SYN_OPTS })));
