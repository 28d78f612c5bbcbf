/**
 * connections.tunnel_vxlan_port: the UDP port VXLAN came on, 8472 when any VXLAN layer used
 * Linux's port. The report prints `tshark -d udp.port==8472,vxlan` next to a filter on the inner
 * headers exactly when the port is not 4789, so the rule is checked against tshark itself: on
 * each crafted frame (either end on either port, VXLAN in VXLAN), tshark without the decode-as
 * dissects the inner TCP exactly when the stored port is 4789, and with it always.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasTshark, pipeline } from '../helpers/pipeline.js';
import { be16, be32, bytes, ether, ipv4Hdr, pcapFile, tcpHdr } from './build.js';

const TMP = mkdtempSync(join(tmpdir(), 'tcpdiag-vxlanport-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

const udp = (sport: number, dport: number, payload: Uint8Array): Uint8Array => bytes(be16(sport), be16(dport), be16(8 + payload.length), [0, 0], payload);
/** RFC 7348 §5: flags with I set, 24 reserved bits, the VNI, 8 reserved bits; then an Ethernet frame. */
const vxlan = (vni: number, inner: Uint8Array): Uint8Array => bytes([0x08, 0, 0, 0], be32(vni << 8), inner);
const overUdp = (sport: number, dport: number, vni: number, inner: Uint8Array, src: number, dst: number): Uint8Array =>
  ether(0x0800, ipv4Hdr(udp(sport, dport, vxlan(vni, inner)), { proto: 17, src, dst }));
/** A SYN from its own client port, so that every frame is one connection. */
const syn = (k: number): Uint8Array => ether(0x0800, ipv4Hdr(tcpHdr({ sport: 41000 + k, dport: 3306 }), { src: 0xc6130a01, dst: 0xc6130a02 }));

const U1 = 0xc6120901, U2 = 0xc6120902;
const CASES: { name: string; frame: (k: number) => Uint8Array; port: number }[] = [
  { name: 'to 8472 (Linux default)', frame: (k) => overUdp(40001, 8472, 77, syn(k), U1, U2), port: 8472 },
  { name: 'to 4789 (IANA)', frame: (k) => overUdp(40001, 4789, 42, syn(k), U1, U2), port: 4789 },
  { name: 'from 8472', frame: (k) => overUdp(8472, 40001, 77, syn(k), U2, U1), port: 8472 },
  { name: 'from 4789 to 8472', frame: (k) => overUdp(4789, 8472, 77, syn(k), U1, U2), port: 4789 },
  { name: 'from 8472 to 4789', frame: (k) => overUdp(8472, 4789, 77, syn(k), U1, U2), port: 4789 },
  { name: '4789 inside 8472', frame: (k) => overUdp(40001, 8472, 77, overUdp(40002, 4789, 42, syn(k), 0xc6120a01, 0xc6120a02), U1, U2), port: 8472 },
  { name: '8472 inside 4789', frame: (k) => overUdp(40001, 4789, 42, overUdp(40002, 8472, 77, syn(k), 0xc6120a01, 0xc6120a02), U1, U2), port: 8472 },
];

/** Per frame, whether tshark dissected a TCP header in it. */
function tcpDissected(file: string, extra: string[]): boolean[] {
  const out = execFileSync('tshark', ['-r', file, '-n', ...extra, '-T', 'fields', '-e', 'tcp.srcport'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out.split('\n').slice(0, -1).map((l) => l !== '');
}

describe.skipIf(!hasTshark())('tunnel_vxlan_port decides, as tshark does, whether a filter on the inner headers needs the decode-as', () => {
  it('every combination of ports', async () => {
    const file = join(TMP, 'vxlan-ports.pcap');
    writeFileSync(file, pcapFile(CASES.map((c, k) => c.frame(k))));
    const { store } = await pipeline([file]);
    try {
      const rows = store.db.prepare('SELECT first_frame, client_port, tunnel_vxlan_port FROM connections ORDER BY first_frame').all() as { first_frame: number; client_port: number; tunnel_vxlan_port: number }[];
      expect(rows.map((r) => r.client_port)).toEqual(CASES.map((_, k) => 41000 + k));
      const plain = tcpDissected(file, []);
      const told = tcpDissected(file, ['-d', 'udp.port==8472,vxlan']);
      expect(told).toEqual(CASES.map(() => true));
      CASES.forEach((c, k) => {
        expect([c.name, rows[k].tunnel_vxlan_port]).toEqual([c.name, c.port]);
        expect([c.name, plain[k]]).toEqual([c.name, rows[k].tunnel_vxlan_port === 4789]);
      });
    } finally { store.close(); }
  });
});
