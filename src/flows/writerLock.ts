/**
 * One writing process per store. Two tcpdiag runs on one --db both numbered their
 * connections from the same max(id) and the second died on the UNIQUE constraint,
 * leaving a capture row without its connections. The store holds who writes it
 * (table writer_lock); taking and releasing it are BEGIN IMMEDIATE transactions,
 * so SQLite's own file locks make the check-and-set atomic between processes.
 *
 * Like git's index.lock, a second writer fails at once with a message naming the
 * holder rather than waiting for an unknown time; unlike a lock file, a holder
 * that was killed is recognised (its pid is gone, or now belongs to a process
 * started at another time) and its lock taken over.
 */
import type Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export interface LockHolder { pid: number; started: string | null; host: string; since_usec: number }

/** Start time of a process in clock ticks since boot (proc(5): /proc/PID/stat field 22), null off Linux. */
export function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) is in parentheses and may hold spaces: count fields after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

const SELF = { pid: process.pid, started: processStart(process.pid), host: hostname() };

/** Whether the process that took this lock still runs (on another host: assumed so, it cannot be checked). */
export function holderAlive(h: LockHolder): boolean {
  if (h.host !== SELF.host) return true;
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  // The pid exists: the same process only if it started when the lock's owner did.
  const now = processStart(h.pid);
  return h.started === null || now === null || now === h.started;
}

export function isSelf(h: LockHolder): boolean {
  return h.pid === SELF.pid && h.host === SELF.host && h.started === SELF.started;
}

/**
 * Inside the caller's BEGIN IMMEDIATE: the live holder other than this process, or null
 * after taking the lock.
 */
export function takeLock(db: Database.Database): LockHolder | null {
  const h = db.prepare('SELECT pid, started, host, since_usec FROM writer_lock WHERE id = 1').get() as LockHolder | undefined;
  if (h !== undefined && !isSelf(h) && holderAlive(h)) return h;
  db.prepare('INSERT OR REPLACE INTO writer_lock (id, pid, started, host, since_usec) VALUES (1, ?, ?, ?, ?)')
    .run(SELF.pid, SELF.started, SELF.host, Date.now() * 1000);
  return null;
}

/** Release the lock if this process holds it. */
export function releaseLock(db: Database.Database): void {
  db.prepare('DELETE FROM writer_lock WHERE id = 1 AND pid = ? AND host = ?').run(SELF.pid, SELF.host);
}
