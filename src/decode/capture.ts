/**
 * readCapture: open a capture (pcap or pcapng, plain or gzip), read it in
 * chunks and hand every TCP packet to a callback. Bad input never rejects:
 * the CaptureError lands in info.error after every packet before it has been
 * delivered (src/decode/index.ts states the contract).
 */
import * as fs from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { CaptureError } from '../errors.js';
import { ChunkFeeder, CHUNK_BYTES, PrefetchPump, pumpAsync } from './chunk.js';
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

/** Run a gzip stream through the parser; zlib errors become CaptureErrors at the pending record. */
async function readGzip(p: RecordParser, f: ChunkFeeder, source: Readable, signal: AbortSignal | undefined): Promise<void> {
  const gunzip = createGunzip({ chunkSize: 256 * 1024 });
  source.on('error', (e) => gunzip.destroy(e));
  source.pipe(gunzip);
  try {
    if (await pumpAsync(f, gunzip, signal)) f.drain(true);
  } catch (e) {
    f.drain(false);
    const err = e as NodeJS.ErrnoException;
    const cut = err.code === 'Z_BUF_ERROR' || /unexpected end/i.test(err.message ?? '');
    p.fail(cut ? 'truncated' : 'malformed', f.base, cut
      ? 'the gzip data ends early (compressed file cut short)'
      : `gzip decompression failed: ${errnoDetail(e)}`);
  } finally {
    source.unpipe(gunzip);
    source.destroy();
    gunzip.destroy();
  }
}

/** Read a capture file. Resolves for every input; rejects only if a callback throws. */
export async function readCapture(path: string, onTcp: (p: TcpPacket) => void, opts: ReadOptions = {}): Promise<CaptureInfo> {
  const p = new RecordParser(path, onTcp, opts.onRecord ?? null);
  let fd: number;
  let size = 0;
  try {
    fd = fs.openSync(path, 'r');
  } catch (e) {
    p.fail('unreadable', 0, errnoDetail(e));
    return info(p, path, false, 0, 0, false);
  }
  // gzip goes through a ChunkFeeder, anything else through the PrefetchPump.
  let f: ChunkFeeder | null = null;
  const pump = new PrefetchPump(p, opts.chunkBytes ?? CHUNK_BYTES);
  let gzip = false;
  let bytesRead = 0;
  try {
    const st = fs.fstatSync(fd);
    if (st.isDirectory()) {
      p.fail('unreadable', 0, 'is a directory, not a capture file');
      return info(p, path, false, 0, 0, false);
    }
    size = st.isFile() ? st.size : 0;
    const head = Buffer.alloc(2);
    const n = fs.readSync(fd, head, 0, 2, 0);
    gzip = isGzip(head, n);
    if (gzip) {
      fs.closeSync(fd);
      fd = -1;
      const rs = fs.createReadStream(path, { start: 0, highWaterMark: 1024 * 1024 });
      rs.on('data', (c) => {
        bytesRead += c.length;
        opts.onProgress?.(bytesRead, size);
      });
      f = new ChunkFeeder(p, opts.chunkBytes ?? CHUNK_BYTES);
      await readGzip(p, f, rs, opts.signal);
    } else {
      const file = fd;
      const read = (into: Buffer, at: number, len: number): Promise<number> => new Promise((resolve, reject) => {
        fs.read(file, into, at, len, null, (e, n) => { if (e) reject(e); else resolve(n); });
      });
      await pump.run(read, opts.onProgress, size, opts.signal);
    }
  } catch (e) {
    if (!(e instanceof Error) || !('code' in e) || typeof (e as NodeJS.ErrnoException).syscall !== 'string') throw e;
    p.fail('unreadable', f !== null ? f.base + f.len : pump.bytesRead, errnoDetail(e));
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
  if (f === null) bytesRead = pump.bytesRead;
  return info(p, path, gzip, bytesRead, f !== null ? f.base + f.len : pump.bytesRead, opts.signal?.aborted ?? false);
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
    await readGzip(p, f, Readable.from([src]), opts.signal);
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
