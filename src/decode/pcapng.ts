/**
 * pcapng (draft-ietf-opsawg-pcapng): blocks of type, total length, body,
 * total length again. Byte order is fixed by each Section Header Block and
 * interface ids restart with each section. Unknown blocks are skipped by their
 * length.
 */
import { u16, u32 } from './bytes.js';
import { NgInterface, type RecordParser } from './parser.js';
import { TimeScale, toSecNsec } from './timestamp.js';

const BT_IDB = 0x00000001;
const BT_PB = 0x00000002; // obsolete Packet Block
const BT_SPB = 0x00000003;
const BT_EPB = 0x00000006;
const BT_SJE = 0x00000009; // systemd Journal Export
const BT_SHB = 0x0a0d0d0a;
const BT_CB_COPY = 0x00000bad; // Custom Block, may be copied
const BT_CB_NOCOPY = 0x40000bad;
const BOM = 0x1a2b3c4d;

/** Largest block accepted; bigger is a corrupt length (tshark's limit is also 16 MiB). */
const MAX_BLOCK = 16 * 1024 * 1024;
/** Exported under its own name: the block loop reads the module-local const (see MAX_PCAP_RECORD in pcap.ts). */
export const MAX_BLOCK_BYTES = MAX_BLOCK;

const OPT_ENDOFOPT = 0;
const IF_TSRESOL = 9;
const IF_TSOFFSET = 14;

/**
 * Walk the options of a block in b[at, end): each is code, length, value
 * padded to 4 bytes. Returns false (with the error set) if one runs past the
 * block (malformed/libpcap-shb-option-too-long.pcapng). `time` gets
 * if_tsresol / if_tsoffset when given (IDB).
 */
function options(p: RecordParser, b: Uint8Array, at: number, end: number, le: boolean, time: TimeScale | null): boolean {
  let q = at;
  while (q + 4 <= end) {
    const code = u16(b, q, le);
    const len = u16(b, q + 2, le);
    if (code === OPT_ENDOFOPT) return true;
    if (q + 4 + len > end) {
      p.fail('malformed', p.base + q, `option ${code} of length ${len} runs past the end of its block (${end - q - 4} bytes left)`);
      return false;
    }
    if (time !== null) {
      if (code === IF_TSRESOL && len === 1) time.set(b[q + 4]);
      else if (code === IF_TSOFFSET && len === 8) {
        // Signed 64-bit seconds; the high half as int32 keeps the sign.
        const hi = u32(b, q + (le ? 8 : 4), le) | 0;
        const lo = u32(b, q + (le ? 4 : 8), le);
        time.offsetSec = hi * 4294967296 + lo;
      }
    }
    q += 4 + ((len + 3) & ~3);
  }
  return true;
}

function sectionHeader(p: RecordParser, b: Uint8Array, pos: number, len: number, le: boolean): boolean {
  if (len < 28) {
    p.fail('malformed', p.base + pos, `section header block of ${len} bytes, shorter than the 28-byte minimum`);
    return false;
  }
  const major = u16(b, pos + 12, le);
  if (major !== 1) {
    p.fail('unsupported', p.base + pos + 12, `pcapng section version ${major}.${u16(b, pos + 14, le)} unsupported (only 1.x)`);
    return false;
  }
  if (!options(p, b, pos + 24, pos + len - 4, le, null)) return false;
  p.section++;
  p.le = le;
  p.sectionOrders.push(le ? 'le' : 'be');
  p.ifaces = [];
  return true;
}

function interfaceDescription(p: RecordParser, b: Uint8Array, pos: number, len: number, le: boolean): boolean {
  if (len < 20) {
    p.fail('malformed', p.base + pos, `interface description block of ${len} bytes, shorter than the 20-byte minimum`);
    return false;
  }
  const time = new TimeScale();
  if (!options(p, b, pos + 16, pos + len - 4, le, time)) return false;
  const lt = u16(b, pos + 8, le);
  const iface = new NgInterface(p.section, p.ifaces.length, lt, u32(b, pos + 12, le), time);
  p.ifaces.push(iface);
  p.allIfaces.push(iface);
  p.linkTypes.add(lt);
  return true;
}

/** Consume whole blocks of b[pos, end); `v` views the same bytes. */
export function pcapngBlocks(p: RecordParser, b: Uint8Array, v: DataView, pos: number, end: number, eof: boolean): number {
  const base = p.base;
  const dec = p.dec;
  const onRecord = p.onRecord;
  for (;;) {
    if (pos + 12 > end) {
      if (eof && pos < end) p.fail('truncated', base + pos, `the file ends ${end - pos} bytes into a block header`);
      else if (!eof) p.need = 12;
      return pos;
    }
    let le = p.le === true; // a known boolean, as in pcapRecords
    let type = v.getUint32(pos, le);
    if (type === BT_SHB) {
      // The byte-order magic decides how this section, its own length included, is read.
      const bom = v.getUint32(pos + 8, true);
      if (bom === BOM) le = true;
      else if (bom === 0x4d3c2b1a) le = false;
      else {
        p.fail('malformed', base + pos + 8, `section header byte-order magic 0x${bom.toString(16)} is neither 0x1a2b3c4d nor swapped`);
        return pos;
      }
      type = BT_SHB;
    } else if (p.section < 0) {
      p.fail('malformed', base + pos, `pcapng file does not start with a section header block (type 0x${type.toString(16)})`);
      return pos;
    }
    const len = v.getUint32(pos + 4, le);
    if (len < 12 || (len & 3) !== 0) {
      p.fail('malformed', base + pos + 4, `block total length ${len} is ${len < 12 ? 'below the 12-byte minimum' : 'not a multiple of 4'}`);
      return pos;
    }
    if (len > MAX_BLOCK) {
      p.fail('malformed', base + pos + 4, `block total length ${len} is larger than the ${MAX_BLOCK}-byte maximum`);
      return pos;
    }
    if (pos + len > end) {
      if (eof) p.fail('truncated', base + pos, `the file ends inside a block: its length is ${len} bytes, only ${end - pos} remain`);
      else p.need = len;
      return pos;
    }
    const trailer = v.getUint32(pos + len - 4, le);
    if (trailer !== len) {
      p.fail('malformed', base + pos,
        `block total length ${len} does not match the trailing copy ${trailer} (at byte offset ${base + pos + len - 4})`);
      return pos;
    }
    switch (type) {
      case BT_EPB: {
        if (len < 32) { p.fail('malformed', base + pos, `enhanced packet block of ${len} bytes, shorter than the 32-byte minimum`); return pos; }
        const capLen = v.getUint32(pos + 20, le);
        const origLen = v.getUint32(pos + 24, le);
        if (!packet(p, b, pos, len, v.getUint32(pos + 8, le), v.getUint32(pos + 12, le), v.getUint32(pos + 16, le), capLen, origLen)) return pos;
        dec.decode(b, v, pos + 28, capLen, origLen, p.pkt.linkType);
        break;
      }
      case BT_SPB: {
        if (len < 16) { p.fail('malformed', base + pos, `simple packet block of ${len} bytes, shorter than the 16-byte minimum`); return pos; }
        // pcapng §4.4: interface 0 of the section; no timestamp; the captured
        // length is the smaller of the original length, the block body and the snaplen.
        if (p.ifaces.length === 0) { p.fail('malformed', base + pos, 'simple packet block in a section with no interface'); return pos; }
        const iface = p.ifaces[0];
        const origLen = v.getUint32(pos + 8, le);
        let capLen = len - 16;
        if (origLen < capLen) capLen = origLen;
        if (iface.snapLen !== 0 && iface.snapLen < capLen) capLen = iface.snapLen;
        p.record(0, 0, capLen, origLen, iface.linkType, 0, base + pos, false);
        if (onRecord !== null) onRecord(b, pos + 12, capLen, origLen, 0, 0, iface.linkType, p.frame, base + pos);
        dec.decode(b, v, pos + 12, capLen, origLen, iface.linkType);
        break;
      }
      case BT_PB: {
        if (len < 32) { p.fail('malformed', base + pos, `packet block of ${len} bytes, shorter than the 32-byte minimum`); return pos; }
        const capLen = v.getUint32(pos + 20, le);
        const origLen = v.getUint32(pos + 24, le);
        if (!packet(p, b, pos, len, v.getUint16(pos + 8, le), v.getUint32(pos + 12, le), v.getUint32(pos + 16, le), capLen, origLen)) return pos;
        dec.decode(b, v, pos + 28, capLen, origLen, p.pkt.linkType);
        break;
      }
      case BT_IDB:
        if (!interfaceDescription(p, b, pos, len, le)) return pos;
        break;
      case BT_SHB:
        if (!sectionHeader(p, b, pos, len, le)) return pos;
        break;
      case BT_CB_COPY: case BT_CB_NOCOPY: case BT_SJE:
        // Wireshark 4.0 shows custom and journal blocks as frames of their own,
        // so they take a frame number (pcapngtest-test202: 11 frames, 8 packets).
        p.record(0, 0, len - 12, len - 12, -1, 0, base + pos, false);
        dec.countNonPacket();
        break;
      default:
        break; // NRB, ISB, DSB and unknown types carry no packets
    }
    pos += len;
  }
}

/**
 * EPB or PB: check the interface and length, set the record fields, call
 * onRecord. The caller decodes the packet data (28 bytes into the block), so
 * decode() is called from the block loop as it is for classic pcap, and V8
 * inlines the IP and TCP decoders into decode(), not decode() into this
 * function: 1 338 instructions per packet against 1 525 with the decode call
 * here (bench/decode-memory.mjs under callgrind).
 */
function packet(
  p: RecordParser, b: Uint8Array, pos: number, len: number, id: number,
  hi: number, lo: number, capLen: number, origLen: number,
): boolean {
  if (id >= p.ifaces.length) {
    p.fail('malformed', p.base + pos + 8, `packet for interface ${id}, but the section has ${p.ifaces.length} interface(s)`);
    return false;
  }
  if (28 + capLen > len - 4) {
    p.fail('malformed', p.base + pos + 20, `captured length ${capLen} does not fit in a block of ${len} bytes`);
    return false;
  }
  const iface = p.ifaces[id];
  const ts = p.ts;
  toSecNsec(ts, iface.time, hi, lo);
  p.record(ts.sec, ts.nsec, capLen, origLen, iface.linkType, id, p.base + pos, true);
  if (p.onRecord !== null) p.onRecord(b, pos + 28, capLen, origLen, ts.sec, ts.nsec, iface.linkType, p.frame, p.base + pos);
  return true;
}
