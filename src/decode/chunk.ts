/**
 * A reused chunk buffer between a byte source and the record parser. The
 * parser consumes whole records; the incomplete tail is moved to the front
 * and the next read appends to it, so memory stays at one chunk whatever the
 * file size. A record bigger than the chunk grows it to fit (bounded by the
 * parser's own limits: 256 KiB for pcap records, 16 MiB for pcapng blocks).
 */
import type { RecordParser } from './parser.js';
import { MAX_PCAP_RECORD } from './pcap.js';
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

  /** Buffer a chunk, parsing each time the buffer fills. False when reading should stop (the parser failed). */
  push(chunk: Buffer): boolean {
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(chunk.length - off, this.buf.length - this.len);
      chunk.copy(this.buf, this.len, off, off + n);
      this.len += n;
      off += n;
      if (this.len === this.buf.length && !this.drain(false)) return false;
    }
    return true;
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
    if (!f.push(chunk)) return false;
    if (signal?.aborted) return false;
  }
  return true;
}

/** Asynchronous read into into[at, at+len); resolves with the bytes read, 0 at the end. */
export type ReadAsync = (into: Buffer, at: number, len: number) => Promise<number>;

/**
 * Double-buffered reader for files (and in-memory bytes, so tests take the same
 * path): the read of the next chunk runs on the libuv thread pool, on the
 * second core, while this thread parses the current one. bench/decode.mjs: the
 * readSync calls were about a tenth of a count-only decode.
 *
 * Each of the two buffers keeps `headroom` bytes in front of where reads land,
 * so the incomplete record at the end of one chunk is copied just in front of
 * the next chunk's bytes and parsing goes on without moving the chunk. A tail
 * longer than the headroom (a pcapng block bigger than a pcap record can be)
 * is joined with the new bytes in a buffer of its own.
 */
export class PrefetchPump {
  /** Bytes read from the source (also the capture bytes: no decompression here). */
  bytesRead = 0;

  constructor(readonly p: RecordParser, readonly chunkBytes = CHUNK_BYTES, readonly onBytes?: (b: Uint8Array) => void) {}

  async run(
    read: ReadAsync,
    onProgress: ((bytesRead: number, totalBytes: number) => void) | undefined,
    totalBytes: number,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const p = this.p;
    const chunk = Math.max(64, this.chunkBytes);
    // A classic pcap record (header + MAX_PCAP_RECORD) always fits in front.
    const head = Math.min(chunk, MAX_PCAP_RECORD + 16);
    const ring = [Buffer.allocUnsafe(head + chunk), Buffer.allocUnsafe(head + chunk)];
    let ri = 0;
    if (signal?.aborted) return;
    let cur = ring[ri];
    let n = await read(cur, head, chunk);
    if (this.onBytes !== undefined && n > 0) this.onBytes(cur.subarray(head, head + n));
    this.got(n, onProgress, totalBytes);
    ri ^= 1;
    let start = head;
    let end = head + n;
    let eof = n === 0;
    /** Capture offset of cur[start]. */
    let base = 0;
    for (;;) {
      if (signal?.aborted) return;
      const pending = eof ? null : read(ring[ri], head, chunk);
      let pos: number;
      try {
        p.base = base - start;
        pos = p.parse(cur, start, end, eof);
      } catch (e) {
        // A callback threw: let the read finish before the caller closes the file.
        if (pending !== null) await pending.catch(() => 0);
        throw e;
      }
      if (pending === null) return; // end of input: parse() had eof set
      n = await pending;
      if (this.onBytes !== undefined && n > 0) this.onBytes(ring[ri].subarray(head, head + n));
      this.got(n, onProgress, totalBytes);
      if (p.error !== null) return;
      if (p.need > MAX_BLOCK_BYTES) {
        // Cannot happen with the parser's own length checks; guard the loop anyway.
        p.fail('malformed', base + pos - start, `record of ${p.need} bytes is over the ${MAX_BLOCK_BYTES}-byte limit`);
        return;
      }
      base += pos - start;
      eof = n === 0;
      const tail = end - pos;
      const next = ring[ri];
      if (tail <= head) {
        cur.copy(next, head - tail, pos, end);
        cur = next;
        start = head - tail;
        end = head + n;
        ri ^= 1;
      } else {
        const joined = Buffer.allocUnsafe(tail + n);
        cur.copy(joined, 0, pos, end);
        next.copy(joined, tail, head, head + n);
        cur = joined;
        start = 0;
        end = tail + n;
      }
    }
  }

  private got(n: number, onProgress: ((bytesRead: number, totalBytes: number) => void) | undefined, totalBytes: number): void {
    this.bytesRead += n;
    if (onProgress !== undefined) onProgress(this.bytesRead, totalBytes);
  }
}
