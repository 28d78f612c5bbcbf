import { listenOverflowByServer, type AnalysisFacts as Facts } from '../detectors/facts.js';
import type { Place, Remedy, WithheldRemedy } from './model.js';

/**
 * Remedies, each with typed preconditions next to it: the facts that must hold for it to be
 * offered (`requires`, every one), and the facts that rule it out (`ruledOutBy`). A remedy is
 * considered only when its problem is in the capture (`problem`, any one); then it is withheld,
 * with the reason, when a ruling-out fact holds or a required one does not, and offered
 * otherwise. Offered remedies carry the condition ids that held, so a reader (and the claims
 * test) can check each against the store.
 */

/** The facts remedies depend on, by id: each one line of code over AnalysisFacts. */
export const CONDITIONS = {
  'stale-acks': (f: Facts) => f.stale.attempts > 0,
  'failed-reuses': (f: Facts) => f.reuse.failed > 0,
  'reuse-within-time-wait': (f: Facts) => f.reuse.reuses > 0,
  'ports-run-out': (f: Facts) => f.exhaustion.length > 0,
  'rate-near-sustainable': (f: Facts) => f.reuse.hotCount > 0,
  'server-closes-first': (f: Facts) => f.closes.closer === 'server',
  'client-closes-first': (f: Facts) => f.closes.closer === 'client',
  'timestamps-stripped': (f: Facts) => f.stripped.count > 0,
  // The SYN carried timestamps and the SYN-ACK did not: not negotiated, removed on the path or off on the server.
  'synack-without-timestamps': (f: Facts) => f.timestamps.notAnsweredWithTs > 0 && f.timestamps.notAnsweredWithTs >= f.timestamps.synAcks / 2,
  'timestamps-end-to-end': (f: Facts) => f.stripped.count === 0 && f.timestamps.synAcks > 0 && f.timestamps.synAckWithTs === f.timestamps.synAcks,
  // SYNs without the option and without a NOP run where it was: the clients' stacks sent none.
  'clients-without-timestamps': (f: Facts) => f.attempts > 0 && f.timestamps.synWithoutTsOrNops / f.attempts >= 0.5,
  'behind-nat': (f: Facts) => f.natClients.length > 0 || f.sourceNatBetweenPoints || f.crossPortRetries > 0,
  // A source NAT between two capture points translated only the address: every translated connection kept its source port, and no retry left from another port.
  'nat-keeps-ports': (f: Facts) => f.sourceNat.portsKept > 0 && f.sourceNat.portsRewritten === 0 && f.crossPortRetries === 0,
  // A NAT gave connections other source ports: rewritten between two capture points, or a retry that left from another port with the same ISN.
  'nat-rewrites-ports': (f: Facts) => f.sourceNat.portsRewritten > 0 || f.crossPortRetries > 0,
  // Several hosts behind one address, and no second capture point to show what the NAT does with their ports.
  'nat-ports-unseen': (f: Facts) => f.natClients.length > 0 && f.sourceNat.connections === 0,
  'windows-clients': (f: Facts) => f.clientLooksWindows,
  // Unanswered SYN retransmits no listen-overflow or paws-drop finding explains.
  'unanswered-syns': (f: Facts) => f.unansweredNotExplained.retransmits > 0,
  // The client sent its SYN again after the server's SYN-ACK passed the capture point.
  'synacks-not-taken': (f: Facts) => f.synRetransmits.afterSynAck > 0,
  'syns-lost-between-points': (f: Facts) => f.lostBetweenPoints > 0,
  'listen-overflow': (f: Facts) => f.listenOverflow.length > 0,
  'paws-drop': (f: Facts) => f.pawsDrop.length > 0,
  refused: (f: Facts) => f.outcomes.refused > 0,
} as const;

export type ConditionId = keyof typeof CONDITIONS;
const holds = (f: Facts, c: ConditionId): boolean => CONDITIONS[c](f);

interface Rule {
  id: string;
  title: string;
  where: Place;
  setting: (f: Facts) => string;
  cost: string;
  risk: Remedy['risk'];
  /** Any one of these puts the remedy on the table. */
  problem: ConditionId[];
  /** All of these must hold for the remedy to concern this capture at all (else it is not listed). */
  scope?: ConditionId[];
  /** All of these must hold; when one does not, the remedy is withheld with `needs`' sentence. */
  requires?: { when: ConditionId; needs: (f: Facts) => string }[];
  /** Any of these rules it out, with the reason. */
  ruledOutBy?: { when: ConditionId; reason: (f: Facts) => string }[];
  why: (f: Facts) => string;
}

const pct = (n: number, d: number): string => `${Math.round((100 * n) / Math.max(1, d))}%`;
const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
const portTrouble: ConditionId[] = ['stale-acks', 'failed-reuses', 'ports-run-out'];

export const RULES: Rule[] = [
  {
    id: 'keep-timestamps',
    title: 'Keep TCP timestamps end to end',
    where: 'gateway',
    setting: () => 'stop the gateway removing option 8: remove iptables rules such as `-j TCPOPTSTRIP --strip-options timestamp`, or change/bypass the NAT/VPC gateway that strips it; keep net.ipv4.tcp_timestamps=1 on both hosts',
    cost: 'network change',
    risk: 'low',
    problem: ['timestamps-stripped', 'synack-without-timestamps'],
    why: (f) => (holds(f, 'timestamps-stripped')
      ? `timestamps are removed on the path (${f.stripped.count} finding${f.stripped.count === 1 ? '' : 's'}); with them, Linux accepts a reused port's SYN into a TIME_WAIT tuple by its newer timestamp (RFC 6191) instead of answering with a stale ACK`
      : `${f.timestamps.notAnsweredWithTs} SYNs carried timestamps and their SYN-ACKs did not: the option is removed on the path or off on the server (net.ipv4.tcp_timestamps=0); with it end to end, Linux accepts a reused port's SYN into a TIME_WAIT tuple by its newer timestamp (RFC 6191)`),
  },
  {
    id: 'nat-pool',
    title: 'Give the NAT more room and a full TIME_WAIT',
    where: 'gateway',
    setting: (f) => `on the NAT between client and server: a larger port pool or more public addresses (iptables \`SNAT --to-source A-B:PORTLO-PORTHI\`, more addresses on a cloud NAT gateway), a conntrack TIME_WAIT of at least 2*MSL (net.netfilter.nf_conntrack_tcp_timeout_time_wait=${Math.max(120, 2 * f.timeWaitS)}), and TCP timestamps kept through it`,
    cost: 'network change',
    risk: 'low',
    problem: ['stale-acks', 'failed-reuses', 'ports-run-out'],
    scope: ['behind-nat'],
    // A NAT that kept every port passes the clients' own tuples through: its pool plays no part.
    ruledOutBy: [{ when: 'nat-keeps-ports', reason: (f) => `the NAT between the capture points translated only the address (${natAddresses(f)}) and kept the source port on all ${f.sourceNat.portsKept} translated connections, so the clients' own ports, not a NAT pool, decide which 4-tuples come back` }],
    why: (f) => `the reused tuples are the NAT's: ${[f.natClients.length ? `${f.natClients.length} address${f.natClients.length === 1 ? ' is' : 'es are'} several hosts behind NAT` : '', portsRewritten(f)].filter(Boolean).join('; ')}; its pool and its conntrack TIME_WAIT decide how soon a public 4-tuple comes back, not the clients' port range`,
  },
  {
    id: 'pooling',
    title: 'Use connection pooling or long-lived connections',
    where: 'application',
    setting: () => 'a pool in the client (e.g. persistent connections in PHP/PDO, a proxy pool such as ProxySQL, HAProxy http-reuse) instead of one connection per request',
    cost: 'application or infrastructure change',
    risk: 'low',
    problem: portTrouble,
    why: (f) => `every short connection leaves a TIME_WAIT entry; ${f.attempts} connection attempts here${f.reuse.attempts ? `, ${f.reuse.attempts} of them on a 4-tuple reused within its TIME_WAIT (${f.timeWaitS} s)` : ''}`,
  },
  {
    id: 'client-closes-first',
    title: 'Let the client close first',
    where: 'client',
    setting: () => 'close the socket from the client before the server does (e.g. a MySQL client closing the TCP connection instead of sending COM_QUIT and waiting for the server\'s FIN; HTTP/1.1 keep-alive instead of HTTP/1.0 server close)',
    cost: 'client library change',
    risk: 'medium',
    problem: ['stale-acks', 'failed-reuses'],
    requires: [{ when: 'server-closes-first', needs: () => 'who closes first cannot be told from this capture (fewer than 5 closed connections, or an even split)' }],
    ruledOutBy: [{ when: 'client-closes-first', reason: (f) => `the client already closes first on ${pct(f.closes.closed - f.closes.serverFirst, f.closes.closed)} of ${f.closes.closed} closed connections` }],
    why: (f) => `the server sends the first FIN on ${pct(f.closes.serverFirst, f.closes.closed)} of ${f.closes.closed} closed connections, so TIME_WAIT sits on the server, where a reused port's SYN is checked against it; with the client closing first, the client holds TIME_WAIT and its own connect() avoids those ports`,
  },
  {
    id: 'more-source-addresses',
    title: 'Spread connections over more source addresses',
    where: 'proxy',
    setting: () => 'several source IPs: HAProxy `source <ip>` on each `server` line (one server line per source address), or IP_BIND_ADDRESS_NO_PORT (Linux 4.2+) with bind() to several local addresses before connect()',
    cost: 'addresses and configuration',
    risk: 'low',
    problem: ['reuse-within-time-wait', 'ports-run-out'],
    ruledOutBy: [{ when: 'behind-nat', reason: (f) => (holds(f, 'nat-keeps-ports')
      ? `the clients reach the server through a source NAT that gives them its address (${natAddresses(f)}): the server sees the NAT's address, not the clients' own`
      : 'the clients reach the server through a NAT, whose public addresses and pool decide the tuples (nat-pool)') }],
    why: () => 'each source address has its own port range per destination, so N addresses multiply the sustainable rate by N',
  },
  {
    id: 'wider-port-range',
    title: 'Widen the client\'s ephemeral port range',
    where: 'client',
    setting: () => 'sysctl -w net.ipv4.ip_local_port_range="10000 65000" (reserve listening ports with net.ipv4.ip_local_reserved_ports)',
    cost: 'one sysctl',
    risk: 'low',
    problem: ['reuse-within-time-wait', 'ports-run-out'],
    // Only a NAT seen giving other ports (or one whose ports no second capture point shows) rules it
    // out: one that keeps the ports passes the clients' own range through.
    ruledOutBy: [
      { when: 'nat-rewrites-ports', reason: (f) => `a NAT between client and server gives the connections other source ports (${portsRewritten(f)}): its pool, not the clients' range, decides which public ports come back (nat-pool)` },
      { when: 'nat-ports-unseen', reason: (f) => `the clients reach the server through a NAT (${f.natClients.length} address${f.natClients.length === 1 ? ' is' : 'es are'} several hosts behind it) that may give them other ports; a capture on the clients' side of it as well would show whether it keeps theirs (nat-pool)` },
    ],
    why: (f) => (f.reuse.top
      ? `a port comes back sooner the fewer ports there are: ${f.reuse.top.client} used ${f.reuse.top.distinctPorts} source port${f.reuse.top.distinctPorts === 1 ? '' : 's'} to ${f.reuse.top.server}, which sustain ${f.reuse.top.portsInUseSustainPerS.toFixed(2)} new connections/s for a ${f.timeWaitS} s TIME_WAIT`
      : `the ports seen would run out within one ${f.timeWaitS} s TIME_WAIT period at the rate seen`),
  },
  {
    id: 'windows-timed-wait',
    title: 'Shorten TIME_WAIT and widen ports on Windows clients',
    where: 'client',
    setting: () => 'HKLM\\SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters TcpTimedWaitDelay=30 (seconds) and `netsh int ipv4 set dynamicport tcp start=10000 num=55535` (MaxUserPort on old versions)',
    cost: 'registry change and reboot',
    risk: 'medium',
    problem: ['reuse-within-time-wait', 'ports-run-out'],
    scope: ['windows-clients'],
    why: () => 'the clients look like Windows (no timestamps, ports from 49152), whose default TIME_WAIT is 120 s over 16 384 ports (about 136 connections/s per destination)',
  },
  {
    id: 'tw-reuse',
    title: 'Enable tcp_tw_reuse on the connecting side',
    where: 'client',
    setting: () => 'sysctl -w net.ipv4.tcp_tw_reuse=1 (needs net.ipv4.tcp_timestamps=1 on both ends)',
    cost: 'one sysctl',
    risk: 'low',
    problem: ['reuse-within-time-wait', 'ports-run-out', 'stale-acks'],
    ruledOutBy: [
      { when: 'timestamps-stripped', reason: () => 'timestamps are stripped on the path and tcp_tw_reuse needs them: restore timestamps end to end first (keep-timestamps)' },
      { when: 'synack-without-timestamps', reason: () => 'the SYN-ACKs carry no timestamps, and tcp_tw_reuse needs them on both ends' },
      { when: 'server-closes-first', reason: (f) => `the server holds TIME_WAIT (it sends the first FIN on ${pct(f.closes.serverFirst, f.closes.closed)} of ${f.closes.closed} closed connections), and tcp_tw_reuse only affects the connecting side's own TIME_WAIT` },
      { when: 'clients-without-timestamps', reason: () => 'the clients do not send timestamps, which tcp_tw_reuse needs' },
    ],
    requires: [
      { when: 'client-closes-first', needs: () => 'the connecting side is not seen holding TIME_WAIT (it does not usually close first)' },
      { when: 'reuse-within-time-wait', needs: () => 'no 4-tuple was reused within TIME_WAIT' },
      { when: 'timestamps-end-to-end', needs: () => 'timestamps are not seen on every SYN-ACK' },
    ],
    why: () => 'the client holds TIME_WAIT on the tuples it reuses and timestamps survive the path: tcp_tw_reuse lets it reuse its own TIME_WAIT ports for new outgoing connections safely',
  },
  {
    id: 'max-tw-buckets',
    title: 'Cap TIME_WAIT entries on the server (risky)',
    where: 'server',
    setting: () => 'sysctl -w net.ipv4.tcp_max_tw_buckets=<N> (fewer than the TIME_WAIT sockets the server now holds; the kernel logs "time wait bucket table overflow" when it drops them)',
    cost: 'one sysctl',
    risk: 'high',
    problem: ['stale-acks'],
    requires: [{ when: 'server-closes-first', needs: () => 'the server is not seen holding TIME_WAIT' }],
    why: () => 'fewer TIME_WAIT entries on the server leave fewer tuples to reject a reused port\'s SYN; TIME_WAIT protects against old duplicate segments, so on a lossy network this trades one failure for another',
  },
  {
    id: 'check-drops',
    title: 'Find what drops the SYNs',
    where: 'gateway',
    // Where the drop is, a capture point does not tell beyond "after it" (or between two points).
    setting: (f) => `${f.lostBetweenPoints > 0 ? 'on the gateways and firewalls between the two capture points' : 'on the path from the capture point to the server and on the server host'}: drop counters (\`iptables -L -v -n\`, \`nft list ruleset\`, cloud flow logs); on the server: \`nstat -az TcpExtListenOverflows TcpExtListenDrops TcpExtPAWSPassive\` (a growing listen overflow wants a larger listen() backlog and net.core.somaxconn)`,
    cost: 'investigation',
    risk: 'low',
    problem: ['unanswered-syns', 'syns-lost-between-points'],
    why: (f) => [f.unansweredNotExplained.retransmits ? `${plural(f.unansweredNotExplained.retransmits, 'SYN retransmit')} followed a SYN for which no answer passed the capture point` : '',
      f.lostBetweenPoints ? `${plural(f.lostBetweenPoints, 'attempt')} seen nearer the client never reached the other capture point` : ''].filter(Boolean).join('; '),
  },
  {
    id: 'check-synack-drops',
    title: 'Find what drops the SYN-ACKs on the way to the client',
    where: 'gateway',
    setting: () => 'capture on the client host as well (`tcpdump -i any \'tcp[tcpflags] & (tcp-syn|tcp-ack) == (tcp-syn|tcp-ack)\'`): a SYN-ACK seen there and still followed by a SYN retransmit was dropped on the client host (`iptables -L INPUT -v -n`, `nft list ruleset` counters, rp_filter); one never seen there was dropped on the path (drop counters of gateways and firewalls for the server -> client direction, cloud flow logs, security-group rules for return traffic)',
    cost: 'investigation',
    risk: 'low',
    problem: ['synacks-not-taken'],
    why: (f) => `${f.synRetransmits.afterSynAck} SYN retransmits came after the server's SYN-ACK had passed the capture point`,
  },
  {
    id: 'disable-tw-recycle',
    title: 'Turn off tcp_tw_recycle on the server',
    where: 'server',
    setting: () => 'sysctl -w net.ipv4.tcp_tw_recycle=0 (and remove it from /etc/sysctl.conf); kernels from 4.12 no longer have it',
    cost: 'one sysctl',
    risk: 'low',
    problem: ['paws-drop'],
    why: () => 'the server drops SYNs whose timestamp is older than the last one from the same address, which is what tcp_tw_recycle does, and the clients are several hosts behind one NAT address',
  },
  {
    id: 'raise-backlog',
    title: 'Give the listener a longer accept queue, and accept faster',
    where: 'server',
    setting: () => 'a larger listen() backlog in the server (e.g. MySQL back_log, nginx `listen ... backlog=`, HAProxy `backlog`), capped by sysctl net.core.somaxconn (raise it too) and net.ipv4.tcp_max_syn_backlog; and an application that accepts promptly',
    cost: 'configuration',
    risk: 'low',
    problem: ['listen-overflow'],
    // The signs each listen-overflow finding saw, per endpoint (detectors/listenOverflow.ts).
    why: (f) => `${listenOverflowByServer(f).map((x) => {
      const e = x.evidence as { server: string; attempts: number; dataIgnored: number; synAckAfterAck: number; synRetried: number };
      return `${e.server} ${[e.dataIgnored ? `answered the SYN of ${plural(e.dataIgnored, 'connection')}, then ignored the client's ACK and data (the SYN cookie path)` : '',
        e.synAckAfterAck ? `resent its SYN-ACK on ${plural(e.synAckAfterAck, 'connection')} after the client's ACK had arrived` : '',
        e.synRetried ? `left ${e.synRetried} of ${e.attempts} connections retransmitting the SYN` : ''].filter(Boolean).join(', and ')}`;
    }).join('; ')}: its accept queue was full`,
  },
  {
    id: 'check-listener',
    title: 'Check the service is listening where clients connect',
    where: 'server',
    setting: () => 'on the server: `ss -ltnp` shows whether a process listens on the refused port and address; check firewall REJECT rules (`iptables -L -v -n`, `nft list ruleset`) and the clients\' configured port',
    cost: 'investigation',
    risk: 'low',
    problem: ['refused'],
    why: (f) => `${f.outcomes.refused} connection attempt${f.outcomes.refused === 1 ? ' was' : 's were'} answered by RST (${f.refusedBy.map((r) => r.endpoint).join(', ')})`,
  },
  {
    id: 'no-tw-recycle',
    title: 'Do not use tcp_tw_recycle',
    where: 'server',
    setting: () => 'leave net.ipv4.tcp_tw_recycle unset (removed in Linux 4.12)',
    cost: 'none',
    risk: 'low',
    problem: portTrouble,
    // Never offered: it is named only to say why not.
    ruledOutBy: [{ when: 'stale-acks', reason: () => tooOld }, { when: 'failed-reuses', reason: () => tooOld }, { when: 'ports-run-out', reason: () => tooOld }],
    why: () => tooOld,
  },
];
/** The NAT's addresses the clients arrive from, as the two-point findings saw them (the first 3). */
const natAddresses = (f: Facts): string => {
  const far = [...new Set(f.sourceNat.mappings.map((m) => m.far))];
  return `${far.slice(0, 3).join(', ')}${far.length > 3 ? ` and ${far.length - 3} more` : ''}`;
};
/** What shows a NAT giving the connections other source ports, each part only when it was seen. */
const portsRewritten = (f: Facts): string => [
  f.sourceNat.portsRewritten ? `the source port is rewritten between the two capture points on ${f.sourceNat.portsRewritten} of ${f.sourceNat.connections} translated connections` : '',
  // crossPortRetries counts attempts (attempts.rows_at_view > 1), not retries.
  f.crossPortRetries ? `on ${f.crossPortRetries} attempt${f.crossPortRetries === 1 ? '' : 's'} a retry left from another public port with the same ISN` : '',
].filter(Boolean).join('; ');
const tooOld = 'it dropped SYNs whose timestamp went backwards per source address, which breaks every client behind NAT, and it no longer exists since Linux 4.12';

/**
 * Which remedies address which cause, best first. The report ranks remedies by the causes they
 * address, in the causes' order: the top cause's first remedy comes first.
 */
export const REMEDIES_BY_CAUSE: Record<string, string[]> = {
  'time-wait-stale-ack': ['keep-timestamps', 'nat-pool', 'pooling', 'client-closes-first', 'more-source-addresses', 'wider-port-range', 'windows-timed-wait', 'tw-reuse', 'max-tw-buckets'],
  'timestamps-stripped': ['keep-timestamps'],
  'syn-unanswered': ['check-drops'],
  'synack-not-taken': ['check-synack-drops'],
  refused: ['check-listener'],
  'listen-overflow': ['raise-backlog'],
  'paws-drop': ['disable-tw-recycle'],
  'port-pressure': ['nat-pool', 'pooling', 'more-source-addresses', 'wider-port-range', 'windows-timed-wait', 'tw-reuse'],
  'half-open-challenge-ack': [],
};

/**
 * The remedies offered (ranked by the causes given, in order) and withheld, with the
 * conditions behind each.
 */
export function chooseRemedies(f: Facts, causeIds: string[] = []): { offered: Remedy[]; withheld: WithheldRemedy[] } {
  const offered: Remedy[] = [];
  const withheld: WithheldRemedy[] = [];
  for (const r of RULES) {
    const problems = r.problem.filter((c) => holds(f, c));
    if (problems.length === 0 || !(r.scope ?? []).every((c) => holds(f, c))) continue;
    const out = (r.ruledOutBy ?? []).filter((x) => holds(f, x.when));
    const unmet = (r.requires ?? []).filter((x) => !holds(f, x.when));
    if (out.length > 0 || unmet.length > 0) {
      // What rules it out is the reason; what it would also need is said only when nothing rules it out.
      const reasons = [...new Set(out.length ? out.map((x) => x.reason(f)) : unmet.map((x) => x.needs(f)))];
      withheld.push({ id: r.id, title: r.title, reason: reasons.join('; '), because: [...out.map((x) => x.when), ...unmet.map((x) => `not ${x.when}`)] });
      continue;
    }
    offered.push({ id: r.id, title: r.title, where: r.where, setting: r.setting(f), cost: r.cost, risk: r.risk, why: r.why(f),
      preconditions: [...problems, ...(r.scope ?? []), ...(r.requires ?? []).map((x) => x.when)] });
  }
  const order = [...causeIds.flatMap((c) => REMEDIES_BY_CAUSE[c] ?? []), ...RULES.map((r) => r.id)];
  const rank = (id: string): number => order.indexOf(id);
  offered.sort((a, b) => rank(a.id) - rank(b.id));
  return { offered, withheld };
}
