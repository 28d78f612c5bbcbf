/**
 * Zeek's connection vocabulary, so that Zeek users read tcpdiag's table at once
 * (zeek/zeek: scripts/base/protocols/conn/main.zeek documents both).
 *
 * History letters, upper case from the originator (client), lower case from the
 * responder (server):
 *   S SYN without ACK   H SYN+ACK   A pure ACK   D payload   F FIN   R RST
 *   T retransmitted payload   W zero window   Q SYN with FIN or RST   I other impossible flag mix
 * Most letters are recorded once per direction; S, F and R again when they carry a new
 * sequence number; T and W again at the 10th and 100th occurrence (as Zeek does).
 */

export type ConnState =
  | 'S0' | 'S1' | 'SF' | 'REJ' | 'S2' | 'S3' | 'RSTO' | 'RSTR'
  | 'RSTOS0' | 'RSTRH' | 'SH' | 'SHR' | 'OTH';

export const CONN_STATES: Record<ConnState, string> = {
  S0: 'connection attempt seen, no reply',
  S1: 'established, not terminated',
  SF: 'normal establishment and termination',
  REJ: 'connection attempt rejected (SYN answered by RST)',
  S2: 'established, client sent FIN, no FIN from the server',
  S3: 'established, server sent FIN, no FIN from the client',
  RSTO: 'established, the client aborted with RST',
  RSTR: 'established, the server aborted with RST',
  RSTOS0: 'client sent SYN then RST, no SYN-ACK seen',
  RSTRH: 'server sent SYN-ACK then RST, no SYN from the client seen',
  SH: 'client sent SYN then FIN, no SYN-ACK seen',
  SHR: 'server sent SYN-ACK then FIN, no SYN from the client seen',
  OTH: 'no SYN seen, midstream traffic',
};

export const NONE = 0;
export const CLIENT = 1;
export const SERVER = 2;
export type Side = typeof NONE | typeof CLIENT | typeof SERVER;

export interface StateFacts {
  sawSyn: boolean; // a SYN from the client
  /**
   * A SYN-ACK from the server, or a split handshake or simultaneous open that completed (both
   * SYNs acknowledged): the responder is active, as Zeek's conn_state asks (RSTO, not RSTOS0).
   */
  sawSynAck: boolean;
  sawClientAfterSynAck: boolean; // any client packet after the SYN-ACK
  sawServerPkt: boolean;
  clientFin: boolean;
  serverFin: boolean;
  /**
   * The RST that decides the state: the first after the handshake completed, or,
   * when it never did, the last one. A client RST answering a stale ACK in SYN_SENT
   * is followed by a SYN retransmit and does not end the connection.
   */
  decidingRst: Side;
}

/** Zeek's conn_state for a finished (or evicted) connection. Pure. */
export function connState(f: StateFacts): ConnState {
  if (f.sawSyn && !f.sawSynAck) {
    if (f.decidingRst === SERVER) return 'REJ';
    if (f.decidingRst === CLIENT) return 'RSTOS0';
    if (f.clientFin) return 'SH';
    return f.sawServerPkt ? 'OTH' : 'S0';
  }
  if (!f.sawSyn && !f.sawSynAck) return 'OTH';
  if (!f.sawSyn && !f.sawClientAfterSynAck) {
    if (f.decidingRst === SERVER) return 'RSTRH';
    if (f.serverFin) return 'SHR';
  }
  if (f.decidingRst === CLIENT) return 'RSTO';
  if (f.decidingRst === SERVER) return 'RSTR';
  if (f.clientFin && f.serverFin) return 'SF';
  if (f.clientFin) return 'S2';
  if (f.serverFin) return 'S3';
  return 'S1';
}

// Bits of the "seen once" set, per letter; the server's are shifted by 16.
const BIT: Record<string, number> = { S: 1, H: 2, A: 4, D: 8, F: 16, R: 32, T: 64, W: 128, Q: 256, I: 512 };

/** Zeek-style history builder kept on each connection (scalar fields: one allocation each). */
export class History {
  text = '';
  private seen = 0;
  // Last sequence number that produced S, F, R per side (c client, s server), for the
  // "new seq" repeat rule; NaN until the first.
  private lastSc = NaN; private lastSs = NaN;
  private lastFc = NaN; private lastFs = NaN;
  private lastRc = NaN; private lastRs = NaN;
  private countTc = 0; private countTs = 0;
  private countWc = 0; private countWs = 0;

  private put(letter: string, fromClient: boolean): void {
    this.text += fromClient ? letter : letter.toLowerCase();
  }

  once(letter: 'H' | 'A' | 'D' | 'Q' | 'I', fromClient: boolean): void {
    const bit = BIT[letter] << (fromClient ? 0 : 16);
    if ((this.seen & bit) !== 0) return;
    this.seen |= bit;
    this.put(letter, fromClient);
  }

  /** S, F or R: once, and again when the sequence number differs from the last one. */
  withSeq(letter: 'S' | 'F' | 'R', fromClient: boolean, seq: number): void {
    if (letter === 'S') {
      if (fromClient) { if (this.lastSc === seq) return; this.lastSc = seq; } else { if (this.lastSs === seq) return; this.lastSs = seq; }
    } else if (letter === 'F') {
      if (fromClient) { if (this.lastFc === seq) return; this.lastFc = seq; } else { if (this.lastFs === seq) return; this.lastFs = seq; }
    } else if (fromClient) { if (this.lastRc === seq) return; this.lastRc = seq; } else { if (this.lastRs === seq) return; this.lastRs = seq; }
    this.put(letter, fromClient);
  }

  /** T or W: at the 1st, 10th and 100th occurrence. */
  counted(letter: 'T' | 'W', fromClient: boolean): void {
    const n = letter === 'T'
      ? (fromClient ? ++this.countTc : ++this.countTs)
      : (fromClient ? ++this.countWc : ++this.countWs);
    if (n === 1 || n === 10 || n === 100) this.put(letter, fromClient);
  }
}
