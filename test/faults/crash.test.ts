import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { hasTshark, SAMPLES } from '../helpers/pipeline.js';
import { cli } from './helpers.js';

// Each case spawns the CLI (~0.3 s of start-up apiece on a busy 2-core machine).
vi.setConfig({ testTimeout: 120_000 });

const TSRESOL9 = join(SAMPLES, 'corpus', 'pcapplusplus-pcapng-example-tsresol9.pcapng');

describe.skipIf(!hasTshark())('times beyond what Date can show (packets at 1.8e13 s)', () => {
  it('every format renders; md and html show the last packet on the date tshark shows', () => {
    // tshark -t ud: "586524-01-19 07:53:24.126329" for the latest frames.
    const shown = execFileSync('tshark', ['-r', TSRESOL9, '-t', 'ud', '-T', 'fields', '-e', '_ws.col.Time'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, TZ: 'UTC' } })
      .trim().split('\n').sort().at(-1)!;
    const [date, time] = shown.split(' ');
    for (const format of ['text', 'json', 'md', 'html']) {
      const r = cli(['analyze', TSRESOL9, '--format', format]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      if (format === 'md' || format === 'html') expect(r.out).toContain(`+${date}T${time.slice(0, 8)}Z`);
    }
  });
});
