/**
 * readCapture: open a capture (pcap or pcapng, plain or gzip), read it in
 * chunks and hand every TCP packet to a callback. Bad input never rejects:
 * the CaptureError lands in info.error after every packet before it has been
 * delivered (src/decode/index.ts states the contract).
 */
import * as fs from 'node:fs';
import { CaptureError } from '../errors.js';
import { ChunkFeeder, CHUNK_BYTES, PrefetchPump, type ReadAsync } from './chunk.js';
import { Socket } from 'node:net';
import { gunzipMembers } from './gzip.js';
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
}

export interface CaptureInfo {
  path: string;
  /** null when the format could not be recognised. */
  format: 'pcap' | 'pcapng' | null;
  compression: 'gzip' | null;
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
  /** Records numbered as Wireshark numbers frames. */
  frames: number;
  tcpPackets: number;
  firstTsUsec: number | null;
  lastTsUsec: number | null;
  /** Frames not delivered, by reason ('non-ip', 'linktype:258', 'ipv4-fragment', ...). */
  skipped: Record<string, number>;
  /** Records whose captured length is below the original length (snaplen). */
  truncatedPackets: number;
  /** Bytes read from the file (compressed bytes for gzip). */
  bytesRead: number;
  /** Capture bytes read (after decompression). */
  captureBytes: number;
  aborted: boolean;
  error: CaptureError | null;
}

function info(p: RecordParser, path: string, gzip: boolean, bytesRead: number, captureBytes: number, aborted: boolean): CaptureInfo {
  const pcap = p.format === F_PCAP;
  return {
    path,
    format: pcap ? 'pcap' : p.format === F_PCAPNG ? 'pcapng' : null,
    compression: gzip ? 'gzip' : null,
    byteOrders: pcap ? [p.le ? 'le' : 'be'] : [...p.sectionOrders],
    tsResolution: pcap ? (p.nsec ? 'ns' : 'us') : null,
    version: pcap ? `${p.versionMajor}.${p.versionMinor}` : null,
    snapLen: pcap ? p.snapLen : null,
    linkTypes: [...p.linkTypes],
    interfaces: p.interfaces(),
    frames: p.frame,
    tcpPackets: p.dec.tcpPackets,
    firstTsUsec: p.hasTs ? p.firstTsUsec : null,
    lastTsUsec: p.hasTs ? p.lastTsUsec : null,
    skipped: p.dec.skipped(),
    truncatedPackets: p.truncatedPackets,
    bytesRead,
    captureBytes,
    aborted,
    error: p.error,
  };
}

const isGzip = (b: Uint8Array, n: number): boolean => n >= 2 && b[0] === 0x1f && b[1] === 0x8b;

function errnoDetail(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case 'ENOENT': return 'no such file';
    case 'EISDIR': return 'is a directory, not a capture file';
    case 'EACCES': case 'EPERM': return 'permission denied';
    default: return err.message ?? String(e);
  }
}

/**
 * Run a gzip stream through the parser (gzip.ts reads it member by member). Damage in
 * the gzip layer becomes a CaptureError at the decompressed offset reached, after every
 * byte that decompressed has been parsed; its detail gives the compressed offset.
 */
async function readGzip(p: RecordParser, f: ChunkFeeder, source: AsyncIterable<Buffer>, signal: AbortSignal | undefined): Promise<void> {
  const onData = (chunk: Buffer): boolean => {
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(chunk.length - off, f.buf.length - f.len);
      chunk.copy(f.buf, f.len, off, off + n);
      f.len += n;
      off += n;
      if (f.len === f.buf.length && !f.drain(false)) return false;
    }
    return true;
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

/** Compressed bytes of a gzip capture file, 1 MiB per read, from the fd's current position. */
async function* fileChunks(fd: number, first: Buffer, onChunk: (n: number) => void): AsyncGenerator<Buffer> {
  if (first.length > 0) { onChunk(first.length); yield first; }
  for (;;) {
    const b = Buffer.allocUnsafe(1024 * 1024);
    const n = await new Promise<number>((resolve, reject) => {
      fs.read(fd, b, 0, b.length, null, (e, k) => { if (e) reject(e); else resolve(k); });
    });
    if (n === 0) return;
    onChunk(n);
    yield b.subarray(0, n);
  }
}

/** PrefetchPump's read over chunks of a stream: each read takes what the next chunk holds. */
function streamRead(chunks: AsyncIterator<Buffer>): ReadAsync {
  let left: Buffer | null = null;
  return async (into, at, len) => {
    if (left === null || left.length === 0) {
      const r = await chunks.next();
      if (r.done) return 0;
      left = r.value;
    }
    const k = left.copy(into, at, 0, Math.min(len, left.length));
    left = left.subarray(k);
    return k;
  };
}

/** Read a capture file. Resolves for every input; rejects only if a callback throws. */
export async function readCapture(path: string, onTcp: (p: TcpPacket) => void, opts: ReadOptions = {}): Promise<CaptureInfo> {
  const p = new RecordParser(path, onTcp, opts.onRecord ?? null);
  let fd: number;
  let size = 0;
  try {
    // "-" is standard input (a pipe from tcpdump -w -, read below as a stream).
    fd = path === '-' ? 0 : fs.openSync(path, 'r');
  } catch (e) {
    p.fail('unreadable', 0, errnoDetail(e));
    return info(p, path, false, 0, 0, false);
  }
  // gzip goes through a ChunkFeeder, anything else through the PrefetchPump.
  let f: ChunkFeeder | null = null;
  const pump = new PrefetchPump(p, opts.chunkBytes ?? CHUNK_BYTES);
  let gzip = false;
  let bytesRead = 0;
  const finish = (): CaptureInfo => {
    if (f === null) bytesRead = pump.bytesRead;
    return info(p, path, gzip, bytesRead, f !== null ? f.base + f.len : pump.bytesRead, opts.signal?.aborted ?? false);
  };
  try {
    const st = fs.fstatSync(fd);
    if (st.isDirectory()) {
      p.fail('unreadable', 0, 'is a directory, not a capture file');
      return info(p, path, false, 0, 0, false);
    }
    size = st.isFile() ? st.size : 0;
    if (st.isFIFO() || st.isSocket()) {
      // A pipe (`tcpdump -w - | tcpdiag analyze /dev/stdin`) is read as a libuv stream: a read
      // on the thread pool that waits for a writer would also hold up the process's exit.
      const sock = new Socket({ fd, readable: true, writable: false });
      fd = -1; // the socket owns it now
      const stop = (): void => { sock.destroy(); };
      opts.signal?.addEventListener('abort', stop, { once: true });
      try {
        const it = (sock as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
        const firstChunk = await it.next();
        const first = firstChunk.done ? Buffer.alloc(0) : firstChunk.value as Buffer;
        const rest = async function* (): AsyncGenerator<Buffer> {
          try {
            for (let r = await it.next(); !r.done; r = await it.next()) yield r.value as Buffer;
          } catch (e) {
            // destroy() on abort ends the iteration with ERR_STREAM_PREMATURE_CLOSE: a stop, not damage.
            if (!opts.signal?.aborted) throw e;
          }
        };
        gzip = isGzip(first, first.length);
        const counted = async function* (): AsyncGenerator<Buffer> {
          for (const c of [first]) if (c.length) { bytesRead += c.length; yield c; }
          for await (const c of rest()) { bytesRead += c.length; opts.onProgress?.(bytesRead, 0); yield c; }
        };
        if (gzip) {
          f = new ChunkFeeder(p, opts.chunkBytes ?? CHUNK_BYTES);
          await readGzip(p, f, counted(), opts.signal);
        } else {
          await pump.run(streamRead(counted()), opts.onProgress, 0, opts.signal);
        }
      } finally {
        opts.signal?.removeEventListener('abort', stop);
        sock.destroy();
      }
      return finish();
    }
    // Read from the current position, never by offset, so the two bytes read to tell gzip are
    // handed on rather than read again.
    const head = Buffer.alloc(2);
    const n = fs.readSync(fd, head, 0, 2, null);
    gzip = isGzip(head, n);
    const file = fd;
    if (gzip) {
      f = new ChunkFeeder(p, opts.chunkBytes ?? CHUNK_BYTES);
      const chunks = fileChunks(file, head.subarray(0, n), (k) => {
        bytesRead += k;
        opts.onProgress?.(bytesRead, size);
      });
      await readGzip(p, f, chunks, opts.signal);
    } else {
      let first: Buffer | null = head.subarray(0, n);
      const read = (into: Buffer, at: number, len: number): Promise<number> => {
        if (first !== null && first.length > 0) {
          const k = first.copy(into, at, 0, Math.min(len, first.length));
          first = null;
          return Promise.resolve(k);
        }
        return new Promise((resolve, reject) => {
          fs.read(file, into, at, len, null, (e, k) => { if (e) reject(e); else resolve(k); });
        });
      };
      await pump.run(read, opts.onProgress, size, opts.signal);
    }
  } catch (e) {
    if (!(e instanceof Error) || !('code' in e) || typeof (e as NodeJS.ErrnoException).syscall !== 'string') throw e;
    p.fail('unreadable', f !== null ? f.base + f.len : pump.bytesRead, errnoDetail(e));
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
  return finish();
}

/**
 * The same reader over bytes already in memory (tests, fuzzing): chunking,
 * gzip and every error path behave as for a file.
 */
export async function readCaptureBytes(
  bytes: Uint8Array, onTcp: (p: TcpPacket) => void, opts: ReadOptions & { name?: string } = {},
): Promise<CaptureInfo> {
  const path = opts.name ?? '<bytes>';
  const p = new RecordParser(path, onTcp, opts.onRecord ?? null);
  const src = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isGzip(src, src.length)) {
    const f = new ChunkFeeder(p, opts.chunkBytes ?? CHUNK_BYTES);
    await readGzip(p, f, (async function* () { yield src; })(), opts.signal);
    return info(p, path, true, src.length, f.base + f.len, opts.signal?.aborted ?? false);
  }
  let pos = 0;
  const read = (into: Buffer, at: number, len: number): Promise<number> => {
    const n = Math.min(len, src.length - pos);
    src.copy(into, at, pos, pos + n);
    pos += n;
    return Promise.resolve(n);
  };
  const pump = new PrefetchPump(p, opts.chunkBytes ?? CHUNK_BYTES);
  await pump.run(read, opts.onProgress, src.length, opts.signal);
  return info(p, path, false, pump.bytesRead, pump.bytesRead, opts.signal?.aborted ?? false);
}
