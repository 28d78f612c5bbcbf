import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ES module shared with scripts/update-golden.mjs
import { GOLDEN_CASES, GOLDEN_FORMATS } from '../../scripts/golden-cases.mjs';
import { ROOT } from '../helpers/pipeline.js';

/**
 * Golden reports: `tcpdiag analyze` on the lab samples must print exactly the reviewed
 * reports kept beside them (text, Markdown, JSON). After a deliberate change, rebuild and
 * run `npm run golden`, then review the diff like code.
 */
describe('golden reports', () => {
  for (const c of GOLDEN_CASES as { dir: string; files: string[]; name: string }[]) {
    for (const [format, ext] of GOLDEN_FORMATS as [string, string][]) {
      it(`${c.dir}/${c.name}.${ext}`, () => {
        const out = execFileSync('node', ['dist/cli.js', 'analyze', ...c.files.map((f) => `${c.dir}/${f}`), '--format', format],
          { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
        expect(out).toBe(readFileSync(join(ROOT, c.dir, `${c.name}.${ext}`), 'utf8'));
      });
    }
  }
});
