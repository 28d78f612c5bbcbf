import Database from 'better-sqlite3';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { APPLICATION_ID, SCHEMA_VERSION } from '../../src/flows/schema.js';
import { CAN_MOUNT, cli, expectOneLine, integrity, IS_ROOT, query, scratch, SERVER, tmpfs } from './helpers.js';

// Each case spawns the CLI (~0.3 s of start-up apiece on a busy 2-core machine).
vi.setConfig({ testTimeout: 120_000 });

const s = scratch();
// Runs as nobody (root only) must reach the files inside; each case sets its own modes.
chmodSync(s.dir, 0o755);
afterAll(() => s.done());
const at = (name: string): string => join(s.dir, name);

/** A store made by a clean run: the reference for "the next run works". */
function goodStore(name: string): string {
  const db = at(name);
  const r = cli(['analyze', SERVER, '-q', '--db', db]);
  expect(r.code).toBe(0);
  return db;
}

describe('--db that cannot be a store: one line, exit 2, the file untouched', () => {
  it('a text file, a capture, a folder, a missing folder', () => {
    writeFileSync(at('notes.txt'), 'not a database\n');
    copyFileSync(SERVER, at('server-copy.pcap'));
    const cases: [string, RegExp][] = [
      [at('notes.txt'), /notes\.txt: not a tcpdiag store \(not an SQLite database\); --db takes a new file/],
      [at('server-copy.pcap'), /server-copy\.pcap: not a tcpdiag store \(not an SQLite database\) \(it is a capture: give it as an argument, not as --db\)/],
      [s.dir, /is a directory, not a database file/],
      [at('missing/store.sqlite'), /missing\/store\.sqlite: no such folder .*missing\n$/],
    ];
    for (const [db, re] of cases) {
      const r = cli(['analyze', SERVER, '--db', db]);
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      expectOneLine(r, re);
    }
    expect(readdirSync(s.dir).filter((f) => f.startsWith('missing'))).toEqual([]);
  });

  it("another application's SQLite database is refused and left as it was", () => {
    const other = at('other-app.sqlite');
    const d = new Database(other);
    d.exec("CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO accounts (name) VALUES ('a');");
    d.pragma('user_version = 7');
    d.close();
    for (const args of [['analyze', SERVER, '--db', other], ['analyze', '--db', other], ['flows', '--db', other], ['findings', '--db', other]]) {
      const r = cli(args);
      expect(r.code).toBe(2);
      expectOneLine(r, /other-app\.sqlite: another application's SQLite database \(tables accounts\); --db takes a new file or a store tcpdiag wrote/);
    }
    const tables = query<{ name: string }>(other, "SELECT name FROM sqlite_master WHERE type = 'table'").map((t) => t.name);
    expect(tables).toEqual(['accounts']);
    expect(query(other, 'PRAGMA user_version')).toEqual([{ user_version: 7 }]);
  });

  it('a store of another schema version is refused; an empty file becomes a store', () => {
    const old = at('old.sqlite');
    const d = new Database(old);
    d.exec('CREATE TABLE captures (id INTEGER PRIMARY KEY); CREATE TABLE connections (id INTEGER PRIMARY KEY);');
    d.pragma('user_version = 3');
    d.close();
    const r = cli(['analyze', '--db', old]);
    expect(r.code).toBe(2);
    expectOneLine(r, new RegExp(`store schema version 3, this tcpdiag reads and writes version ${SCHEMA_VERSION}`));
    writeFileSync(at('empty.sqlite'), '');
    expect(cli(['analyze', SERVER, '-q', '--db', at('empty.sqlite')]).code).toBe(0);
    expect(query(at('empty.sqlite'), 'PRAGMA application_id')).toEqual([{ application_id: APPLICATION_ID }]);
    expect(integrity(at('empty.sqlite'))).toBe('ok');
  });

  it('a missing store to read: exit 2', () => {
    const r = cli(['analyze', '--db', at('nowhere.sqlite')]);
    expect(r.code).toBe(2);
    expectOneLine(r, /nowhere\.sqlite: no such database/);
  });
});

describe('the environment refuses: one line, exit 3', () => {
  it('a read-only store: analyze refuses to write it, flows reads it', () => {
    const db = goodStore('readonly.sqlite');
    chmodSync(db, 0o444);
    const w = cli(['analyze', SERVER, '--db', db], { asNobody: true });
    expect(w.code).toBe(3);
    expectOneLine(w, /cannot write the store .*readonly\.sqlite: permission denied/);
    const a = cli(['analyze', '--db', db], { asNobody: true });
    expect(a.code).toBe(3);
    expectOneLine(a, /permission denied \(analyze writes its findings into the store: copy it to a writable folder\)/);
    const f = cli(['flows', '--db', db, '--limit', '1', '--format', 'json'], { asNobody: true });
    expect(f.code).toBe(0);
    expect(JSON.parse(f.out)).toHaveLength(1);
    expect(integrity(db)).toBe('ok');
  });

  it('a folder this user cannot write: no store created', () => {
    const dir = at('locked-dir');
    mkdirSync(dir, { mode: 0o555 });
    const r = cli(['analyze', SERVER, '--db', join(dir, 'store.sqlite')], { asNobody: true });
    expect(r.code).toBe(3);
    expectOneLine(r, /cannot create the store .*store\.sqlite: .*locked-dir: permission denied/);
    expect(existsSync(join(dir, 'store.sqlite'))).toBe(false);
  });

  it('TMPDIR missing or not writable', () => {
    const ro = at('ro-tmp');
    mkdirSync(ro, { mode: 0o555 });
    for (const [tmp, reason] of [[at('no-such-tmp'), 'no such file or directory'], [ro, 'permission denied']]) {
      const r = cli(['analyze', SERVER], { env: { TMPDIR: tmp }, asNobody: true });
      expect(r.code).toBe(3);
      expectOneLine(r, new RegExp(`cannot create the temporary store in .*\\(TMPDIR\\): ${reason}; set TMPDIR to a writable folder, or keep the store with --db FILE`));
    }
  });
});

describe.skipIf(!CAN_MOUNT)('disk full while writing the store (tmpfs of a few pages)', () => {
  // The clean store of this capture takes ~240 KB: these sizes run out while loading
  // connections, while indexing or writing findings, and before the first page.
  for (const size of ['8k', '64k', '128k', '200k']) {
    it(`--db on a ${size} tmpfs: one line, exit 3, the store intact; the next run elsewhere works`, () => {
      const mnt = at(`full-${size}`);
      mkdirSync(mnt);
      const umount = tmpfs(mnt, size);
      try {
        const db = join(mnt, 'store.sqlite');
        const r = cli(['analyze', SERVER, '--db', db]);
        expect(r.code).toBe(3);
        expect(r.out).toBe('');
        expectOneLine(r, /store\.sqlite: no space left on device \(database or disk is full\)\n$/);
        if (existsSync(db) && query<{ n: number }>(db, "SELECT count(*) AS n FROM sqlite_master WHERE name = 'captures'")[0].n > 0) {
          expect(integrity(db)).toBe('ok');
          // A capture the full disk stopped is never left looking whole.
          for (const c of query<{ status: string; frames: number }>(db, 'SELECT status, frames FROM captures')) {
            if (c.status === 'complete') expect(c.frames).toBe(2581);
          }
          // Releasing the lock is a write the full disk may refuse: a row left names a process that
          // is gone, and a run on a copy of the store with room takes it over.
          for (const h of query<{ pid: number }>(db, 'SELECT pid FROM writer_lock')) expect(() => process.kill(h.pid, 0)).toThrow();
          const copy = at(`copy-${size}.sqlite`);
          copyFileSync(db, copy);
          const again = cli(['analyze', '-q', '--db', copy]);
          expect([0, 3]).toContain(again.code);
          expect(again.err).not.toMatch(/being written by another|internal error/);
          expect(query(copy, 'SELECT * FROM writer_lock')).toEqual([]);
          expect(integrity(copy)).toBe('ok');
        }
        const tmp = cli(['analyze', SERVER, '-q'], { env: { TMPDIR: mnt } });
        expect(tmp.code).toBe(3);
        expectOneLine(tmp, /the temporary store in .*\(TMPDIR\): no space left on device/);
        expect(readdirSync(mnt).filter((f) => f.startsWith('tcpdiag-'))).toEqual([]);
      } finally {
        umount();
      }
      expect(cli(['analyze', SERVER, '-q', '--db', join(mnt, 'after.sqlite')]).code).toBe(0);
    });
  }
});

it.skipIf(!IS_ROOT)('(root only) runs as nobody can read the scratch folder', () => {
  expect(cli(['decode', '--count-only', SERVER], { asNobody: true }).code).toBe(0);
});
