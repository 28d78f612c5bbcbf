/**
 * What preceded a client's SYN retransmit, from what this capture point saw since its previous
 * SYN: an ACK without SYN answering it with another connection's numbers (the client reset and
 * retried; Linux re-arms the SYN timer at TCP_TIMEOUT_MIN, so ~10 ms later), a SYN-ACK (lost
 * beyond this point, or the client's ACK was), or nothing (dropped before the server, or its
 * answer was). The one rule: the tracker counts by it, syn-retransmit names each retransmit by it.
 */
export type RetransmitCause = 'after-stale-ack' | 'after-synack' | 'no-answer';

export function retransmitCause(sawForeignAck: boolean, sawSynAck: boolean): RetransmitCause {
  if (sawForeignAck) return 'after-stale-ack';
  if (sawSynAck) return 'after-synack';
  return 'no-answer';
}
