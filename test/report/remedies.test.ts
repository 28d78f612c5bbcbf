import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/detectors/index.js';
import type { Facts } from '../../src/report/facts.js';
import { chooseRemedies } from '../../src/report/remedies.js';

const finding = (detector: Finding['detector'], severity: Finding['severity'], evidence: Record<string, unknown> = {}): Finding => ({
  id: `${detector}/x`, detector, severity, captureId: 1, connId: 1, tsUsec: 0, summary: '', evidence,
});

/** A healthy capture: nothing to remedy. */
const healthy: Facts = {
  attempts: 100, established: 100, serverClosesFirst: 0.1, closedConnections: 100,
  staleAcks: 0, staleAckTimeWait: 0, staleAckSample: [], staleAckFrames: [], staleAckSameTick: 0, staleAckBackwards: 0,
  staleAckEstablished: 0, staleAckConnectUsec: null, staleAckClientRsts: 0, challengeAcks: 0, challengeAckSample: [],
  tsStripped: 0, tsStrippedTwoPoint: false, tsStrippedNopRun: false, tsStrippedSample: [], tsStrippedWeak: 0, synWithTsShare: 1,
  reusePaths: 0, firstReuse: null, reuseClients: [], reuseClientCount: 0, hotReuseSummaries: [], hotReuseSample: [], reuses: 0, failedReuses: 0, maxRatePerS: 10, sustainablePerS: 470,
  synRetransmitSummary: [], unansweredRetransmits: 0, synAckRetransmits: 0, crossPortRetries: 0,
  clientLooksWindows: false, timeWaitS: 60, refused: 0, refusedBy: [], twoPoint: [], listenOverflow: [], pawsDrop: [], natClients: [], exhaustion: [],
};

/** The incident of seeds/003: server closes first, gateway strips timestamps, stale ACKs. */
const incident: Facts = {
  ...healthy, serverClosesFirst: 0.97, staleAcks: 1, staleAckSample: [finding('stale-ack', 'error', { relation: 'time-wait' })], staleAckTimeWait: 1,
  tsStripped: 1, tsStrippedNopRun: true, tsStrippedSample: [finding('ts-stripped', 'warning', { kind: 'nop-run' })], failedReuses: 1, reuses: 50, maxRatePerS: 900,
};

const offered = (f: Facts): string[] => chooseRemedies(f).offered.map((r) => r.id);
const withheld = (f: Facts): string[] => chooseRemedies(f).withheld.map((r) => r.id);

describe('remedy rules', () => {
  it('offers nothing and withholds nothing on a healthy capture', () => {
    expect(offered(healthy)).toEqual([]);
    expect(withheld(healthy)).toEqual([]);
  });

  it('puts restoring timestamps first when they were stripped and caused stale ACKs', () => {
    expect(offered(incident)[0]).toBe('keep-timestamps');
  });

  it('keep-timestamps: only when stripping is seen', () => {
    expect(offered(incident)).toContain('keep-timestamps');
    expect(offered({ ...incident, tsStripped: 0, tsStrippedNopRun: false, tsStrippedSample: [] })).not.toContain('keep-timestamps');
  });

  it('pooling and a wider port range: when TIME_WAIT reuse fails or ports run hot', () => {
    expect(offered(incident)).toEqual(expect.arrayContaining(['pooling', 'wider-port-range']));
    expect(offered({ ...healthy, maxRatePerS: 400 })).toEqual(expect.arrayContaining(['pooling', 'wider-port-range', 'more-source-addresses']));
    expect(offered(healthy)).not.toContain('pooling');
  });

  it('client-closes-first: offered when the server closes first, withheld when the client already does', () => {
    expect(offered(incident)).toContain('client-closes-first');
    const clientCloses = { ...incident, serverClosesFirst: 0.05 };
    expect(offered(clientCloses)).not.toContain('client-closes-first');
    expect(withheld(clientCloses)).toContain('client-closes-first');
  });

  it('tw-reuse: withheld while timestamps are stripped, or while the server holds TIME_WAIT', () => {
    const w = chooseRemedies(incident).withheld.find((r) => r.id === 'tw-reuse');
    expect(w?.reason).toMatch(/restore timestamps/);
    const serverHolds = { ...incident, tsStripped: 0, tsStrippedNopRun: false, tsStrippedSample: [] };
    expect(chooseRemedies(serverHolds).withheld.find((r) => r.id === 'tw-reuse')?.reason).toMatch(/server holds TIME_WAIT/);
    const clientHolds = { ...incident, tsStripped: 0, tsStrippedNopRun: false, tsStrippedSample: [], serverClosesFirst: 0.02 };
    expect(offered(clientHolds)).toContain('tw-reuse');
    expect(withheld({ ...clientHolds, synWithTsShare: 0 })).toContain('tw-reuse');
  });

  it('max-tw-buckets: only with stale ACKs from a server that closes first, and marked high risk', () => {
    const r = chooseRemedies(incident).offered.find((x) => x.id === 'max-tw-buckets');
    expect(r?.risk).toBe('high');
    expect(offered({ ...incident, serverClosesFirst: 0.1 })).not.toContain('max-tw-buckets');
  });

  it('Windows TcpTimedWaitDelay: only for Windows-looking clients', () => {
    expect(offered({ ...incident, clientLooksWindows: true })).toContain('windows-timed-wait');
    expect(offered(incident)).not.toContain('windows-timed-wait');
  });

  it('tcp_tw_recycle is never offered, and named as ruled out when TIME_WAIT trouble exists', () => {
    expect(offered(incident)).not.toContain('no-tw-recycle');
    expect(withheld(incident)).toContain('no-tw-recycle');
    expect(withheld(healthy)).not.toContain('no-tw-recycle');
  });

  it('an exhaustion forecast alone calls for pooling, a wider range and more addresses', () => {
    const forecast = { ...healthy, exhaustion: [finding('exhaustion-forecast' as Finding['detector'], 'warning')] };
    expect(offered(forecast)).toEqual(expect.arrayContaining(['pooling', 'wider-port-range', 'more-source-addresses']));
  });

  it('check-listener: when SYNs were refused', () => {
    expect(offered({ ...healthy, refused: 2, refusedBy: [{ endpoint: '198.19.2.2:3307', refused: 2, attempts: 2, frames: [3] }] })).toEqual(['check-listener']);
    expect(offered(healthy)).not.toContain('check-listener');
  });

  it('raise-backlog: when the accept queue overflowed', () => {
    expect(offered({ ...healthy, listenOverflow: [finding('listen-overflow', 'error')] })).toContain('raise-backlog');
    expect(offered(healthy)).not.toContain('raise-backlog');
  });

  it('disable-tw-recycle: offered only when SYNs are dropped per host by timestamp', () => {
    const paws = { ...healthy, pawsDrop: [finding('paws-drop', 'error')] };
    expect(offered(paws)[0]).toBe('disable-tw-recycle');
    expect(offered(incident)).not.toContain('disable-tw-recycle');
  });

  it('check-drops: when SYNs went unanswered', () => {
    expect(offered({ ...healthy, unansweredRetransmits: 3 })).toEqual(['check-drops']);
  });
});
