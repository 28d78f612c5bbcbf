/**
 * Feeding captures the way engineers take them, end to end through the CLI: standard input
 * (plain, gzip, zstd; cut short), FIFOs, /dev/stdin and process substitution; the same
 * capture given twice; rotated sets (editcap -c pieces) as one capture point; --point;
 * narrowing; captures in which nothing can be decoded.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTshark, ROOT, SAMPLES, tsharkFields } from '../helpers/pipeline.js';

const CLI = join(ROOT, 'dist/cli.js');
const SERVER = join(SAMPLES, 'tw-stale-ack-ts-stripped/server.pcap');
const CLIENT = join(SAMPLES, 'tw-stale-ack-ts-stripped/client.pcap');
const ZST = join(SAMPLES, 'corpus/pcapplusplus-pcapng-example.pcapng.zst');
const NFLOG = join(SAMPLES, 'corpus/zeek-nflog-http.pcap');
const TMP = mkdtempSync(join(tmpdir(), 'tcpdiag-sources-'));

interface Run { code: number | null; out: string; err: string }
function cli(args: string[], input?: Buffer): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', maxBuffer: 1 << 26 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
function sh(script: string): Run {
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, CLI, NODE: process.execPath } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const json = (r: Run): any => JSON.parse(r.out);
/** What a report says about the traffic, without the per-file lines. */
const gist = (rep: any) => ({ totals: rep.totals, findingCounts: rep.findingCounts, causes: rep.causes.map((c: any) => [c.id, c.severity]), verdict: rep.verdict.status });

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/commands/sources.js'))) spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'ignore' });
}, 120_000);
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

describe('standard input and special files', { timeout: 120_000 }, () => {
  const plain = readFileSync(SERVER);
  const fileTotals = cli(['decode', '--count-only', SERVER]).out.replace(SERVER, 'X');

  it('analyze - reads a pcap piped in, with the same report as the file', () => {
    const piped = cli(['analyze', '--format', 'json', '-'], plain);
    expect(piped.code).toBe(0);
    const rep = json(piped);
    expect(rep.captures.map((c: any) => [c.name, c.path, c.frames])).toEqual([['stdin', '-', 2581]]);
    expect(gist(rep)).toEqual(gist(json(cli(['analyze', '--format', 'json', SERVER]))));
  });
  it('gzip and zstd in a pipe, told by magic', () => {
    const gz = cli(['decode', '--count-only', '-'], gzipSync(plain));
    expect([gz.code, gz.out.replace('stdin', 'X')]).toEqual([0, fileTotals]);
    const z = cli(['decode', '--count-only', '-'], readFileSync(ZST));
    expect(z.code).toBe(0);
    expect(z.out).toMatch(/^stdin: 159 frames, 159 TCP packets/);
    const f = cli(['flows', '--format', 'json', '-'], execFileSync('zstd', ['-c'], { input: plain }));
    expect(f.code).toBe(0);
    expect(json(f)).toHaveLength(100);
  });
  it('a stream cut short: one line naming the offset, the report on what came before, exit 3', () => {
    const r = cli(["analyze", "-q", "-"], plain.subarray(0, 100_000));
    expect(r.code).toBe(3);
    expect(r.out).toMatch(/^PROBLEM: /);
    // The offset is where the cut record starts: the end of the last whole record before 100 000.
    let at = 24;
    let frames = 0;
    while (at + 16 <= 100_000 && at + 16 + plain.readUInt32LE(at + 8) <= 100_000) { at += 16 + plain.readUInt32LE(at + 8); frames++; }
    expect(r.err).toContain(`tcpdiag: stdin: truncated at byte offset ${at} (after frame ${frames}):`);
    expect(r.err).not.toMatch(/\n\s+at /);
    const g = cli(["analyze", "-q", "-"], ((z) => z.subarray(0, Math.floor(z.length * 0.6)))(gzipSync(plain)));
    expect(g.code).toBe(3);
    // gzip: the offset counts decompressed bytes (every byte that decompressed was read).
    expect(g.err).toMatch(/stdin: truncated at decompressed byte offset \d+ \(after frame \d+\): the gzip data ends early/);
  });
  it('a FIFO, /dev/stdin and process substitution are read as streams', () => {
    const fifo = join(TMP, 'cap.fifo');
    execFileSync('mkfifo', [fifo]);
    const viaFifo = sh(`cat "${SERVER}" > "${fifo}" & "$NODE" "$CLI" decode --count-only "${fifo}"; wait`);
    expect([viaFifo.code, viaFifo.out.replace(fifo, 'X')]).toEqual([0, fileTotals]);
    const devStdin = sh(`cat "${SERVER}" | "$NODE" "$CLI" decode --count-only /dev/stdin`);
    expect([devStdin.code, devStdin.out.replace('/dev/stdin', 'X')]).toEqual([0, fileTotals]);
    const subst = sh(`"$NODE" "$CLI" decode --count-only <(gzip -c "${SERVER}")`);
    expect(subst.code).toBe(0);
    expect(subst.out.replace(/\/dev\/fd\/\d+/, 'X')).toBe(fileTotals);
  });
  it('- twice is a usage error', () => {
    expect(cli(['analyze', '-', '-'], plain).code).toBe(2);
  });
});

describe('the same capture given twice', { timeout: 120_000 }, () => {
  it('same path, another name for the same file, a copy: read once, each with a warning', () => {
    const copy = join(TMP, 'copy.pcap');
    copyFileSync(SERVER, copy);
    const r = cli(['analyze', '--format', 'json', SERVER, SERVER, SERVER.replace('/server.pcap', '/./server.pcap'), copy]);
    expect(r.code).toBe(0);
    expect(json(r).captures).toHaveLength(1);
    expect(r.err).toContain(`warning: ${SERVER} is given twice; read once`);
    expect(r.err).toContain('is the same file as');
    const sha = execFileSync('sha256sum', [SERVER], { encoding: 'utf8' }).slice(0, 12);
    expect(r.err).toContain(`warning: ${copy} has the same content as ${SERVER} (SHA-256 ${sha}); read once`);
    expect(gist(json(r))).toEqual(gist(json(cli(['analyze', '--format', 'json', SERVER]))));
  });
  it('a --db re-run says a capture is already in the store and does not append it', () => {
    const db = join(TMP, 'dup.sqlite');
    expect(cli(['analyze', '-q', '--db', db, SERVER]).code).toBe(0);
    const again = cli(['analyze', '--format', 'json', '--db', db, join(TMP, 'copy.pcap')]);
    expect(again.err).toMatch(/copy\.pcap is already in the store \(read from .*server\.pcap, capture 1; same SHA-256 [0-9a-f]{12}\); not added again/);
    expect(json(again).captures).toHaveLength(1);
    expect(json(again).totals.connections).toBe(100);
    // A stream is hashed while read, and dropped after.
    const piped = cli(['analyze', '--format', 'json', '--db', db, '-'], readFileSync(SERVER));
    expect(piped.err).toMatch(/stdin has the same content as .*server\.pcap .*already in the store, not added again/);
    expect(json(piped).totals.connections).toBe(100);
  });
});

describe.skipIf(!hasTshark())('rotated sets (editcap -c) are one capture point', { timeout: 120_000 }, () => {
  let pieces: string[] = [];
  beforeAll(() => {
    const dir = join(TMP, 'rot');
    execFileSync('mkdir', ['-p', dir]);
    execFileSync('editcap', ['-F', 'pcap', '-c', '700', SERVER, join(dir, 'piece.pcap')]);
    pieces = readdirSync(dir).sort().map((f) => join(dir, f));
  });
  it('the set analysed as the whole file: same connections and findings, no two-point finding', () => {
    expect(pieces).toHaveLength(4);
    const whole = json(cli(['analyze', '--format', 'json', SERVER]));
    // Given out of order: read in time order all the same.
    const r = cli(['analyze', '--format', 'json', pieces[2], pieces[0], pieces[3], pieces[1]]);
    expect(r.code).toBe(0);
    const set = json(r);
    expect(gist(set)).toEqual(gist(whole));
    expect(set.findingCounts['two-point']).toBeUndefined();
    expect(set.captures).toHaveLength(1);
    expect(set.captures[0].grouping).toBe('rotated');
    // Frames numbered across the pieces as editcap split them (700 each), so evidence frames are the whole file's.
    expect(set.captures[0].pieces.map((p: any) => [p.firstFrame, p.frames])).toEqual([[1, 700], [701, 700], [1401, 700], [2101, 481]]);
    expect(set.findings.map((f: any) => f.evidence.frames)).toEqual(whole.findings.map((f: any) => f.evidence.frames));
    expect(r.err).toMatch(/note: piece_00000_\S+, piece_00001_\S+, piece_00002_\S+, piece_00003_\S+: read as one capture point/);
    const text = cli(['analyze', ...pieces]).out;
    expect(text).toMatch(/4 files read as one capture point, a rotated set/);
  });
  it('a connection open across a file boundary goes on in the next file', () => {
    const db = join(TMP, 'rot.sqlite');
    cli(['flows', '--limit', '0', '--db', db, ...pieces]);
    const dbw = join(TMP, 'whole.sqlite');
    cli(['flows', '--limit', '0', '--db', dbw, SERVER]);
    const sql = (f: string, q: string): unknown[] => { const d = new Database(f, { readonly: true }); try { return d.prepare(q).raw().all(); } finally { d.close(); } };
    const q = 'SELECT client_port, client_isn, conn_state, history, syn_frame, client_fin_frame, server_fin_frame, client_pkts, server_pkts FROM connections ORDER BY first_ts_usec';
    expect(sql(db, q)).toEqual(sql(dbw, q));
    // Frame 700 is the last of piece 0: some connection must span it for this test to mean anything.
    expect(sql(db, 'SELECT count(*) FROM connections WHERE first_frame <= 700 AND (client_fin_frame > 700 OR server_fin_frame > 700)')[0]).not.toEqual([0]);
  });
  it('tcpdump -G 1 pieces (lab): the set equals the capture taken whole at the same time', () => {
    const dir = join(SAMPLES, 'rotated-tcpdump');
    const set = readdirSync(dir).filter((f) => f.startsWith('g1-')).sort().map((f) => join(dir, f)).reverse();
    expect(set.length).toBeGreaterThanOrEqual(3);
    const dbs = join(TMP, 'g1.sqlite');
    const dbw = join(TMP, 'g1-whole.sqlite');
    const r = cli(['analyze', '--format', 'json', '--db', dbs, ...set]);
    const whole = json(cli(['analyze', '--format', 'json', '--db', dbw, join(dir, 'whole.pcap')]));
    const rep = json(r);
    expect(rep.captures).toHaveLength(1);
    expect(rep.captures[0].pieces.map((p: any) => p.name)).toEqual([...set].reverse().map((f) => f.slice(dir.length + 1)));
    expect(rep.findingCounts).toEqual(whole.findingCounts);
    expect(rep.findingCounts['two-point']).toBeUndefined();
    // Each stale ACK drew one client RST: tshark's count of RSTs in the whole capture.
    expect(rep.findingCounts['stale-ack'].error).toBe(tsharkFields(join(dir, 'whole.pcap'), 'tcp.flags.reset == 1', ['frame.number']).length);
    // Two tcpdump processes stamp the same packets microseconds apart: compare all but times.
    const cols = (f: string): unknown[] => {
      const d = new Database(f, { readonly: true });
      try {
        const names = (d.pragma('table_info(connections)') as { name: string }[]).map((c) => c.name).filter((c) => !/usec|^id$|^prev_id$|capture_id/.test(c));
        return d.prepare(`SELECT ${names.join(', ')} FROM connections ORDER BY first_frame`).raw().all();
      } finally { d.close(); }
    };
    expect(cols(dbs)).toEqual(cols(dbw));
    expect(tsharkFields(join(dir, 'whole.pcap'), 'tcp.flags.syn == 1 && tcp.flags.ack == 0', ['frame.number']).length).toBe(rep.totals.attempts + rep.totals.synRetransmits);
  });
  it('overlapping captures stay two points; --point says which files are which', () => {
    const two = json(cli(['analyze', '--format', 'json', CLIENT, SERVER]));
    expect(two.captures.map((c: any) => c.grouping)).toEqual(['file', 'file']);
    const forced = json(cli(['analyze', '--format', 'json', '--point', `a=${pieces[0]},${pieces[1]}`, '--point', `b=${pieces[2]},${pieces[3]}`]));
    expect(forced.captures.map((c: any) => [c.name, c.grouping, c.pieces.length])).toEqual([['a', 'point', 2], ['b', 'point', 2]]);
    expect(cli(['analyze', '--point', 'nofiles']).code).toBe(2);
  });
});

describe.skipIf(!hasTshark())('narrowing before tracking', { timeout: 120_000 }, () => {
  it('--since/--until keep the TCP packets tshark finds in the window; --host/--net/--port either end', () => {
    const times = tsharkFields(SERVER, 'tcp', ['frame.time_epoch']).map((r) => Number(r[0]));
    const t0 = times[0];
    const lo = t0 + 0.2;
    const hi = t0 + 0.5;
    const inWindow = times.filter((t) => t >= lo - 1e-7 && t <= hi + 1e-7).length;
    const r = json(cli(['analyze', '--format', 'json', '--since', '+0.2', '--until', '+500ms', SERVER]));
    expect(r.captures[0].tcpPackets - r.captures[0].filter.packetsLeftOut).toBe(inWindow);
    const abs = json(cli(['analyze', '--format', 'json', '--since', lo.toFixed(6), '--until', hi.toFixed(6), SERVER]));
    expect(abs.captures[0].filter.packetsLeftOut).toBe(r.captures[0].filter.packetsLeftOut);
    const iso = new Date(Math.floor(lo * 1000)).toISOString().replace('Z', '') + String(Math.round(lo * 1e6) % 1000).padStart(3, '0') + 'Z';
    expect(json(cli(['analyze', '--format', 'json', '--since', iso, '--until', hi.toFixed(6), SERVER])).captures[0].filter.packetsLeftOut)
      .toBe(r.captures[0].filter.packetsLeftOut);

    const keepAll = json(cli(['analyze', '--format', 'json', '--host', '198.18.1.2', '--net', '198.19.0.0/16', '--port', '3306', SERVER]));
    expect(keepAll.captures[0].filter.packetsLeftOut).toBe(0);
    expect(gist(keepAll)).toEqual(gist(json(cli(['analyze', '--format', 'json', SERVER]))));
    const none = cli(['analyze', '--format', 'json', '--host', '198.18.7.7', SERVER]);
    expect(json(none).totals.connections).toBe(0);
    expect(json(none).captures[0].filter.packetsLeftOut).toBe(times.length);
    expect(cli(['analyze', '--net', '198.18.0.0/40', SERVER]).code).toBe(2);
    expect(cli(['analyze', '--since', 'yesterday', SERVER]).code).toBe(2);
  });
});

describe.skipIf(!hasTshark())('nothing decodable is never OK', { timeout: 120_000 }, () => {
  it('an unsupported link type: a warning verdict saying how many frames and why, in every format, exit 3', () => {
    const frames = tsharkFields(NFLOG, 'frame', ['frame.number']).length;
    const r = cli(['analyze', NFLOG]);
    expect(r.code).toBe(3);
    expect(r.out).toMatch(/^WARNING: Nothing analysed: no frame could be decoded as TCP/);
    expect(r.out).toContain(`zeek-nflog-http.pcap: ${frames} of ${frames} frames not decoded: link type 239 not decoded (linktype:239) ${frames}`);
    expect(r.err).toMatch(/zeek-nflog-http\.pcap: nothing decoded/);
    expect(cli(['analyze', '-q', '--fail-on', 'info', NFLOG]).code).toBe(3);
    for (const fmt of ['md', 'html']) expect(cli(['analyze', '--format', fmt, NFLOG]).out).toContain(`${frames} of ${frames} frames not decoded`);
    const j = json(cli(['analyze', '--format', 'json', NFLOG]));
    expect([j.verdict.status, j.captures[0].undecodedFrames]).toEqual(['warning', frames]);
    expect(cli(['decode', NFLOG]).code).toBe(3);
  });
});
