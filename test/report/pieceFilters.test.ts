import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { decompress } from 'fzstd';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileEvidence } from '../../src/report/evidence.js';
import { hasTshark, ROOT, SAMPLES } from '../helpers/pipeline.js';

/**
 * A capture point read from several files (a rotated set) numbers its frames across the files;
 * Wireshark numbers them per file. Every frame a report prints for such a point must say which
 * file and that file's own number, and every filter it prints must be valid in the file it names:
 * run through `tshark -r FILE -Y FILTER`, it selects exactly the frames of the store's connection
 * and the previous one it blames (their packet counts, summed over the files), or exactly the
 * frames listed; every "N of FILE" is a frame tshark shows in FILE with the finding's 4-tuple.
 * Sets: tcpdump -G (samples/rotated-tcpdump), tcpdump -C (samples/rotated-tcpdump-size),
 * editcap -c 30 of a lab sample, so that pieces of evidence span files, and editcap -c 10 of the
 * refused sample (evidence that lists frames).
 */

const CLI = join(ROOT, 'dist/cli.js');
const TMP = mkdtempSync(join(tmpdir(), 'tcpdiag-piecefilters-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));
beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/detectors/pieces.js'))) spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'ignore' });
}, 120_000);

function cli(args: string[]): string {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, NO_COLOR: '1' } });
  if (r.status !== 0 && r.status !== 1) throw new Error(`tcpdiag ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

function selected(file: string, filter: string): number[] {
  const out = execFileSync('tshark', ['-r', file, '-n', '-Y', filter, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] });
  return out.split('\n').filter(Boolean).map(Number);
}

/** Every frame of a file as tshark decodes it: its two endpoints, as a key independent of direction. */
const tupleCache = new Map<string, (string | null)[]>();
function tuples(file: string): (string | null)[] {
  let t = tupleCache.get(file);
  if (t) return t;
  const out = execFileSync('tshark', ['-r', file, '-n', '-T', 'fields', '-E', 'separator=\t', '-e', 'ip.src', '-e', 'ipv6.src', '-e', 'tcp.srcport', '-e', 'ip.dst', '-e', 'ipv6.dst', '-e', 'tcp.dstport'],
    { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] });
  t = [null, ...out.split('\n').filter((l) => l.length > 0).map((l) => {
    const [s4, s6, sp, d4, d6, dp] = l.split('\t');
    return sp ? key(s4 || s6, Number(sp), d4 || d6, Number(dp)) : 'not-tcp';
  })];
  tupleCache.set(file, t);
  return t;
}
const key = (a: string, ap: number, b: string, bp: number): string => [`${a}:${ap}`, `${b}:${bp}`].sort().join(' ');
const epKey = (client: string, server: string): string => [client.replace(/^\[|\](?=:)/g, ''), server.replace(/^\[|\](?=:)/g, '')].sort().join(' ');

interface RotatedSet { name: string; dir: string; files: string[] }

function sets(): RotatedSet[] {
  const g = join(SAMPLES, 'rotated-tcpdump');
  const out: RotatedSet[] = [{ name: 'tcpdump -G 1', dir: g, files: readdirSync(g).filter((f) => f.startsWith('g1-')).sort() }];
  // tcpdump -C 1: stored zstd-compressed, read here decompressed under tcpdump's names (the .zst
  // files as stored: test/report/compressedFilters.test.ts).
  const c = join(TMP, 'size');
  mkdirSync(c, { recursive: true });
  const size = join(SAMPLES, 'rotated-tcpdump-size');
  const cFiles = readdirSync(size).filter((f) => /^x\.pcap\d*\.zst$/.test(f)).map((f) => f.slice(0, -4));
  for (const f of cFiles) writeFileSync(join(c, f), decompress(readFileSync(join(size, `${f}.zst`))));
  out.push({ name: 'tcpdump -C 1', dir: c, files: cFiles });
  // editcap -c 30: most pieces of evidence span two or three files.
  const e = join(TMP, 'editcap');
  mkdirSync(e, { recursive: true });
  execFileSync('editcap', ['-F', 'pcap', '-c', '30', join(SAMPLES, 'tw-stale-ack-ts-stripped/server.pcap'), join(e, 'piece.pcap')]);
  out.push({ name: 'editcap -c 30', dir: e, files: readdirSync(e).sort() });
  // Refused connections: evidence that lists frames (no 4-tuple range), from the diagnosis itself.
  const r = join(TMP, 'refused');
  mkdirSync(r, { recursive: true });
  execFileSync('editcap', ['-F', 'pcap', '-c', '10', join(SAMPLES, 'refused/client.pcap'), join(r, 'piece.pcap')]);
  out.push({ name: 'editcap -c 10 refused', dir: r, files: readdirSync(r).sort() });
  return out;
}

describe.skipIf(!hasTshark())('rotated sets: every printed frame names its file, every filter is valid in the file it names', { timeout: 300_000 }, () => {
  for (const set of sets()) {
    describe(set.name, () => {
      const db = join(TMP, `${set.name.replace(/\W+/g, '-')}.sqlite`);
      let rep: any;
      let text = '', md = '', html = '';
      const paths = set.files.map((f) => join(set.dir, f));
      beforeAll(() => {
        rep = JSON.parse(cli(['analyze', '--format', 'json', '--db', db, ...[...paths].reverse()]));
        text = cli(['analyze', '--format', 'text', '--db', db]);
        md = cli(['analyze', '--format', 'md', '--db', db]);
        html = cli(['analyze', '--format', 'html', '--db', db]);
      }, 300_000);

      it('each cause\'s evidence: per-file filters select in tshark exactly what the store holds', () => {
        expect(rep.captures).toHaveLength(1);
        expect(rep.captures[0].pieces.map((p: any) => p.name)).toEqual(set.files);
        const d = new Database(db, { readonly: true });
        const pkts = d.prepare('SELECT client_pkts + server_pkts FROM connections WHERE id = ?').pluck();
        let checked = 0, spanning = 0;
        try {
          for (const c of rep.causes) {
            for (const e of c.evidence) {
              expect(e.files, e.text).toBeDefined();
              const finding = rep.findings.find((x: any) => x.id === e.findingId);
              const prev = finding?.evidence.previous?.connId;
              let total = 0;
              for (const x of e.files) {
                const got = selected(join(set.dir, x.file), x.filter);
                for (const f of x.frames) expect(got).toContain(f);
                if (!(finding?.evidence.frameRange && finding.connId !== null)) expect(got).toEqual([...new Set<number>(x.frames)].sort((a, b) => a - b));
                total += got.length;
              }
              if (finding?.evidence.frameRange && finding.connId !== null) {
                expect([e.text, total]).toEqual([e.text, (pkts.get(finding.connId) as number) + (prev !== undefined ? pkts.get(prev) as number : 0)]);
              }
              if (e.files.length > 1) spanning++;
              checked++;
            }
          }
          expect(checked).toBeGreaterThan(0);
          // Spanning evidence, from every finding of the point (not only the causes' samples).
          const pieces = rep.captures[0].pieces;
          for (const f of rep.findings) {
            if (!f.evidence.frameRange || f.connId === null) continue;
            const fe = fileEvidence(f, pieces);
            if (fe.length < 2) continue;
            if (spanning >= 12) break;
            const prev = f.evidence.previous?.connId;
            const total = fe.reduce((n, x) => n + selected(join(set.dir, x.file), x.filter!).length, 0);
            expect([f.id, total]).toEqual([f.id, (pkts.get(f.connId) as number) + (prev !== undefined ? pkts.get(prev) as number : 0)]);
            spanning++;
          }
          // editcap -c 30 splits every connection of this sample (about 26 packets each, plus the previous one's).
          if (set.name.startsWith('editcap')) expect(spanning).toBeGreaterThan(0);
        } finally { d.close(); }
      });

      it('the point-wide filter of the JSON selects the same frames in the files joined in order (mergecap -a)', () => {
        const joined = join(TMP, `${set.name.replace(/\W+/g, '-')}-joined.pcap`);
        execFileSync('mergecap', ['-F', 'pcap', '-a', '-w', joined, ...paths]);
        for (const c of rep.causes) {
          for (const e of c.evidence.slice(0, 3)) {
            if (e.filter === null) continue;
            const mapped = e.files.flatMap((x: any) => {
              const p = rep.captures[0].pieces.find((q: any) => q.name === x.file);
              return selected(join(set.dir, x.file), x.filter).map((n) => p.firstFrame + n - 1);
            });
            expect(selected(joined, e.filter)).toEqual(mapped);
          }
        }
      });

      it('every frame the JSON places in a file has the 4-tuple of its finding, connection or ladder there', () => {
        const frames = (file: string) => tuples(join(set.dir, file));
        let n = 0;
        for (const f of rep.findings) {
          expect(f.files?.flatMap((x: any) => x.frames).length ?? 0).toBe((f.evidence.frames ?? []).length);
          const t = f.evidence.tuple;
          if (!t) continue;
          for (const x of f.files) for (const fr of x.frames) { expect([f.id, x.file, fr, frames(x.file)[fr]]).toEqual([f.id, x.file, fr, key(t.client, t.clientPort, t.server, t.serverPort)]); n++; }
        }
        for (const w of rep.worstConnections) {
          if (w.synFrame === null) continue;
          expect(frames(w.synFileFrame.file)[w.synFileFrame.frame]).toBe(epKey(w.client, w.server));
          n++;
        }
        if (rep.ladder) for (const p of rep.ladder.packets) { expect(frames(p.fileFrame.file)[p.fileFrame.frame]).toBe(epKey(rep.ladder.client, rep.ladder.server)); n++; }
        expect(n).toBeGreaterThan(0);
      });

      it('text, Markdown and HTML print no frame without its file, and every "N of FILE" is such a frame', () => {
        // The frames the JSON places (checked above against tshark), as "file#frame".
        const known = new Set<string>();
        for (const f of rep.findings) for (const x of f.files ?? []) for (const fr of x.frames) known.add(`${x.file}#${fr}`);
        for (const w of rep.worstConnections) if (w.synFileFrame) known.add(`${w.synFileFrame.file}#${w.synFileFrame.frame}`);
        for (const p of rep.ladder?.packets ?? []) known.add(`${p.fileFrame.file}#${p.fileFrame.frame}`);
        const names = set.files.map((f) => f.replace(/[.]/g, '\\.')).sort((a, b) => b.length - a.length).join('|');
        const plain = (s: string): string => s.replace(/<[^>]+>/g, ' ').replace(/&mdash;/g, '—').replace(/`/g, '').replace(/\s+/g, ' ');
        for (const [fmt, out] of [['text', text], ['md', md], ['html', html]] as const) {
          // Tables in the terminal report wrap cells: only its other lines.
          const body = plain(fmt === 'text' ? out.split('\n').filter((l) => !/^[┌│├└]/.test(l)).join('\n') : out);
          const refs = [...body.matchAll(new RegExp(`(?<![\\d.])((?:\\d+, )*\\d+) of (${names})(?![\\w.])`, 'g'))];
          expect(refs.length, fmt).toBeGreaterThan(0);
          for (const m of refs) {
            for (const fr of m[1].split(', ').map(Number)) expect([fmt, m[0], known.has(`${m[2]}#${fr}`)]).toEqual([fmt, m[0], true]);
          }
          // No bare "frame N" / "frames N, M" left: each is followed by "of FILE".
          const bare = [...body.matchAll(/\bframes? ((?:\d+, )*\d+)(?! of )(?!\d|, \d)/g)].map((m) => m[0]);
          expect([fmt, bare]).toEqual([fmt, []]);
        }
      });

      it('every filter text, Markdown and HTML print is one the first test ran in tshark on the file it names', () => {
        const ran = new Set<string>(rep.causes.flatMap((c: any) => c.evidence.flatMap((e: any) => e.files.map((x: any) => `${x.file}\t${x.filter}`))));
        const unesc = (s: string): string => s.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"');
        const printed: [string, string[]][] = [
          // What a filter selects beyond its frames may stand between the file and the filter.
          ['text', [...text.replace(/\n {2}/g, ' ').matchAll(/\(Wireshark, in ([^\s,]+)(?:, [^:()]+)?: ([^)]+)\)/g)].map((m) => `${m[1]}\t${m[2]}`)],
          ['md', [...md.matchAll(/Wireshark filter for `([^`]+)`(?: \([^)]*\))?: `([^`]+)`/g)].map((m) => `${m[1]}\t${m[2]}`)],
          ['html', [...html.matchAll(/Wireshark filter for <code>([^<]+)<\/code>(?: \([^)]*\))?: <code class="filter">([^<]+)<\/code>/g)].map((m) => `${unesc(m[1])}\t${unesc(m[2])}`)],
        ];
        for (const [fmt, pairs] of printed) {
          expect(pairs.length, fmt).toBeGreaterThan(0);
          for (const p of pairs) expect([fmt, p, ran.has(p)]).toEqual([fmt, p, true]);
        }
        // No filter printed without naming its file.
        expect(text).not.toMatch(/\(Wireshark: /);
        expect(md).not.toMatch(/Wireshark filter: /);
        expect(html).not.toMatch(/Wireshark filter: /);
      });
    });
  }
});
