import { hasAnomalySql } from './anomalySql.js';
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

/**
 * What the capture cannot show, stated as the kernel's rules: a completed handshake is dropped
 * on a full accept queue (tcp_v4_syn_recv_sock, TcpExtListenOverflows); a SYN is dropped on a
 * full accept queue too, or, without SYN cookies, while the request queue holds backlog entries
 * (tcp_conn_request, TcpExtTCPReqQFullDrop: 171 of listen-overflow-no-syncookies' 209
 * TcpExtListenDrops, against 38 ListenOverflows). TcpExtListenDrops counts every drop.
 */
const QUEUES = 'A listener drops completed handshakes when its accept queue is full (nstat TcpExtListenOverflows), and SYNs when that queue is full or, without SYN cookies, when its request queue holds as many pending handshakes as the backlog (TcpExtTCPReqQFullDrop); TcpExtListenDrops counts both: the listen backlog is too small or the application accepts too slowly';

/** One such connection could be a lost packet; an overflow hits several at once. */
const MIN_CONNECTIONS = 2;

export const listenOverflow: Detector = {
  id: 'listen-overflow',
  title: 'Server accept queue full',
  run(ctx: DetectorContext): Finding[] {
    // "Resent after the ACK" is the anomaly stage's synack-resent-after-ack: the SYN-ACK went out
    // again after the client's ACK of it had reached the capture point. A SYN-ACK resent before
    // any ACK was seen is SYN-ACK (or ACK) loss on the path, not a full queue.
    const afterAck = hasAnomalySql('c.id', ['synack-resent-after-ack']);
    const ignored = `(c.synack_count > 0 AND c.handshake_acked = 1 AND c.client_payload > 0 AND c.client_retrans > 0 AND c.server_pkts = c.synack_count)`;
    const rows = ctx.db.prepare(`SELECT capture_id, server_addr, server_port, count(*) AS attempts,
        sum(${ignored}) AS ignored,
        sum(${afterAck}) AS synack_again,
        sum(syn_count > 1) AS syn_retried,
        sum(syn_rtx_unanswered > 0) AS syn_dropped,
        group_concat(CASE WHEN ${ignored} THEN synack_frame END) AS ignored_frames,
        group_concat(CASE WHEN ${afterAck} THEN synack_frame END) AS again_frames,
        min(first_ts_usec) AS t0
      FROM connections c WHERE syn_count > 0 GROUP BY capture_id, server_addr, server_port`).all() as Record<string, any>[];
    const out: Finding[] = [];
    for (const r of rows) {
      // A server that answers the SYN and then ignores the client is the SYN cookie path of a
      // full queue only when the same listener also drops SYNs meanwhile (tcp_conn_request drops
      // a SYN while the accept queue is full: TcpExtListenDrops) or resends SYN-ACKs after the
      // ACK; alone it is as well a dead backend or an L4 proxy whose upstream never answers.
      const corroborated = r.synack_again > 0 || r.syn_dropped > 0;
      const ignoredCounted = corroborated ? r.ignored : 0;
      if (ignoredCounted + r.synack_again < MIN_CONNECTIONS) continue;
      const server = ep(r.server_addr, r.server_port);
      const parts: string[] = [];
      if (ignoredCounted) parts.push(`on ${ignoredCounted} connection${ignoredCounted === 1 ? '' : 's'} it answered the SYN, then ignored the client's ACK and data (resent by the client, never acknowledged): the SYN cookie path when the accept queue is full`);
      if (r.synack_again) parts.push(`on ${r.synack_again} connection${r.synack_again === 1 ? '' : 's'} it resent its SYN-ACK after the client's ACK had arrived`);
      // Which queue dropped a given SYN the capture cannot tell (see the summary), so this part
      // says only that it was sent again.
      if (r.syn_retried) parts.push(`${r.syn_retried} of ${r.attempts} connections needed SYN retransmits`);
      const frames = [r.again_frames, ignoredCounted ? r.ignored_frames : null].filter((x) => x !== null).join(',');
      out.push({
        id: `listen-overflow/${r.capture_id}/${server}`,
        detector: 'listen-overflow',
        severity: 'error',
        captureId: r.capture_id,
        connId: null,
        tsUsec: r.t0,
        summary: `${server} dropped completed handshakes: ${parts.join('; ')}. ${QUEUES}`,
        evidence: {
          frames: firstN(frames.split(',').map(Number).sort((a, b) => a - b)), server, attempts: r.attempts,
          dataIgnored: ignoredCounted, synAckAfterAck: r.synack_again, synRetried: r.syn_retried, synDropped: r.syn_dropped,
          silentAfterHandshake: r.ignored,
        },
      });
    }
    return out;
  },
};
