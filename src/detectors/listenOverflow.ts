import { ep, firstN } from './format.js';
import type { Detector, DetectorContext, Finding } from './types.js';

/**
 * listen-overflow: the server's accept queue was full. With net.ipv4.tcp_abort_on_overflow=0
 * (the default) Linux drops the client's handshake-completing ACK when the accept queue is
 * full (tcp_check_req -> listen_overflow, counter TcpExtListenOverflows) and keeps
 * retransmitting its SYN-ACK; the client already believes it is connected and its first
 * data goes unacknowledged. While the queue stays full, new SYNs are dropped too
 * (TcpExtListenDrops), which the client sees as SYN retransmits.
 * Signature here: SYN-ACK sent again although the client's ACK of it was already seen.
 */
export const listenOverflow: Detector = {
  id: 'listen-overflow',
  title: 'Server accept queue full',
  run(ctx: DetectorContext): Finding[] {
    const rows = ctx.db.prepare(`SELECT capture_id, server_addr, server_port, count(*) AS n, sum(synack_count - 1) AS rtx,
        sum(client_retrans > 0) AS data_retrans, group_concat(synack_frame) AS frames, min(first_ts_usec) AS t0,
        (SELECT count(*) FROM connections x WHERE x.capture_id = c.capture_id AND x.server_addr = c.server_addr AND x.server_port = c.server_port AND x.syn_count > 0) AS attempts
      FROM connections c WHERE synack_count > 1 AND handshake_acked = 1
      GROUP BY capture_id, server_addr, server_port`).all() as Record<string, any>[];
    const unanswered = ctx.db.prepare(`SELECT count(*) FROM connections WHERE capture_id = ? AND server_addr = ? AND server_port = ? AND syn_count > 1`).pluck();
    // One SYN-ACK resent once is also what a single lost ACK looks like; an overflow shows as a
    // burst of them, or as the client's first data going unacknowledged too.
    return rows.filter((r) => r.n >= 2 || r.data_retrans >= 1).map((r): Finding => {
      const server = ep(r.server_addr, r.server_port);
      const synRtx = unanswered.get(r.capture_id, r.server_addr, r.server_port) as number;
      return {
        id: `listen-overflow/${ctx.captureName(r.capture_id)}/${server}`,
        detector: 'listen-overflow',
        severity: 'error',
        captureId: r.capture_id,
        connId: null,
        tsUsec: r.t0,
        summary: `${server} sent the SYN-ACK again on ${r.n} of ${r.attempts} connections after the client had already acknowledged it (${r.rtx} SYN-ACK retransmits${r.data_retrans ? `; on ${r.data_retrans} the client's data had to be resent` : ''}${synRtx ? `; ${synRtx} connections also needed SYN retransmits` : ''}): the server dropped the completing ACK because its accept queue was full (listen backlog too small or the application accepts too slowly; nstat TcpExtListenOverflows and TcpExtListenDrops count it)`,
        evidence: { frames: firstN(String(r.frames).split(',').map(Number).sort((a, b) => a - b)), server, connections: r.n, attempts: r.attempts, synAckRetransmits: r.rtx, dataRetransmitted: r.data_retrans, synRetransmitConnections: synRtx },
      };
    });
  },
};
