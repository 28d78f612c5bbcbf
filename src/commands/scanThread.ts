import { parentPort } from 'node:worker_threads';
import { scanHere } from './scan.js';

/**
 * The second core's share of the pre-pass over regular files (scan.ts): each message is a path,
 * the answer the same scan this thread's share gets (scanHere), or the error text when reading
 * threw. Runs only from the compiled JavaScript (dist/).
 */
parentPort!.on('message', (path: string) => {
  scanHere(path)
    .then((s) => parentPort!.postMessage(s))
    .catch((e: unknown) => parentPort!.postMessage({ path, failed: String((e as Error)?.message ?? e) }));
});
