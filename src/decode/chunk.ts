/**
 * A reused chunk buffer between a byte source and the record parser. The
 * parser consumes whole records; the incomplete tail is moved to the front
 * and the next read appends to it, so memory stays at one chunk whatever the
 * file size. A record bigger than the chunk grows it to fit (bounded by the
 * parser's own limits: 256 KiB for pcap records, 16 MiB for pcapng blocks).
 */
import type { RecordParser } from './parser.js';
import { MAX_BLOCK_BYTES } from './pcapng.js';

/** 4 MiB: large enough that per-chunk work (a readSync, a copy of the tail) is noise. */
export const CHUNK_BYTES = 4 * 1024 * 1024;

export class ChunkFeeder {
  buf: Buffer;
  /** Bytes in buf. */
  len = 0;
  /** Capture offset (decompressed) of buf[0]. */
  base = 0;

  constructor(readonly p: RecordParser, chunkBytes = CHUNK_BYTES) {
    this.buf = Buffer.allocUnsafe(Math.max(64, chunkBytes));
  }

  /** Parse what is buffered. False when reading should stop (error or end). */
  drain(eof: boolean): boolean {
    const p = this.p;
    p.base = this.base;
    const pos = p.parse(this.buf, 0, this.len, eof);
    if (p.error !== null || eof) return false;
    if (pos > 0) {
      this.buf.copyWithin(0, pos, this.len);
      this.len -= pos;
      this.base += pos;
    }
    if (p.need > this.buf.length || this.len === this.buf.length) {
      const want = Math.max(p.need, Math.min(this.buf.length * 2, MAX_BLOCK_BYTES));
      if (want > MAX_BLOCK_BYTES || p.need <= this.len) {
        // Cannot happen with the parser's own length checks; guard the loop anyway.
        p.fail('malformed', this.base, `record of ${p.need} bytes does not fit the ${this.buf.length}-byte buffer`);
        return false;
      }
      const grown = Buffer.allocUnsafe(want);
      this.buf.copy(grown, 0, 0, this.len);
      this.buf = grown;
    }
    return true;
  }
}

/**
 * Pull bytes with a synchronous read function (fs.readSync, or a copy out of
 * an in-memory buffer) until the end or an error. Returns bytes read.
 */
export function pumpSync(
  f: ChunkFeeder,
  read: (into: Buffer, at: number, len: number) => number,
  onProgress: ((bytesRead: number, totalBytes: number) => void) | undefined,
  totalBytes: number,
  signal: AbortSignal | undefined,
): number {
  let bytesRead = 0;
  for (;;) {
    if (signal?.aborted) return bytesRead;
    const n = read(f.buf, f.len, f.buf.length - f.len);
    f.len += n;
    bytesRead += n;
    if (onProgress !== undefined) onProgress(bytesRead, totalBytes);
    if (!f.drain(n === 0)) return bytesRead;
  }
}

/**
 * Push decompressed chunks (a zlib stream) through the feeder. The parse
 * itself stays synchronous per chunk. Returns true if the stream ended cleanly.
 */
export async function pumpAsync(
  f: ChunkFeeder,
  chunks: AsyncIterable<Buffer>,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  for await (const chunk of chunks) {
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(chunk.length - off, f.buf.length - f.len);
      chunk.copy(f.buf, f.len, off, off + n);
      f.len += n;
      off += n;
      if (f.len === f.buf.length && !f.drain(false)) return false;
    }
    if (signal?.aborted) return false;
  }
  return true;
}
