import { describe, expect, it } from 'vitest';
import { clockClusters } from '../../src/detectors/natClients.js';
import Database from 'better-sqlite3';
import { OUTCOME_SQL } from '../../src/detectors/portReuse.js';
import { classifyRetransmit, hostSchedules, scheduleName } from '../../src/detectors/synRetransmit.js';
import { SCHEMA_SQL } from '../../src/flows/schema.js';
import { peakDistinctInWindow, peakInWindow } from '../../src/detectors/window.js';

describe('SYN retransmit rules', () => {
  it('names what came before a retransmit', () => {
    expect(classifyRetransmit([{ kind: 'answer-ack', dir: 's2c' }, { kind: 'rst', dir: 'c2s' }])).toBe('after-stale-ack');
    expect(classifyRetransmit([{ kind: 'synack', dir: 's2c' }])).toBe('after-synack');
    expect(classifyRetransmit([])).toBe('no-answer');
  });

  it('recognises retry schedules from the gaps since the first SYN (net/ipv4/tcp_timer.c, tcp_syn_linear_timeouts)', () => {
    // Linux >= 6.5, tcp_syn_linear_timeouts=4, as measured in samples/syn-drop-gateway and listen-overflow-no-syncookies.
    expect(scheduleName([1015, 2039, 3063, 4087])).toBe('Linux >= 6.5 (1 s linear, then doubling)');
    expect(scheduleName([1000, 2000, 3000, 4000, 5000, 7000, 11000, 19000])).toBe('Linux >= 6.5 (1 s linear, then doubling)');
    expect(scheduleName([1000, 3000, 7000])).toBe('Linux before 6.5 / BSD (1 s, doubling)');
    expect(scheduleName([3000, 9000])).toBe('Windows (3 s, doubling)');
    expect(scheduleName([250, 500])).toBeNull();
    // One retransmit at +1 s fits both Linux schedules: it names none.
    expect(scheduleName([1015])).toBeNull();
    expect(scheduleName([1015, 2039])).toBe('Linux >= 6.5 (1 s linear, then doubling)');
    expect(scheduleName([1015, 3030])).toBe('Linux before 6.5 / BSD (1 s, doubling)');
  });

  it('gives each sending host one schedule, or none when its connections disagree or none identified one', () => {
    expect(hostSchedules([{ host: 'a', schedule: null }, { host: 'a', schedule: 'X' }, { host: 'b', schedule: null },
      { host: 'c', schedule: 'X' }, { host: 'c', schedule: 'Y' }])).toEqual({ a: 'X', b: null, c: null });
  });
});

describe('port reuse outcome', () => {
  it('tells a SYN accepted from TIME_WAIT by its ISN = old snd_nxt + 65537 (tcp_timewait_state_process)', () => {
    const db = new Database(':memory:');
    db.exec(SCHEMA_SQL);
    db.pragma('foreign_keys = OFF');
    db.exec("INSERT INTO anomalies (conn_id, capture_id, kind, frame, ts_usec, count) VALUES (7, 1, 'synack-not-captured', 3, 0, 1)");
    const outcome = (answer: string, serverIsn: number | null, prevServerNext: number | null, foreignAcks = 1, id = 1): string =>
      db.prepare(`SELECT ${OUTCOME_SQL} FROM (SELECT ? AS answer, ? AS server_isn, ? AS prev_server_next, ? AS foreign_ack_count, ? AS id)`)
        .pluck().get(answer, serverIsn, prevServerNext, foreignAcks, id) as string;
    // 4294967295 + 65537 wraps to 65536 (sequence space is mod 2^32).
    expect(outcome('synack', 65536, 4294967295)).toBe('accepted-from-time-wait');
    expect(outcome('synack', 12345, 4294967295)).toBe('accepted');
    expect(outcome('synack', 65536, null)).toBe('accepted');
    expect(outcome('ack', null, 1)).toBe('stale-ack');
    // An ACK of the client's own data after a SYN-ACK the capture missed: accepted, not stale.
    expect(outcome('ack', null, 1, 0, 7)).toBe('accepted');
    expect(outcome('ack', null, 1, 0, 8)).toBe('other');
    expect(outcome('rst', null, 1)).toBe('refused');
    expect(outcome('none', null, 1)).toBe('no-answer');
    db.close();
  });
});

describe('timestamp clocks', () => {
  it('puts SYNs of one clock together and counts the ports each clock was seen on', () => {
    const t0 = 1_700_000_000_000_000;
    const host = (off: number, i: number, port: number) => ({ tUsec: t0 + i * 1e6, tsval: (off + Math.floor((t0 + i * 1e6) / 1000)) >>> 0, port });
    const rows = [host(5000, 0, 1), host(5000, 1, 2), host(5000, 2, 3), host(900_000_000, 3, 4), host(900_000_000, 4, 4)];
    expect(clockClusters(rows)).toEqual([{ syns: 3, ports: 3 }, { syns: 2, ports: 1 }]);
  });
});

describe('windows over time', () => {
  it('finds the busiest window', () => {
    expect(peakInWindow([0, 10, 20, 100, 101, 102, 103], 10)).toEqual({ peak: 4, atUsec: 100 });
    expect(peakDistinctInWindow([{ t: 0, key: 1 }, { t: 1, key: 1 }, { t: 2, key: 2 }, { t: 50, key: 3 }], 10)).toEqual({ peak: 2, atUsec: 0 });
  });

  it('finds the busiest window of a stream as a brute-force count does', () => {
    // Brute force: for each time, every earlier one still inside the window, counted afresh.
    const brute = (ts: number[], w: number): { peak: number; atUsec: number | null } => {
      let peak = 0;
      let at: number | null = null;
      for (let hi = 0; hi < ts.length; hi++) {
        let lo = 0;
        while (ts[hi] - ts[lo] >= w) lo++;
        if (hi - lo + 1 > peak) { peak = hi - lo + 1; at = ts[lo]; }
      }
      return { peak, atUsec: at };
    };
    // A seeded LCG: sorted times with bursts, ties and gaps, 0 to 3 000 of them.
    let x = 12345;
    const rnd = (): number => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return x / 2 ** 32; };
    for (let k = 0; k < 40; k++) {
      const n = Math.floor(rnd() * 3_000);
      const ts: number[] = [];
      let t = 0;
      for (let i = 0; i < n; i++) { t += rnd() < 0.2 ? 0 : rnd() < 0.9 ? Math.floor(rnd() * 100) : Math.floor(rnd() * 1e5); ts.push(t); }
      const width = 1 + Math.floor(rnd() * 5000);
      expect(peakInWindow(ts.values(), width)).toEqual(brute(ts, width));
    }
    expect(peakInWindow([], 10)).toEqual({ peak: 0, atUsec: null });
  });
});

describe('IP ID counters', () => {
  it('counts global IP ID counters, and never random per-connection IDs chained greedily, at scale', async () => {
    const { ipIdCounters } = await import('../../src/detectors/natClients.js');
    // A fixed-seed generator, so a failure is reproducible.
    let seed = 12345;
    const rnd = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x80000000; };
    for (const n of [10, 20, 50, 100, 300, 500, 1000, 2000, 5000]) {
      // Current Linux: every connection starts at a random IP ID (tcp_v4_connect): no host may be counted.
      for (let t = 0; t < 20; t++) expect(ipIdCounters(Array.from({ length: n }, () => Math.floor(rnd() * 65536)))).toBe(0);
      // k hosts with one global counter each, interleaved, 1-20 other packets between SYNs.
      if (n < 50) continue;
      for (const k of [1, 2, 3, 5]) {
        const c = Array.from({ length: k }, () => Math.floor(rnd() * 65536));
        const ids: number[] = [];
        for (let i = 0; i < n; i++) { const j = Math.floor(rnd() * k); c[j] = (c[j] + 1 + Math.floor(rnd() * 20)) % 65536; ids.push(c[j]); }
        expect(ipIdCounters(ids)).toBe(k);
      }
    }
  });
});
