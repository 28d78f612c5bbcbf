import { existsSync } from 'node:fs';
import { undecodable } from '../decode/reasons.js';
import { CaptureError, ExitError } from '../errors.js';
import { PacketFilter, type FilterSpec } from '../flows/filter.js';
import { ingestPoint, type IngestResult } from '../flows/ingest.js';
import { assignAttempts } from '../flows/attempts.js';
import { collectGarbage } from '../heap.js';
import { phase } from './phases.js';
import { captureName, Store, storeFault } from '../flows/store.js';
import { progressLine } from './progress.js';
import { setStreamReading, stopSignal, throwIfInterrupted } from './signals.js';
import { isRegularFile, planSources } from './sources.js';

export interface Ingested {
  store: Store;
  results: IngestResult[];
  /** Errors of captures that could not be read whole; results up to each error are in the store. */
  errors: CaptureError[];
  /** Capture points in which no frame could be decoded (nothing but unsupported link types, unknown EtherTypes...). */
  undecoded: string[];
}

export interface StoreSettings {
  timeWaitS: number;
  /** Client ephemeral port range (analyze only). */
  portRange?: [number, number];
}

/**
 * The settings a kept store was made with, where the command line did not set them: a re-run
 * of `analyze --db` must not silently analyse with other assumptions than its ingest.
 */
export function storedSettings(store: Store): Partial<StoreSettings> {
  const tw = store.getSetting('time_wait_usec');
  const lo = store.getSetting('port_lo');
  const hi = store.getSetting('port_hi');
  return {
    ...(tw !== undefined ? { timeWaitS: Number(tw) / 1e6 } : {}),
    ...(lo !== undefined && hi !== undefined ? { portRange: [Number(lo), Number(hi)] as [number, number] } : {}),
  };
}

/**
 * A mistyped file name is one line and exit 3 before anything is read, not a report of nothing.
 * ("-" is standard input.)
 */
export function assertCapturesExist(files: string[]): void {
  for (const f of files) {
    if (f === '-') continue;
    if (!existsSync(f)) throw new ExitError(3, `${f}: no such file`);
  }
}

export interface SourceOptions extends FilterSpec {
  /** --point NAME=FILE,... */
  point?: string[];
}

const say = (level: string, line: string): void => { process.stderr.write(`tcpdiag: ${level}: ${line}\n`); };

/** What a signal leaves behind, for the one line cli.ts prints. */
export function keptByStore(db: string | undefined): string {
  return db === undefined
    ? 'the temporary store was removed'
    : `${db} keeps the captures read so far; one stopped part way is marked interrupted there`;
}

/**
 * Build (or open) the store for a command: read the captures given, or open --db alone.
 * On any failure the store is closed (a temporary one removed) before the error goes on,
 * with store faults (disk full, read-only, locked) turned into one line.
 */
export async function openOrIngest(files: string[], db: string | undefined, settings: StoreSettings, src: SourceOptions = {}, readOnly = false): Promise<Ingested> {
  const timeWaitSec = settings.timeWaitS;
  const points = src.point ?? [];
  if (files.length === 0 && points.length === 0) {
    if (db === undefined) throw new ExitError(2, 'give a capture file, or --db with a store made earlier');
    const existing = Store.openExisting(db, readOnly);
    try {
      existing.index();
    } catch (e) {
      existing.abandon();
      throw storeFault(e, existing.label) ?? e;
    }
    return { store: existing, results: [], errors: [], undecoded: [] };
  }
  const filter = PacketFilter.from(src);
  const store = Store.open(db);
  const results: IngestResult[] = [];
  const errors: CaptureError[] = [];
  const undecoded: string[] = [];
  try {
    store.setSetting('time_wait_usec', timeWaitSec * 1e6);
    if (settings.portRange) { store.setSetting('port_lo', settings.portRange[0]); store.setSetting('port_hi', settings.portRange[1]); }
    const known = store.piecesByHash();
    const plan = await planSources(files, points, known);
    phase('plan');
    for (const w of plan.warnings) say('warning', w);
    for (const n of plan.notes) say('note', n);
    // While standard input is read, the first Ctrl-C lets the producer (tcpdump -w -) close the pipe (signals.ts).
    setStreamReading(plan.points.some((p) => p.paths.includes('-')));
    const seen = new Map<string, string>();
    for (const point of plan.points) {
      let progress = progressLine(point.paths[0]);
      const r = await ingestPoint(store, point.paths, {
        timeWaitUsec: timeWaitSec * 1e6, onProgress: (b, t) => progress.update(b, t), filter, grouping: point.grouping, name: point.name,
        signal: stopSignal, onPiece: (p) => { progress.done(); progress = progressLine(p); },
        // Hashes are for a kept store (later runs) and for comparing a stream with the other files of this run.
        hash: db !== undefined || plan.points.length > 1, scanned: plan.scanned,
      });
      progress.done();
      // A stream could not be hashed before reading it: a duplicate is dropped now.
      const single = r.pieces.length === 1 ? r.pieces[0] : null;
      const sha = single?.sha256 ?? null;
      const dupOf = single !== null && sha !== null && single.info.frames > 0 ? known.get(sha)?.path ?? seen.get(sha) : undefined;
      if (single !== null && sha !== null && dupOf !== undefined && single.info.source !== 'file') {
        store.removeCapture(r.captureId);
        say('warning', `${captureName(point.paths[0])} has the same content as ${dupOf} (SHA-256 ${sha.slice(0, 12)}); ${known.has(sha) ? 'already in the store, not added again' : 'read once'}`);
        continue;
      }
      for (const p of r.pieces) if (p.sha256 !== null) seen.set(p.sha256, p.info.path);
      results.push(r);
      for (const p of r.pieces) if (p.info.error) errors.push(p.info.error);
      if (r.info.frames > 0 && r.info.tcpPackets === 0 && nothingDecoded(r.info.skipped)) undecoded.push(captureName(point.paths[0]));
      if (r.filteredPackets > 0) say('note', `${captureName(point.paths[0])}: ${r.filteredPackets} of ${r.info.tcpPackets} TCP packets left out by ${filter!.text}`);
      if (r.interrupted) break;
    }
    setStreamReading(false);
    throwIfInterrupted(keptByStore(db));
    phase('read');
    collectGarbage();
    store.index();
    phase('indexes');
    assignAttempts(store.db);
    phase('attempts');
  } catch (e) {
    setStreamReading(false);
    const fault = storeFault(e, store.label);
    // A signal's cleanup writes nothing more; a store fault must not try to write again.
    if (fault !== null) store.abandon();
    else {
      try { store.close(); } catch { store.abandon(); }
    }
    throw fault ?? e;
  }
  return { store, results, errors, undecoded };
}

/** No TCP packet, and frames that could not be decoded (not merely IP that is not TCP). */
export function nothingDecoded(skipped: Record<string, number>): boolean {
  const reasons = Object.keys(skipped);
  return reasons.some(undecodable) && reasons.every((r) => undecodable(r) || r === 'non-packet-block');
}

/** Print each capture error as one line, with the warning that results stop there. */
export function reportCaptureErrors(errors: CaptureError[]): void {
  for (const e of errors) {
    process.stderr.write(`tcpdiag: ${e.message}\n`);
    process.stderr.write(`tcpdiag: warning: ${e.path} was read only up to ${e.decompressed ? 'decompressed ' : ''}byte offset ${e.byteOffset}; results cover the packets before it\n`);
  }
}

/** Names of the captures in the store that a stopped run left part way (captures.status). */
export function interruptedCaptures(store: Store): string[] {
  return store.db.prepare("SELECT name FROM captures WHERE status <> 'complete' ORDER BY id").pluck().all() as string[];
}

/** One line per interrupted capture; exit 3 follows, as for a capture read only in part. */
export function reportInterrupted(names: string[], label: string): void {
  for (const n of names) process.stderr.write(`tcpdiag: warning: ${label}: ${n} was not read to the end (the run reading it was interrupted); results cover the connections written before\n`);
}

/** One line per capture point in which nothing could be decoded (exit 3, as for an unreadable capture). */
export function reportUndecoded(names: string[], results: IngestResult[]): void {
  for (const n of names) {
    const r = results.find((x) => captureName(x.info.path) === n || x.pieces.some((p) => captureName(p.info.path) === n));
    const why = r ? Object.entries(r.info.skipped).map(([k, v]) => `${k} ${v}`).join(', ') : '';
    process.stderr.write(`tcpdiag: ${n}: nothing decoded: ${r?.info.frames ?? 0} frames, none of them TCP that tcpdiag can decode (${why})\n`);
  }
}
