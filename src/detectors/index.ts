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
import type { Detector, DetectorContext, Finding } from './types.js';

export type { Detector, DetectorContext, Finding, Severity } from './types.js';
export { SEVERITY_RANK } from './types.js';

/** Every detector, in the order reports list them. */
export const DETECTORS: Detector[] = [staleAck, synRetransmit, tsStripped, portReuse, refused, serverClosesFirst, exhaustionForecast, twoPoint, listenOverflow, pawsDrop, natClients, synFlood];

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
 */
export function runDetectors(db: Database.Database, settings: DetectorSettings): number {
  const names = new Map<number, string>();
  for (const r of db.prepare('SELECT id, name FROM captures').all() as { id: number; name: string }[]) names.set(r.id, r.name);
  const ctx: DetectorContext = { db, ...settings, captureName: (id) => names.get(id) ?? `capture${id}`, frameRef: frameRefOf(db) };
  const ins = db.prepare('INSERT INTO findings VALUES (?,?,?,?,?,?,?,?)');
  // Each detector's findings are written as it yields (or returns) them, one transaction per
  // detector: the rollback journal (kept in memory) then never holds more than one detector's
  // pages, and a finding is garbage once written. Insertion order (rowid) is the order
  // detectors and reports list findings in.
  db.prepare('DELETE FROM findings').run();
  const write = db.transaction((fs: Iterable<Finding>): number => {
    let n = 0;
    for (const f of fs) {
      try {
        ins.run(f.id, f.detector, f.severity, f.captureId, f.connId, f.tsUsec, f.summary, JSON.stringify(f.evidence));
      } catch (e) {
        // Two findings with one id would make one of them vanish from reports and baselines.
        if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new Error(`two findings with the id ${f.id}`);
        throw e;
      }
      n++;
    }
    return n;
  });
  let written = 0;
  // The detector index is built once after the run, not kept up to date per insert.
  db.exec('DROP INDEX IF EXISTS find_detector');
  for (const d of DETECTORS) written += write(d.run(ctx));
  db.exec(FIND_DETECTOR_INDEX);
  return written;
}

/** A finding read back from the findings table. */
export function findingFromRow(r: { id: string; detector: string; severity: string; capture_id: number | null; conn_id: number | null; ts_usec: number | null; summary: string; evidence: string }): Finding {
  return {
    id: r.id, detector: r.detector as Finding['detector'], severity: r.severity as Finding['severity'],
    captureId: r.capture_id, connId: r.conn_id, tsUsec: r.ts_usec, summary: r.summary, evidence: JSON.parse(r.evidence) as Finding['evidence'],
  };
}

/** Columns of the findings table in the shape findingFromRow() takes. */
export const FINDING_COLUMNS = 'id, detector, severity, capture_id, conn_id, ts_usec, summary, evidence';
