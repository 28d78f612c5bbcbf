/**
 * SIGINT, SIGTERM and SIGHUP during a run: stop reading at the next chunk, let the
 * store record what it has (a kept store marks the capture being read as
 * interrupted; a temporary one is removed), and exit 128 + the signal number, as a
 * shell reports a process killed by it. Node runs the handler only between chunks
 * (the decoder and the detectors are synchronous), so a signal during the detectors
 * takes effect when they end. A second signal exits at once; the exit handler in
 * store.ts still removes temporary stores.
 */
import { Interrupted } from '../errors.js';

const NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

const controller = new AbortController();
let received: NodeJS.Signals | null = null;

/** Aborted when a signal arrives: readCapture stops at the next chunk. */
export const stopSignal: AbortSignal = controller.signal;

/**
 * While a stream is read (`tcpdump -w - | tcpdiag analyze -`), the terminal's Ctrl-C reaches
 * both processes: tcpdump writes out what it has and closes the pipe, and tcpdiag reports on
 * every packet up to there. So the first SIGINT then only says so; a second one stops reading.
 */
let streamReading = false;
let intWhileStreaming = false;
export function setStreamReading(on: boolean): void { streamReading = on; }

export function installSignalHandlers(): void {
  for (const sig of Object.keys(NUMBERS) as NodeJS.Signals[]) {
    process.on(sig, () => {
      if (sig === 'SIGINT' && streamReading && !intWhileStreaming && received === null) {
        intWhileStreaming = true;
        process.stderr.write('tcpdiag: note: interrupted: reading on until the stream ends; Ctrl-C again to stop now (no report)\n');
        return;
      }
      if (received !== null) process.exit(128 + NUMBERS[sig]!);
      received = sig;
      controller.abort();
    });
  }
}

/** The signal received, if any. */
export function interruptedBy(): NodeJS.Signals | null {
  return received;
}

/** Throw Interrupted if a signal arrived; `what` says what was kept ("the temporary store was removed"). */
export function throwIfInterrupted(what: string): void {
  if (received === null) return;
  throw new Interrupted(received, 128 + NUMBERS[received]!, `interrupted by ${received}; ${what}`);
}
