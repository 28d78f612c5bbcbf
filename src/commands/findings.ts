import { ExitError } from '../errors.js';
import { FINDING_COLUMNS, FINDING_DETECTOR_IDS, FINDINGS_COMPLETE, findingReader, type Finding, type FindingTableRow } from '../detectors/index.js';
import { Store, storeFault } from '../flows/store.js';
import { jsonArrayLines } from '../report/connections.js';
import { LineOut } from './output.js';

export interface FindingsOptions { db?: string; detector?: string; limit?: number; format: string }

const FORMATS = ['text', 'json'];
/** Findings read from the store per query: rendering one runs statements of its own, which an open iterator would block. */
const PAGE = 1024;

/**
 * Every finding a kept store holds, in the order the detectors wrote them, rendered as a report
 * renders the ones it lists (a report lists at most MAX_REPORT_FINDINGS): stale-ack and
 * challenge-ack rows are stored by their typed columns and rendered from the connections here.
 */
export async function findingsCommand(opts: FindingsOptions): Promise<number> {
  if (!FORMATS.includes(opts.format)) throw new ExitError(2, `--format must be one of ${FORMATS.join(', ')}, not "${opts.format}"`);
  if (opts.detector !== undefined && !FINDING_DETECTOR_IDS.includes(opts.detector)) {
    throw new ExitError(2, `--detector must be one of ${FINDING_DETECTOR_IDS.join(', ')}, not "${opts.detector}"`);
  }
  if (opts.db === undefined) throw new ExitError(2, 'give --db with a store kept by analyze --db');
  const store = Store.openExisting(opts.db, true);
  let partial = false;
  try {
    const complete = store.db.prepare('SELECT value FROM settings WHERE key = ?').pluck().get(FINDINGS_COMPLETE);
    if (complete === undefined) {
      const any = store.db.prepare('SELECT 1 FROM findings LIMIT 1').get() !== undefined;
      if (!any) throw new ExitError(2, `${store.label}: the detectors have not run on this store: tcpdiag analyze --db ${opts.db} runs them`);
      partial = true;
    }
    const findings = pages(store.db, opts.detector, opts.limit ?? -1);
    const out = new LineOut('the findings');
    const lines = opts.format === 'json' ? jsonArrayLines(findings) : textLines(findings);
    for (const l of lines) out.line(l);
    out.flush();
    store.close();
  } catch (e) {
    const fault = storeFault(e, store.label);
    store.abandon();
    throw fault ?? e;
  }
  if (partial) {
    process.stderr.write(`tcpdiag: ${store.label}: the detector run that wrote these findings did not finish: they are not all there; tcpdiag analyze --db ${opts.db} runs the detectors again\n`);
    return 3;
  }
  return 0;
}

function* pages(db: Store['db'], detector: string | undefined, limit: number): Generator<Finding> {
  const read = findingReader(db);
  const where = detector === undefined ? '' : 'AND detector = ?';
  const page = db.prepare(`SELECT rowid AS r, ${FINDING_COLUMNS} FROM findings WHERE rowid > ? ${where} ORDER BY rowid LIMIT ?`);
  let after = 0;
  let left = limit < 0 ? Infinity : limit;
  while (left > 0) {
    const n = Math.min(PAGE, left);
    const rows = (detector === undefined ? page.all(after, n) : page.all(after, detector, n)) as (FindingTableRow & { r: number })[];
    for (const row of rows) yield read(row);
    if (rows.length < n) return;
    after = rows[rows.length - 1].r;
    left -= rows.length;
  }
}

function* textLines(findings: Iterable<Finding>): Generator<string> {
  for (const f of findings) yield `${f.severity} ${f.id}: ${f.summary}`;
}
