import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { mergeClocks, readCapture, type CaptureInfo } from '../decode/index.js';
import { collectGarbage } from '../heap.js';
import type { PacketFilter } from './filter.js';
import type { CaptureGrouping, Store } from './store.js';
import { Tracker } from './tracker.js';

/** Capture bytes read between two full garbage collections (collectEvery above). */
const GC_EVERY_BYTES = 256 * 2 ** 20;

export interface IngestOptions {
  timeWaitUsec: number;
  /** Called per chunk read, for a progress line: bytes so far and total (0 when unknown). */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Narrowing applied before tracking (its counters restart per capture point). */
  filter?: PacketFilter | null;
  /** How the files form this capture point, and its name (default: the first file's name). */
  grouping?: CaptureGrouping;
  name?: string;
  /** Stop reading at the next chunk; the packets so far are kept. */
  signal?: AbortSignal;
  /** Called before each file of the point is read. */
  onPiece?: (path: string) => void;
  /** Hash each file's capture bytes (SHA-256; default true): for a kept store, or to compare with other files of the run. */
  hash?: boolean;
  /**
   * Files already read whole by the pre-pass (commands/scan.ts), with the hash it took and the
   * file's size and modification time then: such a file is not hashed again while it is read
   * when it is still the same file, and its hash is kept only if the read took in the same
   * capture bytes to the end (not stopped, the file unchanged after); otherwise NULL.
   */
  scanned?: ReadonlyMap<string, { sha256: string; size: number; mtimeMs: number; info: { captureBytes: number } }>;
}

export interface IngestResult {
  captureId: number;
  /** The point as a whole: counts summed over its files, first error, first and last time. */
  info: CaptureInfo;
  /** Each file as read, in order, with the SHA-256 of its capture bytes (decompressed). */
  pieces: { info: CaptureInfo; sha256: string | null }[];
  connections: number;
  filteredPackets: number;
  /** Reading was stopped by opts.signal before the end of the capture. */
  interrupted: boolean;
}

/**
 * Read one capture file through the tracker into the store. A damaged capture still has
 * every connection up to the damage written; the error is in info.error.
 */
export async function ingestCapture(store: Store, path: string, opts: IngestOptions): Promise<IngestResult> {
  return ingestPoint(store, [path], opts);
}

/**
 * Read the files of one capture point (the pieces of a rotated set, in time order) through
 * one tracker, so a connection that spans two files goes on in the second; frames are
 * numbered across the files and capture_pieces maps them back to each file.
 */
export async function ingestPoint(store: Store, paths: string[], opts: IngestOptions): Promise<IngestResult> {
  const captureId = store.addCapture(paths[0], opts.name, opts.grouping ?? (paths.length > 1 ? 'rotated' : 'file'));
  const tracker = new Tracker(captureId, store, { timeWaitUsec: opts.timeWaitUsec, firstId: store.maxConnId() + 1 });
  const filter = opts.filter?.fresh() ?? null;
  const onTcp = filter === null ? (p: Parameters<Tracker['onPacket']>[0]) => tracker.onPacket(p)
    : (p: Parameters<Tracker['onPacket']>[0]) => { if (filter.match(p)) tracker.onPacket(p); };
  const pieces: { info: CaptureInfo; sha256: string | null }[] = [];
  let frames = 0;
  // A full collection every GC_EVERY_BYTES read: V8 otherwise lets the heap grow through a long
  // read (on 40 M packets of long connections to 185 MB for 68 MB live) and collects late.
  let nextGc = GC_EVERY_BYTES;
  let done = 0;
  const collectEvery = (bytesRead: number): void => {
    if (done + bytesRead < nextGc) return;
    nextGc = done + bytesRead + GC_EVERY_BYTES;
    collectGarbage();
  };
  for (const path of paths) {
    if (opts.signal?.aborted) break;
    opts.onPiece?.(path);
    // SHA-256 runs at ~600 MB/s here: a few per cent of a whole analysis, done only when asked.
    const known = opts.hash === false ? undefined : opts.scanned?.get(path);
    const same = known !== undefined && sameFile(path, known);
    const hash = opts.hash === false || same ? null : createHash('sha256');
    const info = await readCapture(path, onTcp, {
      onProgress: (b, t) => { opts.onProgress?.(b, t); collectEvery(b); }, signal: opts.signal, firstFrame: frames, onCaptureBytes: hash === null ? undefined : (b) => { hash.update(b); },
    });
    const sha256 = hash !== null ? hash.digest('hex')
      : same && !info.aborted && info.captureBytes === known.info.captureBytes && sameFile(path, known) ? known.sha256 : null;
    store.addPiece(captureId, pieces.length, info, sha256, frames);
    done += info.bytesRead;
    pieces.push({ info, sha256 });
    frames += info.frames;
  }
  tracker.finish();
  const info = mergeInfos(pieces.map((x) => x.info));
  // A stopped read leaves the capture marked interrupted (captures.status).
  const interrupted = info.aborted || (opts.signal?.aborted ?? false);
  store.finishCapture(captureId, info, !interrupted);
  store.describeCapture(captureId, {
    source: info.source, sha256: pieces.length === 1 ? pieces[0].sha256 : null, filter: filter?.text ?? null, filteredPackets: filter?.dropped ?? 0,
  });
  return { captureId, info, pieces, connections: tracker.connections, filteredPackets: filter?.dropped ?? 0, interrupted };
}

function sameFile(path: string, was: { size: number; mtimeMs: number }): boolean {
  try {
    const st = statSync(path);
    return st.isFile() && st.size === was.size && st.mtimeMs === was.mtimeMs;
  } catch {
    return false;
  }
}

/** The CaptureInfo of a point from its files': the first file's header facts, counts summed. */
export function mergeInfos(infos: CaptureInfo[]): CaptureInfo {
  if (infos.length === 1) return infos[0];
  const first = infos[0];
  const skipped: Record<string, number> = {};
  for (const i of infos) for (const [k, n] of Object.entries(i.skipped)) skipped[k] = (skipped[k] ?? 0) + n;
  const sum = (f: (i: CaptureInfo) => number): number => infos.reduce((n, i) => n + f(i), 0);
  const times = infos.filter((i) => i.firstTsUsec !== null);
  return {
    ...first,
    linkTypes: [...new Set(infos.flatMap((i) => i.linkTypes))],
    interfaces: infos.flatMap((i) => i.interfaces),
    frames: sum((i) => i.frames),
    tcpPackets: sum((i) => i.tcpPackets),
    firstTsUsec: times.length ? Math.min(...times.map((i) => i.firstTsUsec!)) : null,
    lastTsUsec: times.length ? Math.max(...times.map((i) => i.lastTsUsec!)) : null,
    clock: mergeClocks(infos.map((i) => i.clock)),
    skipped,
    truncatedPackets: sum((i) => i.truncatedPackets),
    bytesRead: sum((i) => i.bytesRead),
    captureBytes: sum((i) => i.captureBytes),
    aborted: infos.some((i) => i.aborted),
    error: infos.find((i) => i.error !== null)?.error ?? null,
  };
}
