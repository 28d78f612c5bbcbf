/**
 * Frame numbers as the renderers print them. A capture point read from one file: the numbers
 * as they are. Read from several files (a rotated set, --point): each frame with the file it is
 * in and that file's own number ("frames 12, 13 of x.pcap1"), and a Wireshark filter per file,
 * valid when that file is opened alone (EvidenceItem.files, ReportFinding.files).
 */
import type { WorstConnection } from '../detectors/charts.js';
import type { DecodeAs, FileEvidence, FilterScope, ReportFinding } from './model.js';

const s = (n: number): string => (n === 1 ? '' : 's');

/** "frames 12, 13 of x.pcap1", or the file name alone when none of the listed frames is in it. */
export function fileFramesText(x: { file: string; frames: number[] }, file = x.file): string {
  return x.frames.length ? `frame${s(x.frames.length)} ${x.frames.join(', ')} of ${file}` : file;
}

/** Said before the per-file parts when one piece of evidence spans files; '' otherwise. */
export function spansText(files: FileEvidence[]): string {
  return files.length > 1 ? `spans ${files.length} files, one Wireshark filter per file: ` : '';
}

/** A finding's frames for a table cell: "12 13 of x.pcap1; 1 of x.pcap2", at most `max` frames. */
export function findingFramesCell(f: ReportFinding, sep: string, max = Infinity): string {
  const all = f.evidence.frames ?? [];
  if (!f.files) return all.slice(0, max).join(sep);
  const out: string[] = [];
  let left = max;
  for (const x of f.files) {
    if (left <= 0) break;
    const mine = x.frames.slice(0, left);
    left -= mine.length;
    out.push(`${mine.join(sep)} of ${x.file}`);
  }
  return out.join('; ');
}

/** The SYN frame of a worst connection: "812" or "812 of web-01.pcap". */
export function synFrameCell(w: WorstConnection): string | number {
  return w.synFileFrame ? `${w.synFileFrame.frame} of ${w.synFileFrame.file}` : w.synFrame ?? '';
}

/** How a report names what a filter selects, before the filter: '' when it selects exactly the frames listed. */
export function filterScopeText(scope: FilterScope | undefined): string {
  return scope === 'connection-and-previous' ? 'this connection and the previous one on its 4-tuple'
    : scope === 'connection' ? 'this connection' : '';
}

/** The tshark arguments that set decode-as rules: "tshark -d udp.port==8472,vxlan". */
export function decodeAsCommand(d: DecodeAs[]): string {
  return `tshark ${d.map((x) => `-d ${x.table}==${x.port},${x.protocol}`).join(' ')}`;
}

/** Said of a filter that selects its frames only with decode-as rules: "UDP 8472 decoded as VXLAN"; '' when it needs none. */
export function decodeAsText(d: DecodeAs[] | undefined): string {
  return d?.length ? d.map((x) => `${x.table.split('.')[0].toUpperCase()} ${x.port} decoded as ${x.protocol.toUpperCase()}`).join(' and ') : '';
}

/** After a filter in a text report: "; only with UDP 8472 decoded as VXLAN: tshark -d udp.port==8472,vxlan", or ''. */
export function decodeAsSuffix(d: DecodeAs[] | undefined): string {
  return d?.length ? `; only with ${decodeAsText(d)}: ${decodeAsCommand(d)}` : '';
}

/** A worst connection's connect time cell: 'never' only when it never connected; 'unknown' when it did and its SYN-ACK is not in the capture. */
export function connectCell(w: WorstConnection): string | number {
  return w.connectMs ?? (w.established ? 'unknown' : 'never');
}
