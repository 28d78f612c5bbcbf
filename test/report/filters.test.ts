import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/flows/store.js';
import { buildReport } from '../../src/report/build.js';
import { hasTshark, pipeline, SAMPLES, scenarios } from '../helpers/pipeline.js';

/**
 * Every Wireshark filter a report prints selects, in tshark, exactly the frames of the
 * connections its line names and every frame it lists: a 4-tuple filter selects as many frames
 * as the store counted for that connection and the previous one it blames (those packet counts
 * are checked against tshark's conversations in test/flows/captures.test.ts); a frame list
 * selects exactly those frames.
 */

const stores: Store[] = [];
afterAll(() => { for (const s of stores) s.close(); });

function selected(file: string, filter: string): number[] {
  const out = execFileSync('tshark', ['-r', file, '-n', '-Y', filter, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out.split('\n').filter(Boolean).map(Number);
}

const corpus = readdirSync(join(SAMPLES, 'corpus')).filter((f) => /\.(pcap|pcapng)$/.test(f)).map((f) => ({ name: 'corpus', file: join(SAMPLES, 'corpus', f) }));

describe.skipIf(!hasTshark())('printed Wireshark filters select the named connections in tshark', () => {
  const all = [...scenarios().flatMap((s) => (s.expected.captures as { file: string }[]).filter((c) => /server|client\.pcap$/.test(c.file)).map((c) => ({ name: s.name, file: join(s.dir, c.file) }))), ...corpus];
  for (const { name, file } of all) {
    {
      it(`${name}/${file.split('/').pop()}`, async () => {
        const { store } = await pipeline([file]);
        stores.push(store);
        const r = buildReport(store.db, { version: 'test', timeWaitS: 60, portRange: [32768, 60999] });
        const pkts = store.db.prepare('SELECT client_pkts + server_pkts FROM connections WHERE id = ?').pluck();
        let checked = 0;
        for (const c of r.causes) {
          for (const e of c.evidence.slice(0, 3)) {
            if (e.filter === null) continue;
            const got = selected(file, e.filter);
            for (const f of e.frames) expect(got).toContain(f);
            const finding = r.findings.find((x) => x.id === e.findingId);
            const prev = (finding?.evidence.previous as { connId: number } | null | undefined)?.connId;
            if (finding && finding.evidence.frameRange && finding.connId !== null) {
              const want = (pkts.get(finding.connId) as number) + (prev !== undefined ? pkts.get(prev) as number : 0);
              expect([e.filter, got.length]).toEqual([e.filter, want]);
              // The report says what the filter selects beyond the frames it lists.
              expect(e.filterSelects).toBe(prev !== undefined ? 'connection-and-previous' : 'connection');
            } else {
              expect(got).toEqual([...new Set(e.frames)].sort((a, b) => a - b));
              expect(e.filterSelects).toBeUndefined();
            }
            checked++;
          }
        }
        if (r.causes.length) expect(checked).toBeGreaterThan(0);
      });
    }
  }
});
