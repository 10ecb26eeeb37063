// Who is calling the gateway, as tailscaled's serve/Funnel proxy presents requests (it deletes
// client-sent Tailscale-* headers, sets `Tailscale-Funnel-Request: ?1` on Funnel requests and
// X-Forwarded-For on all; ipn/ipnlocal/serve.go). Funnel: anyone on the internet, z:public, or
// z:community with a valid community key. Not Funnel: a tailnet device, named by whois of the
// forwarded address, a community caller. A request serve did not forward (no X-Forwarded-For)
// comes from this machine itself. Nothing here decides what the caller may do: authorize() does.
import type { IncomingHttpHeaders } from 'node:http';
import type { PublicPrincipal } from '../authz/index.js';
import { forwardedFor, isFunnelRequest, type WhoIs } from '../tailscale/index.js';
import type { Zone } from '../zones/index.js';
import { GatewayError } from './errors.js';

export const API_KEY_HEADER = 'x-fcp-api-key';

export interface ClassifyDeps {
  identifyKey(presented: string): Promise<string | null>;
  callerZone(community: boolean): Zone;
  whois(ip: string): Promise<WhoIs | null>;
  self(): { stableId: string; hostName: string; address: string };
}

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/** Whether a socket peer address is this machine (IPv4 127/8, ::1, or v4-mapped loopback). */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

export async function classify(headers: IncomingHttpHeaders, d: ClassifyDeps): Promise<PublicPrincipal> {
  const presented = one(headers[API_KEY_HEADER]);
  let keyId: string | undefined;
  if (presented !== undefined) {
    // A wrong or revoked key is refused, not quietly downgraded: its holder should know.
    keyId = (await d.identifyKey(presented)) ?? undefined;
    if (!keyId) throw new GatewayError('GATEWAY_BAD_KEY', 'the community key in X-FCP-API-Key is not valid (revoked, or mistyped); ask for a new one');
  }
  const source = forwardedFor(headers);
  if (isFunnelRequest(headers)) {
    if (!source) throw new GatewayError('GATEWAY_UNIDENTIFIED', 'a Funnel request without its forwarded address');
    return { kind: 'public', zone: d.callerZone(keyId !== undefined), via: 'funnel', source, ...(keyId ? { keyId } : {}) };
  }
  if (!source) {
    const self = d.self();
    return { kind: 'public', zone: d.callerZone(true), via: 'tailnet', source: self.address, device: { stableId: self.stableId, hostName: self.hostName }, ...(keyId ? { keyId } : {}) };
  }
  const who = await d.whois(source).catch(() => null);
  if (!who) throw new GatewayError('GATEWAY_UNIDENTIFIED', 'this request is neither from Funnel nor from a device of the tailnet');
  return { kind: 'public', zone: d.callerZone(true), via: 'tailnet', source, device: { stableId: who.node.stableId, hostName: who.node.hostName }, ...(keyId ? { keyId } : {}) };
}
