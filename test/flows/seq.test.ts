import { describe, expect, it } from 'vitest';
import { seqAdd, seqAfter, seqBefore, seqDiff } from '../../src/flows/seq.js';
import { aLooksLikeServer } from '../../src/flows/roles.js';
import { parseTupleFilter } from '../../src/flows/query.js';

describe('modulo-2^32 sequence space (RFC 9293 §3.4)', () => {
  it('compares across the wrap', () => {
    expect(seqBefore(0xfffffff0, 0x10)).toBe(true);
    expect(seqAfter(0x10, 0xfffffff0)).toBe(true);
    expect(seqBefore(5, 5)).toBe(false);
    expect(seqAdd(0xffffffff, 2)).toBe(1);
    expect(seqDiff(0xfffffff0, 0x10)).toBe(0x20);
  });
});

describe('role heuristics for connections seen without SYN', () => {
  it('prefers well-known, then non-ephemeral, then lower ports as server', () => {
    expect(aLooksLikeServer(443, 51000)).toBe(true);
    expect(aLooksLikeServer(51000, 22)).toBe(false);
    expect(aLooksLikeServer(3306, 40000)).toBe(true);
    expect(aLooksLikeServer(8080, 9090)).toBe(true);
  });
});

describe('--tuple filter', () => {
  it('parses ports, IPv4 and bracketed IPv6 endpoints', () => {
    expect(parseTupleFilter('3306')).toEqual({ addr: null, port: 3306 });
    expect(parseTupleFilter('198.19.2.2:3306')).toEqual({ addr: '198.19.2.2', port: 3306 });
    expect(parseTupleFilter('198.19.2.2')).toEqual({ addr: '198.19.2.2', port: null });
    expect(parseTupleFilter('[fd19:2::2]:3306')).toEqual({ addr: 'fd19:2::2', port: 3306 });
    expect(parseTupleFilter('fd19:2::2')).toEqual({ addr: 'fd19:2::2', port: null });
  });
});
