/**
 * Unsigned reads from a byte array in either byte order, for what is read once
 * per file or per block (the pcap file header, pcapng options). Per packet the
 * decoder reads through one DataView per chunk instead (parser.ts), which V8
 * compiles to single loads.
 */
export function u16(b: Uint8Array, i: number, le: boolean): number {
  return le ? b[i] | (b[i + 1] << 8) : (b[i] << 8) | b[i + 1];
}

export function u32(b: Uint8Array, i: number, le: boolean): number {
  return le
    ? (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0
    : ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
}
