/**
 * Classic libpcap files (https://www.tcpdump.org/manpages/pcap-savefile.5.html,
 * draft-ietf-opsawg-pcap): a 24-byte file header, then 16-byte record headers.
 */
import { u16, u32 } from './bytes.js';
import type { RecordParser } from './parser.js';

/**
 * Largest record accepted. tshark 4.0 refuses anything above
 * WTAP_MAX_PACKET_SIZE_STANDARD (262144) as "damaged or corrupt"
 * (malformed/crafted-pcap-huge-caplen.pcap); a length above it is a corrupt
 * header, not a packet.
 */
const MAX_RECORD = 262144;
/** Exported under its own name: the record loop reads the module-local const, which V8 folds in (an exported one is a cell it loads per use). */
export const MAX_PCAP_RECORD = MAX_RECORD;

/** Read the file header at b[at, at+24). False (with the error set) if the file must be refused. */
export function pcapHeader(p: RecordParser, b: Uint8Array, at: number): boolean {
  const m = ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
  p.le = m === 0xd4c3b2a1 || m === 0x4d3cb2a1;
  p.nsec = m === 0xa1b23c4d || m === 0x4d3cb2a1;
  p.versionMajor = u16(b, at + 4, p.le);
  p.versionMinor = u16(b, at + 6, p.le);
  // libpcap (sf-pcap.c) reads only major version 2; 1.x predates the
  // current record header and tshark refuses it too.
  if (p.versionMajor !== 2) {
    p.fail('unsupported', p.base + at + 4, `pcap major version ${p.versionMajor} unsupported (only 2.x)`);
    return false;
  }
  p.snapLen = u32(b, at + 16, p.le);
  const lt = u32(b, at + 20, p.le);
  // Bits 16-25 are reserved and must be zero (libpcap LT_RESERVED1; tshark:
  // "network type reserved field not zero"). Bits 26-31 say whether an FCS is
  // present and its length; tshark tolerates them
  // (malformed/tcpdump-heapoverflow-tcp_print.pcap has 0x30000001). The IP
  // length fields trim an FCS anyway.
  if ((lt & 0x03ff0000) !== 0) {
    p.fail('unsupported', p.base + at + 20,
      `pcap link-type field has reserved bits set (0x${(lt & 0x03ff0000).toString(16).padStart(8, '0')})`);
    return false;
  }
  p.linkType = lt & 0xffff;
  p.linkTypes.add(p.linkType);
  return true;
}

/** Consume whole records of b[pos, end); `v` views the same bytes. */
export function pcapRecords(p: RecordParser, b: Uint8Array, v: DataView, pos: number, end: number, eof: boolean): number {
  // A comparison, not the field itself: V8 then knows `le` is a boolean and does
  // not test it for every type at each read (bench/decode-memory.mjs under callgrind).
  const le = p.le === true;
  const nsMul = p.nsec ? 1 : 1000;
  const lt = p.linkType;
  const dec = p.dec;
  const onRecord = p.onRecord;
  const base = p.base;
  for (;;) {
    if (pos + 16 > end) {
      if (eof && pos < end) {
        p.fail('truncated', base + pos, `the file ends ${end - pos} bytes into a 16-byte record header`);
      } else if (!eof) p.need = 16;
      return pos;
    }
    const capLen = v.getUint32(pos + 8, le);
    if (capLen > MAX_RECORD) {
      p.fail('malformed', base + pos, `record claims ${capLen} captured bytes, more than the ${MAX_RECORD}-byte maximum`);
      return pos;
    }
    const next = pos + 16 + capLen;
    if (next > end) {
      if (eof) {
        p.fail('truncated', base + pos,
          `the file ends inside a record: header says ${capLen} bytes, only ${end - pos - 16} remain`);
      } else p.need = 16 + capLen;
      return pos;
    }
    const tsSec = v.getUint32(pos, le);
    const tsNsec = v.getUint32(pos + 4, le) * nsMul;
    const origLen = v.getUint32(pos + 12, le);
    p.record(tsSec, tsNsec, capLen, origLen, lt, 0, base + pos, true);
    if (onRecord !== null) onRecord(b, pos + 16, capLen, origLen, tsSec, tsNsec, lt, p.frame, base + pos);
    dec.decode(b, v, pos + 16, capLen, origLen, lt);
    pos = next;
  }
}
