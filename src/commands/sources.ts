/**
 * From the captures named on the command line to capture points: the same file or the same
 * content given twice is read once; files that are consecutive pieces of one capture
 * (`tcpdump -C/-G/-W`, `editcap -c`) become one point read in time order; `--point
 * NAME=a,b` says it where the rule cannot tell. What each rule decided is returned as
 * warnings and as the point's grouping (the store and the report show it).
 */
import { statSync } from 'node:fs';
import { ExitError } from '../errors.js';
import { captureName, type CaptureGrouping } from '../flows/store.js';
import { scanAll, type Scanned } from './scan.js';

export interface PlannedPoint {
  /** The --point name, or undefined for the first file's name. */
  name?: string;
  paths: string[];
  grouping: CaptureGrouping;
}

export interface SourcePlan {
  points: PlannedPoint[];
  /** One line each, for stderr: what was dropped (read once), and why. */
  warnings: string[];
  /** One line each, for stderr: which files were joined into one point, and by which rule. */
  notes: string[];
  /** The regular files scanned before planning, by path: ingest takes their hash from here (scan.ts). */
  scanned: Map<string, Scanned>;
}

const short = (sha: string): string => sha.slice(0, 12);

/** Parse `--point NAME=a.pcap,b.pcap`. */
export function parsePointSpec(spec: string): { name: string; paths: string[] } {
  const eq = spec.indexOf('=');
  const name = eq > 0 ? spec.slice(0, eq) : '';
  const paths = eq > 0 ? spec.slice(eq + 1).split(',').filter((p) => p !== '') : [];
  if (name === '' || paths.length === 0) throw new ExitError(2, `--point takes NAME=FILE[,FILE...], not "${spec}"`);
  return { name, paths };
}

export function isRegularFile(path: string): boolean {
  try { return statSync(path).isFile(); } catch { return false; }
}

/**
 * Two files are consecutive pieces of one capture when the second starts no earlier than
 * the first ends, with the same format, link types and snaplen (what editcap -c and
 * tcpdump -C/-G keep from the file they split), both read without error.
 */
function follows(prev: Scanned, next: Scanned): boolean {
  const a = prev.info;
  const b = next.info;
  return a.error === null && b.error === null && a.lastTsUsec !== null && b.firstTsUsec !== null
    && b.firstTsUsec >= a.lastTsUsec && a.format === b.format && a.snapLen === b.snapLen
    && a.linkTypes.join(',') === b.linkTypes.join(',');
}

/**
 * @param files   positional captures, in command-line order ('-' is standard input)
 * @param points  --point specs
 * @param known   files already in the store (by SHA-256), for --db re-runs
 */
export async function planSources(
  files: string[], points: string[], known: Map<string, { captureId: number; path: string }>,
): Promise<SourcePlan> {
  const warnings: string[] = [];
  const notes: string[] = [];
  const explicit = points.map(parsePointSpec);
  const names = new Set<string>();
  for (const p of explicit) {
    if (names.has(p.name)) throw new ExitError(2, `--point ${p.name} given twice`);
    names.add(p.name);
  }
  const inPoint = new Set<string>();
  for (const p of explicit) {
    for (const f of new Set(p.paths)) {
      if (inPoint.has(f)) throw new ExitError(2, `${f} is in two --point lists`);
      inPoint.add(f);
    }
  }
  const all = [...explicit.flatMap((p) => p.paths), ...files.filter((f) => !inPoint.has(f))];
  if (all.filter((f) => f === '-').length > 1) throw new ExitError(2, 'standard input (-) can be read only once');

  // The same file under two names (./a.pcap and a.pcap, a hard link): by device and inode.
  const byInode = new Map<string, string>();
  const keep = new Set<string>();
  for (const f of all) {
    if (keep.has(f)) { warnings.push(`${f} is given twice; read once`); continue; }
    let id: string | null = null;
    try {
      const st = statSync(f);
      if (st.isFile()) id = `${st.dev}:${st.ino}`;
    } catch { /* missing: readCapture reports it */ }
    if (id !== null && byInode.has(id)) { warnings.push(`${f} is the same file as ${byInode.get(id)}; read once`); continue; }
    if (id !== null) byInode.set(id, f);
    keep.add(f);
  }

  // Same content under different files: hash them before reading, when there is something to
  // compare with. A stream can only be read once; it is checked after reading (ingestFiles.ts).
  const regular = [...keep].filter((f) => f !== '-' && isRegularFile(f));
  const scanned = new Map<string, Scanned>();
  if (regular.length >= 2 || known.size > 0) {
    const seen = new Map<string, string>();
    for (const s of await scanAll(regular)) {
      const f = s.path;
      // Nothing read (missing, empty, not a capture): nothing to compare; reading reports it.
      if (s.info.captureBytes === 0) { scanned.set(f, s); continue; }
      const inStore = known.get(s.sha256);
      if (inStore !== undefined) {
        warnings.push(`${f} is already in the store (read from ${inStore.path}, capture ${inStore.captureId}; same SHA-256 ${short(s.sha256)}); not added again`);
        keep.delete(f);
        continue;
      }
      const twin = seen.get(s.sha256);
      if (twin !== undefined) {
        warnings.push(`${f} has the same content as ${twin} (SHA-256 ${short(s.sha256)}); read once`);
        keep.delete(f);
        continue;
      }
      seen.set(s.sha256, f);
      scanned.set(f, s);
    }
  }

  const out: { at: number; point: PlannedPoint }[] = [];
  const order = (f: string): number => all.indexOf(f);
  for (const p of explicit) {
    const paths = [...new Set(p.paths)].filter((f) => keep.has(f));
    if (paths.length === 0) continue;
    // In time order where the files could be read, otherwise as given.
    const sorted = paths.every((f) => scanned.get(f)?.info.firstTsUsec != null)
      ? [...paths].sort((a, b) => scanned.get(a)!.info.firstTsUsec! - scanned.get(b)!.info.firstTsUsec!)
      : paths;
    out.push({ at: order(paths[0]), point: { name: p.name, paths: sorted, grouping: 'point' } });
  }

  // Rotated sets among the other files: each file (in time order) continues the set whose
  // last piece it follows most closely; a file that overlaps every set starts its own point.
  const rest = [...new Set(files)].filter((f) => keep.has(f) && !inPoint.has(f));
  const sets: Scanned[][] = [];
  const alone: string[] = [];
  for (const f of rest) if (!scanned.has(f)) alone.push(f);
  const timed = rest.filter((f) => scanned.has(f)).map((f) => scanned.get(f)!)
    .sort((a, b) => (a.info.firstTsUsec ?? 0) - (b.info.firstTsUsec ?? 0) || order(a.path) - order(b.path));
  // A piece with no packet at all (tcpdump -G opens its first file before the first packet)
  // has no time range: it joins the set it matches in format and link types, or stands alone.
  const empty = timed.filter((s) => s.info.frames === 0 && s.info.error === null);
  for (const s of timed) {
    if (empty.includes(s)) continue;
    let best: Scanned[] | null = null;
    for (const set of sets) {
      const last = set[set.length - 1];
      if (follows(last, s) && (best === null || last.info.lastTsUsec! > best[best.length - 1].info.lastTsUsec!)) best = set;
    }
    if (best !== null) best.push(s);
    else sets.push([s]);
  }
  for (const s of empty) {
    const set = sets.find((x) => x[0].info.format === s.info.format && x[0].info.snapLen === s.info.snapLen
      && x[0].info.linkTypes.join(',') === s.info.linkTypes.join(','));
    if (set !== undefined) set.unshift(s);
    else sets.push([s]);
  }
  for (const set of sets) {
    const paths = set.map((s) => s.path);
    if (paths.length > 1) {
      notes.push(`${paths.map(captureName).join(', ')}: read as one capture point in this order (their time ranges follow one another without overlap, same format and link types); use --point NAME=FILE,... to say otherwise`);
    }
    out.push({ at: Math.min(...paths.map(order)), point: { paths, grouping: paths.length > 1 ? 'rotated' : 'file' } });
  }
  for (const f of alone) out.push({ at: order(f), point: { paths: [f], grouping: 'file' } });
  out.sort((a, b) => a.at - b.at);
  return { points: out.map((o) => o.point), warnings, notes, scanned };
}
