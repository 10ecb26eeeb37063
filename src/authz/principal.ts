// Who is asking. Every front door turns its caller into one of these before it calls a service.
import type { PeerPath } from '../tailscale/index.js';
import type { Zone } from '../zones/index.js';
import type { Credential } from './credential.js';

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
  /** The capability token and holder proof its request carried (hub invokes). */
  credential?: Credential;
  /** An invoke this device relays from its public gateway: the public caller's zone (the public rules apply too). */
  relayedFor?: PublicOrigin;
}

/** Where a public caller came in: its zone (z:public or z:community) and the door. */
export interface PublicOrigin {
  zone: Zone;
  via: 'funnel' | 'tailnet';
}

/** The local user of this device's control socket (mode 0600: the device's owner). */
export interface LocalPrincipal {
  kind: 'local';
  /** Which front door: the control socket, the library API in this process, or MCP over HTTP on loopback (bearer token from the data directory). */
  via: 'control' | 'library' | 'mcp';
  /** A capability token the local caller presents (an agent's, `fcp mcp --token`); without one, this device's grant. */
  credential?: Credential;
}

/** A connector process running on this device, asking its host (host/* methods, egress proxy). */
export interface ConnectorPrincipal {
  kind: 'connector';
  connectorId: string;
  /** Its home zone: the only zone it may act in. */
  zone: Zone;
}

/**
 * A person looking at the web dashboard through `tailscale serve`: identified by the login
 * tailscaled's serve presents for a user's device, or by whois of the forwarded address for a
 * tagged device. `owner` is set by the front door from the configured owner logins and the
 * owner-zone devices; only owners may change anything.
 */
export interface ViewerPrincipal {
  kind: 'viewer';
  /** Tailscale-User-Login, when serve presented one (a user's device). */
  login: string | null;
  /** The tailnet device the request came from, when whois knew it. */
  device: { stableId: string; hostName: string; zones: Zone[] } | null;
  owner: boolean;
}

/**
 * A caller of the public gateway, as tailscaled's serve/Funnel presents it: anyone on the internet
 * through Funnel (z:public, its input highly tainted), a holder of a community key (z:community),
 * or a tailnet device calling the gateway (z:community, named by whois). Only operations their
 * manifests expose are theirs to call.
 */
export interface PublicPrincipal extends PublicOrigin {
  kind: 'public';
  /** The community key's id, when a valid one came with the request. */
  keyId?: string;
  /** The caller's address as serve forwarded it (X-Forwarded-For). */
  source: string;
  /** The tailnet device, for a tailnet caller. */
  device?: { stableId: string; hostName: string };
}

export type Principal = DevicePrincipal | LocalPrincipal | ConnectorPrincipal | ViewerPrincipal | PublicPrincipal;

export const LOCAL_CONTROL: LocalPrincipal = { kind: 'local', via: 'control' };
export const LOCAL_LIBRARY: LocalPrincipal = { kind: 'local', via: 'library' };
export const LOCAL_MCP: LocalPrincipal = { kind: 'local', via: 'mcp' };

/** A short, log-safe description of a principal. */
export function describePrincipal(p: Principal): string {
  if (p.kind === 'connector') return `connector ${p.connectorId} (${p.zone.id})`;
  if (p.kind === 'public') return `public caller ${p.device?.hostName ?? p.source}${p.keyId ? ` (key ${p.keyId})` : ''} via ${p.via} (${p.zone.id})`;
  if (p.kind === 'viewer') return `dashboard viewer ${p.login ?? p.device?.hostName ?? 'unknown'}${p.owner ? ' (owner)' : ''}`;
  return p.kind === 'device' ? `${p.hostName} (${p.zones.map((z) => z.id).join(', ') || 'no zone'}, ${p.path})` : `local ${p.via} user`;
}
