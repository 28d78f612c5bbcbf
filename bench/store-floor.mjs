#!/usr/bin/env node
/**
 * How small a kept store can be in SQLite with the same content (issue #16's target: under 600
 * bytes per connection on the benchmark capture). Not a test, and not the store tcpdiag writes:
 * it re-encodes a kept store (schema 8 or 9) into two candidate layouts, in SQL, and prints the
 * bytes per connection of every table and index of each, from SQLite's dbstat
 * (https://www.sqlite.org/dbstat.html). Every value of the kept store is kept (the check at the
 * end decodes each candidate back and compares every column of connections, events, attempts and
 * the typed findings); only its encoding changes. Candidate A:
 *   - addresses: an integer id into a `hosts` table (the bench has 1 001 addresses for 100 000
 *     connections, each address stored 9 times: twice in its row, twice in attempts, five times
 *     in three indexes);
 *   - times: `first_ts_usec` as µs since the capture's first packet, the connection's other
 *     times as µs since its own first packet (an absolute µs time needs 8 bytes in SQLite's
 *     record format, a delta of a few ms 2 or 3: https://www.sqlite.org/fileformat.html#record_format);
 *   - enumerations (answer, conn_state, closers, RST state, event kind and direction, attempt
 *     outcome): small integers, 0 and 1 taking no byte at all (serial types 8 and 9);
 *   - TCP option kinds: a BLOB of one byte per kind instead of "2,4,1,1,...";
 *   - events: WITHOUT ROWID keyed by (conn_id, frame, kind) as in schema 9, without the
 *     capture_id its connection already has;
 *   - indexes: those of schema 9, on the new columns.
 * Candidate B: A, and stale-ack and challenge-ack findings a coded column of their connection
 * (build() below) instead of rows in findings. Last, viewCheck() below: today's columns through
 * a view over A, queries timed against the kept store.
 * Usage: node bench/store-floor.mjs STORE [--page-size BYTES] [--keep DIR]   (STORE: kept by
 *   `analyze F --db STORE`; the candidates' page size, default 4096 as tcpdiag's store; --keep:
 *   leave them in DIR, an existing folder, as candidate-plain.sqlite and candidate-typed.sqlite)
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
const pageAt = args.indexOf('--page-size');
const pageSize = pageAt >= 0 ? Number(args.splice(pageAt, 2)[1]) : 4096;
const keepAt = args.indexOf('--keep');
const keep = keepAt >= 0 ? resolve(args.splice(keepAt, 2)[1]) : null;
if (args.length !== 1 || !(pageSize >= 512 && pageSize <= 65536)) { console.error('usage: node bench/store-floor.mjs STORE [--page-size BYTES] [--keep DIR]'); process.exit(2); }
const src = resolve(args[0]);
const dir = keep ?? mkdtempSync(join(tmpdir(), 'tcpdiag-store-floor-'));

const ENUMS = {
  answer: ['synack', 'rst', 'ack', 'syn', 'none'],
  conn_state: ['S0', 'S1', 'SF', 'REJ', 'S2', 'S3', 'RSTO', 'RSTR', 'RSTOS0', 'RSTRH', 'SH', 'SHR', 'OTH'],
  first_fin_by: ['client', 'server'],
  first_rst_by: ['client', 'server'],
  prev_active_closer: ['client', 'server'],
  first_rst_state: ['syn-sent', 'syn-received', 'established', 'closing', 'midstream'],
};
const EV_KIND = ['syn', 'syn-rtx', 'synack', 'synack-rtx', 'server-syn', 'answer-ack', 'handshake-ack', 'fin', 'rst'];
const DIR = ['c2s', 's2c'];
const OUTCOMES = ['established', 'not-completed', 'refused', 'foreign-ack', 'other-answer', 'unanswered'];
const TYPED = "'stale-ack', 'challenge-ack'";
const isTime = (c) => c.name.endsWith('_ts_usec');
// NULL stays NULL (no byte); a value outside the list becomes -1, which decodes to NULL and fails the check.
const code = (col, values) => `CASE WHEN ${col} IS NULL THEN NULL ${values.map((v, i) => `WHEN ${col} = '${v}' THEN ${i}`).join(' ')} ELSE -1 END`;
const decode = (col, values) => `CASE ${col} ${values.map((v, i) => `WHEN ${i} THEN '${v}'`).join(' ')} ELSE NULL END`;
// "2,4,1,3" -> x'02040103' and back; kinds are 0-255
const optsBlob = (col) => `CASE WHEN ${col} IS NULL THEN NULL WHEN ${col} = '' THEN x'' ELSE unhex((SELECT group_concat(printf('%02x', value), '') FROM json_each('[' || ${col} || ']'))) END`;

function size(path) {
  const db = new Database(path, { readonly: true });
  try {
    const n = db.prepare('SELECT count(*) FROM connections').pluck().get();
    const rows = db.prepare('SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC').all();
    return { n, file: statSync(path).size, rows };
  } finally { db.close(); }
}

/**
 * Builds one candidate at `out` from the kept store; with `typed`, stale-ack and challenge-ack
 * findings are not findings rows but one coded column of their connection (`finding`: an index
 * into `conn_findings`, which holds each distinct detector, severity, kind and reason once):
 * their id, capture, connection and time are the connection's (checked below).
 */
function build(out, typed) {
  const db = new Database(out);
  db.pragma(`page_size = ${pageSize}`);
  try {
    db.exec(`ATTACH '${src.replace(/'/g, "''")}' AS s`);
    const cols = db.prepare("SELECT name, type FROM pragma_table_info('connections', 's')").all();
    const newType = (c) => (c.name === 'client_addr' ? 'client_host INTEGER NOT NULL' : c.name === 'server_addr' ? 'server_host INTEGER NOT NULL'
      : ENUMS[c.name] ? `${c.name} INTEGER` : c.name.endsWith('_opts') ? `${c.name} BLOB` : `${c.name} ${c.type}`);
    const encode = (c) => (c.name === 'client_addr' ? 'hc.id' : c.name === 'server_addr' ? 'hs.id'
      : c.name === 'first_ts_usec' ? 'c.first_ts_usec - k.first_ts_usec'
        : isTime(c) ? `c.${c.name} - c.first_ts_usec`
          : ENUMS[c.name] ? code(`c.${c.name}`, ENUMS[c.name]) : c.name.endsWith('_opts') ? optsBlob(`c.${c.name}`) : `c.${c.name}`);
    const t0 = performance.now();
    db.exec(`
      CREATE TABLE hosts (id INTEGER PRIMARY KEY, addr TEXT NOT NULL UNIQUE);
      INSERT INTO hosts (addr) SELECT addr FROM (SELECT client_addr AS addr FROM s.connections UNION SELECT server_addr FROM s.connections) ORDER BY addr;
      CREATE TABLE captures AS SELECT * FROM s.captures;
      CREATE TABLE capture_pieces AS SELECT * FROM s.capture_pieces;
      CREATE TABLE settings AS SELECT * FROM s.settings;
      CREATE TABLE conn_findings (code INTEGER PRIMARY KEY, detector TEXT NOT NULL, severity TEXT NOT NULL, kind TEXT, reason TEXT);
      CREATE TEMP TABLE typed (conn_id INTEGER PRIMARY KEY, detector TEXT, severity TEXT, kind TEXT, reason TEXT);
      ${typed ? `INSERT INTO temp.typed SELECT conn_id, detector, severity, kind, reason FROM s.findings WHERE detector IN (${TYPED});` : ''}
      ${typed ? `INSERT INTO conn_findings (detector, severity, kind, reason) SELECT DISTINCT detector, severity, kind, reason FROM s.findings WHERE detector IN (${TYPED});` : ''}
      CREATE TABLE connections (${cols.map((c) => (c.name === 'id' ? 'id INTEGER PRIMARY KEY' : newType(c))).join(', ')}${typed ? ', finding INTEGER' : ''});
      INSERT INTO connections SELECT ${cols.map(encode).join(', ')}${typed ? ', cf.code' : ''}
        FROM s.connections c JOIN hosts hc ON hc.addr = c.client_addr JOIN hosts hs ON hs.addr = c.server_addr JOIN s.captures k ON k.id = c.capture_id
        ${typed ? `LEFT JOIN temp.typed f ON f.conn_id = c.id
          LEFT JOIN conn_findings cf ON cf.detector = f.detector AND cf.severity = f.severity AND cf.kind IS f.kind AND cf.reason IS f.reason` : ''}
        ORDER BY c.id;
      CREATE TABLE events (conn_id INTEGER NOT NULL, frame INTEGER NOT NULL, dt_usec INTEGER NOT NULL, dir INTEGER NOT NULL, kind INTEGER NOT NULL,
        seq INTEGER NOT NULL, ack INTEGER NOT NULL, flags INTEGER NOT NULL, ts INTEGER NOT NULL, tsval INTEGER, tsecr INTEGER,
        nop_run INTEGER NOT NULL, win INTEGER NOT NULL, PRIMARY KEY (conn_id, frame, kind)) WITHOUT ROWID;
      INSERT INTO events SELECT e.conn_id, e.frame, e.ts_usec - c.first_ts_usec, ${code('e.dir', DIR)}, ${code('e.kind', EV_KIND)},
        e.seq, e.ack, e.flags, e.ts, e.tsval, e.tsecr, e.nop_run, e.win FROM s.events e JOIN s.connections c ON c.id = e.conn_id ORDER BY e.conn_id, e.frame;
      CREATE TABLE attempts (id INTEGER PRIMARY KEY, points INTEGER NOT NULL, view_capture_id INTEGER NOT NULL, rows_at_view INTEGER NOT NULL,
        client_host INTEGER NOT NULL, server_host INTEGER NOT NULL, server_port INTEGER NOT NULL, syn_ts_usec INTEGER NOT NULL, syns INTEGER NOT NULL,
        syn_retransmits INTEGER NOT NULL, rtx_after_ack INTEGER NOT NULL, rtx_after_synack INTEGER NOT NULL, rtx_unanswered INTEGER NOT NULL,
        outcome INTEGER NOT NULL, connect_usec INTEGER, rtt_syn_usec INTEGER, syn_ts INTEGER NOT NULL, synack_ts INTEGER);
      INSERT INTO attempts SELECT a.id, a.points, a.view_capture_id, a.rows_at_view, hc.id, hs.id, a.server_port, a.syn_ts_usec - k.first_ts_usec, a.syns,
        a.syn_retransmits, a.rtx_after_ack, a.rtx_after_synack, a.rtx_unanswered, ${code('a.outcome', OUTCOMES)}, a.connect_usec, a.rtt_syn_usec, a.syn_ts, a.synack_ts
        FROM s.attempts a JOIN hosts hc ON hc.addr = a.client_addr JOIN hosts hs ON hs.addr = a.server_addr JOIN s.captures k ON k.id = a.view_capture_id ORDER BY a.id;
      CREATE TABLE anomalies AS SELECT * FROM s.anomalies;
      CREATE TABLE findings (id TEXT PRIMARY KEY, detector TEXT NOT NULL, severity TEXT NOT NULL, capture_id INTEGER, conn_id INTEGER, ts_usec INTEGER,
        summary TEXT, evidence TEXT, kind TEXT, reason TEXT);
      INSERT INTO findings SELECT * FROM s.findings ${typed ? `WHERE detector NOT IN (${TYPED})` : ''} ORDER BY rowid;
      CREATE INDEX conn_tuple ON connections (client_host, client_port, server_host, server_port);
      CREATE INDEX conn_server ON connections (server_host, server_port);
      CREATE INDEX conn_time ON connections (capture_id, first_ts_usec, id);
      CREATE INDEX conn_isn ON connections (client_isn, server_port, syn_ts_usec);
      CREATE INDEX conn_path ON connections (capture_id, client_host, server_host, server_port, syn_ts_usec, client_port);
      CREATE INDEX conn_attempt ON connections (attempt_id);
      CREATE INDEX conn_prev ON connections (prev_id, first_frame);
      ${typed ? 'CREATE INDEX conn_finding ON connections (finding) WHERE finding IS NOT NULL;' : ''}
      CREATE INDEX an_kind ON anomalies (kind, conn_id);
      CREATE INDEX an_conn ON anomalies (conn_id);
      CREATE INDEX find_detector ON findings (detector);
      CREATE INDEX find_cover ON findings (detector, severity, kind, reason, capture_id, conn_id, ts_usec);
    `);
    const built = (performance.now() - t0) / 1000;
    // Decode the candidate back and compare with the kept store, column by column (option
    // blobs by encoding the kept store's strings the same way).
    const cmp = cols.map((c) => `(${c.name === 'client_addr' ? 'hc.addr' : c.name === 'server_addr' ? 'hs.addr'
      : c.name === 'first_ts_usec' ? 'n.first_ts_usec + k.first_ts_usec'
        : isTime(c) ? `n.${c.name} + n.first_ts_usec + k.first_ts_usec`
          : ENUMS[c.name] ? decode(`n.${c.name}`, ENUMS[c.name])
            : c.name.endsWith('_opts') ? optsBlob(`o.${c.name}`) : `n.${c.name}`}) IS NOT ${c.name.endsWith('_opts') ? `n.${c.name}` : `o.${c.name}`}`);
    const one = (sql) => db.prepare(sql).pluck().get();
    const check = {
      connections: [one('SELECT count(*) FROM connections'), one('SELECT count(*) FROM s.connections'), one(`SELECT count(*) FROM connections n
        JOIN hosts hc ON hc.id = n.client_host JOIN hosts hs ON hs.id = n.server_host JOIN captures k ON k.id = n.capture_id JOIN s.connections o ON o.id = n.id
        WHERE ${cmp.join(' OR ')}`)],
      events: [one('SELECT count(*) FROM events'), one('SELECT count(*) FROM s.events'), one(`SELECT count(*) FROM events n
        JOIN s.events o ON o.conn_id = n.conn_id AND o.frame = n.frame AND o.kind = (${decode('n.kind', EV_KIND)}) JOIN s.connections c ON c.id = n.conn_id
        WHERE n.dt_usec + c.first_ts_usec IS NOT o.ts_usec OR (${decode('n.dir', DIR)}) IS NOT o.dir OR n.seq IS NOT o.seq OR n.ack IS NOT o.ack
          OR n.flags IS NOT o.flags OR n.ts IS NOT o.ts OR n.tsval IS NOT o.tsval OR n.tsecr IS NOT o.tsecr OR n.win IS NOT o.win OR n.nop_run IS NOT o.nop_run`)],
      attempts: [one('SELECT count(*) FROM attempts'), one('SELECT count(*) FROM s.attempts'), one(`SELECT count(*) FROM attempts n
        JOIN hosts hc ON hc.id = n.client_host JOIN hosts hs ON hs.id = n.server_host JOIN captures k ON k.id = n.view_capture_id JOIN s.attempts o ON o.id = n.id
        WHERE hc.addr IS NOT o.client_addr OR hs.addr IS NOT o.server_addr OR n.syn_ts_usec + k.first_ts_usec IS NOT o.syn_ts_usec
          OR (${decode('n.outcome', OUTCOMES)}) IS NOT o.outcome OR n.connect_usec IS NOT o.connect_usec OR n.syns IS NOT o.syns OR n.synack_ts IS NOT o.synack_ts`)],
      // A typed finding rebuilt from its connection: id detector/capture/SYN frame, time of the foreign ACK.
      findings: [one('SELECT count(*) FROM findings') + (typed ? one('SELECT count(*) FROM connections WHERE finding IS NOT NULL') : 0), one('SELECT count(*) FROM s.findings'),
        typed ? one(`SELECT count(*) FROM s.findings o LEFT JOIN connections n ON n.id = o.conn_id LEFT JOIN conn_findings cf ON cf.code = n.finding
          LEFT JOIN s.connections c ON c.id = o.conn_id WHERE o.detector IN (${TYPED}) AND (cf.detector IS NOT o.detector OR cf.severity IS NOT o.severity
            OR cf.kind IS NOT o.kind OR cf.reason IS NOT o.reason OR o.id IS NOT o.detector || '/' || c.capture_id || '/' || c.syn_frame
            OR o.ts_usec IS NOT c.foreign_ack_ts_usec OR o.capture_id IS NOT c.capture_id OR o.summary IS NOT NULL OR o.evidence IS NOT NULL)`) : 0],
    };
    db.exec('DETACH s');
    return { built, check };
  } finally { db.close(); }
}

/**
 * Whether users could keep today's columns through a view over candidate A: a view over one
 * table whose columns are expressions (an address from `hosts`, an absolute time, a decoded
 * enumeration). Prints each query's plan on the view and its best of three times against the
 * kept store's table, and whether the rows are the same.
 */
function viewCheck(path) {
  const db = new Database(path);
  const kept = new Database(src, { readonly: true });
  try {
    const base = '(SELECT first_ts_usec FROM captures k WHERE k.id = capture_id)';
    db.exec(`CREATE TEMP VIEW conn_v AS SELECT id, capture_id,
      (SELECT addr FROM hosts WHERE hosts.id = client_host) AS client_addr, client_port,
      (SELECT addr FROM hosts WHERE hosts.id = server_host) AS server_addr, server_port,
      first_ts_usec + ${base} AS first_ts_usec, syn_ts_usec + first_ts_usec + ${base} AS syn_ts_usec,
      ${decode('answer', ENUMS.answer)} AS answer, connect_usec FROM connections`);
    const addr = kept.prepare('SELECT client_addr, client_port FROM connections ORDER BY id LIMIT 1 OFFSET 1000').get();
    const cols = 'id, capture_id, client_addr, client_port, server_addr, server_port, first_ts_usec, syn_ts_usec, answer, connect_usec';
    const queries = [
      [`SELECT count(*) FROM X WHERE client_addr = '${addr.client_addr}'`, 'one address'],
      [`SELECT ${cols} FROM X WHERE client_addr = '${addr.client_addr}' AND client_port = ${addr.client_port} ORDER BY id`, 'one tuple'],
      ['SELECT client_addr, count(*), avg(connect_usec) FROM X GROUP BY 1 ORDER BY 1', 'per address'],
      ['SELECT answer, count(*) FROM X GROUP BY 1 ORDER BY 1', 'per answer'],
      ['SELECT min(syn_ts_usec), max(first_ts_usec) FROM X', 'time range'],
    ];
    console.log('today\'s columns through a view over candidate A (best of 3 runs, ms):');
    for (const [q, label] of queries) {
      const best = (d, sql) => {
        let t = Infinity; let rows;
        for (let i = 0; i < 3; i++) { const t0 = performance.now(); rows = d.prepare(sql).all(); t = Math.min(t, performance.now() - t0); }
        return { t, rows };
      };
      const v = best(db, q.replace('X', 'conn_v'));
      const k = best(kept, q.replace('X', 'connections'));
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${q.replace('X', 'conn_v')}`).all().map((r) => r.detail).filter((d) => !d.startsWith('CORRELATED') && !d.startsWith('SEARCH hosts') && d !== 'SCAN k').join('; ');
      console.log(`  ${label.padEnd(12)} view ${v.t.toFixed(1).padStart(6)}, kept ${k.t.toFixed(1).padStart(6)}; rows ${JSON.stringify(v.rows) === JSON.stringify(k.rows) ? 'the same' : 'DIFFERENT'}; plan: ${plan}`);
    }
  } finally { db.close(); kept.close(); }
}

try {
  const a = size(src);
  const names = new Set(a.rows.map((r) => r.name));
  const cands = [false, true].map((typed) => {
    const out = join(dir, `candidate-${typed ? 'typed' : 'plain'}.sqlite`);
    const r = build(out, typed);
    const b = size(out);
    for (const x of b.rows) names.add(x.name);
    return { typed, ...r, size: b };
  });
  const per = (x, n) => (x / n).toFixed(1);
  console.log(`${src}: ${a.n} connections, ${per(a.file, a.n)} bytes per connection; candidates with page size ${pageSize}:`);
  console.log('  A: every value re-encoded as above; B: A, and the stale-ack and challenge-ack findings a column of their connection');
  for (const c of cands) {
    console.log(`check ${c.typed ? 'B' : 'A'} (built in ${c.built.toFixed(1)} s): ${Object.entries(c.check).map(([t, [n, m, bad]]) => `${t} ${n} of ${m} rows, ${bad} differing`).join('; ')}`);
  }
  console.log(`${'bytes per connection'.padEnd(28)} ${'kept'.padStart(7)} ${'A'.padStart(7)} ${'B'.padStart(7)}`);
  const get = (s, nm) => s.rows.find((r) => r.name === nm)?.bytes ?? 0;
  for (const nm of [...names].sort((x, y) => get(a, y) - get(a, x) || get(cands[0].size, y) - get(cands[0].size, x))) {
    const xs = [a, cands[0].size, cands[1].size].map((s) => get(s, nm));
    if (xs.every((x) => x < a.n)) continue; // under 1 byte per connection in each
    console.log(`${nm.padEnd(28)} ${xs.map((x) => per(x, a.n).padStart(7)).join(' ')}`);
  }
  console.log(`${'file'.padEnd(28)} ${[a, cands[0].size, cands[1].size].map((s) => per(s.file, a.n).padStart(7)).join(' ')}`);
  viewCheck(join(dir, 'candidate-plain.sqlite'));
} finally {
  if (keep === null) rmSync(dir, { recursive: true, force: true });
}
