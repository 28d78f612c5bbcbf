/**
 * Decompressed chunks of a byte stream whose compression is told by its first
 * bytes (gzip RFC 1952 §2.3.1: 1f 8b; zstd RFC 8878 §3.1.1: magic 0xFD2FB528
 * little-endian), so a capture piped in (`tcpdump -w - | gzip | tcpdiag analyze -`)
 * is read the same way as a file, without a seek. Chunks are pulled one at a
 * time, so a slow consumer slows the source (memory stays at a few chunks).
 */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

export type Compression = 'gzip' | 'zstd' | null;

/** Compressed bytes handed to fzstd per push (see unzstd). */
const ZSTD_SLICE = 64 * 1024;

export function compressionOf(b: Uint8Array, n: number): Compression {
  if (n >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (n >= 4 && b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd) return 'zstd';
  return null;
}

/**
 * The window a zstd frame needs to be decoded, from its header (RFC 8878 §3.1.1.1): the
 * Window_Descriptor (2^(10 + exponent) plus mantissa eighths of it), or the content size for
 * a single-segment frame. null when `b` does not start with a whole zstd frame header. libzstd
 * decodes at most 128 MiB windows by default (ZSTD_WINDOWLOG_LIMIT_DEFAULT), and programs that
 * keep the default refuse larger ones ("Frame requires too much memory for decoding").
 */
export function zstdWindowBytes(b: Uint8Array, n: number): number | null {
  if (compressionOf(b, n) !== 'zstd' || n < 5) return null;
  const fhd = b[4];
  const fcsFlag = fhd >> 6;
  const single = (fhd & 0x20) !== 0;
  if (!single) {
    if (n < 6) return null;
    const exp = b[5] >> 3;
    const base = 2 ** (10 + exp);
    return base + (base / 8) * (b[5] & 7);
  }
  // Single segment: no window descriptor; the window is the frame content size.
  const at = 5 + [0, 1, 2, 4][fhd & 3];
  const size = [1, 2, 4, 8][fcsFlag];
  if (n < at + size) return null;
  let v = 0;
  for (let i = size - 1; i >= 0; i--) v = v * 256 + b[at + i];
  return size === 2 ? v + 256 : v;
}

/** Bytes enough for any zstd frame header's window: magic, descriptor, window, dictionary id (4), content size (8). */
const ZSTD_HEADER_MAX = 18;

/** Why decompression stopped: the data ended early, or it is not valid. */
export class DecompressError extends Error {
  constructor(readonly cut: boolean, message: string) {
    super(message);
  }
}

/** The first chunks of `it` until at least `want` bytes (or its end), joined, and the iterator to go on with. */
export async function peek(it: AsyncIterator<Buffer>, want: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  while (n < want) {
    const r = await it.next();
    if (r.done === true) break;
    const c = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
    parts.push(c);
    n += c.length;
  }
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

async function* prepend(head: Buffer, it: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  if (head.length > 0) yield head;
  for (;;) {
    const r = await it.next();
    if (r.done === true) return;
    yield Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
  }
}

/** gzip through zlib (several members, as gunzip reads them). */
async function* gunzip(src: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const z = createGunzip({ chunkSize: 256 * 1024 });
  const input = Readable.from(src);
  input.on('error', (e) => z.destroy(e));
  input.pipe(z);
  try {
    for await (const c of z) yield c as Buffer;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const cut = err.code === 'Z_BUF_ERROR' || /unexpected end/i.test(err.message ?? '');
    throw new DecompressError(cut, cut ? 'the gzip data ends early (compressed file cut short)' : `gzip decompression failed: ${err.message}`);
  } finally {
    input.unpipe(z);
    input.destroy();
    z.destroy();
  }
}

/**
 * zstd through fzstd (pure JavaScript; Node 20's zlib has no zstd). It
 * decodes block by block (at most 128 KiB each, RFC 8878 §3.1.1.2.4) and keeps
 * the frame's window, so memory is bounded by the window size, not the file.
 */
async function* unzstd(src: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  // Loaded only for zstd input: every other read starts without it.
  const { Decompress } = await import('fzstd');
  let out: Uint8Array[] = [];
  const d = new Decompress((chunk) => { out.push(chunk); });
  const fail = (e: unknown): DecompressError => {
    const code = (e as { code?: number }).code;
    // fzstd ZstdErrorCode.UnexpectedEOF = 5: the input ended inside a frame.
    return code === 5
      ? new DecompressError(true, 'the zstd data ends early (compressed file cut short)')
      : new DecompressError(false, `zstd decompression failed: ${(e as Error).message ?? String(e)}`);
  };
  for await (const c of src) {
    // At most ZSTD_SLICE compressed bytes per push: a push decodes every block it completes at
    // once, and 1 MiB of a well-compressed capture is some 30 MiB of output held at a time.
    for (let at = 0; at < c.length; at += ZSTD_SLICE) {
      try { d.push(c.subarray(at, Math.min(at + ZSTD_SLICE, c.length))); } catch (e) { throw fail(e); }
      for (const o of out) yield Buffer.from(o.buffer, o.byteOffset, o.byteLength);
      out = [];
    }
  }
  try { d.push(new Uint8Array(0), true); } catch (e) { throw fail(e); }
  for (const o of out) yield Buffer.from(o.buffer, o.byteOffset, o.byteLength);
}

/**
 * The capture bytes of a stream: its compression from the first bytes, and the
 * decompressed chunks. `onRaw` sees every chunk as read (compressed), for progress.
 */
export async function captureChunks(
  source: AsyncIterable<Buffer>, onRaw?: (n: number) => void,
): Promise<{ compression: Compression; zstdWindow: number | null; chunks: AsyncIterable<Buffer>; raw: AsyncIterable<Buffer> }> {
  const counted = onRaw === undefined ? source : (async function* () {
    for await (const c of source) { onRaw(c.length); yield c; }
  })();
  const it = counted[Symbol.asyncIterator]();
  let head = await peek(it, 4);
  const compression = compressionOf(head, head.length);
  // The first frame's window (frames concatenated later, as pzstd writes them, are not looked at).
  if (compression === 'zstd' && head.length < ZSTD_HEADER_MAX) head = Buffer.concat([head, await peek(it, ZSTD_HEADER_MAX - head.length)]);
  const zstdWindow = compression === 'zstd' ? zstdWindowBytes(head, head.length) : null;
  const raw = prepend(head, it);
  // gzip: `raw` for readers that check each member themselves (capture.ts, via gzip.ts).
  return { compression, zstdWindow, chunks: compression === 'gzip' ? gunzip(raw) : compression === 'zstd' ? unzstd(raw) : raw, raw };
}
