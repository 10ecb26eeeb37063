// Who is asking. Every front door turns its caller into one of these before it calls a service.
import type { PeerPath } from '../tailscale/index.js';
import type { Zone } from '../zones/index.js';

/** A tailnet device, identified by LocalAPI whois on its connection; its path is read per request. */
export interface DevicePrincipal {
  kind: 'device';
  stableId: string;
  hostName: string;
  address: string;
  tags: string[];
  /** Zones its tags give it (known zones only). */
  zones: Zone[];
  /** Its current path as the peer model reports it, when the request arrived. */
  path: PeerPath;
}

/** The local user of this device's control socket (mode 0600: the device's owner). */
export interface LocalPrincipal {
  kind: 'local';
  /** Which front door: the control socket, or the library API in this process. */
  via: 'control' | 'library';
}

export type Principal = DevicePrincipal | LocalPrincipal;

export const LOCAL_CONTROL: LocalPrincipal = { kind: 'local', via: 'control' };
export const LOCAL_LIBRARY: LocalPrincipal = { kind: 'local', via: 'library' };

/** A short, log-safe description of a principal. */
export function describePrincipal(p: Principal): string {
  return p.kind === 'device' ? `${p.hostName} (${p.zones.map((z) => z.id).join(', ') || 'no zone'}, ${p.path})` : `local ${p.via} user`;
}
