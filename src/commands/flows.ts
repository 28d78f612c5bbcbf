import { ExitError } from '../errors.js';
import { ANOMALY_KINDS } from '../flows/anomalies.js';
import { iterateAnomalies, type AnomalyRow } from '../flows/anomalyQuery.js';
import { countConnections, CONN_STATES, iterateConnections, parseTupleFilter, type ConnRow } from '../flows/query.js';
import { anomaliesCsvLines, anomaliesTableLines } from '../report/anomalies.js';
import { connectionsTableLines, csvLines, jsonArrayLines, TABLE_COLUMNS } from '../report/connections.js';
import { storeFault } from '../flows/store.js';
import { FLOW_COLUMNS, FLOW_FIELDS, flowRecord } from '../report/flowFields.js';
import { ZEEK_COLUMNS, zeekConnLines } from '../report/zeekConn.js';
import { assertCapturesExist, interruptedCaptures, openOrIngest, reportCaptureErrors, reportInterrupted, reportUndecoded, type SourceOptions } from './ingestFiles.js';
import { LineOut } from './output.js';

export interface FlowsOptions extends SourceOptions {
  db?: string; tuple?: string; state?: string; limit?: number; format: string; timeWait: number; raw?: boolean; anomalies?: boolean; kind?: string;
}

const FORMATS = ['table', 'json', 'csv', 'zeek'];

export async function flowsCommand(files: string[], opts: FlowsOptions): Promise<number> {
  if (!FORMATS.includes(opts.format)) throw new ExitError(2, `--format must be one of ${FORMATS.join(', ')}, not "${opts.format}"`);
  // Bad filters are usage errors before anything is read.
  if (opts.tuple !== undefined) parseTupleFilter(opts.tuple);
  if (opts.state !== undefined && !CONN_STATES.includes(opts.state.toUpperCase())) {
    throw new ExitError(2, `--state must be a Zeek conn_state (${CONN_STATES.join(', ')}), not "${opts.state}"`);
  }
  if (opts.kind !== undefined && !(ANOMALY_KINDS as readonly string[]).includes(opts.kind)) {
    throw new ExitError(2, `--kind must be one of ${ANOMALY_KINDS.join(', ')}, not "${opts.kind}"`);
  }
  if (opts.kind !== undefined && !opts.anomalies) throw new ExitError(2, '--kind needs --anomalies');
  if (opts.anomalies && opts.format === 'zeek') throw new ExitError(2, '--anomalies prints table, json or csv, not zeek');
  assertCapturesExist(files);
  const { store, errors, undecoded, results } = await openOrIngest(files, opts.db, { timeWaitS: opts.timeWait }, opts, true);
  let interrupted: string[] = [];
  let shown = '';
  try {
    interrupted = interruptedCaptures(store);
    if (opts.anomalies) {
      // The anomalies table's own columns (schema.ts documents them per kind), with the endpoints.
      const filter = { kind: opts.kind, tuple: opts.tuple !== undefined ? parseTupleFilter(opts.tuple) : undefined, limit: opts.limit };
      const rows = (): Iterable<AnomalyRow> => iterateAnomalies(store.db, filter);
      writeLines(opts.format === 'json' ? jsonArrayLines(rows()) : opts.format === 'csv' ? anomaliesCsvLines(rows()) : anomaliesTableLines(rows));
    } else {
      // Streamed from the store to stdout a row at a time: the table of a capture with millions of
      // connections never sits in memory (the table format reads the rows twice, for its widths).
      const filter = { tuple: opts.tuple, state: opts.state, limit: opts.limit };
      const total = opts.limit !== undefined ? countConnections(store.db, filter) : undefined;
      let n = 0;
      const rows = function* (columns?: readonly string[]): Generator<ConnRow> {
        n = 0;
        for (const r of iterateConnections(store.db, filter, columns)) { n++; yield r; }
      };
      const records = function* (): Generator<Record<string, unknown>> { for (const r of rows(FLOW_COLUMNS)) yield flowRecord(r); };
      let lines: Iterable<string>;
      if (opts.format === 'json') lines = jsonArrayLines(opts.raw ? rows() : records());
      else if (opts.format === 'csv') {
        lines = opts.raw
          ? csvLines(rows(), (store.db.pragma('table_info(connections)') as { name: string }[]).map((c) => c.name))
          : csvLines(records(), FLOW_FIELDS.map((f) => f.name));
      } else if (opts.format === 'zeek') {
        const t0 = store.db.prepare('SELECT min(first_ts_usec) FROM captures').pluck().get() as number | null;
        lines = zeekConnLines(rows(ZEEK_COLUMNS), t0 ?? 0);
      } else lines = connectionsTableLines(() => rows(TABLE_COLUMNS), total);
      writeLines(lines);
      if (total !== undefined && n < total && opts.format !== 'table') shown = `tcpdiag: ${n} of ${total} connections shown (--limit)\n`;
    }
    store.close();
  } catch (e) {
    const fault = storeFault(e, store.label);
    store.abandon();
    throw fault ?? e;
  }
  if (shown) process.stderr.write(shown);
  reportCaptureErrors(errors);
  reportInterrupted(interrupted, store.label);
  reportUndecoded(undecoded, results);
  return errors.length > 0 || interrupted.length > 0 || undecoded.length > 0 ? 3 : 0;
}

/** Lines to stdout as they come, ~64 KB a write. */
function writeLines(lines: Iterable<string>): void {
  const out = new LineOut('the connection table');
  for (const l of lines) out.line(l);
  out.flush();
}
