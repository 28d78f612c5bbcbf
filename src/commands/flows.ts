import { ExitError } from '../errors.js';
import { selectConnections } from '../flows/query.js';
import { connectionsCsv, connectionsTable } from '../report/connections.js';
import { openOrIngest, reportCaptureErrors } from './ingestFiles.js';

export interface FlowsOptions {
  db?: string; tuple?: string; state?: string; limit?: number; format: string; timeWait: number;
}

export async function flowsCommand(files: string[], opts: FlowsOptions): Promise<number> {
  if (!['table', 'json', 'csv'].includes(opts.format)) throw new ExitError(2, `--format must be table, json or csv, not "${opts.format}"`);
  const { store, errors } = await openOrIngest(files, opts.db, { timeWaitS: opts.timeWait });
  try {
    const rows = selectConnections(store.db, { tuple: opts.tuple, state: opts.state, limit: opts.limit });
    if (opts.format === 'json') process.stdout.write(`${JSON.stringify(rows, null, 1)}\n`);
    else if (opts.format === 'csv') {
      const cols = (store.db.pragma('table_info(connections)') as { name: string }[]).map((c) => c.name);
      process.stdout.write(connectionsCsv(rows, cols));
    } else process.stdout.write(connectionsTable(rows));
  } finally {
    store.close();
  }
  reportCaptureErrors(errors);
  return errors.length > 0 ? 3 : 0;
}
