import { ExitError } from '../errors.js';
import { countConnections, CONN_STATES, parseTupleFilter, selectConnections } from '../flows/query.js';
import { connectionsCsv, connectionsTable } from '../report/connections.js';
import { FLOW_FIELDS, flowRecord } from '../report/flowFields.js';
import { zeekConnLog } from '../report/zeekConn.js';
import { assertCapturesExist, openOrIngest, reportCaptureErrors, reportUndecoded, type SourceOptions } from './ingestFiles.js';

export interface FlowsOptions extends SourceOptions {
  db?: string; tuple?: string; state?: string; limit?: number; format: string; timeWait: number; raw?: boolean;
}

const FORMATS = ['table', 'json', 'csv', 'zeek'];

export async function flowsCommand(files: string[], opts: FlowsOptions): Promise<number> {
  if (!FORMATS.includes(opts.format)) throw new ExitError(2, `--format must be one of ${FORMATS.join(', ')}, not "${opts.format}"`);
  // Bad filters are usage errors before anything is read.
  if (opts.tuple !== undefined) parseTupleFilter(opts.tuple);
  if (opts.state !== undefined && !CONN_STATES.includes(opts.state.toUpperCase())) {
    throw new ExitError(2, `--state must be a Zeek conn_state (${CONN_STATES.join(', ')}), not "${opts.state}"`);
  }
  assertCapturesExist(files);
  const { store, errors, undecoded, results } = await openOrIngest(files, opts.db, { timeWaitS: opts.timeWait }, opts);
  try {
    const filter = { tuple: opts.tuple, state: opts.state, limit: opts.limit };
    const rows = selectConnections(store.db, filter);
    const total = opts.limit !== undefined ? countConnections(store.db, filter) : rows.length;
    if (opts.format === 'json') {
      process.stdout.write(`${JSON.stringify(opts.raw ? rows : rows.map(flowRecord), null, 1)}\n`);
    } else if (opts.format === 'csv') {
      if (opts.raw) {
        const cols = (store.db.pragma('table_info(connections)') as { name: string }[]).map((c) => c.name);
        process.stdout.write(connectionsCsv(rows, cols));
      } else {
        process.stdout.write(connectionsCsv(rows.map(flowRecord) as never, FLOW_FIELDS.map((f) => f.name)));
      }
    } else if (opts.format === 'zeek') {
      const t0 = store.db.prepare('SELECT min(first_ts_usec) FROM captures').pluck().get() as number | null;
      process.stdout.write(zeekConnLog(rows, t0 ?? 0));
    } else process.stdout.write(connectionsTable(rows, total));
    if (rows.length < total && opts.format !== 'table') process.stderr.write(`tcpdiag: ${rows.length} of ${total} connections shown (--limit)\n`);
  } finally {
    store.close();
  }
  reportCaptureErrors(errors);
  reportUndecoded(undecoded, results);
  return errors.length > 0 || undecoded.length > 0 ? 3 : 0;
}
