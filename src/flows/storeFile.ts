/**
 * What --db may name, checked before SQLite opens it: SQLite would create tables in
 * any SQLite file (another application's included) and report a text file or a
 * capture only as "file is not a database" from deep inside a statement. The
 * rules follow what the sqlite3 shell accepts as a database, narrowed to files
 * tcpdiag may write: a new or empty file, or a store tcpdiag made.
 *
 * Exit 2 when the argument names something that cannot be a store (a folder, a
 * capture, another application's database, a missing folder); exit 3 when the
 * environment refuses (permission, read-only file system).
 */
import { accessSync, closeSync, constants, openSync, readSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { errnoReason, ExitError, EXIT_ENV } from '../errors.js';

/** The first 16 bytes of every SQLite 3 database file (https://www.sqlite.org/fileformat.html#the_database_header). */
const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

function head(path: string, n: number): Buffer {
  const b = Buffer.alloc(n);
  const fd = openSync(path, 'r');
  try {
    return b.subarray(0, readSync(fd, b, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}

/** "it looks like a capture" for the magic numbers of pcap, pcapng and gzip. */
function looksLike(b: Buffer): string {
  if (b.length >= 4) {
    const m = b.readUInt32LE(0);
    if (m === 0xa1b2c3d4 || m === 0xd4c3b2a1 || m === 0xa1b23c4d || m === 0x4d3cb2a1 || m === 0x0a0d0d0a) return ' (it is a capture: give it as an argument, not as --db)';
  }
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return ' (it is gzip-compressed: a capture? give it as an argument, not as --db)';
  return '';
}

export type StoreFileState = 'new' | 'empty' | 'sqlite';

/**
 * Check that `path` can be opened as a store for writing (or for reading when
 * `forWrite` is false). Throws ExitError with one line; returns what is there.
 */
export function checkStoreFile(path: string, forWrite: boolean): StoreFileState {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new ExitError(code === 'ENOTDIR' ? 2 : EXIT_ENV, `${path}: ${errnoReason(e)}`);
    if (!forWrite) throw new ExitError(2, `${path}: no such database`);
    const dir = dirname(resolve(path));
    try {
      if (!statSync(dir).isDirectory()) throw new ExitError(2, `${path}: ${dir} is not a folder`);
    } catch (e2) {
      if (e2 instanceof ExitError) throw e2;
      throw new ExitError(2, `${path}: no such folder ${dir}`);
    }
    try {
      accessSync(dir, constants.W_OK | constants.X_OK);
    } catch (e2) {
      throw new ExitError(EXIT_ENV, `cannot create the store ${path}: ${dir}: ${errnoReason(e2)}`);
    }
    return 'new';
  }
  if (st.isDirectory()) throw new ExitError(2, `${path}: is a directory, not a database file`);
  if (!st.isFile()) throw new ExitError(2, `${path}: not a regular file; --db takes a file`);
  let b: Buffer;
  try {
    b = head(path, 100);
  } catch (e) {
    throw new ExitError(EXIT_ENV, `cannot read the store ${path}: ${errnoReason(e)}`);
  }
  if (b.length > 0 && !(b.length >= 16 && b.subarray(0, 16).equals(SQLITE_MAGIC))) {
    throw new ExitError(2, `${path}: not a tcpdiag store (not an SQLite database)${looksLike(b)}; --db takes a new file or a store tcpdiag wrote`);
  }
  if (forWrite) {
    // SQLite opens a file it may not write read-only and fails at the first write; say it now.
    try {
      accessSync(path, constants.W_OK);
    } catch (e) {
      throw new ExitError(EXIT_ENV, `cannot write the store ${path}: ${errnoReason(e)}`);
    }
    // The rollback journal (PATH-journal) is created beside it.
    const dir = dirname(resolve(path));
    try {
      accessSync(dir, constants.W_OK | constants.X_OK);
    } catch (e) {
      throw new ExitError(EXIT_ENV, `cannot write the store ${path}: its folder ${dir}: ${errnoReason(e)} (SQLite writes its journal there)`);
    }
  }
  return b.length === 0 ? 'empty' : 'sqlite';
}

/** SQLite's result codes (https://www.sqlite.org/rescode.html) as the words a user acts on. */
export function sqliteReason(e: unknown): { env: boolean; text: string } | null {
  const code = (e as { code?: unknown })?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return null;
  const msg = (e as Error).message;
  if (code === 'SQLITE_FULL') return { env: true, text: 'no space left on device (database or disk is full)' };
  if (code.startsWith('SQLITE_READONLY')) return { env: true, text: `cannot write (${msg})` };
  if (code.startsWith('SQLITE_CANTOPEN')) return { env: true, text: `cannot open (${msg})` };
  if (code.startsWith('SQLITE_IOERR')) return { env: true, text: `input/output error (${msg})` };
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return { env: true, text: 'locked by another process (database is locked)' };
  if (code === 'SQLITE_NOTADB') return { env: false, text: 'not a tcpdiag store (file is not a database)' };
  if (code.startsWith('SQLITE_CORRUPT')) return { env: false, text: `damaged (${msg}); rebuild it from the captures` };
  if (code === 'SQLITE_PERM' || code.startsWith('SQLITE_AUTH')) return { env: true, text: `permission denied (${msg})` };
  return null;
}
