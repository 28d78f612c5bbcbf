import { fastRows } from './batch.js';
import { ep, firstN } from './format.js';
import { percentile } from './stats.js';
import { frameRef, type Detector, type DetectorContext, type Finding } from './types.js';

/**
 * two-point: the same connections seen at two capture points (both ends, or both sides of a
 * gateway), matched by the client's ISN and the server port (a NAT rewrites addresses and
 * ports but not sequence numbers), and what the path between them did:
 *  - address/port rewriting (NAT), ISN rewriting (matches found by tuple and time only);
 *  - SYN options removed or changed: timestamps (reported by ts-stripped), MSS clamping,
 *    window scale, SACK-permitted;
 *  - SYNs and SYN-ACKs lost between the points (handshake packets only: data packet counts
 *    differ between points whenever segmentation offload re-cuts segments);
 *  - one-way delay, from the SYN (client to server) and the SYN-ACK (server to client); when
 *    the two clocks disagree the two directions are averaged and the offset reported.
 * Which capture is nearer the client: the one where the SYN to SYN-ACK round trip is longer.
 */

type Row = Record<string, any>;

const COLUMNS = `id, capture_id, client_addr, client_port, server_addr, server_port, client_isn, server_isn, syn_count, synack_count,
  syn_ts_usec, synack_ts_usec, rtt_syn_usec, syn_mss, syn_wscale, syn_sack_perm, syn_ts, synack_mss, synack_wscale, synack_sack_perm,
  synack_ts, syn_frame, attempt_id`;

interface Pair { near: Row; far: Row }

/** The handshake options compared between the points (connections columns). */
const OPTION_KEYS = ['syn_mss', 'syn_wscale', 'syn_sack_perm', 'syn_ts', 'synack_mss', 'synack_wscale', 'synack_sack_perm', 'synack_ts'];
/** The columns of one SYN-ACK (and the round trip to it), taken together from the row that saw it. */
const SYNACK_KEYS = ['synack_ts_usec', 'rtt_syn_usec', 'synack_mss', 'synack_wscale', 'synack_sack_perm', 'synack_ts'];
/** At most this many distinct address mappings or option changes are named; the rest are counted. */
const NAMED = 3;

export const twoPoint: Detector = {
  id: 'two-point',
  title: 'What the path between two capture points did',
  run(ctx: DetectorContext): Finding[] {
    const { db } = ctx;
    const caps = db.prepare('SELECT id FROM captures ORDER BY id').pluck().all() as number[];
    if (caps.length < 2) return [];
    const findings: Finding[] = [];
    const byCap = new Map<number, Row[]>();
    for (const r of fastRows<Row>(db.prepare(`SELECT ${COLUMNS} FROM connections WHERE syn_count > 0 ORDER BY capture_id, syn_ts_usec`))) {
      const l = byCap.get(r.capture_id);
      if (l) l.push(r); else byCap.set(r.capture_id, [r]);
    }
    for (let i = 0; i < caps.length; i++) {
      for (let j = i + 1; j < caps.length; j++) {
        const a = byCap.get(caps[i]) ?? [];
        const b = byCap.get(caps[j]) ?? [];
        const f = comparePoints(ctx, caps[i], caps[j], a, b);
        if (f) findings.push(f);
      }
    }
    return findings;
  },
};

function comparePoints(ctx: DetectorContext, capA: number, capB: number, a: Row[], b: Row[]): Finding | null {
  // The same attempts at both points, as flows/attempts.ts matched them (client ISN and server
  // port, or 4-tuple in order where a box rewrote ISNs). An attempt whose retry a NAT moved to
  // another port has several rows at a point: its first row stands for it, and its SYNs are summed.
  const how = ctx.db.prepare('SELECT matched_by FROM capture_pairs WHERE a_capture_id = ? AND b_capture_id = ?').pluck().get(capA, capB) as string | undefined;
  if (how === undefined) return null;
  const isnRewritten = how === 'tuple';
  // The SYN-ACK columns come from the first of the attempt's rows that had a SYN-ACK: the first
  // row is often the port that drew a stale ACK, whose SYN-ACK columns are NULL (no SYN-ACK seen).
  const firstRow = (rows: Row[]): Map<number, Row> => {
    const m = new Map<number, Row>();
    for (const r of rows) {
      const x = m.get(r.attempt_id);
      if (!x) { m.set(r.attempt_id, { ...r, ports: [r.client_port] }); continue; }
      if (!x.ports.includes(r.client_port)) x.ports.push(r.client_port);
      if (x.synack_count === 0 && r.synack_count > 0) for (const k of SYNACK_KEYS) x[k] = r[k];
      x.syn_count += r.syn_count;
      x.synack_count += r.synack_count;
    }
    return m;
  };
  const aBy = firstRow(a);
  const bBy = firstRow(b);
  a = [...aBy.values()];
  b = [...bBy.values()];
  const pairs: [Row, Row][] = [];
  for (const [id, r] of aBy) { const m = bBy.get(id); if (m) pairs.push([r, m]); }
  if (pairs.length === 0) return null;

  // The capture nearer the client sees the longer SYN -> SYN-ACK round trip.
  const rttA = percentile(pairs.map(([x]) => x.rtt_syn_usec).filter((x) => x !== null), 50);
  const rttB = percentile(pairs.map(([, y]) => y.rtt_syn_usec).filter((x) => x !== null), 50);
  const aNear = !(rttB > rttA);
  const ps: Pair[] = pairs.map(([x, y]) => (aNear ? { near: x, far: y } : { near: y, far: x }));
  const nearCap = aNear ? capA : capB;
  const farCap = aNear ? capB : capA;
  const nearName = ctx.captureName(nearCap);
  const farName = ctx.captureName(farCap);

  const changes: string[] = [];
  const ev: Record<string, unknown> = { near: nearName, far: farName, matched: pairs.length, matchedBy: isnRewritten ? 'tuple' : 'client ISN and server port' };
  // Example SYNs, as frame numbers of each capture: the finding's frames are the far capture's
  // (its captureId), the near capture's are named in the text.
  const nearFrames: number[] = [];
  const farFrames: number[] = [];
  const note = (p: Pair): void => { if (farFrames.length < 4 && !farFrames.includes(p.far.syn_frame)) { nearFrames.push(p.near.syn_frame); farFrames.push(p.far.syn_frame); } };

  // Source NAT: what is proven per connection is the address each one left from and arrived
  // from, and whether its source port (every port its SYNs used at each point) stayed the same.
  const nat = ps.filter((p) => p.near.client_addr !== p.far.client_addr || !samePorts(p.near.ports, p.far.ports));
  if (nat.length) {
    const kept = nat.filter((p) => samePorts(p.near.ports, p.far.ports)).length;
    const mappings = counted(nat, (p) => [p.near.client_addr, p.far.client_addr]);
    const ports = [kept ? `source port kept on ${kept}` : '', nat.length - kept ? `source port rewritten on ${nat.length - kept}` : ''].filter(Boolean).join(', ');
    changes.push(`source NAT on ${nat.length} of ${ps.length} connections: ${named(mappings, ([n, f]) => (n === f ? `${n} (address kept)` : `${n} -> ${f}`), mappings.length > 1)}, ${ports}`);
    ev.sourceNat = {
      connections: nat.length, portsKept: kept, portsRewritten: nat.length - kept,
      mappings: mappings.map((m) => ({ near: m.key[0], far: m.key[1], connections: m.n })),
      farSources: [...new Set(nat.map((p) => p.far.client_addr))],
    };
    note(nat[0]);
  }
  const dnat = ps.filter((p) => p.near.server_addr !== p.far.server_addr);
  if (dnat.length) {
    const mappings = counted(dnat, (p) => [ep(p.near.server_addr, p.near.server_port), ep(p.far.server_addr, p.far.server_port)]);
    changes.push(`destination NAT on ${dnat.length} of ${ps.length} connections: ${named(mappings, ([n, f]) => `${n} -> ${f}`, mappings.length > 1)}`);
    ev.destinationNat = dnat.length;
  }
  if (isnRewritten) changes.push('the client ISN differs between the points on every connection: a box on the path randomises sequence numbers');
  ev.isnRewritten = isnRewritten;

  // Options: compared only where both points saw the packet (every matched row has its SYN; the
  // SYN-ACK only where both points saw one), and a change is a different printed value (-1 and
  // NULL are both "absent"), counted per distinct change.
  const both = ps.filter((p) => p.near.synack_count > 0 && p.far.synack_count > 0);
  const diff = (label: string, key: string, fmt: (v: any) => string, from: Pair[], synAck: boolean): void => {
    const d = from.filter((p) => fmt(p.near[key]) !== fmt(p.far[key]));
    if (!d.length) return;
    // A SYN-ACK travels from the far point to the near one: its value as sent first.
    const kinds = counted(d, (p) => (synAck ? [fmt(p.far[key]), fmt(p.near[key])] : [fmt(p.near[key]), fmt(p.far[key])]));
    const [first, second] = synAck ? [farName, nearName] : [nearName, farName];
    changes.push(`${label} changed on ${d.length} of ${from.length}: ${kinds.length === 1
      ? `${kinds[0].key[0]}${synAck ? ' sent' : ''} at ${first}, ${kinds[0].key[1]} at ${second}`
      : `${first} -> ${second} ${named(kinds, ([x, y]) => `${x} -> ${y}`, true)}`}`);
    ev[key] = {
      changed: d.length, compared: from.length, near: d[0].near[key], far: d[0].far[key],
      changes: kinds.map((k) => (synAck ? { far: k.key[0], near: k.key[1], connections: k.n } : { near: k.key[0], far: k.key[1], connections: k.n })),
    };
    note(d[0]);
  };
  const opt = (v: any): string => (v === null || v === -1 ? 'absent' : String(v));
  const flag = (v: any): string => (v === 1 ? 'present' : 'absent');
  diff('SYN MSS', 'syn_mss', opt, ps, false);
  diff('SYN window scale', 'syn_wscale', opt, ps, false);
  diff('SYN SACK-permitted', 'syn_sack_perm', flag, ps, false);
  diff('SYN timestamps', 'syn_ts', flag, ps, false);
  diff('SYN-ACK MSS', 'synack_mss', opt, both, true);
  diff('SYN-ACK window scale', 'synack_wscale', opt, both, true);
  diff('SYN-ACK SACK-permitted', 'synack_sack_perm', flag, both, true);
  diff('SYN-ACK timestamps', 'synack_ts', flag, both, true);

  // Handshake packets lost between the points.
  const synLost = ps.reduce((s, p) => s + Math.max(0, p.near.syn_count - p.far.syn_count), 0);
  const synAckLost = ps.reduce((s, p) => s + Math.max(0, p.far.synack_count - p.near.synack_count), 0);
  const matchedNear = new Set(ps.map((p) => p.near.id));
  const unmatched = (aNear ? a : b).filter((r) => !matchedNear.has(r.id));
  const nearOnly = unmatched.length;
  const synsOfUnmatched = unmatched.reduce((s, r) => s + r.syn_count, 0);
  if (synLost || synAckLost || nearOnly > 0) {
    changes.push(`lost between the points: ${synLost + synsOfUnmatched} SYNs${nearOnly > 0 ? ` (${synsOfUnmatched} of them from ${nearOnly} connection attempts that never reached ${farName})` : ''} and ${synAckLost} SYN-ACKs`);
  }
  ev.synsLost = synLost + synsOfUnmatched;
  ev.synAcksLost = synAckLost;
  ev.attemptsNotArriving = Math.max(0, nearOnly);

  // One-way delay from the first SYN and the first SYN-ACK.
  const fwd = ps.filter((p) => p.near.syn_count === 1 && p.far.syn_count === 1).map((p) => p.far.syn_ts_usec - p.near.syn_ts_usec);
  const back = both.filter((p) => p.near.synack_count === 1 && p.far.synack_count === 1).map((p) => p.near.synack_ts_usec - p.far.synack_ts_usec);
  if (fwd.length && back.length) {
    const f50 = percentile(fwd, 50);
    const b50 = percentile(back, 50);
    if (f50 >= 0 && b50 >= 0) {
      changes.push(`one-way delay ${nearName} -> ${farName} p50 ${(f50 / 1000).toFixed(3)} ms, back p50 ${(b50 / 1000).toFixed(3)} ms`);
      ev.oneWayUsec = { forwardP50: f50, backP50: b50 };
    } else {
      const offset = (f50 - b50) / 2;
      const oneWay = (f50 + b50) / 2;
      changes.push(`the two clocks differ by about ${(offset / 1000).toFixed(3)} ms; one-way delay about ${(oneWay / 1000).toFixed(3)} ms each way`);
      ev.oneWayUsec = { estimatedP50: oneWay, clockOffsetUsec: offset };
    }
  }

  const optionsChanged = OPTION_KEYS.filter((k) => ev[k] !== undefined);
  const lostBetween = synLost + synsOfUnmatched + synAckLost > 0;
  ev.optionsChanged = optionsChanged;
  const altered = nat.length > 0 || dnat.length > 0 || isnRewritten || optionsChanged.length > 0 || lostBetween;
  return {
    id: `two-point/${nearCap}+${farCap}`,
    detector: 'two-point',
    severity: lostBetween || optionsChanged.includes('syn_ts') || optionsChanged.includes('synack_ts') ? 'warning' : 'info',
    captureId: farCap,
    connId: null,
    tsUsec: null,
    summary: `${nearName} (nearer the client) and ${farName}: ${pairs.length} connections matched by ${ev.matchedBy}; ${altered ? changes.join('; ') : `nothing changed on the path${changes.length ? `; ${changes.join('; ')}` : ''}`}`
      + `${farFrames.length ? ` (example SYNs: frame${nearFrames.length === 1 ? '' : 's'} ${nearFrames.map((n) => frameRef(ctx, nearCap, n)).join(', ')} in ${nearName}, ${farFrames.map((n) => frameRef(ctx, farCap, n)).join(', ')} in ${farName})` : ''}`,
    evidence: { frames: firstN(farFrames, 8), nearCaptureId: nearCap, farCaptureId: farCap, nearFrames: firstN(nearFrames, 8), ...ev },
  };
}

/** The same set of source ports (a retry moved by a NAT adds one). */
function samePorts(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/** Distinct keys with how many items have each, most frequent first (then first seen). */
function counted<T>(items: T[], key: (x: T) => string[]): { key: string[]; n: number }[] {
  const m = new Map<string, { key: string[]; n: number }>();
  for (const x of items) {
    const k = key(x);
    const id = JSON.stringify(k);
    const e = m.get(id);
    if (e) e.n++; else m.set(id, { key: k, n: 1 });
  }
  return [...m.values()].sort((x, y) => y.n - x.n);
}

/** The first NAMED distinct keys as text (each with its count when there are several), and how many more. */
function named(ks: { key: string[]; n: number }[], text: (k: string[]) => string, withCounts: boolean): string {
  const shown = ks.slice(0, NAMED).map((k) => `${text(k.key)}${withCounts ? ` (${k.n})` : ''}`);
  return `${shown.join(' and ')}${ks.length > NAMED ? ` and ${ks.length - NAMED} more` : ''}`;
}
