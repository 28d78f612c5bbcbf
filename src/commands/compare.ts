import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { runDetectors } from '../detectors/index.js';
import { ExitError } from '../errors.js';
import { buildReport } from '../report/build.js';
import { compareReports, renderComparisonMarkdown, renderComparisonText } from '../report/compare.js';
import { REPORT_SCHEMA_VERSION, type Report } from '../report/model.js';
import { VERSION } from '../version.js';
import { parsePortRange } from './analyze.js';
import { assertCapturesExist, openOrIngest, reportCaptureErrors, storedSettings } from './ingestFiles.js';

export interface CompareOptions { format: string; failOn?: string; timeWait: number; portRange: string }

/** What a path holds, by its first bytes: a JSON report, a kept SQLite store, or a capture. */
function kindOf(path: string): 'json' | 'store' | 'capture' {
  const fd = openSync(path, 'r');
  const head = Buffer.alloc(16);
  try { readSync(fd, head, 0, 16, 0); } finally { closeSync(fd); }
  if (head.toString('latin1', 0, 16) === 'SQLite format 3\u0000') return 'store';
  if (head.toString('utf8').trimStart().startsWith('{')) return 'json';
  return 'capture';
}

async function reportOf(path: string, opts: CompareOptions): Promise<{ report: Report; failed: boolean }> {
  const kind = kindOf(path);
  if (kind === 'json') {
    const r = JSON.parse(readFileSync(path, 'utf8')) as Report;
    if (r.schemaVersion !== REPORT_SCHEMA_VERSION || typeof r.metrics !== 'object') throw new ExitError(2, `${path}: not a tcpdiag JSON report of schema ${REPORT_SCHEMA_VERSION}`);
    return { report: r, failed: false };
  }
  let portRange = parsePortRange(opts.portRange);
  let timeWaitS = opts.timeWait;
  const { store, errors } = await openOrIngest(kind === 'store' ? [] : [path], kind === 'store' ? path : undefined, { timeWaitS, portRange });
  try {
    if (kind === 'store') {
      const kept = storedSettings(store);
      timeWaitS = kept.timeWaitS ?? timeWaitS;
      portRange = kept.portRange ?? portRange;
    }
    runDetectors(store.db, { timeWaitUsec: timeWaitS * 1e6, portLo: portRange[0], portHi: portRange[1] });
    return { report: buildReport(store.db, { version: VERSION, timeWaitS, portRange }), failed: (reportCaptureErrors(errors), errors.length > 0) };
  } finally {
    store.close();
  }
}

export async function compareCommand(before: string, after: string, opts: CompareOptions): Promise<number> {
  if (!['text', 'md', 'json'].includes(opts.format)) throw new ExitError(2, `--format must be text, md or json, not "${opts.format}"`);
  if (opts.failOn !== undefined && opts.failOn !== 'worse') throw new ExitError(2, `--fail-on must be "worse", not "${opts.failOn}"`);
  assertCapturesExist([before, after]);
  const b = await reportOf(before, opts);
  const a = await reportOf(after, opts);
  const c = compareReports(b.report, a.report, { before, after });
  process.stdout.write(opts.format === 'json' ? `${JSON.stringify(c, null, 2)}\n` : opts.format === 'md' ? renderComparisonMarkdown(c) : renderComparisonText(c));
  if (b.failed || a.failed) return 3;
  return opts.failOn === 'worse' && c.worse.length > 0 ? 1 : 0;
}
