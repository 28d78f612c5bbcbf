import { findingFramesCell } from './frames.js';
import type { Report } from './model.js';

/**
 * GitHub Actions workflow commands (docs.github.com, "Workflow commands for GitHub Actions"):
 * one ::error / ::warning / ::notice annotation per finding that fails a gate (by the finding's
 * severity), one ::error per failing metric gate, each with the capture as its file.
 */
const data = (s: string): string => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const prop = (s: string): string => data(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
const LEVEL = { error: 'error', warning: 'warning', info: 'notice' } as const;

export function renderGithub(r: Report): string {
  const out: string[] = [];
  const path = new Map(r.captures.map((c) => [c.id, c.path]));
  for (const g of r.gates.filter((x) => x.failed)) {
    if (g.findings.length === 0) {
      out.push(`::error title=${prop(`tcpdiag ${g.gate}`)}::${data(g.message)}`);
      continue;
    }
    for (const f of g.findings) {
      const file = f.captureId !== null ? path.get(f.captureId) : undefined;
      out.push(`::${LEVEL[f.severity]} ${file ? `file=${prop(file)},` : ''}title=${prop(`tcpdiag ${f.detector} (${g.gate})`)}::${data(`${f.summary}${f.evidence.frames?.length ? ` (frames ${findingFramesCell(f, ', ')})` : ''}`)}`);
    }
  }
  out.push(`${r.verdict.status.toUpperCase()}: ${r.verdict.headline}`);
  return `${out.join('\n')}\n`;
}
