/**
 * A packet's encapsulation as one line, outermost first, e.g.
 * "vxlan vni=4242 198.18.9.1->198.18.9.2" or "mpls label=16 depth=2 / gre key=7 ...".
 * Called once per connection (the tracker keeps the first packet's), never per packet.
 */
import { formatAddress } from './addr.js';
import { PORT_VXLAN } from './tunnel.js';
import { TUNNEL_HAS_ID, TUNNEL_PORT_SHIFT, TunnelKind, TunnelLimit, type TcpPacket } from './packet.js';

function layerText(t: Uint32Array, o: number): string {
  const kind = t[o];
  const id = t[o + 1];
  const hasId = (t[o + 2] & TUNNEL_HAS_ID) !== 0;
  const v = t[o + 3];
  const ends = v === 4 || v === 6
    ? ` ${formatAddress(v, t[o + 4], t[o + 5], t[o + 6], t[o + 7])}->${formatAddress(v, t[o + 8], t[o + 9], t[o + 10], t[o + 11])}`
    : '';
  switch (kind) {
    case TunnelKind.VXLAN: return `vxlan${hasId ? ` vni=${id}` : ''}${ends}`;
    case TunnelKind.GENEVE: return `geneve vni=${id}${ends}`;
    case TunnelKind.GRE: return `gre${hasId ? ` key=${id}` : ''}${ends}`;
    case TunnelKind.PPTP: return `pptp call=${id}${ends}`;
    case TunnelKind.ERSPAN1: return `erspan1${ends}`;
    case TunnelKind.ERSPAN2: return `erspan2 session=${id}${ends}`;
    case TunnelKind.ERSPAN3: return `erspan3 session=${id}${ends}`;
    // Names as ip-link(8) calls the devices: ipip (4 in 4), sit (6 in 4), ip6tnl (any in 6).
    case TunnelKind.IP4: return `${v === 6 ? 'ip4in6' : 'ipip'}${ends}`;
    case TunnelKind.IP6: return `${v === 6 ? 'ip6in6' : 'sit'}${ends}`;
    case TunnelKind.MPLS: return `mpls label=${id} depth=${(t[o + 2] >>> 8) & 0xff}`;
    case TunnelKind.PPPOE: return `pppoe session=${id}`;
    default: return `tunnel ${kind}${ends}`;
  }
}

export function tunnelText(p: TcpPacket): string | null {
  const n = p.tunnelCount;
  if (n === 0) return null;
  const parts: string[] = [];
  for (let i = 0; i < n && i < TunnelLimit.LAYERS; i++) parts.push(layerText(p.tunnels, i * TunnelLimit.WORDS));
  if (n > TunnelLimit.LAYERS) parts.push(`${n - TunnelLimit.LAYERS} more`);
  return parts.join(' / ');
}

/**
 * The UDP port a packet's VXLAN was recognised by: 8472 (Linux's vxlan default dstport, from
 * before IANA assigned 4789) when any recorded VXLAN layer used it, else 4789 (RFC 7348 §5);
 * null without VXLAN. Wireshark decodes UDP 4789 as VXLAN and 8472 only when told
 * (`-d udp.port==8472,vxlan`), so filters on the inner headers depend on it.
 */
export function tunnelVxlanPort(p: TcpPacket): number | null {
  let port: number | null = null;
  for (let i = 0; i < p.tunnelCount && i < TunnelLimit.LAYERS; i++) {
    const o = i * TunnelLimit.WORDS;
    if (p.tunnels[o] !== TunnelKind.VXLAN) continue;
    port = p.tunnels[o + 2] >>> TUNNEL_PORT_SHIFT;
    if (port !== PORT_VXLAN) return port;
  }
  return port;
}
