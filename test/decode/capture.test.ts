/** readCapture / readCaptureBytes: formats, byte orders, chunking, pcapng blocks, gzip. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readCapture, readCaptureBytes, type CaptureInfo } from '../../src/decode/capture.js';
import { bytes, epb, ether, idb, ipv4Hdr, le32, pcapFile, shb, spb, synFrame, tcpHdr, block } from './build.js';
import { corpus, flatten, ROOT, type Flat } from './helpers.js';

const SAMPLES = join(ROOT, 'samples');

async function collect(b: Uint8Array, chunkBytes?: number): Promise<[CaptureInfo, Flat[]]> {
  const rows: Flat[] = [];
  const info = await readCaptureBytes(b, (p) => { rows.push(flatten(p)); }, { chunkBytes });
  return [info, rows];
}

describe('classic pcap', () => {
  const frames = [synFrame(1000), synFrame(1001), ether(0x0806, new Uint8Array(28)), synFrame(1002)];
  for (const le of [true, false]) {
    for (const ns of [false, true]) {
      it(`${le ? 'little' : 'big'} endian, ${ns ? 'ns' : 'µs'}`, async () => {
        const f = pcapFile(frames, { le, ns, ts: [[1700000000, 123456], [1700000001, 999999], [1700000002, 0], [1700000003, 5]] });
        const [info, rows] = await collect(f);
        expect(info.error).toBeNull();
        expect([info.format, info.byteOrders, info.tsResolution, info.frames, info.tcpPackets]).toEqual(['pcap', [le ? 'le' : 'be'], ns ? 'ns' : 'us', 4, 3]);
        expect(info.skipped).toEqual({ 'non-ip': 1 });
        expect(rows.map((r) => r.frame)).toEqual([1, 2, 4]);
        expect(rows[0].time).toBe(ns ? '1700000000.000123456' : '1700000000.123456000');
        expect(rows.map((r) => r.srcPort)).toEqual([1000, 1001, 1002]);
        expect(info.firstTsUsec).toBe(1700000000e6 + (ns ? 123 : 123456));
        expect(info.lastTsUsec).toBe(1700000003e6 + (ns ? 0 : 5));
      });
    }
  }
  it('snaplen-cut records are decoded as far as the bytes go', async () => {
    const full = ether(0x0800, ipv4Hdr(tcpHdr({ opts: [2, 4, 5, 0xb4], payload: 100 })));
    const [info, rows] = await collect(pcapFile([full], { capLens: [54 + 2] }));
    expect(info.truncatedPackets).toBe(1);
    expect(rows).toHaveLength(1);
    expect(rows[0].truncated).toBe(true);
    expect(rows[0].len).toBe(100);
    expect(rows[0].mss).toBe(-1);
  });
  it('records split across chunks give the same packets for every chunk size', async () => {
    const f = readFileSync(corpus('suricata-tcp-fastopen-01.pcap'));
    const [, whole] = await collect(f);
    for (const chunk of [64, 65, 100, 333, 1024, 4099]) {
      const [info, rows] = await collect(f, chunk);
      expect(info.error).toBeNull();
      expect(rows).toEqual(whole);
    }
  });
  it('a record larger than the chunk grows it', async () => {
    const big = ether(0x0800, ipv4Hdr(tcpHdr({ payload: 60000 })));
    const [info, rows] = await collect(pcapFile([big, synFrame()]), 1024);
    expect(info.error).toBeNull();
    expect(rows.map((r) => r.len)).toEqual([60000, 0]);
  });
  it('tolerates FCS bits in the link-type field (as tshark does)', async () => {
    const info = await readCapture(corpus('malformed/tcpdump-heapoverflow-tcp_print.pcap'), () => {});
    expect([info.error, info.frames]).toEqual([null, 1]);
  });
  it('other link types are counted, not fatal', async () => {
    const info = await readCapture(corpus('tcpdump-LINKTYPE_PKTAP.pcap'), () => {});
    expect([info.error, info.frames, info.skipped]).toEqual([null, 1, { 'linktype:258': 1 }]);
  });
});

describe('pcapng', () => {
  it('several sections of both byte orders; ids restart per section; SPB uses interface 0', async () => {
    const f = bytes(
      shb(true), idb(1, { le: true }), epb(0, 0, 5_000_000, synFrame(1), true),
      shb(false), idb(0x65, { le: false }), idb(1, { le: false, tsresol: 9 }),
      epb(1, 0x17, 0x4876e800, synFrame(2), false), spb(ipv4Hdr(tcpHdr({ sport: 3 })), false),
      block(4, [0, 0, 0, 0], false), // NRB: skipped
      block(0x0bad, [1, 2, 3, 4], false), // custom block: a frame of its own in Wireshark
      shb(true), idb(1, { le: true, tsresol: 0x80 | 20, tsoffset: [0, 100] }), epb(0, 0, 3 << 19, synFrame(4), true),
    );
    const [info, rows] = await collect(f);
    expect(info.error).toBeNull();
    expect(info.byteOrders).toEqual(['le', 'be', 'le']);
    expect(info.interfaces.map((i) => [i.section, i.id, i.linkType, i.tsResolution])).toEqual([
      [0, 0, 1, '10^-6'], [1, 0, 101, '10^-6'], [1, 1, 1, '10^-9'], [2, 0, 1, '2^-20'],
    ]);
    expect(rows.map((r) => [r.frame, r.srcPort, r.time])).toEqual([
      [1, 1, '5.000000000'],
      [2, 2, '100.000000000'], // 0x17_4876e800 ns = 100 s
      [3, 3, '0.000000000'], // SPB: no timestamp
      [5, 4, '101.500000000'], // 1.5 s in 2^-20 units + if_tsoffset 100
    ]);
    expect(info.frames).toBe(5);
    expect(info.skipped).toEqual({ 'non-packet-block': 1 });
  });
  it('the big-endian tsresol-9 copy decodes like the classic pcap it came from', async () => {
    const a: Flat[] = [];
    const b: Flat[] = [];
    await readCapture(corpus('tcpdump-ssh-synack-ts-nop-run.pcap'), (p) => { a.push(flatten(p)); });
    const info = await readCapture(corpus('derived-tcpdump-ssh-be-tsresol9.pcapng'), (p) => { b.push(flatten(p)); });
    expect(info.byteOrders).toEqual(['be']);
    expect(b).toEqual(a); // µs source: the ns copy has the same times
    expect(a).toHaveLength(54);
    expect(a[1].nopRunMax).toBe(11);
  });
  it('real multi-section file: 11 frames as Wireshark numbers them', async () => {
    const info = await readCapture(corpus('pcapngtest-test202-le-multisection.pcapng'), () => {});
    expect([info.error, info.frames, info.byteOrders, info.interfaces.length]).toEqual([null, 11, ['le', 'be', 'le'], 5]);
  });
  it('a packet for an interface that does not exist is malformed', async () => {
    const [info] = await collect(bytes(shb(), idb(1), epb(1, 0, 0, synFrame())));
    expect(info.error?.kind).toBe('malformed');
    expect(info.error?.detail).toMatch(/interface 1/);
  });
  it('an empty section is zero packets, not an error', async () => {
    const info = await readCapture(corpus('tcpdump-empty.pcapng'), () => {});
    expect([info.error, info.frames, info.format]).toEqual([null, 0, 'pcapng']);
  });
  void le32;
});

describe('compression', () => {
  it('gzip by magic, not by name, with the same packets', async () => {
    const plain = readFileSync(corpus('zeek-tcp-options.pcap'));
    const [, a] = await collect(plain);
    const [info, b] = await collect(gzipSync(plain), 100);
    expect(info.compression).toBe('gzip');
    expect(b).toEqual(a);
    const gz = await readCapture(corpus('zeek-ftp-ftp-many-port-expected.pcap.gz'), () => {});
    expect([gz.error, gz.compression, gz.tcpPackets]).toEqual([null, 'gzip', 1008]);
  });
  it('a cut gzip file delivers the whole records before the cut', async () => {
    const plain = readFileSync(corpus('suricata-tcp-fastopen-01.pcap'));
    const gz = gzipSync(plain);
    const [info, rows] = await collect(gz.subarray(0, gz.length - 300));
    expect(info.error?.kind).toBe('truncated');
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThan(16);
  });
  it('zstd by magic: the same packets as the file zstd -d gives, for every chunk size', async () => {
    const zst = corpus('pcapplusplus-pcapng-example.pcapng.zst');
    const [, plain] = await collect(execFileSync('zstd', ['-dc', zst]));
    expect(plain.length).toBe(159);
    const info = await readCapture(zst, () => {});
    expect([info.error, info.compression, info.tcpPackets]).toEqual([null, 'zstd', 159]);
    // A capture of several zstd blocks (at most 128 KiB each), compressed by the zstd tool.
    const big = readFileSync(join(SAMPLES, 'tw-stale-ack-ts-stripped/server.pcap'));
    const [, want] = await collect(big);
    const z = execFileSync('zstd', ['-c', '-3'], { input: big });
    for (const chunk of [100, 4099, 1 << 20]) {
      const [i, rows] = await collect(z, chunk);
      expect([i.error, i.compression]).toEqual([null, 'zstd']);
      expect(rows).toEqual(want);
    }
  });
  it('a cut or corrupt zstd file: the records before the damage, one error with an offset', async () => {
    const big = readFileSync(join(SAMPLES, 'tw-stale-ack-ts-stripped/server.pcap'));
    const z = execFileSync('zstd', ['-c', '-3'], { input: big });
    const [, whole] = await collect(big);
    const [cut, rows] = await collect(z.subarray(0, Math.floor(z.length * 0.8)));
    expect(cut.error?.kind).toBe('truncated');
    expect(cut.error?.detail).toMatch(/zstd data ends early/);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThan(whole.length);
    expect(rows).toEqual(whole.slice(0, rows.length));
    // The error names where the first record not delivered starts in the decompressed capture.
    let at = 24;
    for (let i = 0; i < rows.length; i++) at += 16 + big.readUInt32LE(at + 8);
    expect(cut.error?.byteOffset).toBe(at);
    // A damaged first block header (after the magic and the frame header): its size field now
    // claims more than the file holds (truncated) or its type is invalid (malformed).
    const bad = Buffer.from(z);
    bad.fill(0xff, 6, 12);
    const [broken, none] = await collect(bad);
    expect(['malformed', 'truncated']).toContain(broken.error?.kind);
    expect(broken.error?.detail).toMatch(/zstd/);
    expect(none).toEqual([]);
  });
});
