/** `tcpdiag decode` end to end: output lines, totals, one-line errors with offsets and exit code 3, no stack traces. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { corpus, MALFORMED, ROOT } from './helpers.js';

const CLI = join(ROOT, 'dist/cli.js');

function run(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, 'decode', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  // `npm test` builds first; build here too when run alone (tsc emits even if another module has type errors).
  if (!existsSync(join(ROOT, 'dist/commands/decode.js'))) spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'ignore' });
}, 120_000);

describe('tcpdiag decode', () => {
  it('prints one tcpdump-like line per TCP packet and totals on stderr', () => {
    const r = run(corpus('zeek-tcp-options.pcap'));
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe('1 1258589770.049012000 192.168.1.102:36861 -> 193.1.193.64:80 [S] seq 3750886907 ack 0 win 5840 len 0 [mss 1460,sackOK,TS val 4294923497 ecr 0,nop,wscale 6]');
    expect(lines[1]).toMatch(/^2 .* \[S\.\] seq 724047884 ack 3750886908 /);
    expect(r.err).toMatch(/4 frames, 4 TCP packets/);
  });
  it('IPv6 in brackets, NOP runs flagged', () => {
    expect(run(corpus('pcapplusplus-four-ipv6-http-streams-dlt12.pcap')).out.split('\n')[0]).toMatch(/^1 \S+ \[2001:618:400::5199:cc70\]:35995 -> \[2001:618:1:8000::5\]:80 \[S\]/);
    expect(run(corpus('tcpdump-ssh-synack-ts-nop-run.pcap')).out.split('\n')[1]).toMatch(/nop-run 11$/);
  });
  it('--count-only prints only the totals, --limit stops printing', () => {
    const r = run('--count-only', corpus('suricata-base64-decode-5885-stale-ack.pcap'));
    expect(r.out.trim()).toMatch(/1143 frames, 896 TCP packets; not TCP or not decoded: non-ip 126, non-tcp 121$/);
    expect(r.err).toMatch(/^decoded in \d+\.\d{3} s: \d+\.\d\d M TCP packets\/s\n$/);
    expect(run('--limit', '3', corpus('suricata-bug-4376.pcap')).out.trim().split('\n')).toHaveLength(3);
  });
  for (const [name, offset, frames] of [['crafted-pcap-cut-mid-record.pcap', 22223, 59], ['crafted-pcap-huge-caplen.pcap', 672, 9], ['crafted-pcapng-trailer-mismatch.pcapng', 1852, 9]] as const) {
    it(`damaged ${name}: packets, then a one-line error and exit 3`, () => {
      const r = run(join(MALFORMED, name));
      expect(r.code).toBe(3);
      expect(r.out.trim().split('\n')).toHaveLength(frames);
      expect(r.err).toContain(`at byte offset ${offset} (after frame ${frames}):`);
      expect(r.err).toMatch(/warning: .* could not be read whole/);
      expect(r.err).not.toMatch(/\n\s+at /);
    });
  }
  it('a missing file and a directory: one line, exit 3, no stack', () => {
    for (const p of [join(tmpdir(), 'no-such-capture.pcap'), mkdtempSync(join(tmpdir(), 'tcpdiag-'))]) {
      const r = run(p);
      expect(r.code).toBe(3);
      expect(r.err).toMatch(/^tcpdiag: .*: unreadable at byte offset 0 \(after frame 0\): /);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
  });
  it('zstd: decoded as tshark decodes it (159 TCP packets)', () => {
    const r = run('--count-only', corpus('pcapplusplus-pcapng-example.pcapng.zst'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/159 frames, 159 TCP packets/);
  });
  it('exits quietly when stdout is closed early (| head)', () => {
    const r = spawnSync('sh', ['-c', `"${process.execPath}" "${CLI}" decode "${corpus('zeek-ftp-ftp-many-port-expected.pcap.gz')}" | head -1; echo "rc=\${PIPESTATUS:-}"`], { encoding: 'utf8' });
    expect(r.stdout.split('\n')[0]).toMatch(/^1 /);
    expect(r.stderr).not.toMatch(/EPIPE|Error/);
  });
});
