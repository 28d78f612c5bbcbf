import { createHash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { readCapture } from '../decode/index.js';

/**
 * The second core's share of the pre-pass over regular files (scan.ts): each message is a path;
 * the answer is what the main thread's own scan gives (the capture's facts and the SHA-256 of
 * its capture bytes), or the error text when reading threw. Runs only from the compiled
 * JavaScript (dist/).
 */
parentPort!.on('message', (path: string) => {
  const hash = createHash('sha256');
  readCapture(path, () => {}, { onCaptureBytes: (b) => { hash.update(b); } })
    .then((info) => parentPort!.postMessage({ path, info, sha256: hash.digest('hex') }))
    .catch((e: unknown) => parentPort!.postMessage({ path, failed: String((e as Error)?.message ?? e) }));
});
