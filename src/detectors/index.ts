import type Database from 'better-sqlite3';
import { dropEvents } from './batch.js';
import { exhaustionForecast } from './exhaustionForecast.js';
import { listenOverflow } from './listenOverflow.js';
import { natClients } from './natClients.js';
import { pawsDrop } from './pawsDrop.js';
import { portReuse } from './portReuse.js';
import { refused } from './refused.js';
import { serverClosesFirst } from './serverClosesFirst.js';
import { staleAck } from './staleAck.js';
import { synRetransmit } from './synRetransmit.js';
import { tsStripped } from './tsStripped.js';
import { twoPoint } from './twoPoint.js';
import type { Detector, DetectorContext, Finding } from './types.js';

export type { Detector, DetectorContext, Finding, Severity } from './types.js';
export { SEVERITY_RANK } from './types.js';

/** Every detector, in the order reports list them. */
export const DETECTORS: Detector[] = [staleAck, synRetransmit, tsStripped, portReuse, refused, serverClosesFirst, exhaustionForecast, twoPoint, listenOverflow, pawsDrop, natClients];

export interface DetectorSettings {
  timeWaitUsec: number;
  portLo: number;
  portHi: number;
}

/**
 * Run every detector over the store and rewrite the findings table, so that
 * `analyze --db kept.sqlite` re-runs them without decoding again.
 */
export function runDetectors(db: Database.Database, settings: DetectorSettings): Finding[] {
  const names = new Map<number, string>();
  for (const r of db.prepare('SELECT id, name FROM captures').all() as { id: number; name: string }[]) names.set(r.id, r.name);
  const ctx: DetectorContext = { db, ...settings, captureName: (id) => names.get(id) ?? `capture${id}` };
  const findings: Finding[] = [];
  const ins = db.prepare('INSERT OR REPLACE INTO findings VALUES (?,?,?,?,?,?,?,?)');
  // Each detector's findings are written as it returns them, one transaction per detector:
  // the rollback journal (kept in memory) then never holds more than one detector's pages.
  db.prepare('DELETE FROM findings').run();
  const write = db.transaction((fs: Finding[]) => {
    for (const f of fs) ins.run(f.id, f.detector, f.severity, f.captureId, f.connId, f.tsUsec, f.summary, JSON.stringify(f.evidence));
  });
  for (const d of DETECTORS) {
    const fs = d.run(ctx);
    write(fs);
    for (const f of fs) findings.push(f);
  }
  dropEvents(db);
  return findings;
}
