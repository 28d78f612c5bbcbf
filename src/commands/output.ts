/**
 * Everything tcpdiag prints on stdout goes through here, synchronously, so a
 * failed write is an error at the place it happened rather than an 'error'
 * event on process.stdout after the command has returned.
 *
 * EPIPE (the reader went away, `| head`) stops the command quietly with exit
 * 141, as git does (write_or_die.c: check_pipe) and as a shell reports a
 * process killed by SIGPIPE (Node ignores SIGPIPE, so the write returns EPIPE
 * instead). Any other failure (ENOSPC on `> /dev/full`, EIO) is one line
 * naming stdout and exit 3: the environment failed, not the capture and not
 * the --fail-on check (exit 1).
 */
import * as fs from 'node:fs';
import { errnoReason, ExitError, EXIT_ENV, StdoutClosed } from '../errors.js';

const pause = new Int32Array(new SharedArrayBuffer(4));

/** Write all of data to fd; `what` names it in the error ("the report"). */
export function writeAllSync(fd: number, data: Uint8Array, what: string): void {
  let off = 0;
  while (off < data.length) {
    try {
      off += fs.writeSync(fd, data, off, data.length - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // A non-blocking pipe whose reader is slow: wait a millisecond for room.
      if (code === 'EAGAIN') { Atomics.wait(pause, 0, 0, 1); continue; }
      if (code === 'EPIPE') throw new StdoutClosed();
      throw new ExitError(EXIT_ENV, `cannot write ${what} to ${fd === 1 ? 'stdout' : `file descriptor ${fd}`}: ${errnoReason(e)}`);
    }
  }
}

/** Print text on stdout. */
export function writeStdout(text: string, what = 'the report'): void {
  writeAllSync(1, Buffer.from(text), what);
}

/** Lines on stdout batched to ~64 KB per write: one syscall per batch, no unbounded queue. */
export class LineOut {
  private buf = '';
  constructor(private readonly what: string) {}
  line(s: string): void {
    this.buf += s + '\n';
    if (this.buf.length >= 65536) this.flush();
  }
  flush(): void {
    const data = Buffer.from(this.buf);
    this.buf = '';
    writeAllSync(1, data, this.what);
  }
}

/**
 * Write a report file. A write that fails part way (disk full) removes the file, so no
 * truncated report is left looking whole; only a regular file: `-o /dev/full` or a FIFO
 * is not ours to remove.
 */
export function writeReportFile(path: string, text: string): void {
  let fd: number;
  try {
    fd = fs.openSync(path, 'w');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // A path that cannot name a file is the argument's fault; the rest is the environment's.
    const usage = code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR';
    throw new ExitError(usage ? 2 : EXIT_ENV, `cannot write ${path}: ${errnoReason(e)}`);
  }
  try {
    const data = Buffer.from(text);
    let off = 0;
    while (off < data.length) off += fs.writeSync(fd, data, off, data.length - off);
    fs.closeSync(fd);
  } catch (e) {
    let regular = false;
    try { regular = fs.fstatSync(fd).isFile(); } catch { /* then leave it */ }
    try { fs.closeSync(fd); } catch { /* already failed */ }
    if (regular) {
      try { fs.rmSync(path, { force: true }); } catch { regular = false; }
    }
    throw new ExitError(EXIT_ENV, `cannot write ${path}: ${errnoReason(e)}${regular ? '; the partial file was removed' : ''}`);
  }
}
