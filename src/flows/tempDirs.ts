import { rmSync } from 'node:fs';

/** Temporary folders still on disk (the store's, the detector thread's), removed at exit whatever ends the process. */
const TEMP_DIRS = new Set<string>();
process.on('exit', () => { for (const d of TEMP_DIRS) removeTempDir(d); });

/** Remove `dir` when the process exits, unless removeTempDir() does it first. */
export function removeAtExit(dir: string): void {
  TEMP_DIRS.add(dir);
}

export function removeTempDir(dir: string): void {
  try { rmSync(dir, { recursive: true, force: true }); } catch { /* exiting: nothing else to do */ }
  TEMP_DIRS.delete(dir);
}
