import { writeFileSync } from 'node:fs';
import { runDetectors, SEVERITY_RANK, type Severity } from '../detectors/index.js';
import { ExitError } from '../errors.js';
import { buildReport } from '../report/build.js';
import { renderJson } from '../report/json.js';
import { renderMarkdown } from '../report/markdown.js';
import { renderText } from '../report/text.js';
import { VERSION } from '../version.js';
import { assertCapturesExist, openOrIngest, reportCaptureErrors, storedSettings } from './ingestFiles.js';

export interface AnalyzeOptions {
  db?: string;
  timeWait: number;
  portRange: string;
  format: string;
  output?: string;
  failOn?: string;
  quiet?: boolean;
  maxFindings?: number;
  color?: string;
  /** Options the user gave (not commander's defaults): on a kept store the others come from it. */
  explicit?: { timeWait: boolean; portRange: boolean; format?: boolean };
}

const FORMATS = ['text', 'md', 'json', 'html'];

export function parsePortRange(s: string): [number, number] {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(s);
  const lo = m ? Number(m[1]) : NaN;
  const hi = m ? Number(m[2]) : NaN;
  if (!m || lo < 1 || hi > 65535 || lo > hi) throw new ExitError(2, `--port-range must look like 32768-60999, not "${s}"`);
  return [lo, hi];
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
  if (opts.failOn !== undefined && !(opts.failOn in SEVERITY_RANK)) throw new ExitError(2, `--fail-on must be info, warning or error, not "${opts.failOn}"`);
  if (!(opts.timeWait > 0)) throw new ExitError(2, '--time-wait must be more than 0 seconds');
  let portRange = parsePortRange(opts.portRange);
  let timeWaitS = opts.timeWait;
  const { store, errors } = await openOrIngest(files, opts.db, { timeWaitS, portRange });
  let text: string;
  let worst = -1;
  try {
    if (files.length === 0) {
      // A kept store analysed again: its own settings, unless given now (then they are kept).
      const kept = storedSettings(store);
      if (!opts.explicit?.timeWait && kept.timeWaitS !== undefined) timeWaitS = kept.timeWaitS;
      if (!opts.explicit?.portRange && kept.portRange !== undefined) portRange = kept.portRange;
      store.setSetting('time_wait_usec', timeWaitS * 1e6);
      store.setSetting('port_lo', portRange[0]);
      store.setSetting('port_hi', portRange[1]);
    }
    runDetectors(store.db, { timeWaitUsec: timeWaitS * 1e6, portLo: portRange[0], portHi: portRange[1] });
    const report = buildReport(store.db, { version: VERSION, timeWaitS, portRange });
    // findingCounts counts every finding in the store (the findings list may be cut short).
    for (const counts of Object.values(report.findingCounts)) {
      for (const [s, n] of Object.entries(counts)) if (n > 0) worst = Math.max(worst, SEVERITY_RANK[s as Severity]);
    }
    // A root cause can rest on facts that are not findings (refused connections): count it too.
    for (const c of report.causes) worst = Math.max(worst, SEVERITY_RANK[c.severity]);
    const quiet = opts.quiet === true;
    const tty = opts.output === undefined && process.stdout.isTTY === true;
    // -q is the verdict alone, in every format.
    if (opts.format === 'json') text = quiet ? `${JSON.stringify({ schemaVersion: report.schemaVersion, verdict: report.verdict }, null, 2)}\n` : renderJson(report);
    else if (opts.format === 'md') text = quiet ? `**Verdict (${report.verdict.status}):** ${report.verdict.headline}\n` : renderMarkdown(report, { maxFindings: opts.maxFindings });
    else if (opts.format === 'html') text = (await import('../report/html.js')).renderHtml(report, { quiet });
    else text = renderText(report, { color: useColor(opts.color, tty), quiet, maxRows: opts.maxFindings, width: tty ? process.stdout.columns : undefined });
  } finally {
    store.close();
  }
  if (opts.output !== undefined) {
    try {
      writeFileSync(opts.output, text);
    } catch (e) {
      throw new ExitError(2, `cannot write ${opts.output}: ${(e as Error).message}`);
    }
  } else {
    process.stdout.write(text);
  }
  reportCaptureErrors(errors);
  if (errors.length > 0) return 3;
  if (opts.failOn !== undefined && worst >= SEVERITY_RANK[opts.failOn as Severity]) return 1;
  return 0;
}
