import { describe, expect, it } from 'vitest';
import type { AnalysisFacts } from '../../src/detectors/facts.js';
import type { Finding } from '../../src/detectors/index.js';
import { chooseRemedies } from '../../src/report/remedies.js';

/**
 * Remedy rules on hand-built facts: a logic test of each precondition (offered when it holds,
 * withheld or absent when it does not). test/report/claims.test.ts checks the same preconditions
 * against the stores of the real samples.
 */

const finding = (detector: Finding['detector'], severity: Finding['severity'], evidence: Record<string, unknown> = {}): Finding => ({
  id: `${detector}/x`, detector, severity, captureId: 1, connId: 1, tsUsec: 0, summary: '', evidence,
});

/** A healthy capture: nothing to remedy. */
const healthy: AnalysisFacts = {
  timeWaitS: 60, portRange: [32768, 60999], captures: 1, connections: 100, attempts: 100,
  outcomes: { established: 100, notCompleted: 0, refused: 0, foreignAck: 0, otherAnswer: 0, unanswered: 0 },
  synRetransmits: { total: 0, afterStaleAck: 0, afterSynAck: 0, unanswered: 0, attempts: 0 },
  unansweredNotExplained: { retransmits: 0, attempts: 0 },
  crossPortRetries: 0, connectUsec: null, handshakeRttUsec: null,
  closes: { closed: 100, serverFirst: 10, closer: 'client' },
  timestamps: { synWithTs: 100, synWithoutTsOrNops: 0, synAcks: 100, synAckWithTs: 100, notAnsweredWithTs: 0 },
  clientLooksWindows: false,
  stale: { attempts: 0, timeWait: 0, notCaptured: 0, sameTick: 0, pawsBackwards: 0, established: 0, clientRsts: 0, connectUsec: null, frames: [], sample: [] },
  challengeAcks: { count: 0, sample: [] },
  stripped: { count: 0, twoPoint: false, nopRun: false, sample: [], weak: 0 },
  reuse: { paths: 1, reuses: 0, failed: 0, acceptedFromTimeWait: 0, clients: [], clientCount: 0, top: null, hot: [], hotCount: 0 },
  sustainablePerS: 470, synRetransmitSummaries: [], twoPoint: [], lostBetweenPoints: 0, sourceNatBetweenPoints: false,
  sourceNat: { connections: 0, portsKept: 0, portsRewritten: 0, mappings: [] },
  listenOverflow: [], pawsDrop: [], natClients: [], exhaustion: [], refusedBy: [],
};

/** The incident: the server closes first, the gateway strips timestamps, reused ports draw stale ACKs. */
const incident: AnalysisFacts = {
  ...healthy,
  closes: { closed: 100, serverFirst: 97, closer: 'server' },
  timestamps: { synWithTs: 0, synWithoutTsOrNops: 0, synAcks: 100, synAckWithTs: 0, notAnsweredWithTs: 0 },
  stale: { ...healthy.stale, attempts: 43, timeWait: 43, sample: [finding('stale-ack', 'error', { relation: 'time-wait' })] },
  stripped: { count: 1, twoPoint: false, nopRun: true, sample: [finding('ts-stripped', 'warning', { kind: 'nop-run' })], weak: 0 },
  reuse: { ...healthy.reuse, reuses: 98, failed: 43, clients: ['198.18.1.2'], clientCount: 1 },
};
/** The client holds TIME_WAIT on tuples it reuses, with timestamps end to end (what tcp_tw_reuse is for). */
const clientHolds: AnalysisFacts = {
  ...healthy,
  closes: { closed: 100, serverFirst: 2, closer: 'client' },
  reuse: { ...healthy.reuse, reuses: 50, failed: 0 },
  exhaustion: [finding('exhaustion-forecast', 'warning')],
};

/** The incident behind a NAT: reused tuples drew stale ACKs at the server. */
const reusedBehindNat: AnalysisFacts = { ...incident, reuse: { ...incident.reuse, reuses: 98, failed: 43 } };
/** A NAT pool that gave every connection another port (snat-port-pool: 75 of 75 at server.pcap). */
const rewriting = { connections: 75, portsKept: 0, portsRewritten: 75, mappings: [{ near: '198.18.1.2', far: '198.19.2.1', nearCaptureId: 1, farCaptureId: 3, connections: 37 }] };

const offered = (f: AnalysisFacts, causes: string[] = []): string[] => chooseRemedies(f, causes).offered.map((r) => r.id);
const withheld = (f: AnalysisFacts): string[] => chooseRemedies(f).withheld.map((r) => r.id);
const reason = (f: AnalysisFacts, id: string): string | undefined => chooseRemedies(f).withheld.find((r) => r.id === id)?.reason;

describe('remedy preconditions', () => {
  it('offers nothing and withholds nothing on a healthy capture', () => {
    expect(offered(healthy)).toEqual([]);
    expect(withheld(healthy)).toEqual([]);
  });

  it('ranks first the remedy of the top cause: timestamps when they were stripped and caused stale ACKs', () => {
    expect(offered(incident, ['time-wait-stale-ack'])[0]).toBe('keep-timestamps');
    // SYNs dropped between two points: finding what drops them comes first.
    const lost = { ...incident, lostBetweenPoints: 5 };
    expect(offered(lost, ['syn-unanswered', 'time-wait-stale-ack'])[0]).toBe('check-drops');
    const overflow = { ...incident, listenOverflow: [finding('listen-overflow', 'error')] };
    expect(offered(overflow, ['listen-overflow', 'time-wait-stale-ack'])[0]).toBe('raise-backlog');
  });

  it('keep-timestamps: only when stripping is seen or SYN-ACKs come back without them', () => {
    expect(offered(incident)).toContain('keep-timestamps');
    const kept = { ...incident, stripped: healthy.stripped, timestamps: healthy.timestamps };
    expect(offered(kept)).not.toContain('keep-timestamps');
    // Client side: SYNs with timestamps, SYN-ACKs without: not negotiated end to end.
    const clientSide = { ...kept, timestamps: { synWithTs: 100, synWithoutTsOrNops: 0, synAcks: 100, synAckWithTs: 0, notAnsweredWithTs: 100 } };
    expect(offered(clientSide)).toContain('keep-timestamps');
  });

  it('tw-reuse: only when the connecting side holds TIME_WAIT on reused tuples and timestamps survive', () => {
    expect(offered(clientHolds)).toContain('tw-reuse');
    expect(reason(incident, 'tw-reuse')).toMatch(/restore timestamps/);
    const serverHolds = { ...incident, stripped: healthy.stripped, timestamps: healthy.timestamps };
    expect(reason(serverHolds, 'tw-reuse')).toMatch(/server holds TIME_WAIT/);
    // Nothing reused: the precondition "reuse within TIME_WAIT" is false.
    expect(reason({ ...clientHolds, reuse: healthy.reuse }, 'tw-reuse')).toMatch(/no 4-tuple was reused/);
    expect(offered({ ...clientHolds, reuse: healthy.reuse })).not.toContain('tw-reuse');
    // Timestamps not on every SYN-ACK.
    expect(offered({ ...clientHolds, timestamps: { ...healthy.timestamps, synAckWithTs: 60 } })).not.toContain('tw-reuse');
    expect(withheld({ ...clientHolds, timestamps: { synWithTs: 0, synWithoutTsOrNops: 100, synAcks: 100, synAckWithTs: 0, notAnsweredWithTs: 0 } })).toContain('tw-reuse');
  });

  it('port range, source addresses: only with reuse within TIME_WAIT or exhaustion, and not when the tuples are a NAT\'s', () => {
    expect(offered(clientHolds)).toEqual(expect.arrayContaining(['pooling', 'wider-port-range', 'more-source-addresses']));
    expect(offered({ ...healthy, reuse: { ...healthy.reuse, hot: [finding('port-reuse', 'info')], hotCount: 1 } })).toEqual([]);
    const natted = { ...incident, natClients: [finding('nat-clients', 'info')] };
    expect(offered(natted)).toContain('nat-pool');
    expect(offered(natted)).not.toContain('wider-port-range');
    expect(offered(natted)).not.toContain('more-source-addresses');
    expect(reason(natted, 'wider-port-range')).toMatch(/NAT/);
    expect(offered({ ...incident, crossPortRetries: 3 })).toContain('nat-pool');
    expect(offered({ ...incident, sourceNatBetweenPoints: true, sourceNat: rewriting })).toContain('nat-pool');
    expect(offered(incident)).not.toContain('nat-pool');
  });

  it('a NAT between two capture points: what it does with the ports decides the port-range and NAT remedies', () => {
    // two-point-snat: `SNAT --to-source 198.19.2.1` without a port range; the client's own range
    // 40000-40003 is what comes back (lab-env.txt), the NAT keeps every port.
    const keeping = { ...reusedBehindNat, sourceNatBetweenPoints: true, sourceNat: { connections: 250, portsKept: 250, portsRewritten: 0, mappings: [{ near: '198.18.1.2', far: '198.19.2.1', nearCaptureId: 1, farCaptureId: 2, connections: 250 }] } };
    expect(offered(keeping)).toContain('wider-port-range');
    expect(offered(keeping)).not.toContain('nat-pool');
    expect(reason(keeping, 'nat-pool')).toMatch(/kept the source port on all 250/);
    expect(chooseRemedies(keeping).withheld.find((w) => w.id === 'nat-pool')?.because).toEqual(['nat-keeps-ports']);
    expect(reason(keeping, 'more-source-addresses')).toMatch(/198\.19\.2\.1/);
    expect(reason(keeping, 'more-source-addresses')).not.toMatch(/pool/);
    // snat-port-pool, snat-retry-other-port: a pool that rewrites the ports.
    const rewritingNat = { ...reusedBehindNat, sourceNatBetweenPoints: true, sourceNat: rewriting };
    expect(offered(rewritingNat)).toContain('nat-pool');
    expect(offered(rewritingNat)).not.toContain('wider-port-range');
    expect(chooseRemedies(rewritingNat).withheld.find((w) => w.id === 'wider-port-range')?.because).toEqual(['nat-rewrites-ports']);
    expect(reason(rewritingNat, 'wider-port-range')).toMatch(/rewritten between the two capture points on 75 of 75/);
    expect(chooseRemedies(rewritingNat).offered.find((r) => r.id === 'nat-pool')?.why).toMatch(/rewritten between the two capture points on 75 of 75/);
    // Some ports kept, some rewritten: the NAT does give other ports.
    const mixed = { ...rewritingNat, sourceNat: { ...rewriting, portsKept: 70, portsRewritten: 5 } };
    expect(offered(mixed)).toContain('nat-pool');
    expect(offered(mixed)).not.toContain('wider-port-range');
    // A retry that left from another port: the NAT rewrites, whatever the two points showed.
    expect(offered({ ...keeping, crossPortRetries: 3 })).not.toContain('wider-port-range');
    expect(offered({ ...keeping, crossPortRetries: 3 })).toContain('nat-pool');
    // Several hosts behind one address at one capture point: what the NAT does with ports is not seen.
    const shared = { ...reusedBehindNat, natClients: [finding('nat-clients', 'info')] };
    expect(chooseRemedies(shared).withheld.find((w) => w.id === 'wider-port-range')?.because).toEqual(['nat-ports-unseen']);
    expect(reason(shared, 'wider-port-range')).toMatch(/would show whether it keeps/);
    // ... and a second capture point showing every port kept: not ruled out.
    expect(offered({ ...shared, ...keeping, natClients: shared.natClients })).toContain('wider-port-range');
  });

  it('client-closes-first: offered when the server closes first, withheld when the client already does or nobody can tell', () => {
    expect(offered(incident)).toContain('client-closes-first');
    const clientCloses = { ...incident, closes: { closed: 100, serverFirst: 5, closer: 'client' as const } };
    expect(offered(clientCloses)).not.toContain('client-closes-first');
    expect(withheld(clientCloses)).toContain('client-closes-first');
    expect(reason({ ...incident, closes: { closed: 2, serverFirst: 2, closer: null } }, 'client-closes-first')).toMatch(/cannot be told/);
  });

  it('max-tw-buckets: only with stale ACKs from a server that closes first, and marked high risk', () => {
    expect(chooseRemedies(incident).offered.find((x) => x.id === 'max-tw-buckets')?.risk).toBe('high');
    expect(offered({ ...incident, closes: { closed: 100, serverFirst: 10, closer: 'client' } })).not.toContain('max-tw-buckets');
  });

  it('Windows TcpTimedWaitDelay: only for Windows-looking clients', () => {
    expect(offered({ ...clientHolds, clientLooksWindows: true })).toContain('windows-timed-wait');
    expect(offered(clientHolds)).not.toContain('windows-timed-wait');
  });

  it('tcp_tw_recycle is never offered, and named as ruled out when TIME_WAIT trouble exists', () => {
    expect(offered(incident)).not.toContain('no-tw-recycle');
    expect(withheld(incident)).toContain('no-tw-recycle');
    expect(withheld(healthy)).not.toContain('no-tw-recycle');
  });

  it('check-listener, raise-backlog, disable-tw-recycle, check-drops, check-synack-drops: each only with its own evidence', () => {
    expect(offered({ ...healthy, outcomes: { ...healthy.outcomes, refused: 2 }, refusedBy: [{ captureId: 1, endpoint: '198.19.2.2:3307', refused: 2, attempts: 2, frames: [3] }] })).toEqual(['check-listener']);
    expect(offered({ ...healthy, listenOverflow: [finding('listen-overflow', 'error')] })).toEqual(['raise-backlog']);
    expect(offered({ ...healthy, pawsDrop: [finding('paws-drop', 'error')] })).toEqual(['disable-tw-recycle']);
    expect(offered({ ...healthy, synRetransmits: { ...healthy.synRetransmits, unanswered: 3 }, unansweredNotExplained: { retransmits: 3, attempts: 1 } })).toEqual(['check-drops']);
    // Unanswered retransmits a full accept queue explains are its remedy's, not a drop to find.
    const overflow = { ...healthy, synRetransmits: { ...healthy.synRetransmits, unanswered: 37 }, unansweredNotExplained: { retransmits: 0, attempts: 0 },
      listenOverflow: [finding('listen-overflow', 'error', { server: '198.19.2.2:3306', attempts: 40, dataIgnored: 18, synAckAfterAck: 0, synRetried: 37 })] };
    expect(offered(overflow)).toEqual(['raise-backlog']);
    // Its why names the signs the finding saw, and only those.
    expect(chooseRemedies(overflow).offered[0].why).toBe('198.19.2.2:3306 answered the SYN of 18 connections, then ignored the client\'s ACK and data (the SYN cookie path), and left 37 of 40 connections retransmitting the SYN: its accept queue was full');
    expect(offered({ ...healthy, synRetransmits: { ...healthy.synRetransmits, afterSynAck: 15 } })).toEqual(['check-synack-drops']);
    // Retransmits after a stale ACK are the TIME_WAIT story, not SYN-ACKs lost to the client.
    expect(offered({ ...incident, synRetransmits: { ...healthy.synRetransmits, afterStaleAck: 43 } })).not.toContain('check-synack-drops');
    expect(offered(incident)).not.toEqual(expect.arrayContaining(['check-listener', 'raise-backlog', 'disable-tw-recycle', 'check-drops', 'check-synack-drops']));
  });

  it('every offered remedy lists the conditions that held, every withheld one the conditions that ruled it out', () => {
    for (const f of [incident, clientHolds, { ...incident, natClients: [finding('nat-clients', 'info')] }]) {
      const { offered: o, withheld: w } = chooseRemedies(f);
      for (const r of o) expect(r.preconditions.length).toBeGreaterThan(0);
      for (const r of w) expect(r.because.length).toBeGreaterThan(0);
    }
  });
});
