import type Database from 'better-sqlite3';
import { capturePieces } from './charts.js';

/**
 * Frames of a capture point read from several files (a rotated set: tcpdump -C/-G, editcap -c;
 * or --point) are numbered across the files in the store: piece k's frame f is capture frame
 * first_frame + f - 1 (capture_pieces). Anyone opening one of the files in Wireshark sees that
 * file's own numbers, so every frame a finding or report prints for such a point is turned back
 * into "frame f of FILE" here. A point read from one file keeps its numbers as they are.
 */

/** One file of a capture point: its name and the capture frame number of its first frame. */
export interface Piece { name: string; firstFrame: number; frames: number }

/** A frame as Wireshark numbers it: in which file, and that file's own frame number. */
export interface FileFrame { file: string; frame: number }

/** The index of the piece holding capture frame `frame` (pieces in order, by binary search), or -1. */
function pieceIndex(pieces: Piece[], frame: number): number {
  // The last piece starting at or before the frame; an empty piece starts where the next one does.
  let lo = 0, hi = pieces.length - 1, at = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (pieces[mid].firstFrame <= frame) { at = mid; lo = mid + 1; } else hi = mid - 1;
  }
  return at >= 0 && frame < pieces[at].firstFrame + pieces[at].frames ? at : -1;
}

/** The file holding capture frame `frame`, and its number there; null outside every piece. */
export function locateIn(pieces: Piece[], frame: number): FileFrame | null {
  const k = pieceIndex(pieces, frame);
  return k < 0 ? null : { file: pieces[k].name, frame: frame - pieces[k].firstFrame + 1 };
}

/** Capture frames grouped by the file they are in (files in capture order, frames as given), each in that file's numbers. */
export function framesByFile(pieces: Piece[], frames: number[]): { file: string; frames: number[] }[] {
  const by = new Map<number, number[]>();
  for (const f of frames) {
    const k = pieceIndex(pieces, f);
    if (k < 0) continue;
    const list = by.get(k) ?? [];
    list.push(f - pieces[k].firstFrame + 1);
    by.set(k, list);
  }
  return [...by.entries()].sort((a, b) => a[0] - b[0]).map(([k, list]) => ({ file: pieces[k].name, frames: list }));
}

/** The pieces of each capture point read from more than one file; a point of one file is absent. */
export function multiPieces(db: Database.Database): Map<number, Piece[]> {
  const by = new Map<number, Piece[]>();
  for (const p of capturePieces(db)) {
    const list = by.get(p.captureId) ?? [];
    list.push({ name: p.name, firstFrame: p.firstFrame, frames: p.frames });
    by.set(p.captureId, list);
  }
  for (const [id, list] of by) if (list.length < 2) by.delete(id);
  return by;
}

/**
 * How findings print a frame number: "812" for a point read from one file, "812 of web-01.pcap"
 * (that file's own number) for a point read from several; for "frame ${...}" in summaries.
 */
export function frameRefOf(db: Database.Database): (captureId: number | null, frame: number) => string {
  const by = multiPieces(db);
  return (captureId, frame) => {
    const pieces = captureId === null ? undefined : by.get(captureId);
    const at = pieces === undefined ? null : locateIn(pieces, frame);
    return at === null ? String(frame) : `${at.frame} of ${at.file}`;
  };
}

/** The capture point of each connection id given. */
export function connectionCaptures(db: Database.Database, ids: number[]): Map<number, number> {
  const stmt = db.prepare('SELECT capture_id FROM connections WHERE id = ?').pluck();
  return new Map(ids.map((id) => [id, stmt.get(id) as number]));
}
