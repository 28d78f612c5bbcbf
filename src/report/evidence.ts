import type { Finding } from '../detectors/index.js';
import type { EvidenceItem } from './model.js';

/** Capture names for evidence lines: a name alone, or the name and id where two captures share it. */
export interface CaptureNames { name(id: number | null): string | null }

export function captureNames(captures: { id: number; name: string; path: string }[]): CaptureNames {
  const count = new Map<string, number>();
  for (const c of captures) count.set(c.name, (count.get(c.name) ?? 0) + 1);
  const label = new Map(captures.map((c) => [c.id, (count.get(c.name) ?? 0) > 1 ? `${c.path} (capture ${c.id})` : c.name]));
  return { name: (id) => (id === null ? null : label.get(id) ?? null) };
}

type Tuple = { client: string; clientPort: number; server: string; serverPort: number };

/**
 * A Wireshark display filter that selects exactly the frames of the connections a finding
 * names: its 4-tuple within the frame range the detector gave (the previous incarnation it
 * blames and this one), or else exactly the frames it lists.
 */
export function frameFilter(f: Finding): string | null {
  const t = f.evidence.tuple as Tuple | undefined;
  const range = f.evidence.frameRange as [number, number | null] | undefined;
  if (t && range) {
    const ip = t.client.includes(':') ? 'ipv6.addr' : 'ip.addr';
    const ports = t.clientPort === t.serverPort ? `tcp.port == ${t.clientPort}` : `tcp.port == ${t.clientPort} && tcp.port == ${t.serverPort}`;
    return `${ip} == ${t.client} && ${ip} == ${t.server} && ${ports} && frame.number >= ${range[0]}${range[1] !== null ? ` && frame.number < ${range[1]}` : ''}`;
  }
  const frames = f.evidence.frames ?? [];
  return frames.length ? `frame.number in {${frames.join(',')}}` : null;
}

export function evidenceOf(f: Finding, names: CaptureNames): EvidenceItem {
  return { findingId: f.id, text: f.summary, frames: f.evidence.frames ?? [], filter: frameFilter(f), capture: names.name(f.captureId) };
}
