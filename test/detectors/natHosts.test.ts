import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/detectors/index.js';
import type { Store } from '../../src/flows/store.js';
import { buildReport } from '../../src/report/build.js';
import { fact, pipeline, scenarios, tsharkFields } from '../helpers/pipeline.js';

/**
 * Hosts behind one source address are never over-counted, and connection attempts are
 * counted once across a NAT that moved a retry to another public port and across two
 * capture points.
 *
 * The truth comes from how each lab folder was made, never from tcpdiag:
 *  - true_hosts_behind_nat: the client network namespaces run.sh created (one Linux host
 *    each, own address and veth; all of them reach the server from one address behind the
 *    SNAT, or directly for the single-host folders);
 *  - hosts_distinguishable_from_server_capture: the distinct (IP TTL, timestamp use / one
 *    clock / per-connection offsets) signatures of those hosts' SYNs at the server, each
 *    host's SYNs attributed by ISN from its own client-side capture (a NAT rewrites address
 *    and port, never the sequence number);
 *  - attempts_*: client-log.csv rows (one per connect()) and the client ISNs, followed to
 *    the server capture by ISN whatever public port they arrived from;
 *  - bare_ack_replies_to_syn: tshark's fields, per capture, as analyze.py counts them.
 *
 * Linux 4.10+ gives every connection its own TSval offset (on this 6.18 kernel a hash of
 * the 4-tuple, secure_tcp_ts_off) and every connected socket a random first IP ID
 * (tcp_v4_connect), so neither per-connection clocks nor IP-ID chains can count Linux
 * hosts: at most the hosts the server capture can tell apart may be claimed.
 */

const stores: Store[] = [];
afterAll(() => { for (const s of stores) s.close(); });

type Cap = { file: string; point: string };
const natFindings = (fs: Finding[]): Finding[] => fs.filter((x) => x.detector === 'nat-clients');
const claimed = (fs: Finding[]): number[] => natFindings(fs).map((x) => Number(x.evidence.estimatedHosts));

for (const s of scenarios()) {
  const truth = s.expected.facts?.true_hosts_behind_nat as number | undefined;
  if (truth === undefined) continue;
  const caps = s.expected.captures as Cap[];
  const provable = s.expected.facts.hosts_distinguishable_from_server_capture as number | undefined;

  describe(`samples/${s.name}: ${truth} host${truth === 1 ? '' : 's'} behind one address`, () => {
    const hosts = s.expected.facts.nat_hosts as Record<string, { connections_at_server?: number }> | undefined;
    if (hosts) {
      it('the lab attributed every client SYN at the server to one of its hosts (tshark, by ISN)', () => {
        const file = join(s.dir, caps.find((c) => c.point === 'server')!.file);
        const isns = new Set(tsharkFields(file, 'tcp.flags.syn==1 && tcp.flags.ack==0', ['tcp.seq_raw']).map((r) => r[0]));
        expect(Object.values(hosts).reduce((n, h) => n + (h.connections_at_server ?? 0), 0)).toBe(isns.size);
        expect(Object.values(hosts).filter((h) => (h.connections_at_server ?? 0) > 0)).toHaveLength(truth);
        expect(s.expected.facts.server_syns_from_unknown_isn).toBe(0);
      });
    }
    for (const cap of caps.filter((c) => c.point === 'server')) {
      it(`${cap.file}: no nat-clients finding claims more than the ${truth} host${truth === 1 ? '' : 's'} that were there`, async () => {
        const { store, findings } = await pipeline([join(s.dir, cap.file)]);
        stores.push(store);
        for (const n of claimed(findings)) expect(n).toBeLessThanOrEqual(truth);
        // One host (the incident from one client, every single-client folder): no NAT claim at all.
        if (truth === 1) expect(natFindings(findings)).toHaveLength(0);
      });

      if (provable !== undefined && provable < truth) {
        // More hosts than the capture can tell apart (default Linux hosts look alike; two
        // tcp_timestamps=2 namespaces on one kernel share its clock): claim at most what the
        // signatures prove, and nothing when they prove only one.
        it(`${cap.file}: claims at most the ${provable} host${provable === 1 ? '' : 's'} the server capture can tell apart`, async () => {
          const { store, findings } = await pipeline([join(s.dir, cap.file)]);
          stores.push(store);
          for (const n of claimed(findings)) expect(n).toBeLessThanOrEqual(provable);
          if (provable === 1) expect(natFindings(findings)).toHaveLength(0);
        });
      }
    }
  });
}

/**
 * One attempt per client connect() that sent a SYN, however many public ports or capture
 * points it shows up at; one stale ACK per packet the server sent, seen at one point or two.
 */
const report = (store: Store) => buildReport(store.db, { version: 'test', timeWaitS: 60, portRange: [32768, 60999] });
/** A kernel counter summed over the client namespaces (nstat deltas: client, client2, ...). */
const clientNstat = (e: any, k: string): number => Object.entries(e.nstat as Record<string, Record<string, number>>)
  .filter(([who]) => /^client\d*$/.test(who)).reduce((n, [, d]) => n + (d[k] ?? 0), 0);
const staleRsts = (e: any): number => clientNstat(e, 'TcpOutRsts');
const synRetransNstat = (e: any): number => clientNstat(e, 'TcpExtTCPSynRetrans');

for (const s of scenarios()) {
  const e = s.expected;
  if (e.facts?.attempts_at_server_by_client_isn === undefined) continue;
  const caps = e.captures as Cap[];
  const server = caps.find((c) => c.point === 'server')!;
  const clients = caps.filter((c) => c.point === 'client');
  const moved = e.facts.attempts_on_several_public_ports as number;

  describe(`samples/${s.name}: attempts across the NAT`, () => {
    // expect.soft: every count below is reported, not only the first that differs.
    it(`${server.file}: ${e.facts.attempts_at_server_by_client_isn} attempts (client ISNs), ${moved} of them retried from another public port`, async () => {
      const { store } = await pipeline([join(s.dir, server.file)]);
      stores.push(store);
      const r = report(store);
      expect.soft(r.totals.attempts).toBe(e.facts.attempts_at_server_by_client_isn);
      // A stale ACK is a packet the server sent; each drew one client RST (TcpOutRsts in the
      // client namespaces), however many of them one attempt met on its public ports.
      expect.soft(staleRsts(e)).toBe(fact(e, 'bare_ack_replies_to_syn', server.file));
      // totals.staleAcks counts attempts that drew a stale ACK (one or more of those packets).
      expect.soft(r.totals.staleAcks).toBe(e.facts.attempts_with_stale_ack_at_server);
      // A retry the NAT moved to another public port is still a retransmit of its attempt.
      expect.soft(r.totals.synRetransmits).toBe(e.facts.syn_retransmits_by_client_isn.server_side);
    });

    if (clients.length) {
      it(`${[...clients.map((c) => c.file), server.file].join(' + ')}: the same ${e.facts.attempts_client_connect_calls} connect() calls, counted once`, async () => {
        const { store } = await pipeline([...clients.map((c) => join(s.dir, c.file)), join(s.dir, server.file)]);
        stores.push(store);
        const r = report(store);
        // Every connect() sent a SYN here (attempts_by_client_isn), so attempts = connect() calls.
        expect(e.facts.attempts_by_client_isn).toBe(e.facts.attempts_client_connect_calls);
        expect.soft(r.totals.attempts).toBe(e.facts.attempts_client_connect_calls);
        // The stale ACKs the client captures saw are the server's, not more of them.
        const atClients = clients.reduce((n, c) => n + Number(fact(e, 'bare_ack_replies_to_syn', c.file)), 0);
        expect(atClients).toBe(fact(e, 'bare_ack_replies_to_syn', server.file));
        expect.soft(r.totals.staleAcks).toBe(e.facts.attempts_with_stale_ack_at_server);
        // SYN retransmits once, as the clients sent them (TcpExtTCPSynRetrans in their namespaces).
        expect(synRetransNstat(e)).toBe(e.facts.syn_retransmits_by_client_isn.client_side);
        expect.soft(r.totals.synRetransmits).toBe(e.facts.syn_retransmits_by_client_isn.client_side);
      });
    }
  });
}

/**
 * One host's traffic captured at two points (client side and server side, no NAT between):
 * every attempt, stale ACK and SYN retransmit once. The attempts are the client capture's
 * SYN-bearing connections (every SYN leaves through it; SYNs dropped on the path never reach
 * the server capture); the SYN retransmits are what the client kernel counted
 * (TcpExtTCPSynRetrans); the stale ACKs are the server's packets (each answered by one
 * client RST, TcpOutRsts), seen once at each point.
 */
for (const s of scenarios()) {
  const e = s.expected;
  if (e.facts?.true_hosts_behind_nat !== 1 || e.addresses?.nat_public !== undefined) continue;
  const caps = e.captures as Cap[];
  const client = caps.find((c) => c.point === 'client');
  const server = caps.find((c) => c.point === 'server');
  if (!client || !server) continue;
  describe(`samples/${s.name}: one host at two points`, () => {
    it(`${client.file} + ${server.file}: ${fact(e, 'connections', client.file)} attempts, ${fact(e, 'syn_retransmits', client.file)} SYN retransmits, ${fact(e, 'bare_ack_replies_to_syn', server.file)} stale ACKs, once each`, async () => {
      const { store } = await pipeline([join(s.dir, client.file), join(s.dir, server.file)]);
      stores.push(store);
      const r = report(store);
      expect(fact(e, 'syn_retransmits', client.file)).toBe(synRetransNstat(e));
      expect(fact(e, 'bare_ack_replies_to_syn', client.file)).toBe(fact(e, 'bare_ack_replies_to_syn', server.file));
      expect.soft(r.totals.attempts).toBe(fact(e, 'connections', client.file));
      expect.soft(r.totals.synRetransmits).toBe(synRetransNstat(e));
      expect.soft(r.totals.staleAcks).toBe(fact(e, 'bare_ack_replies_to_syn', server.file));
    });
  });
}
