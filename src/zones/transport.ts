// Which transports may carry a zone's traffic, by confidentiality level:
// direct and peer-relay paths carry every zone (end-to-end WireGuard between
// tailnet nodes); DERP carries z:private and below (never z:owner); Funnel
// carries z:community and below; the open internet z:public only.
import type { Peer } from '../tailscale/index.js';
import { COMMUNITY_CONFIDENTIALITY, PRIVATE_CONFIDENTIALITY, PUBLIC_CONFIDENTIALITY, type Zone } from './zone.js';

export type Transport = 'direct' | 'peer-relay' | 'derp' | 'funnel' | 'internet';
export const TRANSPORTS: readonly Transport[] = ['direct', 'peer-relay', 'derp', 'funnel', 'internet'];

const CEILING: Record<Transport, number> = {
  direct: Number.POSITIVE_INFINITY,
  'peer-relay': Number.POSITIVE_INFINITY,
  derp: PRIVATE_CONFIDENTIALITY,
  funnel: COMMUNITY_CONFIDENTIALITY,
  internet: PUBLIC_CONFIDENTIALITY,
};

export function mayUseTransport(zone: Zone, t: Transport): boolean {
  const ceiling = CEILING[t];
  if (ceiling === undefined) return false;
  return zone.confidentiality <= ceiling;
}

/**
 * May traffic of `zone` go to this peer right now, over the path the live
 * peer model reports? Offline peers never. (Whether the peer may hold the
 * data at all is mayHold's question.)
 */
export function mayUsePeer(zone: Zone, peer: Pick<Peer, 'path'>): boolean {
  if (peer.path === 'offline') return false;
  return mayUseTransport(zone, peer.path);
}
