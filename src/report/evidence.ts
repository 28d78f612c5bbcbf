import type { Finding } from '../detectors/index.js';
import { framesByFile, locateIn, type Piece } from '../detectors/pieces.js';
import type { DecodeAs, EvidenceItem, FileEvidence, FilterScope } from './model.js';

/**
 * The UDP port Wireshark dissects as VXLAN by itself (`tshark -G decodes`: udp.port 4789 vxlan).
 * On any other port (Linux's default 8472) it shows UDP, and a filter on the inner IP and TCP
 * headers selects none of those frames until VXLAN is decoded there (`-d udp.port==8472,vxlan`).
 */
const WIRESHARK_VXLAN_PORT = 4789;

/** Capture names for evidence lines: a name alone, or the name and id where two captures share it. */
export interface CaptureNames {
  name(id: number | null): string | null;
  /** The files of a capture point read from several (a rotated set, --point), in order; null for one file. */
  pieces(id: number | null): Piece[] | null;
  /** A frame as a sentence prints it: "812" for a point of one file, "812 of web-01.pcap" (that file's own number) for several. */
  frameRef(id: number | null, frame: number): string;
  /** The UDP port a connection's VXLAN came on (connections.tunnel_vxlan_port), null without VXLAN. */
  vxlanPort(connId: number): number | null;
}

export function captureNames(captures: { id: number; name: string; path: string; pieces?: Piece[] }[],
  vxlanPort: (connId: number) => number | null = () => null): CaptureNames {
  const count = new Map<string, number>();
  for (const c of captures) count.set(c.name, (count.get(c.name) ?? 0) + 1);
  const label = new Map(captures.map((c) => [c.id, (count.get(c.name) ?? 0) > 1 ? `${c.path} (capture ${c.id})` : c.name]));
  const pieces = new Map(captures.filter((c) => (c.pieces?.length ?? 0) > 1).map((c) => [c.id, c.pieces!]));
  const piecesOf = (id: number | null): Piece[] | null => (id === null ? null : pieces.get(id) ?? null);
  return {
    name: (id) => (id === null ? null : label.get(id) ?? null),
    pieces: piecesOf,
    frameRef: (id, frame) => {
      const p = piecesOf(id);
      const at = p === null ? null : locateIn(p, frame);
      return at === null ? String(frame) : `${at.frame} of ${at.file}`;
    },
    vxlanPort,
  };
}

/**
 * The first `n` frames for a sentence, in order: "54, 80, 109, ..." for points of one file; for a
 * point of several files each run of frames in one file is followed by its name ("54, 80 of
 * x.pcap, 3 of x.pcap1, ..."), in that file's own numbers.
 */
export function frameList(names: CaptureNames, captureIds: (number | null)[], frames: number[], n = 5): string {
  const runs: { file: string | null; frames: number[] }[] = [];
  frames.slice(0, n).forEach((f, i) => {
    const p = names.pieces(captureIds[i] ?? null);
    const at = p === null ? null : locateIn(p, f);
    const file = at?.file ?? null;
    const last = runs[runs.length - 1];
    if (last && last.file === file) last.frames.push(at?.frame ?? f);
    else runs.push({ file, frames: [at?.frame ?? f] });
  });
  return runs.map((r) => `${r.frames.join(', ')}${r.file !== null ? ` of ${r.file}` : ''}`).join(', ') + (frames.length > n ? ', ...' : '');
}

type Tuple = { client: string; clientPort: number; server: string; serverPort: number };

/** The part of a filter that selects a connection's 4-tuple (both directions). */
function tupleFilter(t: Tuple): string {
  const ip = t.client.includes(':') ? 'ipv6.addr' : 'ip.addr';
  const ports = t.clientPort === t.serverPort ? `tcp.port == ${t.clientPort}` : `tcp.port == ${t.clientPort} && tcp.port == ${t.serverPort}`;
  return `${ip} == ${t.client} && ${ip} == ${t.server} && ${ports}`;
}

/**
 * A Wireshark display filter that selects exactly the frames of the connections a finding
 * names: its 4-tuple within the frame range the detector gave (the previous incarnation it
 * blames and this one), or else exactly the frames it lists.
 */
export function frameFilter(f: Finding): string | null {
  const t = f.evidence.tuple as Tuple | undefined;
  const range = f.evidence.frameRange as [number, number | null] | undefined;
  if (t && range) return `${tupleFilter(t)} && frame.number >= ${range[0]}${range[1] !== null ? ` && frame.number < ${range[1]}` : ''}`;
  const frames = f.evidence.frames ?? [];
  return frames.length ? `frame.number in {${frames.join(',')}}` : null;
}

/**
 * The same selection file by file, for a capture point read from several files: every file the
 * finding's frames or frame range touch, with its frames in that file's own numbers and a filter
 * valid when that file alone is opened in Wireshark (a range is cut to the part in the file;
 * a bound is left out where the range runs past the file's start or end).
 */
export function fileEvidence(f: Finding, pieces: Piece[]): FileEvidence[] {
  const t = f.evidence.tuple as Tuple | undefined;
  const range = f.evidence.frameRange as [number, number | null] | undefined;
  const frames = f.evidence.frames ?? [];
  if (t && range) {
    const out: FileEvidence[] = [];
    for (const p of pieces) {
      if (p.frames === 0) continue;
      const first = p.firstFrame, last = p.firstFrame + p.frames - 1;
      const lo = Math.max(range[0], first), hi = range[1] === null ? last : Math.min(range[1] - 1, last);
      if (lo > hi) continue;
      const a = lo - first + 1, b = hi - first + 1;
      const filter = `${tupleFilter(t)}${a > 1 ? ` && frame.number >= ${a}` : ''}${b < p.frames ? ` && frame.number <= ${b}` : ''}`;
      out.push({ file: p.name, frames: framesByFile([p], frames)[0]?.frames ?? [], filter });
    }
    return out;
  }
  return listEvidence(pieces, frames);
}

/** Listed frames file by file, each file's filter selecting exactly them. */
export function listEvidence(pieces: Piece[], frames: number[]): FileEvidence[] {
  return framesByFile(pieces, frames).map((x) => ({ file: x.file, frames: x.frames, filter: `frame.number in {${x.frames.join(',')}}` }));
}

/** What a finding's filter selects beyond its listed frames (a tuple's frame range), or null when exactly them. */
function filterScope(f: Finding): FilterScope | null {
  if (!f.evidence.tuple || !f.evidence.frameRange) return null;
  return f.evidence.frameRangeHasPrevious === true ? 'connection-and-previous' : 'connection';
}

/**
 * What Wireshark must be told before a finding's filter selects its frames: only a filter on the
 * 4-tuple reads the inner headers (a frame.number list does not depend on dissection), and only
 * the connections it selects (this one and the previous one it blames) decide.
 */
function decodeAsOf(f: Finding, names: CaptureNames): DecodeAs[] {
  if (!f.evidence.tuple || !f.evidence.frameRange) return [];
  const prev = (f.evidence.previous as { connId?: number } | null | undefined)?.connId;
  const ports = new Set<number>();
  for (const id of [f.connId, prev]) {
    if (typeof id !== 'number') continue;
    const port = names.vxlanPort(id);
    if (port !== null && port !== WIRESHARK_VXLAN_PORT) ports.add(port);
  }
  return [...ports].sort((a, b) => a - b).map((port) => ({ table: 'udp.port', port, protocol: 'vxlan' }));
}

export function evidenceOf(f: Finding, names: CaptureNames): EvidenceItem {
  const pieces = names.pieces(f.captureId);
  const files = pieces !== null ? fileEvidence(f, pieces) : [];
  const scope = filterScope(f);
  const decodeAs = decodeAsOf(f, names);
  return {
    findingId: f.id, text: f.summary, frames: f.evidence.frames ?? [], filter: frameFilter(f), ...(scope !== null ? { filterSelects: scope } : {}),
    ...(decodeAs.length > 0 ? { decodeAs } : {}),
    capture: names.name(f.captureId), ...(files.length > 0 ? { files } : {}),
  };
}
