import { describe, expect, it } from 'vitest';
import { CLIENT, connState, History, NONE, SERVER, type StateFacts } from '../../src/flows/history.js';

const base: StateFacts = {
  sawSyn: true, sawSynAck: true, sawClientAfterSynAck: true, sawServerPkt: true,
  clientFin: true, serverFin: true, decidingRst: NONE,
};

// Meanings from Zeek's conn.log documentation (scripts/base/protocols/conn/main.zeek).
describe('connState (Zeek conn_state)', () => {
  it.each<[string, Partial<StateFacts>]>([
    ['SF', {}],
    ['S0', { sawSynAck: false, sawServerPkt: false, sawClientAfterSynAck: false, clientFin: false, serverFin: false }],
    ['REJ', { sawSynAck: false, clientFin: false, serverFin: false, decidingRst: SERVER }],
    ['RSTOS0', { sawSynAck: false, sawServerPkt: false, clientFin: false, serverFin: false, decidingRst: CLIENT }],
    ['SH', { sawSynAck: false, sawServerPkt: false, serverFin: false }],
    ['S1', { clientFin: false, serverFin: false }],
    ['S2', { serverFin: false }],
    ['S3', { clientFin: false }],
    ['RSTO', { decidingRst: CLIENT }],
    ['RSTR', { decidingRst: SERVER }],
    ['RSTRH', { sawSyn: false, sawClientAfterSynAck: false, decidingRst: SERVER, clientFin: false, serverFin: false }],
    ['SHR', { sawSyn: false, sawClientAfterSynAck: false, clientFin: false }],
    ['OTH', { sawSyn: false, sawSynAck: false }],
  ])('%s', (state, over) => {
    expect(connState({ ...base, ...over })).toBe(state);
  });
});

describe('History letters', () => {
  it('records a normal connection as Zeek does (ShADadFf)', () => {
    const h = new History();
    h.withSeq('S', true, 100);
    h.once('H', false);
    h.once('A', true);
    h.once('D', true);
    h.once('A', false);
    h.once('D', false);
    h.withSeq('F', true, 200);
    h.withSeq('F', false, 300);
    expect(h.text).toBe('ShADadFf');
  });
  it('repeats S only for a new sequence number, T at 1, 10, 100', () => {
    const h = new History();
    h.withSeq('S', true, 1);
    h.withSeq('S', true, 1);
    h.withSeq('S', true, 2);
    for (let i = 0; i < 100; i++) h.counted('T', false);
    expect(h.text).toBe('SSttt');
  });
});
