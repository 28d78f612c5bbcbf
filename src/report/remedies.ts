import type { Facts } from './facts.js';
import type { Place, Remedy, WithheldRemedy } from './model.js';

/**
 * Remedies for TIME_WAIT trouble, each with the evidence that calls for it and the
 * evidence that rules it out. A rule whose problem is absent is not listed at all;
 * a rule whose problem is present but which the evidence rules out (or which needs
 * something else first) is listed as withheld, with the reason.
 */
interface Rule {
  id: string;
  title: string;
  where: Place;
  setting: string;
  cost: string;
  risk: Remedy['risk'];
  /** Why it fits, or null when the problem it solves is not in the capture. */
  applies(f: Facts): string | null;
  /** Why it must not be offered (or not yet), or null. */
  withhold?(f: Facts): string | null;
}

const pct = (x: number | null): string => (x === null ? '?' : `${Math.round(x * 100)}%`);
// Fewer closed connections than 5 say nothing about who usually closes first.
const serverCloses = (f: Facts): boolean => (f.serverClosesFirst ?? 0) > 0.5 && f.closedConnections >= 5;
const stripped = (f: Facts): boolean => f.tsStripped > 0;
const timeWaitTrouble = (f: Facts): boolean => f.staleAcks > 0 || f.failedReuses > 0;
const portPressure = (f: Facts): boolean => (f.sustainablePerS > 0 && f.maxRatePerS > 0.5 * f.sustainablePerS) || f.exhaustion.length > 0;

export const RULES: Rule[] = [
  {
    id: 'pooling',
    title: 'Use connection pooling or long-lived connections',
    where: 'application',
    setting: 'a pool in the client (e.g. persistent connections in PHP/PDO, a proxy pool such as ProxySQL, HAProxy http-reuse) instead of one connection per request',
    cost: 'application or infrastructure change',
    risk: 'low',
    applies: (f) => (timeWaitTrouble(f) || portPressure(f)
      ? `every short connection leaves a TIME_WAIT entry; ${f.attempts} new connections${f.maxRatePerS ? ` at up to ${f.maxRatePerS.toFixed(0)}/s` : ''} reuse 4-tuples within ${f.timeWaitS} s`
      : null),
  },
  {
    id: 'client-closes-first',
    title: 'Let the client close first',
    where: 'client',
    setting: 'close the socket from the client before the server does (e.g. a MySQL client closing the TCP connection instead of sending COM_QUIT and waiting for the server\'s FIN; HTTP/1.1 keep-alive instead of HTTP/1.0 server close)',
    cost: 'client library change',
    risk: 'medium',
    applies: (f) => (timeWaitTrouble(f) && serverCloses(f)
      ? `the server sends the first FIN on ${pct(f.serverClosesFirst)} of closed connections, so TIME_WAIT sits on the server, where a reused port's SYN is checked against it; with the client closing first, the client holds TIME_WAIT and its own connect() avoids those ports`
      : null),
    withhold: (f) => (timeWaitTrouble(f) && !serverCloses(f) && f.serverClosesFirst !== null ? `the client already closes first on ${pct(1 - (f.serverClosesFirst ?? 0))} of connections` : null),
  },
  {
    id: 'keep-timestamps',
    title: 'Keep TCP timestamps end to end',
    where: 'gateway',
    setting: 'stop the gateway removing option 8: remove iptables rules such as `-j TCPOPTSTRIP --strip-options timestamp`, or change/bypass the NAT/VPC gateway that strips it; keep net.ipv4.tcp_timestamps=1 on both hosts',
    cost: 'network change',
    risk: 'low',
    applies: (f) => (stripped(f)
      ? `timestamps are removed on the path (${f.tsStripped} finding${f.tsStripped > 1 ? 's' : ''}); with them, Linux accepts a reused port's SYN into a TIME_WAIT tuple by its newer timestamp (RFC 6191) instead of answering with a stale ACK`
      : null),
  },
  {
    id: 'wider-port-range',
    title: 'Widen the client\'s ephemeral port range',
    where: 'client',
    setting: 'sysctl -w net.ipv4.ip_local_port_range="10000 65000" (reserve listening ports with net.ipv4.ip_local_reserved_ports)',
    cost: 'one sysctl',
    risk: 'low',
    applies: (f) => (timeWaitTrouble(f) || portPressure(f)
      ? `a port comes back sooner the fewer ports there are: ${f.maxRatePerS.toFixed(0)} new connections/s against ${f.sustainablePerS.toFixed(0)}/s that the range sustains for a ${f.timeWaitS} s TIME_WAIT`
      : null),
  },
  {
    id: 'more-source-addresses',
    title: 'Spread connections over more source addresses',
    where: 'proxy',
    setting: 'several source IPs: HAProxy `source <ip>` on each `server` line (one server line per source address), or IP_BIND_ADDRESS_NO_PORT (Linux 4.2+) with bind() to several local addresses before connect()',
    cost: 'addresses and configuration',
    risk: 'low',
    applies: (f) => (portPressure(f) || f.failedReuses > 0
      ? 'each source address has its own port range per destination, so N addresses multiply the sustainable rate by N'
      : null),
  },
  {
    id: 'tw-reuse',
    title: 'Enable tcp_tw_reuse on the connecting side',
    where: 'client',
    setting: 'sysctl -w net.ipv4.tcp_tw_reuse=1 (needs net.ipv4.tcp_timestamps=1 on both ends)',
    cost: 'one sysctl',
    risk: 'low',
    applies: (f) => (timeWaitTrouble(f) || portPressure(f) ? 'lets the client reuse its own TIME_WAIT ports for new outgoing connections' : null),
    withhold: (f) => {
      if (!timeWaitTrouble(f) && !portPressure(f)) return null;
      if (stripped(f)) return 'timestamps are stripped on the path and tcp_tw_reuse needs them: restore timestamps end to end first (keep-timestamps)';
      if (serverCloses(f)) return `the server holds TIME_WAIT (it closes ${pct(f.serverClosesFirst)} of connections first), and tcp_tw_reuse only affects the connecting side's own TIME_WAIT`;
      if (f.synWithTsShare !== null && f.synWithTsShare < 0.5) return 'the clients do not send timestamps, which tcp_tw_reuse needs';
      return null;
    },
  },
  {
    id: 'max-tw-buckets',
    title: 'Cap TIME_WAIT entries on the server (risky)',
    where: 'server',
    setting: 'sysctl -w net.ipv4.tcp_max_tw_buckets=<N> (fewer than the TIME_WAIT sockets the server now holds; the kernel logs "time wait bucket table overflow" when it drops them)',
    cost: 'one sysctl',
    risk: 'high',
    applies: (f) => (f.staleAcks > 0 && serverCloses(f)
      ? 'fewer TIME_WAIT entries on the server leave fewer tuples to reject a reused port\'s SYN; TIME_WAIT protects against old duplicate segments, so on a lossy network this trades one failure for another'
      : null),
  },
  {
    id: 'windows-timed-wait',
    title: 'Shorten TIME_WAIT and widen ports on Windows clients',
    where: 'client',
    setting: 'HKLM\\SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters TcpTimedWaitDelay=30 (seconds) and `netsh int ipv4 set dynamicport tcp start=10000 num=55535` (MaxUserPort on old versions)',
    cost: 'registry change and reboot',
    risk: 'medium',
    applies: (f) => (f.clientLooksWindows && (timeWaitTrouble(f) || portPressure(f))
      ? 'the clients look like Windows (no timestamps, ports from 49152), whose default TIME_WAIT is 120 s over 16 384 ports (about 136 connections/s per destination)'
      : null),
  },
  {
    id: 'check-drops',
    title: 'Find what drops the SYNs',
    where: 'gateway',
    setting: 'on gateways and firewalls between client and server: drop counters (`iptables -L -v -n`, `nft list ruleset`, cloud flow logs); on the server: `nstat -az TcpExtListenOverflows TcpExtListenDrops TcpExtPAWSPassive` (a growing listen overflow wants a larger listen() backlog and net.core.somaxconn)',
    cost: 'investigation',
    risk: 'low',
    applies: (f) => (f.unansweredRetransmits > 0 ? `${f.unansweredRetransmits} SYN retransmits followed a SYN that got no answer at the capture point` : null),
  },
  {
    id: 'disable-tw-recycle',
    title: 'Turn off tcp_tw_recycle on the server',
    where: 'server',
    setting: 'sysctl -w net.ipv4.tcp_tw_recycle=0 (and remove it from /etc/sysctl.conf); kernels from 4.12 no longer have it',
    cost: 'one sysctl',
    risk: 'low',
    applies: (f) => (f.pawsDrop.length > 0 ? 'the server drops SYNs whose timestamp is older than the last one from the same address, which is what tcp_tw_recycle does, and the clients are several hosts behind one NAT address' : null),
  },
  {
    id: 'raise-backlog',
    title: 'Give the listener a longer accept queue, and accept faster',
    where: 'server',
    setting: 'a larger listen() backlog in the server (e.g. MySQL back_log, nginx `listen ... backlog=`, HAProxy `backlog`), capped by sysctl net.core.somaxconn (raise it too) and net.ipv4.tcp_max_syn_backlog; and an application that accepts promptly',
    cost: 'configuration',
    risk: 'low',
    applies: (f) => (f.listenOverflow.length > 0 ? 'the server dropped handshake-completing ACKs and resent SYN-ACKs: its accept queue was full' : null),
  },
  {
    id: 'check-listener',
    title: 'Check the service is listening where clients connect',
    where: 'server',
    setting: 'on the server: `ss -ltnp` shows whether a process listens on the refused port and address; check firewall REJECT rules (`iptables -L -v -n`, `nft list ruleset`) and the clients\' configured port',
    cost: 'investigation',
    risk: 'low',
    applies: (f) => (f.refused > 0 ? `${f.refused} SYNs were answered by RST (${f.refusedBy.map((r) => r.endpoint).join(', ')})` : null),
  },
  {
    id: 'no-tw-recycle',
    title: 'Do not use tcp_tw_recycle',
    where: 'server',
    setting: 'leave net.ipv4.tcp_tw_recycle unset (removed in Linux 4.12)',
    cost: 'none',
    risk: 'low',
    applies: () => null,
    withhold: (f) => ((timeWaitTrouble(f) || portPressure(f)) && f.pawsDrop.length === 0
      ? 'it dropped SYNs whose timestamp went backwards per source address, which breaks every client behind NAT, and it no longer exists since Linux 4.12'
      : null),
  },
];

/** The remedies offered and withheld, in rule order (ranked by how directly they remove the cause). */
export function chooseRemedies(f: Facts): { offered: Remedy[]; withheld: WithheldRemedy[] } {
  const offered: Remedy[] = [];
  const withheld: WithheldRemedy[] = [];
  for (const r of RULES) {
    const no = r.withhold?.(f) ?? null;
    if (no !== null) { withheld.push({ id: r.id, title: r.title, reason: no }); continue; }
    const why = r.applies(f);
    if (why === null) continue;
    offered.push({ id: r.id, title: r.title, where: r.where, setting: r.setting, cost: r.cost, risk: r.risk, why });
  }
  // Removing the cause beats widening the margin: timestamps first when they are what broke.
  offered.sort((a, b) => rank(a.id, f) - rank(b.id, f));
  return { offered, withheld };
}

function rank(id: string, f: Facts): number {
  const order = stripped(f)
    ? ['keep-timestamps', 'pooling', 'client-closes-first', 'more-source-addresses', 'wider-port-range', 'windows-timed-wait', 'tw-reuse', 'max-tw-buckets', 'check-drops', 'check-listener', 'raise-backlog', 'disable-tw-recycle']
    : ['disable-tw-recycle', 'raise-backlog', 'pooling', 'client-closes-first', 'more-source-addresses', 'wider-port-range', 'windows-timed-wait', 'tw-reuse', 'keep-timestamps', 'max-tw-buckets', 'check-drops', 'check-listener'];
  const i = order.indexOf(id);
  return i < 0 ? 99 : i;
}
