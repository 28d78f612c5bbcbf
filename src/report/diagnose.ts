import { listenOverflowByServer, onePerKey, type AnalysisFacts as Facts } from '../detectors/facts.js';
import { SEVERITY_RANK, type Finding } from '../detectors/index.js';
import type { NatSignal } from '../detectors/natClients.js';
import { comparisonText, compareRate, rateText } from '../detectors/rate.js';
import { RETRANSMIT_ERROR_SHARE } from '../detectors/synRetransmit.js';
import { evidenceOf, frameList, listEvidence, type CaptureNames } from './evidence.js';
import type { RootCause } from './model.js';
import { CONDITIONS } from './remedies.js';

/**
 * Root causes from the typed facts: each rule names a cause, how sure it is, the figures it
 * states and the chain of evidence an engineer can check frame by frame. Sentences are rendered
 * from fields only.
 */

/** A duration in the unit people read it in: ms below a second, three decimals below 1 ms (a LAN handshake is 0.014 ms, not 0.0). */
const dur = (usec: number): string => (usec < 1e6 ? `${(usec / 1000).toFixed(usec < 1000 ? 3 : usec < 10_000 ? 1 : 0)} ms` : `${(usec / 1e6).toFixed(1)} s`);
const pct = (n: number, d: number): string => `${Math.round((100 * n) / Math.max(1, d))}%`;
const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
/** Sentences are joined with '; ' and each starts in lower case: only the paragraph's first letter is a capital. */
const capitalized = (x: string): string => x.charAt(0).toUpperCase() + x.slice(1);
/** How the stripping was seen, from the ts-stripped findings' kinds. */
const strippedHow = (f: Facts): string => [f.stripped.twoPoint ? 'present at one capture point and gone at the other' : '', f.stripped.nopRun ? 'a NOP run where the option was' : ''].filter(Boolean).join('; ') || 'SYN and SYN-ACK disagree';

export function rootCauses(f: Facts, names: CaptureNames): RootCause[] {
  const causes: RootCause[] = [];
  const ev = (x: Finding) => evidenceOf(x, names);

  // 1. TIME_WAIT on the server rejects reused ports (the incident tcpdiag is built around).
  if (f.stale.attempts > 0) {
    const s = f.stale;
    const sentences: string[] = [];
    if (f.closes.closer === 'server') {
      sentences.push(`the server closes first (${pct(f.closes.serverFirst, f.closes.closed)} of ${f.closes.closed} closed connections: it sends the first FIN), so it holds TIME_WAIT for each 4-tuple for ${f.timeWaitS} s`);
    } else if (f.closes.closer === 'client') {
      sentences.push(`the client closes first on ${pct(f.closes.closed - f.closes.serverFirst, f.closes.closed)} of ${f.closes.closed} closed connections, yet the server still had state for the reused tuples`);
    }
    const top = f.reuse.top;
    if (top) {
      const { named, nClients } = reusingClients(f, names);
      const cmp = compareRate(top.rate, top.sustainablePerS);
      const cmpInUse = top.distinctPorts < top.sustainablePerS * f.timeWaitS / 2 ? compareRate(top.rate, top.portsInUseSustainPerS) : null;
      const gaps = dur(top.minGapUsec ?? 0) === dur(top.maxGapUsec ?? 0) ? dur(top.minGapUsec ?? 0) : `${dur(top.minGapUsec ?? 0)} to ${dur(top.maxGapUsec ?? 0)}`;
      sentences.push(`client${nClients > 1 ? 's' : ''} ${named} reuse${nClients > 1 ? '' : 's'} source ports ${gaps} after the previous connection on them closed (to ${top.server} from ${plural(top.distinctPorts, 'source port')}: ${rateText(top.rate)}`
        + `${cmp ? `, ${comparisonText(cmp)} the ${top.sustainablePerS.toFixed(0)}/s that the assumed port range, ${f.portRange[0]}-${f.portRange[1]} by --port-range, would sustain` : ''}`
        + `${cmpInUse ? ` and ${comparisonText(cmpInUse)} the ${top.portsInUseSustainPerS.toFixed(2)}/s that the ${plural(top.distinctPorts, 'port')} in use ${top.distinctPorts === 1 ? 'sustains' : 'sustain'}` : ''})`);
    }
    const stripped = CONDITIONS['timestamps-stripped'](f);
    const noTsAnswer = CONDITIONS['synack-without-timestamps'](f);
    if (stripped) {
      sentences.push(`the path strips TCP timestamps (${strippedHow(f)}), so the server cannot accept a reused SYN by its newer timestamp`);
    } else if (noTsAnswer) {
      sentences.push(`timestamps are not negotiated: ${f.timestamps.notAnsweredWithTs} SYNs carried them and their SYN-ACKs did not (the option is removed on the path, or off on the server), so the server cannot accept a reused SYN by its newer timestamp`);
    } else if (CONDITIONS['clients-without-timestamps'](f)) {
      sentences.push('the clients send no TCP timestamps, so the server cannot accept a reused SYN by timestamp');
    } else if (CONDITIONS['timestamps-end-to-end'](f)) {
      const reasons: string[] = [];
      if (s.sameTick) reasons.push(`${plural(s.sameTick, 'reused SYN')} came within the same millisecond clock tick as the old connection's last segment, so ${s.sameTick === 1 ? 'its' : 'their'} TSval was not newer (RFC 6191 needs strictly newer)`);
      if (s.pawsBackwards) reasons.push(`${plural(s.pawsBackwards, 'reused SYN')} carried a TSval older than the last one the server saw on that tuple: another connection or host (behind a NAT) took the tuple over with its own timestamp clock, and PAWS in TIME_WAIT rejects it (TcpExtPAWSTimewait)`);
      // Only a reason a stale-ack finding states (its typed reason field): without the previous
      // connection's last sequence and timestamp, why TIME_WAIT refused the SYN cannot be told.
      const unknown = s.noReason === s.attempts ? 'why the server refused the reused SYNs cannot be seen (it needs the previous connection\'s last sequence and timestamp)'
        : s.noReason > 0 ? `why it refused the other ${s.noReason} cannot be seen (it needs the previous connection's last sequence and timestamp)` : '';
      sentences.push(`timestamps are in use end to end${reasons.length ? `, but ${reasons.join('; and ')}` : ''}${unknown ? `; ${unknown}` : ''}`);
    }
    sentences.push(`it answers ${s.attempts} of ${f.attempts} connection attempts (${pct(s.attempts, f.attempts)}) with an ACK for the old connection (frames ${frameList(names, s.frameCaptures, s.frames)})${s.timeWait ? `; ${s.timeWait} of them carry exactly the previous connection's FIN sequence numbers` : ''}`);
    if (s.connectUsec) {
      sentences.push(`the client resets${s.clientRsts < s.attempts ? ` (${plural(s.clientRsts, 'RST')} seen)` : ''} and retries; those attempts connected after a median ${dur(s.connectUsec.p50)}, up to ${dur(s.connectUsec.max)}${s.established < s.attempts ? `; ${s.attempts - s.established} never connected in the capture` : ''}`);
    } else {
      sentences.push(`${plural(s.clientRsts, 'client RST')} follow; none of these attempts got a SYN-ACK in the capture`);
    }
    for (const n of f.natClients.slice(0, 3)) {
      const e = n.evidence as { address: string; estimatedHosts: number | null; signals: NatSignal[] };
      sentences.push(`${e.address} is ${e.estimatedHosts !== null ? `at least ${e.estimatedHosts} hosts` : 'more than one host'} behind NAT sharing its ports and tuples (${e.signals.map((x) => x.text).join('; ')})`);
    }
    if (f.crossPortRetries) sentences.push(`on ${plural(f.crossPortRetries, 'attempt')} a retry left from another source port with the same ISN: a NAT between client and server remapped it`);
    if (s.timeWait === 0) {
      // Not one stale ACK could be tied to a captured previous connection: say what is known.
      sentences.unshift('the previous connections on these 4-tuples are not in the capture, so which state answered cannot be confirmed; TIME_WAIT from a connection closed shortly before the capture started is the usual cause (capture earlier or longer to see it)');
    }
    const linked = s.timeWait / s.attempts;
    causes.push({
      id: 'time-wait-stale-ack',
      title: s.timeWait > 0
        ? 'Reused source ports hit TIME_WAIT on the server (stale ACK, RST, SYN retry)'
        : 'SYNs answered with an ACK of an older connection that is not in the capture (likely TIME_WAIT)',
      severity: 'error',
      confidence: linked >= 0.5 ? 'high' : linked > 0 ? 'medium' : 'low',
      score: Math.min(1, 0.4 + 0.6 * linked),
      summary: `${s.attempts} of ${f.attempts} connection attempts (${pct(s.attempts, f.attempts)}) were answered with an ACK of an older connection${s.connectUsec ? ` and connected a median ${dur(s.connectUsec.p50)} after their first SYN` : ''}${stripped ? '; timestamps are stripped on the path' : noTsAnswer ? '; timestamps are not negotiated' : ''}${f.closes.closer === 'server' ? '; the server closes first and holds TIME_WAIT' : ''}`,
      explanation: `${capitalized(sentences.join('; '))}.`,
      figures: {
        attemptsAffected: s.attempts,
        staleAcks: s.attempts, attempts: f.attempts, linkedToPreviousFin: s.timeWait, closed: f.closes.closed, serverFirst: f.closes.serverFirst,
        clientRsts: s.clientRsts, established: s.established, crossPortRetries: f.crossPortRetries,
        connectP50Usec: s.connectUsec?.p50 ?? null, connectMaxUsec: s.connectUsec?.max ?? null,
      },
      evidence: s.sample.map(ev),
      remedies: [],
    });
  }

  // 2. Half-open connections answered with challenge ACKs.
  if (f.challengeAcks.count > 0) {
    causes.push({
      id: 'half-open-challenge-ack',
      title: 'SYNs hit connections the server still considers open (RFC 5961 challenge ACK)',
      severity: 'error',
      confidence: 'medium',
      score: 0.6,
      summary: `${plural(f.challengeAcks.count, 'SYN')} answered with an ACK of a connection the server still held open`,
      explanation: `${plural(f.challengeAcks.count, 'SYN')} arrived on a 4-tuple whose previous connection never closed in the capture and ${f.challengeAcks.count === 1 ? 'was' : 'were'} answered with an ACK of that connection: the client restarted without closing, or a NAT handed the mapping to another host. The server keeps the old connection until it times out or the client's RST reaches it.`,
      figures: { attemptsAffected: f.challengeAcks.count, challengeAcks: f.challengeAcks.count },
      evidence: f.challengeAcks.sample.map(ev),
      remedies: [],
    });
  }

  // 3. Timestamps stripped, with no stale ACK yet: what happened, and the risk only where the
  // server is seen holding TIME_WAIT (it closes first).
  if (f.stripped.count > 0 && f.stale.attempts === 0) {
    const serverHolds = f.closes.closer === 'server';
    const accepted = f.reuse.acceptedFromTimeWait;
    const here = f.captures > 1 ? 'at any capture point' : 'in this capture';
    const parts = [`timestamps are removed between client and server (${strippedHow(f)}); no SYN was answered with a stale ACK ${here}`];
    if (accepted > 0) parts.push(`${plural(accepted, 'SYN')} reusing a 4-tuple within TIME_WAIT ${accepted === 1 ? 'was' : 'were'} accepted from the server's TIME_WAIT by sequence number (SYN-ACK ISN = the old connection's snd_nxt + 65537)`);
    if (serverHolds) {
      parts.push(`the server closes first (${pct(f.closes.serverFirst, f.closes.closed)} of ${f.closes.closed} closed connections), so it holds TIME_WAIT, and without timestamps it accepts a reused 4-tuple's SYN only when the SYN's sequence is past the old connection's: one that is not would be answered with a stale ACK`);
    }
    parts.push('without timestamps tcp_tw_reuse cannot work and PAWS is off');
    causes.push({
      id: 'timestamps-stripped',
      title: serverHolds ? 'TCP timestamps are removed on the path (latent TIME_WAIT risk)' : 'TCP timestamps are removed on the path',
      severity: 'warning',
      confidence: f.stripped.twoPoint || f.stripped.nopRun ? 'high' : 'medium',
      score: 0.7,
      summary: `${plural(f.stripped.count, 'finding')} of the timestamp option removed on the path; no stale ACK ${here}`,
      explanation: `${capitalized(parts.join('; '))}.`,
      figures: { attemptsAffected: 0, strippedFindings: f.stripped.count, acceptedFromTimeWait: accepted, closed: f.closes.closed, serverFirst: f.closes.serverFirst },
      evidence: f.stripped.sample.map(ev),
      remedies: [],
    });
  }

  // 4. SYNs that got no answer at all, or that never reached the far capture point. Unanswered
  // retransmits a listen-overflow or paws-drop finding explains are that cause's, not counted here.
  // A capture point proves only that no answer passed it: where it sits is not assumed.
  const unanswered = f.unansweredNotExplained;
  if (unanswered.retransmits > 0 || f.lostBetweenPoints > 0) {
    const lost = f.twoPoint.filter((t) => Number(t.evidence.attemptsNotArriving) > 0 || Number(t.evidence.synsLost) > 0);
    const explained = f.synRetransmits.unanswered - unanswered.retransmits;
    const point = f.captures > 1 ? 'the capture point that saw most of its SYNs' : 'the capture point';
    const parts: string[] = [];
    if (unanswered.retransmits > 0) {
      // With SYNs seen lost between two points, that is the drop named (below), not a list of where else it could be.
      parts.push(`${plural(unanswered.retransmits, 'SYN retransmit')} on ${plural(unanswered.attempts, 'connection attempt')} followed a SYN for which no answer (SYN-ACK, ACK or RST) passed ${point}`
        + `${lost.length ? '' : ': the SYN was dropped after that point on its way to the server or on the server host (a firewall or gateway), the server did not answer it (a full listen queue: nstat TcpExtListenOverflows/ListenDrops; PAWS rejecting its timestamp: TcpExtPAWSPassive), or its SYN-ACK was dropped between the server and that point'}`
        + `${f.timestamps.synAcks === 0 ? '; no SYN-ACK at all was captured, so the capture may see one direction only' : ''}`
        + `${explained > 0 ? `; ${plural(explained, 'other unanswered SYN retransmit')} ${explained === 1 ? 'is' : 'are'} explained by ${[f.listenOverflow.length ? 'the full accept queue' : '', f.pawsDrop.length ? 'the per-host timestamp drops' : ''].filter(Boolean).join(' and ')}, a cause of ${explained === 1 ? 'its' : 'their'} own` : ''}`);
    }
    for (const t of lost) parts.push(`${plural(Number(t.evidence.synsLost), 'SYN')} seen at ${t.evidence.near} never reached ${t.evidence.far}: ${Number(t.evidence.synsLost) === 1 ? 'it was' : 'they were'} dropped between the two capture points`);
    causes.push({
      id: 'syn-unanswered',
      title: f.lostBetweenPoints > 0 ? 'SYNs dropped between the capture points' : 'SYNs dropped without an answer',
      severity: 'error',
      confidence: f.lostBetweenPoints > 0 ? 'high' : 'medium',
      score: f.lostBetweenPoints > 0 ? 0.8 : 0.5,
      summary: [unanswered.retransmits ? `${plural(unanswered.retransmits, 'SYN retransmit')} after a SYN that got no answer` : '',
        f.lostBetweenPoints ? `${plural(f.lostBetweenPoints, 'attempt')} never reached the far capture point` : ''].filter(Boolean).join('; '),
      explanation: `${parts.join('. ')}.`,
      figures: {
        // Attempts with an unexplained unanswered retransmit, or never reaching the far point (most
        // of those are the same attempts seen nearer the client: the larger count, not the sum).
        attemptsAffected: Math.max(unanswered.attempts, f.lostBetweenPoints),
        unansweredRetransmits: unanswered.retransmits, explainedUnansweredRetransmits: explained, attemptsLostBetweenPoints: f.lostBetweenPoints, attempts: f.attempts,
      },
      evidence: [...f.synRetransmitSummaries, ...lost].map(ev),
      remedies: [],
    });
  }

  // 4b. SYN-ACKs the client did not take: it sent the SYN again after the server's SYN-ACK had
  // passed this capture point, which a client in SYN_SENT does only while it has none.
  if (f.synAckNotTaken.attempts > 0) {
    const s = f.synAckNotTaken;
    const share = s.attempts / Math.max(1, f.attempts);
    const parts = [`${plural(f.synRetransmits.afterSynAck, 'SYN retransmit')} on ${s.attempts} of ${f.attempts} connection attempts (${pct(s.attempts, f.attempts)}) came after the server's SYN-ACK had passed this capture point: the client had not taken that SYN-ACK when its SYN timer fired, so it was dropped between here and the client's TCP (on the path, or on the client host by a firewall) or arrived after the timer`];
    if (s.connectUsec) {
      parts.push(`those attempts connected (at the SYN-ACK the client took, the first after its last SYN) a median ${dur(s.connectUsec.p50)} after their first SYN, up to ${dur(s.connectUsec.max)}`
        + `${s.othersConnectUsec ? `, against a median ${dur(s.othersConnectUsec.p50)} for the other ${plural(s.othersConnectUsec.n, 'attempt')}` : ''}`);
    }
    if (s.established < s.attempts) parts.push(`${s.attempts - s.established} of them never connected in the capture`);
    causes.push({
      id: 'synack-not-taken',
      title: 'SYN-ACKs did not reach the client in time (it sent its SYN again after the server had answered)',
      severity: share >= RETRANSMIT_ERROR_SHARE ? 'error' : 'warning',
      confidence: 'high',
      score: 0.6,
      summary: `${s.attempts} of ${f.attempts} connection attempts (${pct(s.attempts, f.attempts)}) sent the SYN again after the server's SYN-ACK${s.connectUsec ? ` and connected a median ${dur(s.connectUsec.p50)} after their first SYN` : ''}`,
      explanation: `${parts.join('; ')}.`,
      figures: {
        attemptsAffected: s.attempts, attempts: f.attempts, retransmitsAfterSynAck: f.synRetransmits.afterSynAck, established: s.established,
        connectP50Usec: s.connectUsec?.p50 ?? null, connectMaxUsec: s.connectUsec?.max ?? null,
      },
      evidence: s.sample.map(ev),
      remedies: [],
    });
  }

  // 5. Accept queue overflow and per-host PAWS drops: one finding per capture point that saw
  // them, explained once per endpoint (address) from the point that saw most of it.
  if (f.listenOverflow.length > 0) {
    const servers = listenOverflowByServer(f);
    const affected = servers.reduce((n, x) => n + Math.max(Number(x.evidence.synRetried), Number(x.evidence.dataIgnored) + Number(x.evidence.synAckAfterAck)), 0);
    causes.push({
      id: 'listen-overflow',
      title: 'The server\'s accept queue overflowed',
      severity: 'error',
      confidence: 'high',
      score: 0.85,
      summary: `${plural(servers.length, 'server endpoint')} dropped completed handshakes`,
      explanation: servers.map((x) => `${x.summary}.`).join(' '),
      // At least this many attempts: those retransmitting the SYN, or those whose handshake the full queue dropped.
      figures: { attemptsAffected: affected, servers: servers.length },
      evidence: f.listenOverflow.map(ev),
      remedies: [],
    });
  }
  if (f.pawsDrop.length > 0) {
    const addresses = onePerKey(f.pawsDrop, (x) => String(x.evidence.address), (x) => Number(x.evidence.dropped));
    causes.push({
      id: 'paws-drop',
      title: 'SYNs dropped per host by timestamp (tcp_tw_recycle with clients behind NAT)',
      severity: 'error',
      confidence: 'medium',
      score: 0.8,
      summary: `SYNs from ${plural(addresses.length, 'address', 'addresses')} dropped when their timestamp went backwards`,
      explanation: addresses.map((x) => `${x.summary}.`).join(' '),
      figures: { attemptsAffected: addresses.reduce((n, x) => n + Number(x.evidence.dropped), 0), addresses: addresses.length },
      evidence: f.pawsDrop.map(ev),
      remedies: [],
    });
  }

  // 5b. SYN floods (syn-flood findings): attempts never answered or never completed, per endpoint.
  if (f.synFloods.length > 0) {
    const floods = onePerKey(f.synFloods, (x) => String(x.evidence.server), (x) => Number(x.evidence.unanswered) + Number(x.evidence.answeredNotCompleted));
    const unanswered = floods.reduce((n, x) => n + Number(x.evidence.unanswered), 0);
    const notCompleted = floods.reduce((n, x) => n + Number(x.evidence.answeredNotCompleted), 0);
    causes.push({
      id: 'syn-flood',
      title: 'A flood of SYNs never answered or never completed',
      severity: 'error',
      confidence: 'high',
      score: 0.85,
      summary: `${plural(unanswered + notCompleted, 'SYN')} to ${plural(floods.length, 'server endpoint')} never became a connection`,
      explanation: floods.map((x) => `${x.summary}.`).join(' '),
      figures: { attemptsAffected: unanswered + notCompleted, endpoints: floods.length, unanswered, answeredNotCompleted: notCompleted },
      evidence: f.synFloods.map(ev),
      remedies: [],
    });
  }

  // 6. SYNs answered by RST: nothing listening, or a firewall rejecting.
  if (f.outcomes.refused > 0) {
    causes.push({
      id: 'refused',
      title: 'Connections refused (SYN answered by RST)',
      severity: 'error',
      confidence: 'high',
      score: 0.9,
      summary: `${f.outcomes.refused} of ${f.attempts} connection attempts were refused (SYN answered by RST)`,
      explanation: `${f.outcomes.refused} of ${f.attempts} connection attempts were refused: the server side answered the SYN with RST, which a host sends when nothing listens on the port (or a firewall REJECT rule sends for it): ${f.refusedBy.map((r) => `${r.endpoint} refused ${r.refused} of ${r.attempts}`).join('; ')}.`,
      figures: { attemptsAffected: f.outcomes.refused, refused: f.outcomes.refused, attempts: f.attempts },
      evidence: f.refusedBy.map((r) => {
        const pieces = names.pieces(r.captureId);
        const files = pieces !== null ? listEvidence(pieces, r.frames) : [];
        return {
          findingId: null, text: `${r.endpoint}: ${r.refused} of ${r.attempts} connection attempts answered by RST`, frames: r.frames,
          filter: r.frames.length ? `frame.number in {${r.frames.join(',')}}` : null, capture: names.name(r.captureId),
          ...(files.length > 0 ? { files } : {}),
        };
      }),
      remedies: [],
    });
  }

  // 7. Port pressure without failures yet: ports reused within TIME_WAIT at a rate near what the
  // range sustains, or a forecast that they run out.
  const pressure = f.exhaustion.length > 0 || (f.reuse.reuses > 0 && f.reuse.hotCount > 0);
  if (f.stale.attempts === 0 && pressure) {
    causes.push({
      id: 'port-pressure',
      title: f.exhaustion.length > 0 ? 'Source ports would run out at the rate seen' : 'Ports reused within TIME_WAIT at a rate close to what the range sustains',
      severity: 'warning',
      confidence: 'medium',
      score: 0.5,
      summary: f.exhaustion.length > 0 ? `${plural(f.exhaustion.length, 'client -> server path')} would run out of source ports at the rate seen` : `${plural(f.reuse.reuses, '4-tuple')} reused within TIME_WAIT on ${plural(f.reuse.hotCount, 'path')} running close to what the port range sustains`,
      explanation: [...f.reuse.hot.map((x) => `${x.summary}.`), ...f.exhaustion.map((x) => `${x.summary}.`)].join(' '),
      figures: { attemptsAffected: 0, reuses: f.reuse.reuses, hotPaths: f.reuse.hotCount, exhaustedPaths: f.exhaustion.length },
      evidence: [...f.reuse.hot.slice(0, 5), ...f.exhaustion.slice(0, 5)].map(ev),
      remedies: [],
    });
  }
  return rankCauses(causes);
}

const CONFIDENCE_RANK: Record<RootCause['confidence'], number> = { high: 2, medium: 1, low: 0 };

/**
 * The one order of causes: the more severe first; of equal severity, the one affecting more
 * connection attempts (figures.attemptsAffected, which every cause states), then the more
 * certain, then the higher score.
 */
export function rankCauses(causes: RootCause[]): RootCause[] {
  const affected = (c: RootCause): number => Number(c.figures.attemptsAffected ?? 0);
  return [...causes].sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || affected(b) - affected(a)
    || CONFIDENCE_RANK[b.confidence] - CONFIDENCE_RANK[a.confidence] || b.score - a.score);
}

/**
 * The clients whose source ports come back, each host once: in a run of several capture points an
 * address that a source NAT gave a client seen at another point (two-point findings) is that
 * client after the NAT, not another client; each is named with the capture point it was seen at.
 */
function reusingClients(f: Facts, names: CaptureNames): { named: string; nClients: number } {
  const listed = new Set(f.reuse.clients);
  const at = (id: number): string => names.name(id) ?? `capture ${id}`;
  const items: string[] = [];
  let folded = 0;
  for (const c of f.reuse.clients) {
    const before = f.sourceNat.mappings.filter((m) => m.far === c && m.near !== c);
    const after = f.sourceNat.mappings.filter((m) => m.near === c && m.far !== c);
    if (before.some((m) => listed.has(m.near))) { folded++; continue; }
    if (after.length) items.push(`${c} (at ${at(after[0].nearCaptureId)}; ${after.map((m) => `${m.far} after NAT at ${at(m.farCaptureId)}`).join(', ')})`);
    else if (before.length) items.push(`${c} (the NAT's address at ${at(before[0].farCaptureId)} for ${before.map((m) => `${m.near} at ${at(m.nearCaptureId)}`).join(', ')})`);
    else items.push(c);
  }
  const nClients = f.reuse.clientCount - folded;
  return { named: `${items.join(', ')}${nClients > items.length ? ` and ${nClients - items.length} more` : ''}`, nClients };
}
