import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FINDING_COLUMNS, findingReader, runDetectors, type Finding, type FindingTableRow } from '../../src/detectors/index.js';
import { assignAttempts } from '../../src/flows/attempts.js';
import { ingestCapture } from '../../src/flows/ingest.js';
import { Store } from '../../src/flows/store.js';

export const ROOT = new URL('../../', import.meta.url).pathname;
export const SAMPLES = join(ROOT, 'samples');

export function hasTshark(): boolean {
  try {
    execFileSync('tshark', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Read captures into a temporary store and run the detectors, as `tcpdiag analyze` does. */
export async function pipeline(files: string[], timeWaitS = 60): Promise<{ store: Store; findings: Finding[] }> {
  const store = Store.open();
  for (const f of files) await ingestCapture(store, f, { timeWaitUsec: timeWaitS * 1e6 });
  store.index();
  assignAttempts(store.db);
  runDetectors(store.db, { timeWaitUsec: timeWaitS * 1e6, portLo: 32768, portHi: 60999 });
  return { store, findings: storedFindings(store) };
}

/** Every finding in the store's findings table, in the order the detectors wrote them. */
export function storedFindings(store: Store): Finding[] {
  return (store.db.prepare(`SELECT ${FINDING_COLUMNS} FROM findings ORDER BY rowid`).all() as FindingTableRow[]).map(findingReader(store.db));
}

/**
 * Lab scenario folders (those with an expected.json). The anomaly samples (expected.json
 * "suite": "anomalies": floods, TFO, spoofed SYNs, capture loss) hold facts of their own and
 * are checked by test/flows/anomalies.test.ts, not by the TIME_WAIT scenarios' checks.
 */
export function scenarios(suite: 'lab' | 'anomalies' = 'lab'): { dir: string; name: string; expected: any }[] {
  return readdirSync(SAMPLES, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(SAMPLES, d.name, 'expected.json')))
    .map((d) => ({ dir: join(SAMPLES, d.name), name: d.name, expected: JSON.parse(readFileSync(join(SAMPLES, d.name, 'expected.json'), 'utf8')) }))
    .filter((s) => (s.expected.suite ?? 'lab') === suite);
}

/** A fact from expected.json that is either one number or a per-capture-file object. */
export function fact(expected: any, key: string, file: string): any {
  const v = expected.facts?.[key];
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) return file in v ? v[file] : undefined;
  return v;
}

/** Run tshark and split its tab-separated field output into rows. */
export function tsharkFields(file: string, filter: string, fields: string[], extra: string[] = []): string[][] {
  const out = execFileSync('tshark', ['-r', file, '-n', ...extra, '-Y', filter, '-T', 'fields', '-E', 'separator=\t', ...fields.flatMap((f) => ['-e', f])],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] });
  return out.split('\n').filter((l) => l.length > 0).map((l) => l.split('\t'));
}
