import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/flows/store.js';
import { buildReport } from '../../src/report/build.js';
import { captureNames, evidenceOf } from '../../src/report/evidence.js';
import { decodeAsCommand } from '../../src/report/frames.js';
import type { EvidenceItem, Report } from '../../src/report/model.js';
import { renderText } from '../../src/report/text.js';
import { connectionVxlanPort } from '../../src/detectors/charts.js';
import { hasTshark, pipeline, SAMPLES, storedFindings } from '../helpers/pipeline.js';

/**
 * A Wireshark filter on the inner IP and TCP headers of VXLAN selects nothing unless Wireshark
 * dissects the VXLAN: tshark 4.0 registers it on UDP 4789 only (`tshark -G decodes`), and
 * Linux's vxlan devices default to 8472 (samples/vxlan-tw-stale-ack has both, captured by the
 * kernel on the underlay). Every filter the report prints for the 8472 capture is run through
 * tshark without and with the decode-as the report names next to it: a filter the report marks
 * selects no frame without it and exactly its connections' frames with it; a filter it does not
 * mark selects them without it. The 4789 capture's filters need nothing and are not marked.
 */

const VXLAN = join(SAMPLES, 'vxlan-tw-stale-ack');
const stores: Store[] = [];
afterAll(() => { for (const s of stores) s.close(); });

function selected(file: string, filter: string, extra: string[] = []): number[] {
  const out = execFileSync('tshark', ['-r', file, '-n', ...extra, '-Y', filter, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out.split('\n').filter(Boolean).map(Number);
}

/** The tshark arguments of the command the report prints (`tshark -d udp.port==8472,vxlan`), without the program name. */
const argsOf = (e: EvidenceItem): string[] => (e.decodeAs ? decodeAsCommand(e.decodeAs).split(' ').slice(1) : []);

/** The UDP ports of a frame's outermost UDP header, as tshark decodes it with VXLAN on 8472. */
function udpPorts(file: string, frame: number): number[] {
  const out = execFileSync('tshark', ['-r', file, '-n', '-d', 'udp.port==8472,vxlan', '-Y', `frame.number == ${frame}`, '-T', 'fields', '-E', 'occurrence=f', '-e', 'udp.srcport', '-e', 'udp.dstport'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out.trim().split('\t').map(Number);
}

describe.skipIf(!hasTshark())('filters on VXLAN captures: the decode-as tshark needs is printed where, and only where, it is needed', { timeout: 120_000 }, () => {
  for (const port of [8472, 4789]) {
    it(`underlay-${port}.pcap`, async () => {
      const file = join(VXLAN, `underlay-${port}.pcap`);
      const { store } = await pipeline([file]);
      stores.push(store);
      const r: Report = buildReport(store.db, { version: 'test', timeWaitS: 60, portRange: [32768, 60999] });
      const pkts = store.db.prepare('SELECT client_pkts + server_pkts FROM connections WHERE id = ?').pluck();
      const firstFrame = store.db.prepare('SELECT first_frame FROM connections WHERE id = ?').pluck();
      const text = renderText(r, { color: false, width: 100, quiet: false });
      let marked = 0;
      const evidence = r.causes.flatMap((c) => c.evidence);
      expect(evidence.length).toBeGreaterThan(0);
      for (const e of evidence) {
        expect(e.filter).not.toBeNull();
        const finding = r.findings.find((x) => x.id === e.findingId)!;
        const prev = (finding.evidence.previous as { connId: number } | null | undefined)?.connId;
        const conns = [finding.connId!, ...(prev !== undefined ? [prev] : [])];
        // Ground truth for the mark: the UDP port tshark shows on each selected connection's first frame.
        const on8472 = conns.some((id) => udpPorts(file, firstFrame.get(id) as number).includes(8472));
        expect([e.findingId, e.decodeAs !== undefined]).toEqual([e.findingId, on8472 && !e.filter!.startsWith('frame.number in')]);
        const want = e.filterSelects ? conns.reduce((n, id) => n + (pkts.get(id) as number), 0) : new Set(e.frames).size;
        const withIt = selected(file, e.filter!, argsOf(e));
        for (const f of e.frames) expect(withIt).toContain(f);
        expect([e.findingId, withIt.length]).toEqual([e.findingId, want]);
        if (e.decodeAs) {
          expect([e.findingId, selected(file, e.filter!)]).toEqual([e.findingId, []]);
          expect(e.decodeAs).toEqual([{ table: 'udp.port', port: 8472, protocol: 'vxlan' }]);
          marked++;
        }
      }
      // The text report says so next to each filter it prints, and nowhere for 4789.
      const printed = text.replace(/\n\s*/g, ' ').match(/only with UDP 8472 decoded as VXLAN: tshark -d udp\.port==8472,vxlan\)/g) ?? [];
      if (port === 8472) {
        expect(marked).toBe(evidence.length);
        expect(printed.length).toBe(r.causes.reduce((n, c) => n + Math.min(3, c.evidence.length), 0));
      } else {
        expect(marked).toBe(0);
        expect(printed.length).toBe(0);
        expect(text).not.toMatch(/decoded as/);
      }

      // Every finding's filter, not only those the causes cite: a frame list needs no decode-as
      // (frame.number does not depend on dissection) and selects exactly its frames either way.
      const names = captureNames(r.captures, connectionVxlanPort(store.db));
      let lists = 0;
      for (const f of storedFindings(store)) {
        const e = evidenceOf(f, names);
        if (e.filter === null || !e.filter.startsWith('frame.number in')) continue;
        expect(e.decodeAs).toBeUndefined();
        expect([f.id, selected(file, e.filter)]).toEqual([f.id, [...new Set(e.frames)].sort((a, b) => a - b)]);
        lists++;
      }
      expect(lists).toBeGreaterThan(0);
    });
  }
});
