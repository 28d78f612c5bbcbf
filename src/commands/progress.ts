import { basename } from 'node:path';

/**
 * A progress line on stderr for long reads: only on a terminal, so logs and CI
 * output stay clean; redrawn at most a few times a second.
 */
export function progressLine(path: string): { update: (bytes: number, total: number) => void; done: () => void } {
  const tty = process.stderr.isTTY === true;
  const start = Date.now();
  let lastDraw = 0;
  let drawn = false;
  return {
    update(bytes: number, total: number) {
      if (!tty) return;
      const now = Date.now();
      if (now - lastDraw < 250 || now - start < 500) return;
      lastDraw = now;
      const secs = (now - start) / 1000;
      const mbps = bytes / 1e6 / secs;
      const pct = total > 0 ? ` ${((100 * bytes) / total).toFixed(0)}%` : '';
      const eta = total > 0 && mbps > 0 ? `, ETA ${Math.max(0, (total - bytes) / 1e6 / mbps).toFixed(0)} s` : '';
      process.stderr.write(`\r${basename(path)}:${pct} ${(bytes / 1e6).toFixed(0)} MB read, ${mbps.toFixed(0)} MB/s${eta}   `);
      drawn = true;
    },
    done() {
      if (drawn) process.stderr.write('\r\x1b[K');
    },
  };
}
