import { readCapture, type CaptureInfo } from '../decode/index.js';
import type { Store } from './store.js';
import { Tracker } from './tracker.js';

export interface IngestOptions {
  timeWaitUsec: number;
  /** Called per chunk read, for a progress line: bytes so far and total (0 when unknown). */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Stop reading at the next chunk (a signal): the capture stays marked interrupted. */
  signal?: AbortSignal;
}

export interface IngestResult {
  captureId: number;
  info: CaptureInfo;
  connections: number;
  /** Reading was stopped by opts.signal before the end of the capture. */
  interrupted: boolean;
}

/**
 * Read one capture through the tracker into the store. A damaged capture still has
 * every connection up to the damage written; the error is in info.error. A stopped
 * one has every connection up to where it stopped written, and stays interrupted.
 */
export async function ingestCapture(store: Store, path: string, opts: IngestOptions): Promise<IngestResult> {
  const captureId = store.addCapture(path);
  const tracker = new Tracker(captureId, store, { timeWaitUsec: opts.timeWaitUsec, firstId: store.maxConnId() + 1 });
  const info = await readCapture(path, (p) => tracker.onPacket(p), { onProgress: opts.onProgress, signal: opts.signal });
  const interrupted = info.aborted;
  tracker.finish();
  store.finishCapture(captureId, info, !interrupted);
  return { captureId, info, connections: tracker.connections, interrupted };
}
