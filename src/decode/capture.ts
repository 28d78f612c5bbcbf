/**
 * readCapture: open a capture (pcap or pcapng; plain, gzip or zstd; a file or a stream), read it in
 * chunks and hand every TCP packet to a callback. Bad input never rejects:
 * the CaptureError lands in info.error after every packet before it has been
 * delivered (src/decode/index.ts states the contract).
 */
import * as fs from 'node:fs';
import { Readable } from 'node:stream';
import { CaptureError } from '../errors.js';
import { Socket } from 'node:net';
import { ChunkFeeder, CHUNK_BYTES, PrefetchPump, pumpAsync } from './chunk.js';
import { captureChunks, compressionOf, DecompressError, type Compression } from './decompress.js';
import { gunzipMembers } from './gzip.js';
import type { ClockFacts } from './clock.js';
import type { TcpPacket } from './packet.js';
import { F_PCAP, F_PCAPNG, RecordParser, type InterfaceInfo, type OnRecord } from './parser.js';

export type { OnRecord, InterfaceInfo };

export interface ReadOptions {
  /** Every record, before decoding: raw bytes b[at, at+capLen), valid during the call. */
  onRecord?: OnRecord;
  /** Called once per chunk read: bytes read from the file so far and its size (0 if unknown). */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Stop reading at the next chunk boundary; info.aborted is then true. */
  signal?: AbortSignal;
  /** Chunk size (tests use small ones to exercise records split across chunks). */
  chunkBytes?: number;
  /** Every chunk of capture bytes (decompressed), in order: for a content hash. */
  onCaptureBytes?: (b: Uint8Array) => void;
  /** Frames already numbered before this file (the earlier pieces of a rotated set). */
  firstFrame?: number;
}

export interface CaptureInfo {
  path: string;
  /** A regular file, or a stream (standard input, a FIFO or process substitution, a device). */
  source: SourceKind;
  /** null when the format could not be recognised. */
  format: 'pcap' | 'pcapng' | null;
  compression: Compression;
  /** zstd: the window its first frame needs (decompress.ts zstdWindowBytes); null otherwise. */
  zstdWindowBytes: number | null;
  /** Classic pcap: one entry; pcapng: one per section, in order. */
  byteOrders: ('le' | 'be')[];
  /** Classic pcap timestamp unit; pcapng: per interface in `interfaces`. */
  tsResolution: 'us' | 'ns' | null;
  /** pcap: "2.4"; pcapng: null. */
  version: string | null;
  snapLen: number | null;
  /** Link types of the file header or of every interface, in order of appearance. */
  linkTypes: number[];
  interfaces: InterfaceInfo[];
  /** Records numbered as Wireshark numbers frames (this file's; numbering starts after firstFrame). */
  frames: number;
  tcpPackets: number;
  firstTsUsec: number | null;
  lastTsUsec: number | null;
  /** Steps of the clock no elapsed time explains, and frames dated past exact µs (clock.ts). */
  clock: ClockFacts;
  /** Frames not delivered, by reason ('non-ip', 'linktype:258', 'ipv4-fragment', ...). */
  skipped: Record<string, number>;
  /** Records whose captured length is below the original length (snaplen). */
  truncatedPackets: number;
  /** Bytes read from the file or stream (compressed bytes for gzip and zstd). */
  bytesRead: number;
  /** Capture bytes read (after decompression). */
  captureBytes: number;
  aborted: boolean;
  error: CaptureError | null;
}

/** What reading a stream told of its compression. */
interface Compressed { compression: Compression; zstdWindowBytes: number | null }
const PLAIN: Compressed = { compression: null, zstdWindowBytes: null };

function info(p: RecordParser, path: string, source: SourceKind, c: Compressed, bytesRead: number, captureBytes: number, aborted: boolean): CaptureInfo {
  const pcap = p.format === F_PCAP;
  return {
    path,
    source,
    format: pcap ? 'pcap' : p.format === F_PCAPNG ? 'pcapng' : null,
    compression: c.compression,
    zstdWindowBytes: c.zstdWindowBytes,
    byteOrders: pcap ? [p.le ? 'le' : 'be'] : [...p.sectionOrders],
    tsResolution: pcap ? (p.nsec ? 'ns' : 'us') : null,
    version: pcap ? `${p.versionMajor}.${p.versionMinor}` : null,
    snapLen: pcap ? p.snapLen : null,
    linkTypes: [...p.linkTypes],
    interfaces: p.interfaces(),
    frames: p.frame - p.firstFrame,
    tcpPackets: p.dec.tcpPackets,
    firstTsUsec: p.hasTs ? p.firstTsUsec : null,
    lastTsUsec: p.hasTs ? p.lastTsUsec : null,
    clock: p.clock.facts(),
    skipped: p.dec.skipped(),
    truncatedPackets: p.truncatedPackets,
    bytesRead,
    captureBytes,
    aborted,
    error: p.error,
  };
}

function errnoDetail(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case 'ENOENT': return 'no such file';
    case 'EISDIR': return 'is a directory, not a capture file';
    case 'EACCES': case 'EPERM': return 'permission denied';
    default: return err.message ?? String(e);
  }
}

/** Where a capture comes from: a regular file is read by offset, anything else as a stream. */
export type SourceKind = 'file' | 'stdin' | 'fifo' | 'device' | 'socket';

/** The name a capture read from standard input goes by in messages and reports. */
export const STDIN_NAME = 'stdin';

/**
 * Run a stream (a pipe, a FIFO, a compressed file) through the parser: its
 * compression is told by magic, then chunks go through a ChunkFeeder.
 * Returns the compression; errors of the source or of decompression become
 * CaptureErrors at the pending record (results before it are kept).
 */
async function readStream(
  p: RecordParser, f: ChunkFeeder, source: AsyncIterable<Buffer>, opts: ReadOptions, totalBytes: number, raw: { bytes: number },
): Promise<Compressed> {
  let compression: Compressed = PLAIN;
  // Stop now on abort, not at the next chunk: a pipe may stay silent for as long as its producer likes.
  const stop = (): void => { (source as Readable).destroy?.(); };
  opts.signal?.addEventListener('abort', stop, { once: true });
  try {
    const s = await captureChunks(source, (n) => { raw.bytes += n; opts.onProgress?.(raw.bytes, totalBytes); });
    compression = { compression: s.compression, zstdWindowBytes: s.zstdWindow };
    if (s.compression === 'gzip') {
      await readGzip(p, f, s.raw, opts.signal, opts.onCaptureBytes);
      return compression;
    }
    const chunks = opts.onCaptureBytes === undefined ? s.chunks : tap(s.chunks, opts.onCaptureBytes);
    if (await pumpAsync(f, chunks, opts.signal)) f.drain(true);
  } catch (e) {
    if (opts.signal?.aborted === true) {
      f.drain(false); // what was whole before the interrupt; the record in progress is dropped
    } else if (e instanceof DecompressError) {
      f.drain(false);
      p.fail(e.cut ? 'truncated' : 'malformed', f.base, e.message);
    } else if (e instanceof Error && typeof (e as NodeJS.ErrnoException).syscall === 'string') {
      f.drain(false);
      p.fail('unreadable', f.base + f.len, errnoDetail(e));
    } else throw e;
  } finally {
    opts.signal?.removeEventListener('abort', stop);
  }
  return compression;
}

/**
 * Run a gzip stream through the parser (gzip.ts reads it member by member). Damage in
 * the gzip layer becomes a CaptureError at the decompressed offset reached, after every
 * byte that decompressed has been parsed; its detail gives the compressed offset.
 */
async function readGzip(p: RecordParser, f: ChunkFeeder, source: AsyncIterable<Buffer>, signal: AbortSignal | undefined, onCaptureBytes: ((b: Uint8Array) => void) | undefined): Promise<void> {
  const onData = (chunk: Buffer): boolean => {
    onCaptureBytes?.(chunk);
    return f.push(chunk);
  };
  const damage = await gunzipMembers(source, onData, signal);
  if (p.error !== null) return;
  // Stopped: parse the whole records decompressed so far, as a plain capture's read stops at a chunk.
  if (signal?.aborted) { f.drain(false); return; }
  if (damage === null) {
    f.drain(true);
  } else {
    // Every whole record that decompressed is parsed; the damage is reported at the first byte left.
    f.drain(false);
    if (p.error === null) {
      p.fail(damage.kind, f.base, `${damage.detail} (${damage.allBefore
        ? `at compressed byte offset ${damage.compressedOffset}; every byte before it was decompressed and read`
        : `in the compressed data after byte offset ${damage.compressedOffset}`})`);
    }
  }
  const err = p.error as CaptureError | null;
  if (err !== null) p.error = err.inDecompressed();
}

async function* tap(chunks: AsyncIterable<Buffer>, fn: (b: Uint8Array) => void): AsyncGenerator<Buffer> {
  for await (const c of chunks) { fn(c); yield c; }
}

/**
 * Read a capture file; `-` is standard input. A regular file is read by offset
 * (double-buffered, PrefetchPump); a pipe, FIFO (`<(...)`, /dev/stdin), device
 * or compressed file as a stream, never seeked and never sized by stat.
 * Resolves for every input; rejects only if a callback throws.
 */
export async function readCapture(path: string, onTcp: (p: TcpPacket) => void, opts: ReadOptions = {}): Promise<CaptureInfo> {
  const stdin = path === '-';
  const name = stdin ? STDIN_NAME : path;
  const p = new RecordParser(name, onTcp, opts.onRecord ?? null, opts.firstFrame ?? 0);
  const done = (kind: SourceKind, compression: Compressed, bytesRead: number, captureBytes: number): CaptureInfo =>
    info(p, name, kind, compression, bytesRead, captureBytes, opts.signal?.aborted ?? false);
  if (stdin) {
    const f = new ChunkFeeder(p, opts.chunkBytes ?? CHUNK_BYTES);
    const raw = { bytes: 0 };
    // process.stdin, not fs reads on fd 0: libuv reads a pipe or socket without
    // blocking a pool thread and copes with a non-blocking fd (EAGAIN); a file
    // redirected with `<` comes as a file stream.
    const src = process.stdin;
    try {
      const compression = await readStream(p, f, src, opts, 0, raw);
      return done('stdin', compression, raw.bytes, f.base + f.len);
    } finally {
      src.pause();
      src.destroy();
    }
  }
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (e) {
    p.fail('unreadable', 0, errnoDetail(e));
    return done('file', PLAIN, 0, 0);
  }
  let st: fs.Stats;
  try {
    st = fs.fstatSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    p.fail('unreadable', 0, errnoDetail(e));
    return done('file', PLAIN, 0, 0);
  }
  if (st.isDirectory()) {
    fs.closeSync(fd);
    p.fail('unreadable', 0, 'is a directory, not a capture file');
    return done('file', PLAIN, 0, 0);
  }
  const kind: SourceKind = st.isFile() ? 'file' : st.isFIFO() ? 'fifo' : st.isSocket() ? 'socket' : 'device';
  if (kind !== 'file' || compressedFile(fd)) {
    // A stream from here on: the fd is read in order, whatever it is.
    const f = new ChunkFeeder(p, opts.chunkBytes ?? CHUNK_BYTES);
    const raw = { bytes: 0 };
    // A pipe or socket is read by libuv, not on the thread pool: a pool read that waits for a
    // writer would also hold up the process's exit on a signal.
    const src = kind === 'fifo' || kind === 'socket'
      ? new Socket({ fd, readable: true, writable: false })
      : fs.createReadStream('', { fd, autoClose: true, highWaterMark: 1024 * 1024 });
    try {
      const compression = await readStream(p, f, src, opts, kind === 'file' ? st.size : 0, raw);
      return done(kind, compression, raw.bytes, f.base + f.len);
    } finally {
      src.destroy();
    }
  }
  const pump = new PrefetchPump(p, opts.chunkBytes ?? CHUNK_BYTES, opts.onCaptureBytes);
  try {
    const read = (into: Buffer, at: number, len: number): Promise<number> => new Promise((resolve, reject) => {
      fs.read(fd, into, at, len, null, (e, n) => { if (e) reject(e); else resolve(n); });
    });
    await pump.run(read, opts.onProgress, st.size, opts.signal);
  } catch (e) {
    if (!(e instanceof Error) || !('code' in e) || typeof (e as NodeJS.ErrnoException).syscall !== 'string') throw e;
    p.fail('unreadable', pump.bytesRead, errnoDetail(e));
  } finally {
    fs.closeSync(fd);
  }
  return done('file', PLAIN, pump.bytesRead, pump.bytesRead);
}

/** A regular file's first bytes say gzip or zstd (read at offset 0, which a regular file allows). */
function compressedFile(fd: number): boolean {
  const head = Buffer.alloc(4);
  const n = fs.readSync(fd, head, 0, 4, 0);
  return compressionOf(head, n) !== null;
}

/**
 * The same reader over bytes already in memory (tests, fuzzing): chunking,
 * gzip, zstd and every error path behave as for a file.
 */
export async function readCaptureBytes(
  bytes: Uint8Array, onTcp: (p: TcpPacket) => void, opts: ReadOptions & { name?: string } = {},
): Promise<CaptureInfo> {
  const path = opts.name ?? '<bytes>';
  const p = new RecordParser(path, onTcp, opts.onRecord ?? null, opts.firstFrame ?? 0);
  const src = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (compressionOf(src, src.length) !== null) {
    const f = new ChunkFeeder(p, opts.chunkBytes ?? CHUNK_BYTES);
    const raw = { bytes: 0 };
    const compression = await readStream(p, f, Readable.from([src]), opts, src.length, raw);
    return info(p, path, 'file', compression, src.length, f.base + f.len, opts.signal?.aborted ?? false);
  }
  let pos = 0;
  const read = (into: Buffer, at: number, len: number): Promise<number> => {
    const n = Math.min(len, src.length - pos);
    src.copy(into, at, pos, pos + n);
    pos += n;
    return Promise.resolve(n);
  };
  const pump = new PrefetchPump(p, opts.chunkBytes ?? CHUNK_BYTES, opts.onCaptureBytes);
  await pump.run(read, opts.onProgress, src.length, opts.signal);
  return info(p, path, 'file', PLAIN, pump.bytesRead, pump.bytesRead, opts.signal?.aborted ?? false);
}
