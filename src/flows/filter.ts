/**
 * Narrowing before tracking: a time window (--since/--until) and the traffic to keep
 * (--host, --net, --port), so a capture of a whole host can be cut to the failing
 * service without editcap or tcpdump -r ... -w first. Matched per packet on the
 * innermost TCP 4-tuple; an address or port matches either end (tcpdump's `host`,
 * `net` and `port` primitives), so both directions of a connection are kept.
 * Options of one kind are alternatives (OR), kinds combine (AND), as
 * `(host A or host B) and port P` in a tcpdump filter.
 */
import type { TcpPacket } from '../decode/packet.js';
import { ExitError } from '../errors.js';

export interface FilterSpec {
  since?: string;
  until?: string;
  host?: string[];
  net?: string[];
  port?: string[];
}

/** One network as four masked words (IPv4 in word 3, words 0-2 zero, as TcpPacket holds it). */
interface Net { v: 4 | 6; w: Uint32Array; mask: Uint32Array }

/** A time bound: absolute microseconds, or an offset from the capture point's first TCP packet. */
interface Bound { absUsec: number | null; offUsec: number }

function parseV4(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  const b = m.slice(1).map(Number);
  if (b.some((x) => x > 255)) return null;
  return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
}

function parseV6(s: string): number[] | null {
  if (!/^[0-9a-fA-F:]+$/.test(s) || !s.includes(':')) return null;
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const part = (x: string): number[] => (x === '' ? [] : x.split(':').map((g) => parseInt(g, 16)));
  const head = part(halves[0]);
  const tail = halves.length === 2 ? part(halves[1]) : [];
  const fill = 8 - head.length - tail.length;
  if ((halves.length === 1 && fill !== 0) || fill < 0 || [...head, ...tail].some((g) => !(g >= 0 && g <= 0xffff))) return null;
  const g = [...head, ...new Array(halves.length === 2 ? fill : 0).fill(0), ...tail];
  return [0, 1, 2, 3].map((i) => ((g[2 * i] << 16) | g[2 * i + 1]) >>> 0);
}

export function parseNet(s: string, opt: string): Net {
  const [addr, bitsText] = s.replace(/^\[|\]$/g, '').split('/');
  const v4 = parseV4(addr);
  const v6 = v4 === null ? parseV6(addr) : null;
  if (v4 === null && v6 === null) throw new ExitError(2, `${opt} needs an IPv4 or IPv6 address${opt === '--net' ? ' with /bits' : ''}, not "${s}"`);
  const v = v4 !== null ? 4 : 6;
  const max = v === 4 ? 32 : 128;
  const bits = bitsText === undefined ? max : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > max) throw new ExitError(2, `${opt} prefix length must be 0-${max}, not "${bitsText}"`);
  const words = v === 4 ? [0, 0, 0, v4!] : v6!;
  const mask = new Uint32Array(4);
  for (let i = 0; i < 4; i++) {
    // IPv4 lives in word 3 only.
    const wordBits = v === 4 ? (i === 3 ? bits : 0) : Math.max(0, Math.min(32, bits - 32 * i));
    mask[i] = v === 4 && i < 3 ? 0 : wordBits === 0 ? 0 : (0xffffffff << (32 - wordBits)) >>> 0;
  }
  return { v, w: Uint32Array.from(words.map((x, i) => (x & mask[i]) >>> 0)), mask };
}

const UNIT: Record<string, number> = { '': 1e6, s: 1e6, ms: 1e3, us: 1, m: 60e6, min: 60e6, h: 3600e6 };

/**
 * "+30", "+1.5s", "+2m", "+250ms": offset from the first TCP packet; "1700000000.25":
 * seconds since the epoch (tshark's frame.time_epoch); "2026-12-01T08:00:00Z" or
 * "2026-12-01 08:00:00" (ISO 8601; without a zone, UTC, as in a capture's timestamps).
 */
export function parseTime(s: string, opt: string): Bound {
  const off = /^\+(\d+(?:\.\d+)?)(s|ms|us|m|min|h)?$/.exec(s);
  if (off) return { absUsec: null, offUsec: Math.round(Number(off[1]) * UNIT[off[2] ?? '']) };
  if (/^\d{9,}(?:\.\d+)?$/.test(s)) return { absUsec: Math.round(Number(s) * 1e6), offUsec: 0 };
  const iso = /^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?$/.test(s) ? Date.parse(s.replace(' ', 'T') + (/(Z|[+-]\d\d:?\d\d)$/.test(s) ? '' : 'Z')) : NaN;
  if (Number.isFinite(iso)) {
    // Date.parse keeps milliseconds; the fraction's own digits give microseconds.
    const frac = /\.(\d+)/.exec(s);
    return { absUsec: Math.floor(iso / 1000) * 1e6 + (frac ? Number(frac[1].padEnd(6, '0').slice(0, 6)) : 0), offUsec: 0 };
  }
  throw new ExitError(2, `${opt} takes an offset from the capture's start (+30, +1.5s, +2m), seconds since the epoch or an ISO 8601 time, not "${s}"`);
}

export class PacketFilter {
  private readonly nets: Net[];
  private readonly ports: Set<number> | null;
  private readonly since: Bound | null;
  private readonly until: Bound | null;
  private startUsec = -1;
  /** TCP packets left out. */
  dropped = 0;

  /** The narrowing as given, for the store and the report. */
  readonly text: string;

  private constructor(spec: FilterSpec) {
    this.nets = [...(spec.host ?? []).map((h) => parseNet(h, '--host')), ...(spec.net ?? []).map((n) => parseNet(n, '--net'))];
    const ports = (spec.port ?? []).map((p) => {
      const n = Number(p);
      if (!/^\d{1,5}$/.test(p) || n > 65535) throw new ExitError(2, `--port must be 0-65535, not "${p}"`);
      return n;
    });
    this.ports = ports.length > 0 ? new Set(ports) : null;
    this.since = spec.since !== undefined ? parseTime(spec.since, '--since') : null;
    this.until = spec.until !== undefined ? parseTime(spec.until, '--until') : null;
    const parts: string[] = [];
    if (spec.since !== undefined) parts.push(`--since ${spec.since}`);
    if (spec.until !== undefined) parts.push(`--until ${spec.until}`);
    for (const h of spec.host ?? []) parts.push(`--host ${h}`);
    for (const n of spec.net ?? []) parts.push(`--net ${n}`);
    for (const p of spec.port ?? []) parts.push(`--port ${p}`);
    this.text = parts.join(' ');
  }

  /** A filter for these options, or null when none was given. */
  static from(spec: FilterSpec): PacketFilter | null {
    const f = new PacketFilter(spec);
    return f.text === '' ? null : f;
  }

  /** A fresh copy for the next capture point (offsets restart at its first packet). */
  fresh(): PacketFilter {
    const f = Object.create(PacketFilter.prototype) as PacketFilter;
    Object.assign(f, this, { startUsec: -1, dropped: 0 });
    return f;
  }

  match(p: TcpPacket): boolean {
    if (this.startUsec < 0) this.startUsec = p.tsUsec;
    const t = p.tsUsec;
    if (this.since !== null && t < (this.since.absUsec ?? this.startUsec + this.since.offUsec)) return this.drop();
    if (this.until !== null && t > (this.until.absUsec ?? this.startUsec + this.until.offUsec)) return this.drop();
    if (this.ports !== null && !this.ports.has(p.srcPort) && !this.ports.has(p.dstPort)) return this.drop();
    if (this.nets.length > 0) {
      let hit = false;
      for (const n of this.nets) {
        if (n.v !== p.ipVersion) continue;
        if (inNet(n, p.src0, p.src1, p.src2, p.src3) || inNet(n, p.dst0, p.dst1, p.dst2, p.dst3)) { hit = true; break; }
      }
      if (!hit) return this.drop();
    }
    return true;
  }

  private drop(): boolean {
    this.dropped++;
    return false;
  }
}

function inNet(n: Net, w0: number, w1: number, w2: number, w3: number): boolean {
  const m = n.mask;
  const w = n.w;
  return ((w0 & m[0]) >>> 0) === w[0] && ((w1 & m[1]) >>> 0) === w[1] && ((w2 & m[2]) >>> 0) === w[2] && ((w3 & m[3]) >>> 0) === w[3];
}
