import { ep, firstN } from './format.js';
import type { Detector, DetectorContext, Finding } from './types.js';

/**
 * listen-overflow: the server's accept queue was full. Linux then drops the ACK that
 * completes a handshake (tcp_check_req, counted as TcpExtListenOverflows) and, while the
 * queue stays full, new SYNs too (TcpExtListenDrops). What a capture shows (both seen in
 * samples/listen-overflow*, made with listen(1) and a slow accept loop):
 *  - with SYN cookies (net.ipv4.tcp_syncookies=1, the default) the server answers with a
 *    cookie SYN-ACK, then ignores the client's ACK and data: the client believes it is
 *    connected, and its first data is retransmitted with nothing from the server after the
 *    SYN-ACK;
 *  - without cookies the server keeps the request and resends its SYN-ACK although the
 *    client's ACK was seen.
 * Either way the client's connections also need SYN retransmits while the queue is full.
 */

/** One such connection could be a lost packet; an overflow hits several at once. */
const MIN_CONNECTIONS = 2;

export const listenOverflow: Detector = {
  id: 'listen-overflow',
  title: 'Server accept queue full',
  run(ctx: DetectorContext): Finding[] {
    const rows = ctx.db.prepare(`SELECT capture_id, server_addr, server_port, count(*) AS attempts,
        sum(synack_count > 0 AND handshake_acked = 1 AND client_payload > 0 AND client_retrans > 0 AND server_pkts = synack_count) AS ignored,
        sum(synack_count > 1 AND handshake_acked = 1) AS synack_again,
        sum(syn_count > 1) AS syn_retried,
        group_concat(CASE WHEN (synack_count > 0 AND handshake_acked = 1 AND client_payload > 0 AND client_retrans > 0 AND server_pkts = synack_count)
          OR (synack_count > 1 AND handshake_acked = 1) THEN synack_frame END) AS frames,
        min(first_ts_usec) AS t0
      FROM connections WHERE syn_count > 0 GROUP BY capture_id, server_addr, server_port`).all() as Record<string, any>[];
    return rows.filter((r) => r.ignored + r.synack_again >= MIN_CONNECTIONS).map((r): Finding => {
      const server = ep(r.server_addr, r.server_port);
      const parts: string[] = [];
      if (r.ignored) parts.push(`on ${r.ignored} connections it answered the SYN, then ignored the client's ACK and data (resent by the client, never acknowledged): the SYN cookie path when the accept queue is full`);
      if (r.synack_again) parts.push(`on ${r.synack_again} it resent its SYN-ACK after the client's ACK had arrived`);
      if (r.syn_retried) parts.push(`${r.syn_retried} of ${r.attempts} connections needed SYN retransmits while the queue was full`);
      return {
        id: `listen-overflow/${r.capture_id}/${server}`,
        detector: 'listen-overflow',
        severity: 'error',
        captureId: r.capture_id,
        connId: null,
        tsUsec: r.t0,
        summary: `${server} dropped completed handshakes: ${parts.join('; ')}. Its accept queue was full: the listen backlog is too small or the application accepts too slowly (nstat TcpExtListenOverflows and TcpExtListenDrops count it)`,
        evidence: {
          frames: firstN(String(r.frames).split(',').map(Number).sort((a, b) => a - b)), server, attempts: r.attempts,
          dataIgnored: r.ignored, synAckAfterAck: r.synack_again, synRetried: r.syn_retried,
        },
      };
    });
  },
};
