import { ep, firstN } from './format.js';
import { frameRef, type Detector, type DetectorContext, type Finding } from './types.js';

/**
 * ts-stripped: the TCP timestamp option (RFC 7323) removed on the path.
 *
 * Without timestamps on both ends, a server's TIME_WAIT socket can accept a reused
 * 4-tuple's SYN only by sequence number (RFC 6191), net.ipv4.tcp_tw_reuse cannot
 * work (it needs timestamps), and PAWS is off. Evidence, strongest first:
 *  a) the same connection (same client ISN and server port) in two captures, with the
 *     option on one side and gone on the other: stripped between the two points;
 *  b) a SYN or SYN-ACK with a run of >= 10 NOP bytes and no timestamp: iptables
 *     TCPOPTSTRIP and many gateways overwrite the 10-byte option with NOPs in place;
 *  c) a SYN with timestamps answered by a SYN-ACK without (the server never got them,
 *     or has them off), or a SYN-ACK with timestamps answering a SYN without (which a
 *     server only sends when the SYN carried them: RFC 7323 §3.2);
 *  d) one client sending timestamps to some servers and not to others (its stack
 *     decides for all SYNs; a box on some paths removes them).
 */

/** NOP bytes a gateway leaves where the 10-byte timestamp option was. */
export const STRIPPED_NOP_RUN = 10;

/** Paths of part (b) read per query. */
const NOP_PAGE = 1024;

type Row = Record<string, any>;

export const tsStripped: Detector = {
  id: 'ts-stripped',
  title: 'TCP timestamps removed on the path',
  *run(ctx: DetectorContext): Generator<Finding> {
    const { db } = ctx;

    // a) two capture points (the self-join is skipped for one capture)
    const captureCount = db.prepare('SELECT count(*) FROM captures').pluck().get() as number;
    const pairs = captureCount < 2 ? [] : db.prepare(`SELECT a.id AS a_id, b.id AS b_id, a.capture_id AS a_cap, b.capture_id AS b_cap,
        a.client_addr AS a_client, a.client_port AS a_cport, a.server_addr AS a_server, a.server_port AS a_sport,
        b.client_addr AS b_client, b.client_port AS b_cport, b.server_addr AS b_server, b.server_port AS b_sport,
        a.syn_frame AS a_syn_frame, b.syn_frame AS b_syn_frame, a.syn_ts AS a_syn_ts, b.syn_ts AS b_syn_ts,
        a.syn_nop_run AS a_nop, b.syn_nop_run AS b_nop, a.synack_ts AS a_sa_ts, b.synack_ts AS b_sa_ts,
        a.synack_frame AS a_sa_frame, b.synack_frame AS b_sa_frame
      FROM connections a JOIN connections b
        ON a.attempt_id = b.attempt_id AND a.capture_id < b.capture_id
      WHERE a.syn_count > 0 AND b.syn_count > 0
        -- Only pairs where the option differs (not every matched connection into memory).
        AND NOT (a.syn_ts IS b.syn_ts AND (a.synack_ts IS NULL OR b.synack_ts IS NULL OR a.synack_ts IS b.synack_ts))`).all() as Row[];
    const groups = new Map<string, Row[]>();
    for (const r of pairs) {
      const synFrom = r.a_syn_ts === 1 && r.b_syn_ts === 0 ? 'a' : r.b_syn_ts === 1 && r.a_syn_ts === 0 ? 'b' : null;
      const key = `${r.a_cap}|${r.b_cap}|${synFrom}|${r.a_server}:${r.a_sport}`;
      const list = groups.get(key);
      if (list) list.push(r); else groups.set(key, [r]);
    }
    for (const [, rows] of groups) {
      const r0 = rows[0];
      const withTs = rows[0].a_syn_ts === 1 ? 'a' : 'b';
      const capWith = withTs === 'a' ? r0.a_cap : r0.b_cap;
      const capWithout = withTs === 'a' ? r0.b_cap : r0.a_cap;
      const nameWith = ctx.captureName(capWith);
      const nameWithout = ctx.captureName(capWithout);
      const matched = pairs.filter((p) => p.a_cap === r0.a_cap && p.b_cap === r0.b_cap && p.a_server === r0.a_server && p.a_sport === r0.a_sport).length;
      const nops = rows.map((r) => (withTs === 'a' ? r.b_nop : r.a_nop)).filter((n) => n >= STRIPPED_NOP_RUN).length;
      // Example SYNs, as frame numbers of each capture: the finding's frames are the capture
      // without timestamps (its captureId); those of the capture with them are named in the text
      // and kept apart in the evidence (withFrames), each with its own file.
      const ex = firstN(rows, 4);
      const withFrames = ex.map((r) => (withTs === 'a' ? r.a_syn_frame : r.b_syn_frame) as number);
      const withoutFrames = ex.map((r) => (withTs === 'a' ? r.b_syn_frame : r.a_syn_frame) as number);
      const examples = ` (example SYNs: frame${ex.length === 1 ? '' : 's'} ${withFrames.map((n) => frameRef(ctx, capWith, n)).join(', ')} in ${nameWith}, ${withoutFrames.map((n) => frameRef(ctx, capWithout, n)).join(', ')} in ${nameWithout})`;
      yield {
        id: `ts-stripped/${capWith}+${capWithout}/${r0.a_server}:${r0.a_sport}`,
        detector: 'ts-stripped',
        severity: 'warning',
        captureId: capWithout,
        connId: withTs === 'a' ? r0.b_id : r0.a_id,
        tsUsec: null,
        summary: `Timestamps removed between the two capture points: ${rows.length} of ${matched} connections to ${ep(r0.a_server, r0.a_sport)} (the same attempts at both points) carry the timestamp option in ${nameWith} and not in ${nameWithout}${nops ? ` (${nops} with a NOP run where it was)` : ''}${examples}; ${CONSEQUENCE}`,
        evidence: {
          frames: withoutFrames, withFrames,
          kind: 'two-point', server: ep(r0.a_server, r0.a_sport),
          withTimestamps: nameWith, withoutTimestamps: nameWithout, withCaptureId: capWith, withoutCaptureId: capWithout, connections: rows.length, matched, nopFilled: nops,
          examples: firstN(rows.map((r) => ({
            withTimestamps: { synFrame: withTs === 'a' ? r.a_syn_frame : r.b_syn_frame, client: ep(withTs === 'a' ? r.a_client : r.b_client, withTs === 'a' ? r.a_cport : r.b_cport) },
            without: { synFrame: withTs === 'a' ? r.b_syn_frame : r.a_syn_frame, client: ep(withTs === 'a' ? r.b_client : r.a_client, withTs === 'a' ? r.b_cport : r.a_cport) },
          })), 5),
        },
      };
    }

    // b) NOP-filled option, per capture, path and direction
    // One pass per direction: the NOP-filled ones and the total on each path, in path order
    // (the conn_path index), read NOP_PAGE paths at a time (keyset: each page starts after the
    // last path of the one before), each finding yielded as it is made. Read whole and returned
    // as one array, every path behind a gateway held its frame list and then its finding at once:
    // this detector alone on the store of bench/gen-connections.mjs 16000 (16 000 such paths,
    // 41 M packets) peaked at 139 MB RSS against 87 MB at 4000 copies; paged, 105 MB.
    const nopQuery = (d: 'syn' | 'synack', after: boolean): string => {
      const hit = `(${d}_count > 0 AND ${d}_ts = 0 AND ${d}_nop_run >= ${STRIPPED_NOP_RUN})`;
      return `SELECT capture_id, client_addr, server_addr, server_port, '${d}' AS dir, sum(${hit}) AS n, sum(${d}_count > 0) AS total,
          group_concat(CASE WHEN ${hit} THEN ${d}_frame END) AS frames, max(CASE WHEN ${hit} THEN ${d}_nop_run END) AS run,
          min(CASE WHEN ${hit} THEN ${d}_opts END) AS opts
        FROM connections ${after ? 'WHERE (capture_id, client_addr, server_addr, server_port) > (?, ?, ?, ?)' : ''}
        GROUP BY capture_id, client_addr, server_addr, server_port HAVING n > 0
        ORDER BY capture_id, client_addr, server_addr, server_port LIMIT ${NOP_PAGE}`;
    };
    function* nopRows(): Generator<Row> {
      for (const d of ['syn', 'synack'] as const) {
        const first = db.prepare(nopQuery(d, false));
        const next = db.prepare(nopQuery(d, true));
        for (let rows = first.all() as Row[]; rows.length > 0;) {
          yield* rows;
          const l = rows[rows.length - 1];
          rows = rows.length < NOP_PAGE ? [] : next.all(l.capture_id, l.client_addr, l.server_addr, l.server_port) as Row[];
        }
      }
    }
    // Packets, not only connections: every SYN or SYN-ACK retransmit carries the run too. A plain
    // connection has no events and sent exactly one, so: plain ones + events of the others.
    const nopRtx = new Map<string, number>();
    for (const e of db.prepare(`SELECT c.capture_id, c.client_addr, c.server_addr, c.server_port, e.kind, count(*) AS n
        FROM events e JOIN connections c ON c.id = e.conn_id
        WHERE e.kind IN ('syn-rtx', 'synack-rtx') AND e.ts = 0 AND e.nop_run >= ${STRIPPED_NOP_RUN}
        GROUP BY c.capture_id, c.client_addr, c.server_addr, c.server_port, e.kind`).all() as Row[]) {
      nopRtx.set(`${e.capture_id}|${e.client_addr}|${e.server_addr}|${e.server_port}|${e.kind === 'syn-rtx' ? 'syn' : 'synack'}`, e.n);
    }
    for (const r of nopRows()) {
      const packets = r.n + (nopRtx.get(`${r.capture_id}|${r.client_addr}|${r.server_addr}|${r.server_port}|${r.dir}`) ?? 0);
      const total = r.total as number;
      const what = r.dir === 'syn' ? `SYNs from ${r.client_addr}` : `SYN-ACKs from ${ep(r.server_addr, r.server_port)}`;
      const path = `${r.client_addr} -> ${ep(r.server_addr, r.server_port)}`;
      const frames = String(r.frames).split(',').map(Number).sort((a, b) => a - b);
      yield {
        id: `ts-stripped/${r.capture_id}/${r.dir}/${path}`,
        detector: 'ts-stripped',
        severity: 'warning',
        captureId: r.capture_id,
        connId: null,
        tsUsec: null,
        summary: `${r.n} of ${total} ${what} (path ${path}${packets > r.n ? `; ${packets} packets with retransmits` : ''}) carry a run of ${r.run} NOP bytes and no timestamp option (options ${r.opts}): a gateway overwrote the timestamp with NOPs; ${CONSEQUENCE}`,
        evidence: { frames: firstN(frames), kind: 'nop-run', direction: r.dir, path, count: r.n, packets, total, nopRun: r.run, optionKinds: r.opts },
      };
    }

    // c) SYN and SYN-ACK disagree at one capture point
    const mismatch = db.prepare(`SELECT capture_id, client_addr, server_addr, server_port, syn_ts, count(*) AS n, group_concat(syn_frame) AS frames,
        sum(synack_nop_run >= ${STRIPPED_NOP_RUN}) AS nop_filled
      FROM connections WHERE syn_count > 0 AND synack_count > 0 AND syn_ts != synack_ts
      GROUP BY capture_id, client_addr, server_addr, server_port, syn_ts`).all() as Row[];
    const tsByServer = new Map<string, number>();
    // With several capture points the advice to capture nearer the server is already taken.
    const points = mismatch.length > 0 ? db.prepare('SELECT count(*) FROM captures').pluck().get() as number : 0;
    if (mismatch.length > 0) {
      for (const s of db.prepare('SELECT server_addr, server_port, count(*) AS n FROM connections WHERE synack_ts = 1 GROUP BY server_addr, server_port').all() as Row[]) {
        tsByServer.set(`${s.server_addr}|${s.server_port}`, s.n);
      }
    }
    for (const r of mismatch) {
      const path = `${r.client_addr} -> ${ep(r.server_addr, r.server_port)}`;
      const frames = String(r.frames).split(',').map(Number).sort((a, b) => a - b);
      if (r.syn_ts === 1 && r.nop_filled === r.n) continue; // already reported as a NOP run in (b)
      let summary: string;
      let severity: Finding['severity'];
      if (r.syn_ts === 0) {
        // Seen from old stacks that offer timestamps regardless (zeek-tcp-reassembly.pcap), so
        // on its own this is an observation, not evidence of stripping.
        summary = `${r.n} SYN-ACKs from ${ep(r.server_addr, r.server_port)} carry timestamps although the SYN seen here had none (path ${path}): RFC 7323 §3.2 allows that only if the SYN had them, so either the option was removed from the SYN beyond this capture point or the server's stack ignores the rule`;
        severity = 'info';
      } else {
        const elsewhere = tsByServer.get(`${r.server_addr}|${r.server_port}`) ?? 0;
        summary = `${r.n} SYNs with timestamps to ${ep(r.server_addr, r.server_port)} were answered by SYN-ACKs without them (path ${path})`
          + (elsewhere > 0
            ? `, though this server answers ${elsewhere} other SYNs with timestamps: the option is removed on this path; ${CONSEQUENCE}`
            : `: either the server has net.ipv4.tcp_timestamps=0, or a box on the path removes the option (${points > 1 ? 'where the same attempts were seen at two capture points, the two-point ts-stripped finding says which' : 'capture on the server side to tell'})`);
        severity = elsewhere > 0 ? 'warning' : 'info';
      }
      yield {
        id: `ts-stripped/${r.capture_id}/mismatch/${path}/${r.syn_ts}`,
        detector: 'ts-stripped',
        severity,
        captureId: r.capture_id,
        connId: null,
        tsUsec: null,
        summary,
        evidence: { frames: firstN(frames), kind: 'syn-synack-mismatch', path, count: r.n, synHadTimestamps: r.syn_ts === 1 },
      };
    }

    // d) one client, timestamps on some paths only (same capture point)
    const perClient = db.prepare(`SELECT capture_id, client_addr, server_addr, server_port, sum(syn_ts) AS with_ts, count(*) AS n, min(syn_frame) AS frame
      FROM connections WHERE syn_count > 0 GROUP BY capture_id, client_addr, server_addr, server_port`).all() as Row[];
    const byClient = new Map<string, Row[]>();
    for (const r of perClient) {
      const k = `${r.capture_id}|${r.client_addr}`;
      const l = byClient.get(k);
      if (l) l.push(r); else byClient.set(k, [r]);
    }
    for (const [, paths] of byClient) {
      const on = paths.filter((p) => p.with_ts === p.n);
      const off = paths.filter((p) => p.with_ts === 0);
      if (on.length === 0 || off.length === 0) continue;
      const r0 = paths[0];
      yield {
        id: `ts-stripped/${r0.capture_id}/paths/${r0.client_addr}`,
        detector: 'ts-stripped',
        severity: 'info',
        captureId: r0.capture_id,
        connId: null,
        tsUsec: null,
        summary: `${r0.client_addr} sends timestamps in its SYNs to ${on.map((p) => ep(p.server_addr, p.server_port)).join(', ')} but not to ${off.map((p) => ep(p.server_addr, p.server_port)).join(', ')}: its stack decides for every SYN, so something on the second path removes them`,
        evidence: { frames: [...on.map((p) => p.frame), ...off.map((p) => p.frame)], kind: 'per-path', client: r0.client_addr, withTimestamps: on.map((p) => ep(p.server_addr, p.server_port)), without: off.map((p) => ep(p.server_addr, p.server_port)) },
      };
    }
  },
};

export const CONSEQUENCE = 'without timestamps the server\'s TIME_WAIT can accept a reused port\'s SYN only by sequence number, tcp_tw_reuse cannot work, and PAWS is off';
