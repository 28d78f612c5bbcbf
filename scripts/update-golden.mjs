#!/usr/bin/env node
// Rewrites the golden reports (run after `npm run build`, from the repository root).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { GOLDEN_CASES, GOLDEN_FORMATS } from './golden-cases.mjs';

for (const c of GOLDEN_CASES) {
  for (const [format, ext] of GOLDEN_FORMATS) {
    const args = ['dist/cli.js', 'analyze', ...c.files.map((f) => `${c.dir}/${f}`), '--format', format];
    const out = execFileSync('node', args, { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    writeFileSync(`${c.dir}/${c.name}.${ext}`, out);
    console.log(`${c.dir}/${c.name}.${ext}`);
  }
}
