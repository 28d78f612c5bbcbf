/**
 * gzip (RFC 1952) read member by member, so damage after the compressed data
 * costs no packets. Node's Gunzip checks the trailer (CRC-32 and ISIZE) inside the
 * same engine call that produces the last output, and on a mismatch drops that
 * output with the error: a capture with a bad CRC lost its last frames (all of
 * them when small), although `gzip -dc` writes every byte before it complains.
 *
 * Here the header is parsed by hand, the deflate data goes through a raw inflate
 * (which stops at the end of the deflate stream and leaves the rest unread:
 * zlib's bytesWritten then counts the compressed bytes it consumed), the trailer
 * is checked against our own CRC-32 of the output, and what follows is either
 * another member (gzip -dc concatenates them) or trailing bytes, reported and
 * ignored as gzip does. Z_SYNC_FLUSH at the end of the input makes a cut file
 * give up every byte that decompresses instead of failing with the last ones.
 */
import { once } from 'node:events';
import { constants, crc32, createInflateRaw } from 'node:zlib';

/** Why reading stopped early or what is wrong after the data; offsets count compressed bytes. */
export interface GzipDamage {
  kind: 'truncated' | 'malformed';
  /** Offset in the compressed file where the damage is. */
  compressedOffset: number;
  detail: string;
  /**
   * Every byte before the damage was decompressed and handed on: true for damage after or
   * at the end of the deflate data. A broken deflate stream loses what the failing zlib call
   * produced, and its offset is where that call began.
   */
  allBefore: boolean;
}

const FHCRC = 2, FEXTRA = 4, FNAME = 8, FCOMMENT = 16, FRESERVED = 0xe0;

/** Compressed bytes from an async source, with read-ahead given back (unshift). */
class Bytes {
  private q: Buffer[] = [];
  private it: AsyncIterator<Buffer>;
  private done = false;
  /** Compressed offset of the next byte handed out. */
  offset = 0;
  constructor(src: AsyncIterable<Buffer>) {
    this.it = src[Symbol.asyncIterator]();
  }
  /** The next chunk (any size), or null at the end. */
  async chunk(): Promise<Buffer | null> {
    let c = this.q.shift();
    if (c === undefined) {
      if (this.done) return null;
      const r = await this.it.next();
      if (r.done) { this.done = true; return null; }
      c = r.value as Buffer;
    }
    this.offset += c.length;
    return c;
  }
  unshift(b: Buffer): void {
    if (b.length === 0) return;
    this.q.unshift(b);
    this.offset -= b.length;
  }
  /** Exactly n bytes, or fewer at the end of input. */
  async take(n: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let have = 0;
    while (have < n) {
      const c = await this.chunk();
      if (c === null) break;
      const use = Math.min(c.length, n - have);
      parts.push(c.subarray(0, use));
      this.unshift(c.subarray(use));
      have += use;
    }
    return Buffer.concat(parts, have);
  }
  /** Bytes up to and including a zero byte (FNAME, FCOMMENT); false at the end of input. */
  async skipZeroTerminated(): Promise<boolean> {
    for (;;) {
      const c = await this.chunk();
      if (c === null) return false;
      const z = c.indexOf(0);
      if (z >= 0) { this.unshift(c.subarray(z + 1)); return true; }
    }
  }
  async end(): Promise<void> {
    await this.it.return?.();
  }
}

const hex = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

/**
 * Decompress every member of a gzip stream into `onData` (which returns false to stop:
 * the parser failed). Resolves with the damage found, or null when the file is whole.
 */
export async function gunzipMembers(
  src: AsyncIterable<Buffer>, onData: (b: Buffer) => boolean, signal: AbortSignal | undefined,
): Promise<GzipDamage | null> {
  const bytes = new Bytes(src);
  let stopped = false;
  try {
    for (let member = 0; ; member++) {
      const start = bytes.offset;
      const head = await bytes.take(10);
      if (member > 0 && head.length === 0) return null;
      if (head.length < 2 || head[0] !== 0x1f || head[1] !== 0x8b) {
        // RFC 1952 2.2: members follow one another; anything else is trailing data, which gzip -dc ignores with a warning.
        let n = head.length;
        for (let c = await bytes.chunk(); c !== null; c = await bytes.chunk()) n += c.length;
        return { kind: 'malformed', compressedOffset: start, detail: `${n} bytes after the end of the gzip data are not a gzip member (ignored, as gzip -dc ignores them)`, allBefore: true };
      }
      if (head.length < 10) return { kind: 'truncated', compressedOffset: bytes.offset, detail: 'the file ends inside a gzip header', allBefore: true };
      if (head[2] !== 8) return { kind: 'malformed', compressedOffset: start + 2, detail: `gzip compression method ${head[2]}, not deflate (8)`, allBefore: true };
      const flg = head[3];
      if (flg & FRESERVED) return { kind: 'malformed', compressedOffset: start + 3, detail: `gzip header flags 0x${flg.toString(16)} set reserved bits`, allBefore: true };
      if (flg & FEXTRA) {
        const xl = await bytes.take(2);
        const xlen = xl.length === 2 ? xl.readUInt16LE(0) : 0;
        if (xl.length < 2 || (await bytes.take(xlen)).length < xlen) return { kind: 'truncated', compressedOffset: bytes.offset, detail: 'the file ends inside a gzip header', allBefore: true };
      }
      if ((flg & FNAME) && !(await bytes.skipZeroTerminated())) return { kind: 'truncated', compressedOffset: bytes.offset, detail: 'the file ends inside a gzip header', allBefore: true };
      if ((flg & FCOMMENT) && !(await bytes.skipZeroTerminated())) return { kind: 'truncated', compressedOffset: bytes.offset, detail: 'the file ends inside a gzip header', allBefore: true };
      if ((flg & FHCRC) && (await bytes.take(2)).length < 2) return { kind: 'truncated', compressedOffset: bytes.offset, detail: 'the file ends inside a gzip header', allBefore: true };

      const deflateStart = bytes.offset;
      const inflate = createInflateRaw({ chunkSize: 256 * 1024, finishFlush: constants.Z_SYNC_FLUSH });
      let crc = 0;
      let size = 0;
      let failure: Error | null = null;
      inflate.on('data', (d: Buffer) => {
        if (stopped) return;
        crc = crc32(d, crc);
        size += d.length;
        if (!onData(d)) { stopped = true; inflate.destroy(); }
      });
      const finished = new Promise<void>((resolve) => {
        inflate.once('end', resolve);
        inflate.once('close', resolve);
        inflate.once('error', (e) => { failure = e; resolve(); });
      });
      const onAbort = (): void => { stopped = true; inflate.destroy(); };
      signal?.addEventListener('abort', onAbort, { once: true });
      let written = 0;
      let ended = false;
      try {
        for (let c = await bytes.chunk(); c !== null; c = await bytes.chunk()) {
          if (stopped || failure !== null) break;
          written += c.length;
          // A write whose data breaks the inflate never calls back: the error (or close) ends the wait.
          await Promise.race([new Promise<void>((resolve) => inflate.write(c, () => resolve())), finished]);
          if (stopped || failure !== null) break;
          // zlib left input unread: the deflate stream ended inside this chunk.
          if (inflate.bytesWritten < written) {
            bytes.unshift(c.subarray(c.length - (written - inflate.bytesWritten)));
            ended = true;
            break;
          }
        }
        if (!stopped && failure === null) inflate.end();
        await finished;
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
      if (stopped) return null;
      if (failure !== null) {
        return { kind: 'malformed', compressedOffset: deflateStart + inflate.bytesWritten, detail: `gzip decompression failed: ${(failure as Error).message}`, allBefore: false };
      }
      if (!ended) return { kind: 'truncated', compressedOffset: bytes.offset, detail: 'the gzip data ends early (compressed file cut short)', allBefore: true };
      const trailerAt = bytes.offset;
      const trailer = await bytes.take(8);
      if (trailer.length < 8) return { kind: 'truncated', compressedOffset: trailerAt, detail: `the file ends inside the gzip trailer (${trailer.length} of its 8 bytes)`, allBefore: true };
      const wantCrc = trailer.readUInt32LE(0), wantSize = trailer.readUInt32LE(4);
      if (wantCrc !== (crc >>> 0) || wantSize !== size % 2 ** 32) {
        return {
          kind: 'malformed', compressedOffset: trailerAt,
          detail: `the gzip trailer says CRC-32 ${hex(wantCrc)} and length ${wantSize}; the data decompressed to ${size} bytes with CRC-32 ${hex(crc)}`,
          allBefore: true,
        };
      }
    }
  } finally {
    await bytes.end();
  }
}
