import { TcpPacket } from '../../src/decode/packet.js';
import { assignAttempts } from '../../src/flows/attempts.js';
import { Store } from '../../src/flows/store.js';
import { Tracker } from '../../src/flows/tracker.js';

/** The two ends of crafted exchanges: client 198.18.1.2:40000, server 198.19.2.2:3306. */
export const C = (198 << 24 | 18 << 16 | 1 << 8 | 2) >>> 0;
export const S = (198 << 24 | 19 << 16 | 2 << 8 | 2) >>> 0;

/** One crafted segment: who sends it, TCP flags, seq, ack, payload bytes, ms from the start. */
export type Step = [fromClient: boolean, flags: number, seq: number, ack: number, len: number, tMs: number];

/** Feed steps to a tracker as frames 1, 2, ... (one reused packet, as the decoder does), then finish it. */
export function feedSteps(tr: Tracker, steps: Step[]): void {
  const p = new TcpPacket();
  steps.forEach(([fromClient, flags, seq, ack, len, tMs], i) => {
    p.reset();
    p.frame = i + 1; p.tsUsec = 1_700_000_000_000_000 + tMs * 1000; p.ipVersion = 4;
    p.src3 = fromClient ? C : S; p.dst3 = fromClient ? S : C;
    p.srcPort = fromClient ? 40000 : 3306; p.dstPort = fromClient ? 3306 : 40000;
    p.flags = flags; p.seq = seq >>> 0; p.ack = ack >>> 0; p.payloadBytes = len; p.origLenBytes = 66 + len; p.window = 500;
    tr.onPacket(p);
  });
  tr.finish();
}

/** A store of the steps as one capture (crafted.pcap): tracked, indexed and linked into attempts, as ingest leaves it. The caller closes it. */
export function craftedStore(steps: Step[]): Store {
  const store = Store.open();
  const tr = new Tracker(store.addCapture('crafted.pcap'), store, { timeWaitUsec: 60e6, firstId: 1 });
  feedSteps(tr, steps);
  store.index();
  assignAttempts(store.db);
  return store;
}
