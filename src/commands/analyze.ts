import { readFileSync } from 'node:fs';
import { runDetectors } from '../detectors/index.js';
import { phase } from './phases.js';
import { diffBaseline, evaluateGates, parseGate } from '../report/gates.js';
import { renderGithub } from '../report/github.js';
import { renderJunit } from '../report/junit.js';
import { REPORT_SCHEMA_VERSION, type Report } from '../report/model.js';
import { ExitError } from '../errors.js';
import { buildReport } from '../report/build.js';
import { renderJson } from '../report/json.js';
import { renderMarkdown } from '../report/markdown.js';
import { renderText } from '../report/text.js';
import { VERSION } from '../version.js';
import { storeFault } from '../flows/store.js';
import { assertCapturesExist, interruptedCaptures, keptByStore, openOrIngest, reportCaptureErrors, reportInterrupted, reportUndecoded, storedSettings, type SourceOptions } from './ingestFiles.js';
import { writeReportFile, writeStdout } from './output.js';
import { throwIfInterrupted } from './signals.js';

export interface AnalyzeOptions extends SourceOptions {
  db?: string;
  timeWait: number;
  portRange: string;
  format: string;
  output?: string;
  failOn?: string[];
  baseline?: string;
  quiet?: boolean;
  maxFindings?: number;
  color?: string;
  /** Options the user gave (not commander's defaults): on a kept store the others come from it. */
  explicit?: { timeWait: boolean; portRange: boolean; format?: boolean };
}

const FORMATS = ['text', 'md', 'json', 'html', 'junit', 'github'];

export function parsePortRange(s: string): [number, number] {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(s);
  const lo = m ? Number(m[1]) : NaN;
  const hi = m ? Number(m[2]) : NaN;
  if (!m || lo < 1 || hi > 65535 || lo > hi) throw new ExitError(2, `--port-range must look like 32768-60999, not "${s}"`);
  return [lo, hi];
}

/** An earlier `analyze --format json` report to compare with. */
function readBaseline(path: string): { path: string; report: Report } {
  let j: unknown;
  try {
    j = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ExitError(2, `--baseline ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'not a JSON report'}`);
  }
  const r = j as Partial<Report>;
  if (r.schemaVersion !== REPORT_SCHEMA_VERSION || !Array.isArray(r.findings) || typeof r.metrics !== 'object') {
    throw new ExitError(2, `--baseline ${path}: not a tcpdiag JSON report of schema ${REPORT_SCHEMA_VERSION} (make it with analyze --format json)`);
  }
  return { path, report: r as Report };
}

/** The format -o FILE implies by its extension, when --format was not given. */
export function formatOf(output: string | undefined): string | undefined {
  const m = output === undefined ? null : /\.(md|markdown|json|html?|txt)$/i.exec(output);
  if (!m) return undefined;
  const ext = m[1].toLowerCase();
  return ext === 'markdown' ? 'md' : ext === 'htm' ? 'html' : ext === 'txt' ? 'text' : ext;
}

/** Colour on a terminal unless NO_COLOR; FORCE_COLOR or --color always turn it on anywhere. */
export function useColor(mode: string | undefined, toTty: boolean): boolean {
  if (mode === 'always') return true;
  if (mode === 'never') return false;
  const force = process.env.FORCE_COLOR;
  if (force !== undefined && force !== '' && force !== '0' && force !== 'false') return true;
  return toTty && !process.env.NO_COLOR;
}

export async function analyzeCommand(files: string[], opts: AnalyzeOptions): Promise<number> {
  if (!opts.explicit?.format) opts.format = formatOf(opts.output) ?? opts.format;
  if (!FORMATS.includes(opts.format)) throw new ExitError(2, `--format must be one of ${FORMATS.join(', ')}, not "${opts.format}"`);
  if (opts.color !== undefined && !['auto', 'always', 'never'].includes(opts.color)) throw new ExitError(2, `--color must be auto, always or never, not "${opts.color}"`);
  assertCapturesExist(files);
  const gates = (opts.failOn ?? []).map(parseGate);
  // CI formats report on gates; without any, the gate is "no error".
  if (gates.length === 0 && (opts.format === 'junit' || opts.format === 'github')) gates.push(parseGate('error'));
  const base = opts.baseline === undefined ? null : readBaseline(opts.baseline);
  if (!(opts.timeWait > 0)) throw new ExitError(2, '--time-wait must be more than 0 seconds');
  let portRange = parsePortRange(opts.portRange);
  let timeWaitS = opts.timeWait;
  const { store, errors, undecoded, results } = await openOrIngest(files, opts.db, { timeWaitS, portRange }, opts);
  let text: string;
  let failed = false;
  let interrupted: string[] = [];
  try {
    interrupted = interruptedCaptures(store);
    if (files.length === 0 && (opts.point ?? []).length === 0) {
      // A kept store analysed again: its own settings, unless given now (then they are kept).
      const kept = storedSettings(store);
      if (!opts.explicit?.timeWait && kept.timeWaitS !== undefined) timeWaitS = kept.timeWaitS;
      if (!opts.explicit?.portRange && kept.portRange !== undefined) portRange = kept.portRange;
      store.setSetting('time_wait_usec', timeWaitS * 1e6);
      store.setSetting('port_lo', portRange[0]);
      store.setSetting('port_hi', portRange[1]);
    }
    runDetectors(store.db, { timeWaitUsec: timeWaitS * 1e6, portLo: portRange[0], portHi: portRange[1] });
    phase('detectors');
    throwIfInterrupted(keptByStore(opts.db));
    const report = buildReport(store.db, { version: VERSION, timeWaitS, portRange });
    phase('report');
    report.gates = evaluateGates(report, gates, base?.report ?? null);
    if (base) report.baseline = diffBaseline(report, base.report, base.path);
    failed = report.gates.some((g) => g.failed);
    const quiet = opts.quiet === true;
    const tty = opts.output === undefined && process.stdout.isTTY === true;
    // -q is the verdict alone, in every format.
    if (opts.format === 'json') text = quiet ? `${JSON.stringify({ schemaVersion: report.schemaVersion, verdict: report.verdict }, null, 2)}\n` : renderJson(report);
    else if (opts.format === 'md') text = quiet ? `**Verdict (${report.verdict.status}):** ${report.verdict.headline}\n` : renderMarkdown(report, { maxFindings: opts.maxFindings });
    else if (opts.format === 'html') text = (await import('../report/html.js')).renderHtml(report, { quiet });
    else if (opts.format === 'junit') text = renderJunit(report);
    else if (opts.format === 'github') text = renderGithub(report);
    else text = renderText(report, { color: useColor(opts.color, tty), quiet, maxRows: opts.maxFindings, width: tty ? process.stdout.columns : undefined });
    store.close();
  } catch (e) {
    // The detectors write findings: a full disk or a lost lock ends here as one line.
    const fault = storeFault(e, store.label);
    store.abandon();
    throw fault ?? e;
  }
  throwIfInterrupted(keptByStore(opts.db));
  if (opts.output !== undefined) writeReportFile(opts.output, text);
  else writeStdout(text);
  reportCaptureErrors(errors);
  reportInterrupted(interrupted, store.label);
  reportUndecoded(undecoded, results);
  // Nothing decodable is the same class as an unreadable capture: never a clean exit.
  if (errors.length > 0 || interrupted.length > 0 || undecoded.length > 0) return 3;
  return failed ? 1 : 0;
}
