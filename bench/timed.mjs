// Shared by bench/peers.mjs, bench/store-size.mjs and bench/rss-scale.mjs (not a script):
// one command under /usr/bin/time -v, the captures the benches replay, and the machine line.
// Wall time and peak RSS come from GNU time (the kernel's wait4 rusage), the same way
// bench/analyze.mjs measures, so the numbers are comparable with its table.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
// TCPDIAG_CLI: another build to measure (e.g. a copy of dist/ from before a change).
export const CLI = process.env.TCPDIAG_CLI ?? join(ROOT, 'dist/cli.js');

/** Runs argv under /usr/bin/time -v; stdout goes to the file `stdout` (default /dev/null). */
export function timed(argv, stdout = '/dev/null') {
  const fd = openSync(stdout, 'w');
  try {
    const r = spawnSync('/usr/bin/time', ['-v', ...argv], { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8', maxBuffer: 1 << 26 });
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}\n${r.stderr.slice(-2000)}`);
    const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(r.stderr);
    const secs = wall ? Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]) : NaN;
    const rssMb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1]) / 1024;
    return { secs, rssMb };
  } finally {
    closeSync(fd);
  }
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Reads the whole file once, untimed, and counts its pcap records: this machine's kernel evicts
 * page-cache pages it thinks cold, and a run that waits on the disk times the disk.
 */
export function warm(file) {
  const fd = openSync(file, 'r');
  const chunk = Buffer.alloc(8 << 20);
  let packets = 0;
  let skip = 24; // bytes still to skip before the next record header (file header first)
  const head = Buffer.alloc(16);
  let have = 0; // bytes of the current record header collected
  try {
    for (let n; (n = readSync(fd, chunk, 0, chunk.length, null)) > 0;) {
      let i = 0;
      while (i < n) {
        if (skip > 0) { const s = Math.min(skip, n - i); skip -= s; i += s; continue; }
        const c = Math.min(16 - have, n - i);
        chunk.copy(head, have, i, i + c);
        have += c; i += c;
        if (have === 16) { skip = head.readUInt32LE(8); have = 0; packets++; }
      }
    }
  } finally {
    closeSync(fd);
  }
  return packets;
}

/**
 * The two benchmark shapes: the generator, the file name for a copy count, and the connections
 * of one copy (the source's expected.json "connections": samples/tw-stale-ack-ts-stripped 100,
 * bench/source 50).
 */
export const SHAPES = {
  short: { gen: 'bench/gen-connections.mjs', defaultCopies: 1000, perCopy: 100, file: (n) => join(ROOT, 'bench/out', n === 1000 ? 'connections.pcap' : `connections-${n}.pcap`) },
  long: { gen: 'bench/gen-long.mjs', defaultCopies: 320, perCopy: 50, file: (n) => join(ROOT, 'bench/out', n === 320 ? 'long.pcap' : `long-${n}.pcap`) },
};

/** The capture of `shape` with `copies` copies, made (and reported on stderr) if missing. */
export function capture(shape, copies) {
  const s = SHAPES[shape];
  const file = s.file(copies);
  const made = !existsSync(file);
  if (made) execFileSync(process.execPath, [join(ROOT, s.gen), String(copies), file], { stdio: ['ignore', 2, 2] });
  return { file, made };
}

function firstLine(argv) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  return `${r.stdout}\n${r.stderr}`.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? '?';
}

/** One line naming the machine and every tool's version, for the head of a bench's output. */
export function machine() {
  const git = spawnSync('git', ['-C', ROOT, 'describe', '--always', '--dirty'], { encoding: 'utf8' }).stdout.trim() || '?';
  const tcptrace = /version ([\d.]+)/.exec(firstLine(['tcptrace', '-v']))?.[1] ?? '?';
  const tshark = /TShark \(Wireshark\) ([\d.]+)/.exec(firstLine(['tshark', '--version']))?.[1] ?? '?';
  const tcpdump = /tcpdump version ([\d.]+)/.exec(firstLine(['tcpdump', '--version']))?.[1] ?? '?';
  const tcpdiag = firstLine([process.execPath, CLI, '--version']);
  return `${new Date().toISOString().slice(0, 16)}Z; ${cpus().length} x ${cpus()[0]?.model ?? '?'}; Linux ${release()}; `
    + `node ${process.version}; tcpdiag ${tcpdiag} (${CLI === join(ROOT, 'dist/cli.js') ? `dist/ of ${git}` : CLI}); `
    + `tcptrace ${tcptrace}; tshark ${tshark}; tcpdump ${tcpdump}`;
}
