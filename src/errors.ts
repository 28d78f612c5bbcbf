/**
 * Errors that reach the user. Everything else is a bug and is reported as one.
 *
 * CaptureError carries the place (file and byte offset) because a user with a
 * damaged capture needs to know where it went wrong, and that every packet
 * before that offset was still analysed.
 */
export type CaptureErrorKind =
  | 'unreadable' // missing file, directory, permission
  | 'empty' // zero bytes
  | 'bad-magic' // not pcap, pcapng or gzip
  | 'unsupported' // recognised but not handled (zstd, pcap version 1.x)
  | 'truncated' // file ends inside a header or a record
  | 'malformed'; // a length or field that cannot be right

export class CaptureError extends Error {
  constructor(
    readonly path: string,
    readonly byteOffset: number,
    readonly kind: CaptureErrorKind,
    readonly detail: string,
    readonly frame?: number,
    /** The offset counts decompressed bytes (a gzip capture), not bytes of the file. */
    readonly decompressed = false,
  ) {
    super(`${path}: ${kind} at ${decompressed ? 'decompressed ' : ''}byte offset ${byteOffset}${frame !== undefined ? ` (after frame ${frame})` : ''}: ${detail}`);
    this.name = 'CaptureError';
  }

  /** The same error, saying that its offset counts decompressed bytes. */
  inDecompressed(): CaptureError {
    return this.decompressed ? this : new CaptureError(this.path, this.byteOffset, this.kind, this.detail, this.frame, true);
  }
}

/** An expected exit with a code: bad usage, findings at --fail-on severity. */
export class ExitError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
    this.name = 'ExitError';
  }
}

/**
 * What the system said, in the words of strerror(3), for the errors a user can act on.
 * Anything else keeps Node's own message.
 */
export function errnoReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err?.code) {
    case 'ENOSPC': return 'no space left on device';
    case 'EDQUOT': return 'disk quota exceeded';
    case 'EFBIG': return 'file too large';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'EROFS': return 'read-only file system';
    case 'ENOENT': return 'no such file or directory';
    case 'ENOTDIR': return 'not a directory';
    case 'EISDIR': return 'is a directory';
    case 'EIO': return 'input/output error';
    case 'EPIPE': return 'broken pipe';
    case 'EBADF': return 'bad file descriptor (closed)';
    default: return err?.message ?? String(e);
  }
}

/** Exit codes the environment, not the input, is to blame for. Documented in README.md. */
export const EXIT_ENV = 3;
/** stdout's reader went away (`| head`): 128 + SIGPIPE, what git and a shell report. */
export const EXIT_PIPE = 141;

/** The reader of stdout closed it: stop writing and exit quietly (EXIT_PIPE). */
export class StdoutClosed extends Error {
  constructor() {
    super('stdout closed by its reader');
    this.name = 'StdoutClosed';
  }
}

/** A signal (SIGINT, SIGTERM) stopped the run; cleanup has run when this reaches cli.ts. */
export class Interrupted extends Error {
  constructor(readonly signal: NodeJS.Signals, readonly code: number, message: string) {
    super(message);
    this.name = 'Interrupted';
  }
}
