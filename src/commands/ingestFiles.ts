import { existsSync } from 'node:fs';
import { CaptureError, ExitError } from '../errors.js';
import { assignAttempts } from '../flows/attempts.js';
import { ingestCapture, type IngestResult } from '../flows/ingest.js';
import { Store, storeFault } from '../flows/store.js';
import { progressLine } from './progress.js';
import { stopSignal, throwIfInterrupted } from './signals.js';

export interface Ingested {
  store: Store;
  results: IngestResult[];
  /** Errors of captures that could not be read whole; results up to each error are in the store. */
  errors: CaptureError[];
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
export async function openOrIngest(files: string[], db: string | undefined, settings: StoreSettings, readOnly = false): Promise<Ingested> {
  const timeWaitSec = settings.timeWaitS;
  if (files.length === 0) {
    if (db === undefined) throw new ExitError(2, 'give a capture file, or --db with a store made earlier');
    const existing = Store.openExisting(db, readOnly);
    try {
      existing.index();
    } catch (e) {
      existing.abandon();
      throw storeFault(e, existing.label) ?? e;
    }
    return { store: existing, results: [], errors: [] };
  }
  const store = Store.open(db);
  const results: IngestResult[] = [];
  const errors: CaptureError[] = [];
  try {
    store.setSetting('time_wait_usec', timeWaitSec * 1e6);
    if (settings.portRange) { store.setSetting('port_lo', settings.portRange[0]); store.setSetting('port_hi', settings.portRange[1]); }
    for (const f of files) {
      const progress = progressLine(f);
      const r = await ingestCapture(store, f, { timeWaitUsec: timeWaitSec * 1e6, onProgress: progress.update, signal: stopSignal });
      progress.done();
      results.push(r);
      if (r.info.error) errors.push(r.info.error);
      if (r.interrupted) break;
    }
    throwIfInterrupted(keptByStore(db));
    store.index();
    assignAttempts(store.db);
  } catch (e) {
    const fault = storeFault(e, store.label);
    // A signal's cleanup writes nothing more; a store fault must not try to write again.
    if (fault !== null) store.abandon();
    else {
      try { store.close(); } catch { store.abandon(); }
    }
    throw fault ?? e;
  }
  return { store, results, errors };
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
