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
  ) {
    super(`${path}: ${kind} at byte offset ${byteOffset}${frame !== undefined ? ` (after frame ${frame})` : ''}: ${detail}`);
    this.name = 'CaptureError';
  }
}

/** An expected exit with a code: bad usage, findings at --fail-on severity. */
export class ExitError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
    this.name = 'ExitError';
  }
}
