import type { TcpPacket } from '../decode/packet.js';

/**
 * A map keyed by a packet's 4-tuple, the same for both directions.
 *
 * IPv4 tuples fold into two numbers (address * 65536 + port < 2^48, exact in a
 * double) held in nested Maps (outer: the lower-port end), so the per-packet lookup builds no string; IPv6
 * tuples, rarer, use a string key.
 */
export class TupleMap<T> {
  private v4 = new Map<number, Map<number, T>>();
  private v6 = new Map<string, T>();
  private n = 0;

  get size(): number { return this.n; }

  get(p: TcpPacket): T | undefined {
    if (p.ipVersion === 4) {
      const a = p.src3 * 65536 + p.srcPort;
      const b = p.dst3 * 65536 + p.dstPort;
      return outerFirst(a, b) ? this.v4.get(a)?.get(b) : this.v4.get(b)?.get(a);
    }
    return this.v6.get(key6(p));
  }

  set(p: TcpPacket, value: T): void {
    if (p.ipVersion === 4) this.set4(p.src3 * 65536 + p.srcPort, p.dst3 * 65536 + p.dstPort, value);
    else this.set6(key6(p), value);
  }

  /** Set by the tuple stored on a connection (a = one end, b = the other). */
  setTuple(t: TupleWords, value: T): void {
    if (t.ipVersion === 4) this.set4(t.a3 * 65536 + t.aPort, t.b3 * 65536 + t.bPort, value);
    else this.set6(keyWords6(t), value);
  }

  private set4(a: number, b: number, value: T): void {
    const aFirst = outerFirst(a, b);
    const lo = aFirst ? a : b;
    const hi = aFirst ? b : a;
    let inner = this.v4.get(lo);
    if (inner === undefined) { inner = new Map(); this.v4.set(lo, inner); }
    if (!inner.has(hi)) this.n++;
    inner.set(hi, value);
  }

  private set6(k: string, value: T): void {
    if (!this.v6.has(k)) this.n++;
    this.v6.set(k, value);
  }

  /** Remove the entry for the tuple stored on a connection. */
  deleteTuple(t: TupleWords): void {
    if (t.ipVersion === 4) {
      const a = t.a3 * 65536 + t.aPort;
      const b = t.b3 * 65536 + t.bPort;
      const aFirst = outerFirst(a, b);
      const lo = aFirst ? a : b;
      const hi = aFirst ? b : a;
      const inner = this.v4.get(lo);
      if (inner?.delete(hi)) {
        this.n--;
        if (inner.size === 0) this.v4.delete(lo);
      }
      return;
    }
    if (this.v6.delete(keyWords6(t))) this.n--;
  }

  clear(): void {
    this.v4.clear();
    this.v6.clear();
    this.n = 0;
  }

  *values(): IterableIterator<T> {
    for (const inner of this.v4.values()) yield* inner.values();
    yield* this.v6.values();
  }
}

/**
 * Which end of an IPv4 tuple (address * 65536 + port) keys the outer map: the one with the
 * lower port, usually the server, so that the many connections to one server share one
 * inner map instead of each client port making its own. Same answer for both directions.
 */
function outerFirst(a: number, b: number): boolean {
  const pa = a % 65536;
  const pb = b % 65536;
  return pa !== pb ? pa < pb : a < b;
}

/** The tuple of a connection, as the address words and ports of its two ends. */
export interface TupleWords {
  ipVersion: 4 | 6;
  a0: number; a1: number; a2: number; a3: number; aPort: number;
  b0: number; b1: number; b2: number; b3: number; bPort: number;
}

function key6(p: TcpPacket): string {
  const s = `${p.src0},${p.src1},${p.src2},${p.src3},${p.srcPort}`;
  const d = `${p.dst0},${p.dst1},${p.dst2},${p.dst3},${p.dstPort}`;
  return s < d ? `${s}|${d}` : `${d}|${s}`;
}

function keyWords6(t: TupleWords): string {
  const s = `${t.a0},${t.a1},${t.a2},${t.a3},${t.aPort}`;
  const d = `${t.b0},${t.b1},${t.b2},${t.b3},${t.bPort}`;
  return s < d ? `${s}|${d}` : `${d}|${s}`;
}
