/**
 * The record reader's state: which format, byte order, interfaces, counters,
 * and the first error. Bytes arrive in chunks (chunk.ts); parse() consumes
 * whole records and returns where the first incomplete one starts, so the
 * caller carries it into the next chunk (rusticata/pcap-parser's
 * consume/refill model, as libpcap's savefile reader).
 */
import { CaptureError, type CaptureErrorKind } from '../errors.js';
import { FrameDecoder } from './frame.js';
import type { TcpPacket } from './packet.js';
import { pcapHeader, pcapRecords } from './pcap.js';
import { pcapngBlocks } from './pcapng.js';
import { ClockWatch } from './clock.js';
import { SecNsec, TimeScale } from './timestamp.js';

/** Raw record access: the bytes are b[at, at+capLen), valid during the call only. */
export type OnRecord = (
  b: Uint8Array, at: number, capLen: number, origLen: number,
  tsSec: number, tsNsec: number, linkType: number, frame: number, fileOffset: number,
) => void;

export const F_UNKNOWN = 0;
export const F_PCAP = 1;
export const F_PCAPNG = 2;

/** One pcapng interface (per section; interface ids restart at each SHB). */
export class NgInterface {
  constructor(
    readonly section: number,
    readonly id: number,
    readonly linkType: number,
    readonly snapLen: number,
    readonly time: TimeScale,
  ) {}
}

export interface InterfaceInfo {
  section: number;
  id: number;
  linkType: number;
  snapLen: number;
  /** "10^-6", "10^-9", "2^-20": if_tsresol as written. */
  tsResolution: string;
  tsOffsetSec: number;
}

export class RecordParser {
  format = F_UNKNOWN;
  /** File offset of b[0] for the current parse() call. */
  base = 0;
  /** Bytes the pending record needs from its start (so a chunk can grow to hold it). */
  need = 0;
  error: CaptureError | null = null;

  // classic pcap
  le = true;
  nsec = false;
  linkType = 0;
  snapLen = 0;
  versionMajor = 0;
  versionMinor = 0;

  // pcapng
  section = -1;
  ifaces: NgInterface[] = [];
  readonly allIfaces: NgInterface[] = [];
  readonly sectionOrders: ('le' | 'be')[] = [];
  readonly ts = new SecNsec();

  // counters
  frame = 0;
  truncatedPackets = 0;
  hasTs = false;
  firstTsUsec = 0;
  lastTsUsec = 0;
  /** Implausible steps of the capture clock between consecutive frames (clock.ts). */
  readonly clock = new ClockWatch();
  readonly linkTypes = new Set<number>();

  readonly dec: FrameDecoder;
  readonly pkt: TcpPacket;
  /** A DataView over the chunk being parsed, made once per chunk buffer, never per packet. */
  private viewBuf: Uint8Array | null = null;
  private view: DataView = new DataView(new ArrayBuffer(0));

  constructor(readonly path: string, onTcp: (p: TcpPacket) => void, readonly onRecord: OnRecord | null, readonly firstFrame = 0) {
    this.frame = firstFrame;
    this.dec = new FrameDecoder(onTcp);
    this.pkt = this.dec.pkt;
  }

  fail(kind: CaptureErrorKind, offset: number, detail: string): void {
    // The file's own frame number (Wireshark's for this file), also when it is a later piece of a set.
    if (this.error === null) this.error = new CaptureError(this.path, offset, kind, detail, this.frame - this.firstFrame);
  }

  /** Consume whole records of b[at, end); return the offset of the first unconsumed byte. */
  parse(b: Uint8Array, at: number, end: number, eof: boolean): number {
    this.need = 0;
    if (this.format === F_UNKNOWN) {
      at = this.sniff(b, at, end, eof);
      if (this.format === F_UNKNOWN || this.error !== null) return at;
    }
    if (b !== this.viewBuf) {
      this.viewBuf = b;
      this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    }
    const v = this.view;
    return this.format === F_PCAP ? pcapRecords(this, b, v, at, end, eof) : pcapngBlocks(this, b, v, at, end, eof);
  }

  private sniff(b: Uint8Array, at: number, end: number, eof: boolean): number {
    const n = end - at;
    if (n < 4) {
      if (!eof) { this.need = 4; return at; }
      if (n === 0 && this.base + at === 0) this.fail('empty', 0, 'the file is empty');
      else this.fail('truncated', this.base + at, `the file ends after ${n} bytes, inside the file header`);
      return at;
    }
    const m = ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
    if (m === 0x0a0d0d0a) { this.format = F_PCAPNG; return at; }
    if (m === 0xa1b2c3d4 || m === 0xd4c3b2a1 || m === 0xa1b23c4d || m === 0x4d3cb2a1) {
      if (n < 24) {
        if (!eof) { this.need = 24; return at; }
        this.fail('truncated', this.base + at + n, `the file ends after ${n} bytes, inside the 24-byte pcap file header`);
        return at;
      }
      if (!pcapHeader(this, b, at)) return at;
      this.format = F_PCAP;
      return at + 24;
    }
    if (m === 0x28b52ffd || m >>> 16 === 0x1f8b) {
      this.fail('unsupported', this.base + at, `${m >>> 16 === 0x1f8b ? 'gzip' : 'zstd'} data inside a compressed file; decompress the outer layer first`);
      return at;
    }
    this.fail('bad-magic', this.base + at,
      `not a pcap or pcapng file (magic 0x${m.toString(16).padStart(8, '0')})`);
    return at;
  }

  /** Per-record bookkeeping shared by pcap and pcapng; `pkt` gets the record fields. */
  record(tsSec: number, tsNsec: number, capLen: number, origLen: number, linkType: number, iface: number, fileOffset: number, hasTs: boolean): void {
    const pkt = this.pkt;
    const frame = ++this.frame;
    pkt.frame = frame;
    pkt.fileOffset = fileOffset;
    pkt.tsSec = tsSec;
    pkt.tsNsec = tsNsec;
    const usec = tsSec * 1e6 + Math.floor(tsNsec / 1000);
    pkt.tsUsec = usec;
    pkt.capLenBytes = capLen;
    pkt.origLenBytes = origLen;
    pkt.linkType = linkType;
    pkt.iface = iface;
    if (capLen < origLen) this.truncatedPackets++;
    if (hasTs) {
      if (!this.hasTs) { this.hasTs = true; this.firstTsUsec = usec; }
      this.lastTsUsec = usec;
      this.clock.observe(frame, iface, tsSec, tsNsec, usec);
    }
  }

  interfaces(): InterfaceInfo[] {
    return this.allIfaces.map((i) => ({
      section: i.section,
      id: i.id,
      linkType: i.linkType,
      snapLen: i.snapLen,
      tsResolution: `${i.time.pow2 ? 2 : 10}^-${i.time.exp}`,
      tsOffsetSec: i.time.offsetSec,
    }));
  }
}
