import type Database from 'better-sqlite3';

/**
 * Attempt identity, assigned once, after every capture is in the store: every count of
 * connection attempts in detectors and reports goes through connections.attempt_id and the
 * attempts table built here (schema.ts), never through rules of its own.
 *  - Within one capture point an attempt is one client SYN sequence: the tracker already keeps
 *    a SYN and its retransmits (same tuple, same ISN) in one row.
 *  - A NAT that answers a stale ACK's RST by dropping the mapping sends the client's retry from
 *    another public port (nf_nat_core.c picks a free tuple): at the server the same ISN comes
 *    back on a new tuple. Linux derives the ISN from the 4-tuple (secure_tcp_seq), so the same
 *    ISN on another source port, right after a foreign ACK on the first, is the same SYN moved.
 *  - At two capture points the same SYN keeps its ISN and server port (a NAT rewrites addresses
 *    and ports, not sequence numbers); when no ISN is shared at all but most 4-tuples pair up
 *    in order, a box on the path rewrote ISNs and the pairs are matched by tuple.
 */

/** A retry from another source port joins the attempt whose foreign ACK it follows within this. */
export const CROSS_PORT_RETRY_USEC = 3e6;
/**
 * The same SYN at two capture points: their clocks are taken to agree within this. It bounds
 * ISN matches in time, so that two unrelated SYNs sharing a 32-bit ISN by chance (likely among
 * 10^5 connections on one path) are not merged.
 */
export const POINT_CLOCK_SKEW_USEC = 60e6;

export interface CapturePair { a: number; b: number; matched: number; matchedBy: 'isn' | 'tuple' }

export function assignAttempts(db: Database.Database): CapturePair[] {
  // Start again from "every SYN row is its own attempt" (a store may have gained a capture).
  db.prepare('UPDATE connections SET attempt_id = CASE WHEN syn_count > 0 THEN id END WHERE attempt_id IS NOT (CASE WHEN syn_count > 0 THEN id END)').run();
  // Rows that are one attempt, as pairs of ids in a temporary table: memory holds none of them
  // (two points of 100 000 connections each held ~40 MB of links and union-find maps).
  db.exec(`DROP TABLE IF EXISTS temp.attempt_links; CREATE TEMP TABLE attempt_links (a INTEGER NOT NULL, b INTEGER NOT NULL);
    DROP TABLE IF EXISTS temp.tuple_links; CREATE TEMP TABLE tuple_links (a INTEGER NOT NULL, b INTEGER NOT NULL);`);

  // Each foreign-ACK row looks up its ISN on its server port in the 3 s after the ACK (conn_isn);
  // CROSS JOIN keeps that order: the planner otherwise walks every SYN of the path in the window
  // (conn_path) and reads each row, ~13 times slower on the 100 000-connection bench store.
  db.prepare(`INSERT INTO temp.attempt_links SELECT e.id, r.id FROM connections e CROSS JOIN connections r INDEXED BY conn_isn
      ON r.client_isn = e.client_isn AND r.server_port = e.server_port
        AND r.syn_ts_usec > e.foreign_ack_ts_usec AND r.syn_ts_usec <= e.foreign_ack_ts_usec + ${CROSS_PORT_RETRY_USEC}
        AND r.capture_id = e.capture_id AND r.client_addr = e.client_addr AND r.server_addr = e.server_addr AND r.client_port != e.client_port
    WHERE e.foreign_ack_count > 0 AND r.syn_count > 0`).run();

  const pairs: CapturePair[] = [];
  const caps = db.prepare('SELECT id FROM captures ORDER BY id').pluck().all() as number[];
  const byIsn = db.prepare(`INSERT INTO temp.attempt_links SELECT a.id, b.id FROM connections a JOIN connections b
      ON b.client_isn = a.client_isn AND b.server_port = a.server_port AND b.capture_id = ?
    WHERE a.capture_id = ? AND a.syn_count > 0 AND b.syn_count > 0
      AND b.syn_ts_usec BETWEEN a.syn_ts_usec - ${POINT_CLOCK_SKEW_USEC} AND a.syn_ts_usec + ${POINT_CLOCK_SKEW_USEC}`);
  // The k-th SYN row of a 4-tuple at one point with the k-th of the same 4-tuple at the other, both in time order.
  const tupleRows = (cap: string): string => `SELECT id, client_addr, client_port, server_addr, server_port,
      row_number() OVER (PARTITION BY client_addr, client_port, server_addr, server_port ORDER BY syn_ts_usec, id) AS k
    FROM connections WHERE capture_id = ${cap} AND syn_count > 0`;
  const byTuple = db.prepare(`INSERT INTO temp.tuple_links WITH a AS (${tupleRows('@a')}), b AS (${tupleRows('@b')})
    SELECT a.id, b.id FROM a JOIN b ON b.client_addr = a.client_addr AND b.client_port = a.client_port AND b.server_addr = a.server_addr
      AND b.server_port = a.server_port AND b.k = a.k`);
  const synRows = db.prepare('SELECT count(*) FROM connections WHERE capture_id = ? AND syn_count > 0').pluck();
  for (let i = 0; i < caps.length; i++) {
    for (let j = i + 1; j < caps.length; j++) {
      let matched = byIsn.run(caps[j], caps[i]).changes;
      let matchedBy: CapturePair['matchedBy'] = 'isn';
      if (matched === 0) {
        // No ISN in common: pair by tuple in time order, and only call it ISN rewriting when most
        // connections pair up that way (two unrelated captures share few tuples).
        db.exec('DELETE FROM temp.tuple_links');
        matched = byTuple.run({ a: caps[i], b: caps[j] }).changes;
        const enough = matched >= Math.max(3, 0.5 * Math.min(synRows.get(caps[i]) as number, synRows.get(caps[j]) as number));
        if (enough) db.exec('INSERT INTO temp.attempt_links SELECT a, b FROM temp.tuple_links');
        if (!enough) continue;
        matchedBy = 'tuple';
      }
      pairs.push({ a: caps[i], b: caps[j], matched, matchedBy });
    }
  }

  // Rows of attempts that span several rows (a moved retry, other capture points), each with its
  // attempt's first row (the lowest id of the rows linked together); every other SYN row is an
  // attempt of its own. Labels start as each row's own id and take the lowest of their links'
  // until none changes: an attempt's rows are a handful, linked in a step or two.
  db.exec(`DROP TABLE IF EXISTS temp.attempt_of; CREATE TEMP TABLE attempt_of (id INTEGER PRIMARY KEY, attempt INTEGER NOT NULL);
    INSERT OR IGNORE INTO temp.attempt_of SELECT a, a FROM temp.attempt_links UNION SELECT b, b FROM temp.attempt_links;
    DROP TABLE IF EXISTS temp.attempt_edges;
    CREATE TEMP TABLE attempt_edges AS SELECT a AS x, b AS y FROM temp.attempt_links UNION SELECT b, a FROM temp.attempt_links;
    CREATE INDEX temp.attempt_edges_x ON attempt_edges (x);
    DROP TABLE temp.attempt_links; DROP TABLE temp.tuple_links;`);
  const step = db.prepare(`UPDATE temp.attempt_of SET attempt = m FROM (
      SELECT e.x AS id, min(o.attempt) AS m FROM temp.attempt_edges e JOIN temp.attempt_of o ON o.id = e.y GROUP BY e.x) t
    WHERE attempt_of.id = t.id AND t.m < attempt_of.attempt`);
  while (step.run().changes > 0) { /* until every row has its attempt's lowest id */ }
  db.exec(`DROP TABLE temp.attempt_edges;
    UPDATE connections SET attempt_id = t.attempt FROM temp.attempt_of t WHERE connections.id = t.id AND t.id != t.attempt;
    DELETE FROM capture_pairs;`);
  const putPair = db.prepare('INSERT INTO capture_pairs VALUES (?, ?, ?, ?)');
  for (const p of pairs) putPair.run(p.a, p.b, p.matched, p.matchedBy);
  db.exec(`DELETE FROM attempts; INSERT INTO attempts ${SINGLE_ATTEMPTS_SQL}; INSERT INTO attempts ${MULTI_ATTEMPTS_SQL}; DROP TABLE temp.attempt_of;`);
  return pairs;
}

/**
 * Per row: whether it was established (the client acknowledged the SYN-ACK: the three-way
 * handshake completed; or, in a split handshake or simultaneous open, both SYNs were
 * acknowledged), answered by a SYN-ACK only (the client never acknowledged it here: a scan or
 * flood resetting it, or the client's ACK lost before this point), refused, answered by a
 * foreign ACK, answered otherwise (the server's own SYN, or an ACK of this SYN, and no handshake
 * completed), and its SYN-ACK's timestamp option.
 */
// Established also when the client acknowledged a SYN-ACK the capture missed (anomalies.ts). A
// split handshake or simultaneous open (RFC 9293 §3.5: the server sent a SYN of its own) is
// established once each side acknowledged the other's SYN (tracker.ts splitAck: handshake_acked).
// Exported for queries over `connections` (unaliased) that must say established the same way.
export const ROW_EST = `(((synack_count > 0 OR server_syn_count > 0) AND handshake_acked = 1) OR EXISTS (SELECT 1 FROM anomalies a WHERE a.conn_id = connections.id AND a.kind = 'synack-not-captured'))`;
const ROW_SA = '(synack_count > 0)';
const ROW_REJ = `(conn_state = 'REJ')`;
const ROW_FA = '(foreign_ack_count > 0)';
// The server answered, but with its own SYN (a split handshake or simultaneous open that did
// not complete), or with an ACK of this very SYN (ack = ISN + 1, not another connection's
// numbers, so not a foreign ACK) and no SYN: a client in SYN-SENT drops that ACK (RFC 9293
// §3.10.7.3, "fifth"), so it synchronizes nothing; it is still an answer.
const ROW_OA = `(server_syn_count > 0 OR answer = 'ack')`;
const ROW_SYNACK_TS = 'CASE WHEN synack_count > 0 THEN synack_ts END';
const outcome = (est: string, sa: string, rej: string, fa: string, oa: string): string =>
  `CASE WHEN ${est} THEN 'established' WHEN ${sa} THEN 'not-completed' WHEN ${rej} THEN 'refused' WHEN ${fa} THEN 'foreign-ack' WHEN ${oa} THEN 'other-answer' ELSE 'unanswered' END`;

/**
 * An attempt of one row, seen at one point: its row is its view, and the figures are the row's
 * own. The same columns as MULTI_ATTEMPTS_SQL gives for a group of one row, without its sorts
 * (on 100 000 connections the grouped form took 1 s, this one a tenth of it).
 */
const SINGLE_ATTEMPTS_SQL = `SELECT id, 1, capture_id, 1, client_addr, server_addr, server_port, syn_ts_usec, syn_count, syn_count - 1,
    syn_rtx_after_ack, syn_rtx_after_synack, syn_rtx_unanswered, ${outcome(ROW_EST, ROW_SA, ROW_REJ, ROW_FA, ROW_OA)},
    connect_usec, rtt_syn_usec, syn_ts, ${ROW_SYNACK_TS}
  FROM connections WHERE attempt_id = id AND id NOT IN (SELECT attempt FROM temp.attempt_of)`;

/**
 * An attempt's SYNs at one capture point, from its rows there (GROUP BY attempt_id, capture_id):
 * rows, SYNs, SYN retransmits by what preceded them (a retry from another port is a retransmit
 * after a foreign ACK: that is how its row was linked to the attempt), the first and the last SYN,
 * and whether a SYN-ACK came. One rule for the attempts table and for per-point summaries.
 */
export const POINT_SYN_FIGURES = `count(*) AS n, sum(syn_count) AS syns, sum(syn_rtx_after_ack) + count(*) - 1 AS after_ack,
  sum(syn_rtx_after_synack) AS after_synack, sum(syn_rtx_unanswered) AS unanswered, min(syn_ts_usec) AS t0,
  max(last_syn_ts_usec) AS t_last, max(synack_count > 0) AS answered`;

/**
 * The attempts of several rows, from their rows in temp.attempt_of: per attempt and capture point
 * first, then the view point (most SYNs, then the longer connect time, then the lower capture
 * id). A retry from another port is a retransmit after a foreign ACK (that is how rows were
 * linked above).
 */
const MULTI_ATTEMPTS_SQL = `WITH pt AS (
    SELECT attempt_id, capture_id, ${POINT_SYN_FIGURES}, min(client_addr) AS client_addr, min(server_addr) AS server_addr, min(server_port) AS server_port,
      min(syn_ts_usec + connect_usec) AS t_sa, max(rtt_syn_usec) AS rtt,
      max(${ROW_EST}) AS est, max(${ROW_SA}) AS sa, max(${ROW_REJ}) AS rej, max(${ROW_FA}) AS fa, max(${ROW_OA}) AS oa,
      min(syn_ts) AS syn_ts, min(${ROW_SYNACK_TS}) AS synack_ts
    FROM connections WHERE id IN (SELECT id FROM temp.attempt_of) GROUP BY attempt_id, capture_id),
  ranked AS (
    SELECT *, row_number() OVER (PARTITION BY attempt_id ORDER BY syns DESC, coalesce(t_sa - t0, -1) DESC, capture_id) AS k,
      count(*) OVER w AS points, max(est) OVER w AS any_est, max(sa) OVER w AS any_sa, max(rej) OVER w AS any_rej, max(fa) OVER w AS any_fa, max(oa) OVER w AS any_oa,
      min(syn_ts) OVER w AS all_syn_ts, min(synack_ts) OVER w AS all_synack_ts
    FROM pt WINDOW w AS (PARTITION BY attempt_id))
  SELECT attempt_id, points, capture_id, n, client_addr, server_addr, server_port, t0, syns, syns - 1, after_ack, after_synack, unanswered,
    ${outcome('any_est', 'any_sa', 'any_rej', 'any_fa', 'any_oa')}, t_sa - t0, rtt, all_syn_ts, all_synack_ts
  FROM ranked WHERE k = 1`;
