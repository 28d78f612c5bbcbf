#!/usr/bin/env node
/**
 * Command-line entry. Only this file turns errors into exit codes; commands
 * return an exit code or throw ExitError / CaptureError.
 *
 * Exit codes (documented in README.md):
 *   0 analysis complete, nothing at or above --fail-on
 *   1 findings at or above --fail-on
 *   2 usage error
 *   3 a capture could not be read whole (results up to the damage were still printed)
 *   3 also: the environment failed (stdout or the store: disk full, read-only, locked, TMPDIR)
 *   4 internal error (a bug: please report it with the capture)
 *   141 stdout closed by its reader (`| head`), quietly, as git does
 *   128 + N stopped by signal N (SIGINT 130, SIGTERM 143, SIGHUP 129)
 */
import './heap.js';
import { Command, CommanderError } from 'commander';
import { installSignalHandlers } from './commands/signals.js';
import { CaptureError, EXIT_PIPE, ExitError, Interrupted, StdoutClosed } from './errors.js';

export const EXIT = { OK: 0, FINDINGS: 1, USAGE: 2, CAPTURE: 3, INTERNAL: 4 } as const;

const EXIT_HELP = `Exit codes:
  0  analysis complete, nothing at or above --fail-on
  1  a finding or root cause at or above --fail-on
  2  usage error (bad option or value)
  3  a capture (or its store, disk or output) could not be read or written whole; results up to there are kept
  4  internal error (a bug: TCPDIAG_DEBUG=1 prints the stack)
  141  stdout closed by its reader (| head), quietly
  130, 143, 129  stopped by SIGINT, SIGTERM, SIGHUP (a temporary store is removed; --db marks the capture interrupted)`;

function intOpt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new ExitError(EXIT.USAGE, `${name} must be a non-negative number, got "${v}"`);
    return n;
  };
}

/** The narrowing and capture-point options shared by flows and analyze. */
function sourceOptions(c: Command): Command {
  const many = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];
  return c
    .option('--point <name=files>', 'these files (comma-separated) are one capture point, read in time order (repeatable)', many)
    .option('--since <time>', 'only packets from this time: +30s (offset from the first TCP packet), epoch seconds, or ISO 8601 (UTC without a zone)')
    .option('--until <time>', 'only packets up to this time (same forms as --since)')
    .option('--host <addr>', 'only packets to or from this address (repeatable: any of them)', many)
    .option('--net <cidr>', 'only packets to or from this network, e.g. 198.18.0.0/15 (repeatable)', many)
    .option('--port <port>', 'only packets to or from this port (repeatable: any of them)', many);
}

async function main(argv: string[]): Promise<number> {
  const program = new Command();
  const { VERSION } = await import('./version.js');
  program
    .name('tcpdiag')
    .description('Explains why new TCP connections fail or are slow, from a packet capture.')
    .version(VERSION, '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .addHelpText('after', `
Examples:
  tcpdiag analyze server.pcap                      the diagnosis, in the terminal
  tcpdiag analyze client.pcap server.pcap -o r.md  both capture points, Markdown for a ticket
  tcpdiag analyze f.pcap --fail-on error           for CI: exit 1 when a problem is found
  tcpdiag flows f.pcap --state S0 --format zeek    the connection table as a Zeek conn.log
${EXIT_HELP}`);

  let code = EXIT.OK as number;

  program
    .command('decode')
    .description('print one line per TCP packet (a debugging aid, like tshark -r FILE)')
    .argument('<file>', 'pcap or pcapng, plain, gzip or zstd; - for standard input')
    .option('--count-only', 'decode everything but print only the totals')
    .option('--limit <n>', 'stop printing after n packets', intOpt('--limit'))
    .action(async (file: string, opts) => {
      const { decodeCommand } = await import('./commands/decode.js');
      code = await decodeCommand(file, opts);
    });

  sourceOptions(program
    .command('flows'))
    .description('reconstruct TCP connections and print the connection table')
    .argument('[files...]', 'captures (- for standard input), or use --db')
    .option('--db <path>', 'SQLite database to write (or to read, when no capture is given)')
    .option('--tuple <filter>', 'only connections matching ADDR[:PORT] or PORT')
    .option('--state <state>', 'only connections in this Zeek conn_state (SF, S0, REJ, ...)')
    .option('--limit <n>', 'print at most n connections', intOpt('--limit'))
    .option('--format <fmt>', 'table | json | csv (documented fields, times in seconds) | zeek (a conn.log)', 'table')
    .option('--raw', 'json and csv: every store column as stored (times in microseconds)')
    .option('--anomalies', 'list the anomalies named per connection (capture loss, crafted SYNs, TFO, odd handshakes) instead')
    .option('--kind <kind>', 'with --anomalies: only this kind (synack-not-captured, syn-with-data, ...)')
    .option('--time-wait <seconds>', 'TIME_WAIT length assumed when linking incarnations', intOpt('--time-wait'), 60)
    .action(async (files: string[], opts) => {
      const { flowsCommand } = await import('./commands/flows.js');
      code = await flowsCommand(files, opts);
    });

  program
    .command('findings')
    .description('every finding of a store kept by analyze --db, rendered as a report lists them')
    .requiredOption('--db <path>', 'the store (read only)')
    .option('--detector <id>', 'only this detector\'s findings (stale-ack, challenge-ack, syn-retransmit, ...)')
    .option('--limit <n>', 'print at most n findings', intOpt('--limit'))
    .option('--format <fmt>', 'text (severity, id and summary, one line each) | json (every field)', 'text')
    .action(async (opts) => {
      const { findingsCommand } = await import('./commands/findings.js');
      code = await findingsCommand(opts);
    });

  sourceOptions(program
    .command('analyze'))
    .description('diagnose why new connections fail or are slow')
    .argument('[files...]', 'captures (- for standard input); several (client and server side, or the pieces of a rotated set) are analysed together')
    .option('--db <path>', 'keep the SQLite database here (with no capture given: re-run detectors on it)')
    .option('--time-wait <seconds>', 'TIME_WAIT period (Linux 60, Windows 120 or 240)', intOpt('--time-wait'), 60)
    .option('--port-range <lo-hi>', 'client ephemeral port range (Linux 32768-60999, Windows 49152-65535)', '32768-60999')
    .option('--format <fmt>', 'text | md | json | html | junit | github (default: from the -o extension, else text)', 'text')
    .option('-o, --output <file>', 'write the report to a file instead of stdout (.md, .json, .html set the format)')
    .option('--max-findings <n>', 'findings listed in the text and Markdown reports (the JSON and the store have all)', intOpt('--max-findings'))
    .option('--color <when>', 'auto | always | never (NO_COLOR and FORCE_COLOR are honoured in auto)', 'auto')
    .option('--fail-on <gate>', 'exit 1 when a gate fails (repeatable): info | warning | error, a detector[:severity] (stale-ack, syn-retransmit:warning), or a metric comparison (\'stale-ack-share>0.01\', \'connect-p99-ms>200\')', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--baseline <report.json>', 'an earlier JSON report: gates count only new findings and metrics that got worse')
    .option('-q, --quiet', 'print only the verdict')
    .addHelpText('after', `
Examples:
  tcpdiag analyze server.pcap
  tcpdiag analyze client.pcap server.pcap --format md -o report.md
  tcpdiag analyze capture.pcap --db kept.sqlite && tcpdiag analyze --db kept.sqlite --format json
${EXIT_HELP}`)
    .action(async (files: string[], opts, cmd: Command) => {
      const { analyzeCommand } = await import('./commands/analyze.js');
      const given = (name: string): boolean => cmd.getOptionValueSource(name) !== 'default';
      code = await analyzeCommand(files, { ...opts, explicit: { timeWait: given('timeWait'), portRange: given('portRange'), format: given('format') } });
    });

  program
    .command('compare')
    .description('did a remedy work? each metric before and after, and whether the change is more than the samples explain')
    .argument('<before>', 'a capture, a kept store (--db) or a JSON report')
    .argument('<after>', 'the same, after the change')
    .option('--format <fmt>', 'text | md | json', 'text')
    .option('--fail-on <worse>', 'exit 1 when a share got significantly worse')
    .option('--time-wait <seconds>', 'TIME_WAIT period for captures (stores keep their own)', intOpt('--time-wait'), 60)
    .option('--port-range <lo-hi>', 'client ephemeral port range for captures', '32768-60999')
    .addHelpText('after', `
Examples:
  tcpdiag compare before.pcap after.pcap
  tcpdiag compare last-week.json today.pcap --fail-on worse
${EXIT_HELP}`)
    .action(async (before: string, after: string, opts) => {
      const { compareCommand } = await import('./commands/compare.js');
      code = await compareCommand(before, after, opts);
    });

  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    throw e;
  }
  return code;
}

// Writes that go through process.stdout (commander's --help) fail as the rest do; a
// stderr nobody reads must not turn a finished run into a crash.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') process.stderr.write(`tcpdiag: cannot write to stdout: ${e.message}\n`);
  process.exit(e.code === 'EPIPE' ? EXIT_PIPE : EXIT.CAPTURE);
});
process.stderr.on('error', () => {});
installSignalHandlers();

// A promise nobody settles would end the process with exit 0 and no output: a bug, said as one.
let settled = false;
process.on('beforeExit', () => {
  if (settled) return;
  settled = true;
  process.stderr.write('tcpdiag: internal error: the run stopped waiting for an operation that never finished\n(this is a bug; please report it with the capture)\n');
  process.exitCode = EXIT.INTERNAL;
});

main(process.argv).finally(() => { settled = true; }).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => {
    if (e instanceof StdoutClosed) {
      process.exitCode = EXIT_PIPE;
    } else if (e instanceof Interrupted) {
      process.stderr.write(`tcpdiag: ${e.message}\n`);
      // A read left pending on a FIFO would keep the event loop alive: the cleanup is done, exit.
      process.exit(e.code);
    } else if (e instanceof ExitError) {
      process.stderr.write(`tcpdiag: ${e.message}\n`);
      process.exitCode = e.code;
    } else if (e instanceof CaptureError) {
      process.stderr.write(`tcpdiag: ${e.message}\n`);
      process.exitCode = EXIT.CAPTURE;
    } else {
      const msg = e instanceof Error ? e.message : String(e);
      process.stderr.write(`tcpdiag: internal error: ${msg}\n(this is a bug; set TCPDIAG_DEBUG=1 for the stack)\n`);
      if (process.env.TCPDIAG_DEBUG) process.stderr.write(`${e instanceof Error ? e.stack : ''}\n`);
      process.exitCode = EXIT.INTERNAL;
    }
  },
);
