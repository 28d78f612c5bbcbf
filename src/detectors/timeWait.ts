import { craftedSynSql } from './anomalySql.js';

/**
 * A reuse of a 4-tuple within TIME_WAIT, the one rule: a client's SYN (crafted ones left out)
 * on a tuple whose previous incarnation was synchronized and closed with a FIN before this SYN,
 * less than `gapBound` µs earlier (an SQL expression: "?" for a bound parameter, or a number).
 *
 * TIME_WAIT is the state the active closer enters after the FIN exchange of a synchronized
 * connection (RFC 9293 §3.3.2, tcp_time_wait from tcp_fin / tcp_rcv_state_process). An attempt
 * whose SYNs were never answered leaves nothing behind on either side (the SYN timeout ends in
 * tcp_write_err -> tcp_done), a connection ended by RST goes straight to CLOSED (RFC 9293
 * §3.10.7.4, tcp_reset -> tcp_done), and a FIN is only ever sent from a synchronized state (a
 * close in SYN-SENT sends none: tcp_close_state maps SYN_SENT to CLOSE). prev_active_closer is the side that
 * sent the previous incarnation's first FIN, seen before this incarnation began; it is NULL
 * otherwise, so it alone says the previous one was synchronized and closed into TIME_WAIT.
 */
export function reuseWithinTimeWaitSql(conn: string, gapBound = '?'): string {
  return `(${conn}.prev_id IS NOT NULL AND ${conn}.syn_count > 0 AND ${conn}.prev_active_closer IS NOT NULL`
    + ` AND ${conn}.prev_gap_usec < ${gapBound} AND NOT ${craftedSynSql(conn)})`;
}
