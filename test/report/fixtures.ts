import type { Report } from '../../src/report/model.js';

/**
 * Hand-built reports shaped like buildReport() output, so renderer and schema tests
 * don't depend on the decoder or on sample captures being present.
 */

const T0 = 1_700_000_000_000_000; // µs, 2023-11-14T22:13:20Z
const BUCKET = 100_000;

export function staleAckReport(): Report {
  const buckets = Array.from({ length: 50 }, (_, i) => ({
    tUsec: T0 + i * BUCKET,
    newConnections: 20 + ((i * 7) % 13),
    synRetransmits: i % 9 === 4 ? 3 : i % 5 === 0 ? 1 : 0,
    staleAcks: i % 9 === 4 ? 2 : 0,
  }));
  return {
    schemaVersion: 2,
    tool: { name: 'tcpdiag', version: '0.1.0' },
    settings: { timeWaitS: 60, portRange: [32768, 60999] },
    captures: [{
      id: 1, name: 'client <eth0>.pcap', path: '/tmp/caps/client.pcap', format: 'pcap', compression: null, frames: 12_345, tcpPackets: 12_001,
      firstTsUsec: T0, lastTsUsec: T0 + 5_000_000, durationS: 5, connections: 1_160, skipped: { 'non-tcp': 344 }, undecodedFrames: 0, error: null, interrupted: false, grouping: 'file', pieces: [{ name: 'client <eth0>.pcap', firstFrame: 1, frames: 12_345 }], filter: null, tunnels: [],
    }],
    totals: {
      connections: 1_160, attempts: 1_158, established: 1_150, notCompleted: 0, refused: 0, unanswered: 2, synRetransmits: 21, staleAcks: 12,
      handshakeRttMs: { p50: 0.21, p99: 1.3 }, connectMs: { p50: 0.25, p99: 1003.4, max: 1011.2 }, serverClosesFirstShare: 0.98,
    },
    verdict: {
      status: 'problem',
      headline: 'Reused source ports hit TIME_WAIT on the server <script>alert(1)</script> & "quotes"',
    },
    causes: [{
      id: 'time-wait-stale-ack',
      title: 'Reused source ports hit TIME_WAIT on the server (stale ACK, RST, SYN retry)',
      severity: 'error',
      confidence: 'high',
      score: 0.95,
      summary: '12 of 1158 connection attempts (1%) were answered with an ACK of an older connection',
      explanation: 'The server closes first (98% of 1150 closed connections), so it holds TIME_WAIT for each 4-tuple for 60 s; it answers 12 of 1158 connection attempts with an ACK for the old connection (frames 4410, 5120).',
      figures: { staleAcks: 12, attempts: 1158, closed: 1150 },
      evidence: [
        { findingId: 'stale-ack/client.pcap/4410', text: '10.0.0.5:40001 -> 10.0.0.9:3306: SYN at frame 4409 answered by ACK <b>ack=12345</b>', frames: [4409, 4410, 4411], filter: 'tcp.port == 40001 && frame.number >= 4409', capture: 'client <eth0>.pcap' },
        { findingId: null, text: 'second one', frames: [5120], filter: null, capture: null },
      ],
      remedies: ['pooling', 'client-closes-first'],
    }],
    remedies: [
      { id: 'pooling', title: 'Use connection pooling or long-lived connections', where: 'application', setting: 'a pool in the client', cost: 'application change', risk: 'low', why: 'every short connection leaves a TIME_WAIT entry', preconditions: ['stale-acks'] },
      { id: 'client-closes-first', title: 'Let the client close first', where: 'client', setting: 'close the socket from the client', cost: 'client library change', risk: 'medium', why: 'the server sends the first FIN on 98% of closed connections; see https://example.com/tw', preconditions: ['stale-acks', 'server-closes-first'] },
    ],
    withheld: [{ id: 'tw-recycle', title: 'net.ipv4.tcp_tw_recycle', reason: 'removed in Linux 4.12 & breaks clients behind NAT', because: ['stale-acks'] }],
    findings: [
      { id: 'stale-ack/client.pcap/4410', detector: 'stale-ack', severity: 'error', captureId: 1, connId: 77, tsUsec: T0 + 400_000, summary: 'SYN answered by a stale ACK <img src="https://evil.example/x.png">', evidence: {
        frames: [4409, 4410, 4411], ack: 12345, tuple: { client: '10.0.0.5', clientPort: 40001, server: '10.0.0.9', serverPort: 3306 }, frameRange: [1201, null],
        synSeq: 123456, ackFrame: 4410, relation: 'time-wait', rejectReason: 'seq-no-ts', attemptId: 77, established: true,
      } },
      { id: 'syn-retransmit/client.pcap/summary', detector: 'syn-retransmit', severity: 'warning', captureId: 1, connId: null, tsUsec: null, summary: '21 SYN retransmits', evidence: { frames: [] } },
    ],
    // 13 findings in the store, 2 listed (as when a report is cut at MAX_REPORT_FINDINGS).
    findingsOmitted: 11,
    findingCounts: { 'stale-ack': { info: 0, warning: 0, error: 12 }, 'syn-retransmit': { info: 0, warning: 1, error: 0 } },
    worstConnections: [
      { connId: 8, capture: 'server.pcap', client: '198.18.1.2:40000', server: '198.19.2.2:3306', state: 'SF', history: 'SaRhADdfF', syns: 2, answer: 'ack', connectMs: 10.8, established: true, synFrame: 160 },
      { connId: 9, capture: 'server.pcap', client: '[fd18:1::2]:40002', server: '[fd19:2::2]:3306', state: 'S0', history: 'S', syns: 5, answer: 'none', connectMs: null, established: false, synFrame: 170 },
    ],
    timeline: { bucketUsec: BUCKET, buckets, sustainablePerS: 470.5, inUseSustainablePerS: 0.07 },
    anomalies: { 'synack-not-captured': 0 },
    captureLoss: { connections: 0, synAckNotCaptured: 0, acksOfUnseenData: 0, connectionsWithSequenceGaps: 0 },
    metrics: { attempts: 1158, staleAcks: 12, synRetransmitted: 20, refused: 0, unanswered: 2, reusesWithinTimeWait: 300, failedReuses: 12, connectN: 1150, connectP50Ms: 0.25, connectP99Ms: 1003.4, connectMaxMs: 1011.2, timestampsStripped: 1, natAddresses: 0 },
    gates: [],
    baseline: null,
    ladder: {
      title: '10.0.0.5:40001 -> 10.0.0.9:3306 and its previous connection on the same ports',
      client: '10.0.0.5:40001', server: '10.0.0.9:3306',
      packets: [
        { frame: 1201, tUsec: T0 + 100_000, fromClient: false, label: 'FIN,ACK seq=900 ack=500 [previous connection]' },
        { frame: 1202, tUsec: T0 + 100_210, fromClient: true, label: 'FIN,ACK seq=500 ack=901 [previous connection]' },
        { frame: 1203, tUsec: T0 + 100_400, fromClient: false, label: 'ACK seq=901 ack=501 [previous connection]' },
        { frame: 4409, tUsec: T0 + 400_000, fromClient: true, label: 'SYN seq=123456' },
        { frame: 4410, tUsec: T0 + 400_180, fromClient: false, label: 'ACK seq=901 ack=501 (stale ACK)' },
        { frame: 4411, tUsec: T0 + 400_300, fromClient: true, label: 'RST seq=501' },
        { frame: 4420, tUsec: T0 + 1_410_000, fromClient: true, label: 'SYN seq=123456 (retransmit)' },
        { frame: 4421, tUsec: T0 + 1_410_200, fromClient: false, label: 'SYN,ACK seq=777 ack=123457' },
        { frame: 4422, tUsec: T0 + 1_410_400, fromClient: true, label: 'ACK seq=123457 ack=778' },
      ],
    },
  };
}

/** The "all OK" shape: nothing to explain and nothing to chart. */
export function okReport(): Report {
  return {
    schemaVersion: 2,
    tool: { name: 'tcpdiag', version: '0.1.0' },
    settings: { timeWaitS: 60, portRange: [32768, 60999] },
    captures: [{
      id: 1, name: 'empty.pcapng', path: 'empty.pcapng', format: 'pcapng', compression: 'gzip', frames: 0, tcpPackets: 0,
      firstTsUsec: null, lastTsUsec: null, durationS: 0, connections: 0, skipped: {}, undecodedFrames: 0, error: 'truncated record at byte 24', interrupted: false, grouping: 'file', pieces: [], filter: null, tunnels: [],
    }],
    totals: {
      connections: 0, attempts: 0, established: 0, notCompleted: 0, refused: 0, unanswered: 0, synRetransmits: 0, staleAcks: 0,
      handshakeRttMs: { p50: null, p99: null }, connectMs: { p50: null, p99: null, max: null }, serverClosesFirstShare: null,
    },
    verdict: { status: 'ok', headline: 'No problem found with new connections: 0 connection attempts, 0 established, SYN retransmits: none, stale ACKs: none, timestamps stripped: no.' },
    causes: [],
    remedies: [],
    withheld: [],
    findings: [],
    findingsOmitted: 0,
    findingCounts: {},
    worstConnections: [],
    timeline: { bucketUsec: 0, buckets: [], sustainablePerS: 0, inUseSustainablePerS: null },
    ladder: null,
    anomalies: {},
    captureLoss: { connections: 0, synAckNotCaptured: 0, acksOfUnseenData: 0, connectionsWithSequenceGaps: 0 },
    metrics: { attempts: 0, staleAcks: 0, synRetransmitted: 0, refused: 0, unanswered: 0, reusesWithinTimeWait: 0, failedReuses: 0, connectN: 0, connectP50Ms: null, connectP99Ms: null, connectMaxMs: null, timestampsStripped: 0, natAddresses: 0 },
    gates: [],
    baseline: null,
  };
}
