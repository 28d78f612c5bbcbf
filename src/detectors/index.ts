import type Database from 'better-sqlite3';
import { FIND_DETECTOR_INDEX } from '../flows/schema.js';
import { exhaustionForecast } from './exhaustionForecast.js';
import { listenOverflow } from './listenOverflow.js';
import { natClients } from './natClients.js';
import { pawsDrop } from './pawsDrop.js';
import { frameRefOf } from './pieces.js';
import { portReuse } from './portReuse.js';
import { refused } from './refused.js';
import { serverClosesFirst } from './serverClosesFirst.js';
import { staleAck } from './staleAck.js';
import { synFlood } from './synFlood.js';
import { synRetransmit } from './synRetransmit.js';
import { tsStripped } from './tsStripped.js';
import { twoPoint } from './twoPoint.js';
import { collectGarbage } from '../heap.js';
import { startDetectorThread } from './detectorRunner.js';
import { findingRow, HELD_FINDINGS_COLUMNS, THREAD_DETECTORS, type FindingRow } from './threadShare.js';
import type { Detector, DetectorContext, Finding, RenderContext, TypedFinding } from './types.js';

export type { Detector, DetectorContext, Finding, RenderContext, Severity, TypedFinding } from './types.js';
export { SEVERITY_RANK } from './types.js';

/** Every detector, in the order reports list them. */
export const DETECTORS: Detector[] = [staleAck, synRetransmit, tsStripped, portReuse, refused, serverClosesFirst, exhaustionForecast, twoPoint, listenOverflow, pawsDrop, natClients, synFlood];

/**
 * The settings key a detector run writes when it has written every finding (the count): absent,
 * the detectors never ran on the store or a run was cut short (a thread ended, a signal, a full
 * disk), and its findings are not all there.
 */
export const FINDINGS_COMPLETE = 'findings_complete';

export interface DetectorSettings {
  timeWaitUsec: number;
  portLo: number;
  portHi: number;
}

/**
 * Run every detector over the store and rewrite the findings table, so that
 * `analyze --db kept.sqlite` re-runs them without decoding again. Findings are
 * not returned: the report reads them back from the table (src/report), so memory
 * holds at most one detector's findings at a time. Returns how many were written.
 * With a second core, the detectors of THREAD_DETECTORS run on another thread at the same
 * time (detectorRunner.ts); the findings table is the same either way.
 */
export function runDetectors(db: Database.Database, settings: DetectorSettings): number {
  const names = captureNames(db);
  const ctx: DetectorContext = { ...renderContext(db, names), ...settings };
  // Insertion order (rowid) is the order detectors and reports list findings in. The mark of a
  // finished run goes first and comes back last, so a run cut short leaves a store that says so.
  db.prepare('DELETE FROM settings WHERE key = ?').run(FINDINGS_COMPLETE);
  db.prepare('DELETE FROM findings').run();
  // The detector index is built once after the run, not kept up to date per insert.
  db.exec('DROP INDEX IF EXISTS find_detector; DROP INDEX IF EXISTS find_cover');
  const written = runAll(db, ctx, settings, names);
  db.exec(FIND_DETECTOR_INDEX);
  db.prepare('INSERT OR REPLACE INTO settings VALUES (?, ?)').run(FINDINGS_COMPLETE, String(written));
  return written;
}

/** Each detector's findings, written as it yields (or returns) them, one transaction per detector. */
function runAll(db: Database.Database, ctx: DetectorContext, settings: DetectorSettings, names: Map<number, string>): number {
  const thread = startDetectorThread(db, settings, names);
  const ins = db.prepare('INSERT INTO findings VALUES (?,?,?,?,?,?,?,?,?,?)');
  // The rollback journal (kept in memory) then never holds more than one detector's pages,
  // and a finding is garbage once written.
  let n = 0;
  const write = db.transaction((fs: Iterable<Finding | TypedFinding>) => { for (const f of fs) { insertRow(ins, findingRow(f)); n++; } });
  if (thread === null) {
    for (const d of DETECTORS) { write(d.run(ctx)); collectGarbage(); }
    return n;
  }
  // Detectors before the first thread detector (stale-ack, with one finding per stale ACK) write
  // to the store as they go; later ones here go to a temporary table until the thread's
  // findings that come before them can be copied in. The store is in WAL mode meanwhile, so
  // these writes and the thread's reads never wait on each other's locks
  // (https://www.sqlite.org/wal.html).
  try {
    db.exec(`DROP TABLE IF EXISTS temp.held; CREATE TEMP TABLE held (${HELD_FINDINGS_COLUMNS})`);
    const hold = db.prepare('INSERT INTO temp.held VALUES (?,?,?,?,?,?,?,?,?,?,?)');
    const holdAll = db.transaction((seq: number, fs: Iterable<Finding | TypedFinding>) => { for (const f of fs) hold.run(seq, ...findingRow(f)); });
    let streaming = true;
    DETECTORS.forEach((d, seq) => {
      if (THREAD_DETECTORS.includes(d.id)) streaming = false;
      else {
        if (streaming) write(d.run(ctx)); else holdAll(seq, d.run(ctx));
        collectGarbage();
      }
    });
    db.prepare('ATTACH ? AS thread').run(thread.wait());
    try {
      db.transaction(() => {
        const copy = (table: string, seq: number): void => {
          try {
            n += db.prepare(`INSERT INTO findings SELECT id, detector, severity, capture_id, conn_id, ts_usec, summary, evidence, kind, reason
              FROM ${table} WHERE seq = ? ORDER BY rowid`).run(seq).changes;
          } catch (e) {
            const dup = db.prepare(`SELECT id FROM ${table} WHERE seq = ? AND (id IN (SELECT id FROM findings)
              OR id IN (SELECT id FROM ${table} WHERE seq = ? GROUP BY id HAVING count(*) > 1)) LIMIT 1`).pluck().get(seq, seq) as string | undefined;
            throw duplicateOr(e, dup ?? '?');
          }
        };
        let after = false;
        DETECTORS.forEach((d, seq) => {
          const theirs = THREAD_DETECTORS.includes(d.id);
          after ||= theirs;
          if (after) copy(theirs ? 'thread.found' : 'temp.held', seq);
        });
      })();
    } finally {
      db.exec('DETACH thread');
    }
  } finally {
    thread.end();
    db.exec('DROP TABLE IF EXISTS temp.held');
  }
  return n;
}

function insertRow(ins: Database.Statement, r: FindingRow): void {
  try {
    ins.run(r);
  } catch (e) {
    throw duplicateOr(e, r[0]);
  }
}

/** Two findings with one id would make one of them vanish from reports and baselines. */
function duplicateOr(e: unknown, id: string): unknown {
  return (e as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ? new Error(`two findings with the id ${id}`) : e;
}

/** Capture id -> name, as finding ids and messages name captures. */
function captureNames(db: Database.Database): Map<number, string> {
  const names = new Map<number, string>();
  for (const r of db.prepare('SELECT id, name FROM captures').all() as { id: number; name: string }[]) names.set(r.id, r.name);
  return names;
}

function renderContext(db: Database.Database, names: Map<number, string>): RenderContext {
  return { db, captureName: (id) => names.get(id) ?? `capture${id}`, frameRef: frameRefOf(db) };
}

/** A findings table row in the shape a FindingReader takes (FINDING_COLUMNS). */
export interface FindingTableRow { id: string; detector: string; severity: string; capture_id: number | null; conn_id: number | null; ts_usec: number | null; summary: string | null; evidence: string | null }

export type FindingReader = (r: FindingTableRow) => Finding;

/**
 * Reads findings back from the findings table of `db`. A row without summary and evidence is a
 * TypedFinding: the detector that wrote it renders it from the store (Detector.expand), so it
 * reads the same as the finding run() would have stored whole.
 */
export function findingReader(db: Database.Database): FindingReader {
  let ctx: RenderContext | null = null;
  return (r) => {
    if (r.summary !== null && r.evidence !== null) {
      return {
        id: r.id, detector: r.detector as Finding['detector'], severity: r.severity as Finding['severity'],
        captureId: r.capture_id, connId: r.conn_id, tsUsec: r.ts_usec, summary: r.summary, evidence: JSON.parse(r.evidence) as Finding['evidence'],
      };
    }
    const d = DETECTORS.find((x) => (x.ids ?? [x.id]).includes(r.detector as Finding['detector']));
    if (d?.expand === undefined || r.conn_id === null) throw new Error(`finding ${r.id}: no summary or evidence stored, and no detector renders it`);
    ctx ??= renderContext(db, captureNames(db));
    const { kind: _k, reason: _r, ...f } = d.expand(ctx, r.conn_id);
    if (f.id !== r.id) throw new Error(`finding ${r.id}: rendered as ${f.id}`);
    return f;
  };
}

/** Columns of the findings table in the shape a FindingReader takes. */
export const FINDING_COLUMNS = 'id, detector, severity, capture_id, conn_id, ts_usec, summary, evidence';

/** Every detector id a finding can carry, in DETECTORS order. */
export const FINDING_DETECTOR_IDS: readonly string[] = [...new Set(DETECTORS.flatMap((d): readonly string[] => d.ids ?? [d.id]))];
