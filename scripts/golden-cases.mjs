// The captures whose reports are kept as golden files in samples/<scenario>/report.{txt,md,json},
// compared by test/report/golden.test.ts and rewritten by `npm run golden` after a deliberate change.
export const GOLDEN_CASES = [
  { dir: 'samples/tw-stale-ack-ts-stripped', files: ['server.pcap'], name: 'report' },
  { dir: 'samples/tw-stale-ack-ts-stripped', files: ['client.pcap', 'server.pcap'], name: 'report-two-point' },
  { dir: 'samples/tw-stale-ack-ts-stripped-ipv6', files: ['server.pcap'], name: 'report' },
  { dir: 'samples/tw-reuse-ts-kept', files: ['server.pcap'], name: 'report' },
  { dir: 'samples/tw-reuse-ts-kept-same-ms', files: ['server.pcap'], name: 'report' },
  { dir: 'samples/client-closes-first', files: ['server.pcap'], name: 'report' },
  { dir: 'samples/refused', files: ['client.pcap'], name: 'report' },
  { dir: 'samples/syn-drop-gateway', files: ['client.pcapng'], name: 'report' },
  { dir: 'samples/mid-connection-start', files: ['server.pcap'], name: 'report' },
  { dir: 'samples/listen-overflow', files: ['server.pcap'], name: 'report' },
  { dir: 'samples/snat-port-pool', files: ['server.pcap'], name: 'report' },
  { dir: 'samples/nat-clients-ts2', files: ['server.pcap'], name: 'report' },
  { dir: 'samples/paws-drop-crafted', files: ['paws-drop-crafted.pcap'], name: 'report' },
  { dir: 'samples/two-point-mss-clamp', files: ['client.pcap', 'server.pcap'], name: 'report-two-point' },
];
export const GOLDEN_FORMATS = [['text', 'txt'], ['md', 'md'], ['json', 'json']];
