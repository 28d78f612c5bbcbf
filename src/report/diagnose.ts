import type { Finding } from '../detectors/index.js';
import type { Facts } from './facts.js';
import type { EvidenceItem, RootCause } from './model.js';

/**
 * Root causes from findings: each rule names a cause, how sure it is, and the chain
 * of evidence an engineer can check frame by frame. Rules read Facts only.
 */

/** Fewer closed connections than this say nothing about who usually closes first. */
const MIN_CLOSED_TO_TELL = 5;

/** A duration in the unit people read it in: ms below a second. */
const dur = (usec: number): string => (usec < 1e6 ? `${(usec / 1000).toFixed(usec < 10_000 ? 1 : 0)} ms` : `${(usec / 1e6).toFixed(1)} s`);
const pct = (x: number): string => `${Math.round(x * 100)}%`;
const list = (xs: number[], n = 5): string => xs.slice(0, n).join(', ') + (xs.length > n ? ', ...' : '');

function frameFilter(f: Finding): string | null {
  const t = f.evidence.tuple as { clientPort?: number } | undefined;
  const frames = f.evidence.frames ?? [];
  if (t?.clientPort !== undefined && frames.length) return `tcp.port == ${t.clientPort} && frame.number >= ${Math.min(...frames)}`;
  if (frames.length) return frames.slice(0, 8).map((n) => `frame.number == ${n}`).join(' || ');
  return null;
}

function evidenceOf(f: Finding, captureName: (id: number | null) => string | null): EvidenceItem {
  return { text: f.summary, frames: f.evidence.frames ?? [], filter: frameFilter(f), capture: captureName(f.captureId) };
}

export function rootCauses(f: Facts, captureName: (id: number | null) => string | null): RootCause[] {
  const causes: RootCause[] = [];

  // 1. TIME_WAIT on the server rejects reused ports (the incident tcpdiag is built around).
  if (f.staleAcks > 0) {
    const tw = f.staleAckTimeWait;
    const linked = tw / f.staleAcks;
    const sentences: string[] = [];
    if (f.serverClosesFirst !== null && f.closedConnections >= MIN_CLOSED_TO_TELL) {
      sentences.push(f.serverClosesFirst > 0.5
        ? `The server closes first (${pct(f.serverClosesFirst)} of ${f.closedConnections} closed connections: it sends the first FIN), so it holds TIME_WAIT for each 4-tuple for ${f.timeWaitS} s`
        : `The client closes first on ${pct(1 - f.serverClosesFirst)} of connections, yet the server still had state for the reused tuples`);
    }
    if (f.firstReuse) {
      const r = f.firstReuse;
      const nClients = f.reuseClientCount;
      const named = nClients > 5 ? `${f.reuseClients.slice(0, 5).join(', ')} and ${nClients - 5} more` : f.reuseClients.join(', ');
      sentences.push(`client${nClients > 1 ? 's' : ''} ${named} reuse${nClients > 1 ? '' : 's'} source ports ${dur(r.minGapUsec as number)} to ${dur(r.maxGapUsec as number)} after the previous connection on them closed (${Number(r.ratePerS).toFixed(0)} new connections/s to ${String(r.path).split(' -> ')[1]} from ${r.distinctPorts} source ports, against ${Number(r.sustainablePerS).toFixed(0)}/s that the configured port range would sustain${Number(r.portsInUseSustainPerS) < Number(r.sustainablePerS) / 2 ? ` and ${Number(r.portsInUseSustainPerS).toFixed(2)}/s that the ${r.distinctPorts} ports in use sustain` : ''})`);
    }
    if (f.tsStripped) {
      const nop = f.tsStrippedNopRun;
      const two = f.tsStrippedTwoPoint;
      sentences.push(`the path strips TCP timestamps (${[two ? 'present at one capture point and gone at the other' : '', nop ? 'a NOP run where the option was' : ''].filter(Boolean).join('; ') || 'SYN and SYN-ACK disagree'}), so the server cannot accept a reused SYN by its newer timestamp`);
    } else if (f.synWithTsShare !== null && f.synWithTsShare < 0.5) {
      sentences.push('the clients send no TCP timestamps, so the server cannot accept a reused SYN by timestamp');
    } else {
      const sameTick = f.staleAckSameTick;
      const backwards = f.staleAckBackwards;
      const reasons: string[] = [];
      if (sameTick) reasons.push(`${sameTick} reused SYNs came within the same millisecond clock tick as the old connection's last segment, so their TSval was not newer (RFC 6191 needs strictly newer)`);
      if (backwards) reasons.push(`${backwards} reused SYNs carried a TSval older than the last one the server saw on that tuple: another connection or host (behind a NAT) took the tuple over with its own timestamp clock, and PAWS in TIME_WAIT rejects it (TcpExtPAWSTimewait)`);
      if (!reasons.length) reasons.push('the reused SYNs had neither a newer timestamp nor a sequence past the old connection\'s');
      sentences.push(`timestamps are in use end to end, but ${reasons.join('; and ')}`);
    }
    sentences.push(`it answers ${f.staleAcks} of ${f.attempts} SYNs (${pct(f.staleAcks / Math.max(1, f.attempts))}) with an ACK for the old connection (frames ${list(f.staleAckFrames)})${tw ? `; ${tw} of them carry exactly the previous connection's FIN sequence numbers` : ''}`);
    const established = f.staleAckEstablished;
    const delays = f.staleAckConnectUsec;
    const rst = f.staleAckClientRsts;
    if (delays) {
      sentences.push(`the client resets${rst < f.staleAcks ? ` (${rst} RSTs seen)` : ''} and retries, adding a median ${(delays.median / 1000).toFixed(1)} ms and up to ${(delays.max / 1000).toFixed(1)} ms to connect time${established < f.staleAcks ? `; ${f.staleAcks - established} never connected here` : ''}`);
    } else {
      sentences.push(`${rst} client RSTs follow; no connection got a SYN-ACK after it in this capture`);
    }
    for (const n of f.natClients.slice(0, 3)) {
      sentences.push(`${n.evidence.address} is at least ${n.evidence.estimatedHosts} hosts behind NAT sharing its ports and tuples (${String(n.summary).split(': ')[1]?.split('. Their')[0] ?? 'see nat-clients'})`);
    }
    if (f.crossPortRetries) sentences.push(`${f.crossPortRetries} retries left from another source port with the same ISN: a NAT between client and server remapped the retry`);
    if (tw === 0) {
      // Not one stale ACK could be tied to a captured previous connection: say what is known.
      sentences.unshift(`The previous connections on these 4-tuples are not in the capture, so which state answered cannot be confirmed; TIME_WAIT from a connection closed shortly before the capture started is the usual cause (capture earlier or longer to see it)`);
    }
    causes.push({
      id: 'time-wait-stale-ack',
      title: tw > 0
        ? 'Reused source ports hit TIME_WAIT on the server (stale ACK, RST, SYN retry)'
        : 'SYNs answered with an ACK of an older connection that is not in the capture (likely TIME_WAIT)',
      severity: 'error',
      confidence: linked >= 0.5 ? 'high' : linked > 0 ? 'medium' : 'low',
      score: Math.min(1, 0.4 + 0.6 * linked),
      explanation: `${sentences.join('; ')}.`,
      evidence: f.staleAckSample.slice(0, 10).map((s) => evidenceOf(s, captureName)),
      remedies: [],
    });
  }

  // 2. Half-open connections answered with challenge ACKs.
  if (f.challengeAcks > 0) {
    causes.push({
      id: 'half-open-challenge-ack',
      title: 'SYNs hit connections the server still considers open (RFC 5961 challenge ACK)',
      severity: 'error',
      confidence: 'medium',
      score: 0.6,
      explanation: `${f.challengeAcks} SYNs arrived on a 4-tuple whose previous connection never closed in the capture and were answered with an ACK of that connection: the client restarted without closing, or a NAT handed the mapping to another host. The server keeps the old connection until it times out or the client's RST reaches it.`,
      evidence: f.challengeAckSample.slice(0, 10).map((s) => evidenceOf(s, captureName)),
      remedies: [],
    });
  }

  // 3. Timestamps stripped, with no failure yet: a latent risk.
  if (f.tsStripped > 0 && f.staleAcks === 0) {
    causes.push({
      id: 'timestamps-stripped',
      title: 'TCP timestamps are removed on the path (latent TIME_WAIT risk)',
      severity: 'warning',
      confidence: f.tsStrippedTwoPoint || f.tsStrippedNopRun ? 'high' : 'medium',
      score: 0.7,
      explanation: 'Timestamps are removed between client and server. Nothing failed in this capture, but a server that closes first will reject reused ports\' SYNs with stale ACKs once clients reuse ports within TIME_WAIT, tcp_tw_reuse cannot help, and PAWS is off.',
      evidence: f.tsStrippedSample.slice(0, 5).map((s) => evidenceOf(s, captureName)),
      remedies: [],
    });
  }

  // 4. SYNs that got no answer at all.
  if (f.unansweredRetransmits > 0) {
    const s = f.synRetransmitSummary;
    causes.push({
      id: 'syn-unanswered',
      title: 'SYNs dropped without an answer',
      severity: 'error',
      confidence: 'medium',
      score: 0.5,
      explanation: `${f.unansweredRetransmits} SYN retransmits followed a SYN that got no answer at this capture point: something dropped the SYN or its SYN-ACK silently (a firewall or gateway drop, a full listen queue — check nstat TcpExtListenOverflows/ListenDrops on the server — or PAWS rejecting the SYN's timestamp). ${s.map((x) => `${x.summary}.`).join(' ')}`
        + f.twoPoint.filter((t) => Number(t.evidence.synsLost) > 0).map((t) => ` ${t.evidence.synsLost} SYNs seen at ${t.evidence.near} never reached ${t.evidence.far}: they were dropped between the two capture points, not by the server.`).join(''),
      evidence: [...s, ...f.twoPoint.filter((t) => Number(t.evidence.synsLost) > 0)].map((x) => evidenceOf(x, captureName)),
      remedies: [],
    });
  }

  // 5. Accept queue overflow and per-host PAWS drops.
  if (f.listenOverflow.length > 0) {
    causes.push({
      id: 'listen-overflow',
      title: 'The server\'s accept queue overflowed',
      severity: 'error',
      confidence: 'high',
      score: 0.85,
      explanation: f.listenOverflow.map((x) => `${x.summary}.`).join(' '),
      evidence: f.listenOverflow.map((x) => evidenceOf(x, captureName)),
      remedies: [],
    });
  }
  if (f.pawsDrop.length > 0) {
    causes.push({
      id: 'paws-drop',
      title: 'SYNs dropped per host by timestamp (tcp_tw_recycle with clients behind NAT)',
      severity: 'error',
      confidence: 'medium',
      score: 0.8,
      explanation: f.pawsDrop.map((x) => `${x.summary}.`).join(' '),
      evidence: f.pawsDrop.map((x) => evidenceOf(x, captureName)),
      remedies: [],
    });
  }

  // 6. SYNs answered by RST: nothing listening, or a firewall rejecting.
  if (f.refused > 0) {
    causes.push({
      id: 'refused',
      title: 'Connections refused (SYN answered by RST)',
      severity: 'error',
      confidence: 'high',
      score: 0.9,
      explanation: `${f.refused} of ${f.attempts} connection attempts were refused: the server side answered the SYN with RST, which a host sends when nothing listens on the port (or a firewall REJECT rule sends for it): ${f.refusedBy.map((r) => `${r.endpoint} refused ${r.refused} of ${r.attempts}`).join('; ')}.`,
      evidence: f.refusedBy.map((r) => ({ text: `${r.endpoint}: ${r.refused} of ${r.attempts} SYNs answered by RST`, frames: r.frames, filter: `tcp.flags.reset == 1 && tcp.srcport == ${r.endpoint.split(':').pop()}`, capture: null })),
      remedies: [],
    });
  }

  // 7. Port pressure without failures yet: from the reuse paths, or the exhaustion forecast.
  const hot = f.sustainablePerS > 0 && f.maxRatePerS > 0.5 * f.sustainablePerS;
  if (f.staleAcks === 0 && (hot || f.exhaustion.length > 0)) {
    causes.push({
      id: 'port-pressure',
      title: 'New-connection rate close to what the port range sustains',
      severity: 'warning',
      confidence: 'medium',
      score: 0.5,
      explanation: [...(hot ? f.hotReuseSummaries : []), ...f.exhaustion.map((x) => `${x.summary}.`)].join(' '),
      evidence: [...(hot ? f.hotReuseSample.slice(0, 5) : []), ...f.exhaustion.slice(0, 5)].map((s) => evidenceOf(s, captureName)),
      remedies: [],
    });
  }
  return causes;
}
