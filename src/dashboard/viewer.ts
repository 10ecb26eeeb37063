// Who is looking: the viewer as tailscaled's `tailscale serve` presents them. Serve proxies a
// tailnet request to this loopback server after deleting any client-sent Tailscale-User-*
// headers; for a user's (untagged) device it adds Tailscale-User-Login/-Name, for a tagged device
// it adds none, and it always sets X-Forwarded-For to the caller's tailnet address (ipn/ipnlocal/
// serve.go: addTailscaleIdentityHeaders, addProxyForwardedHeaders). So: the login when there is
// one, and whois of the forwarded address for the device either way.
import type { IncomingHttpHeaders } from 'node:http';
import type { ViewerPrincipal } from '../authz/index.js';
import { forwardedFor, type WhoIs } from '../tailscale/index.js';
import type { Zone } from '../zones/index.js';

export interface ViewerDeps {
  whois: (ip: string) => Promise<WhoIs | null>;
  zonesForTags: (tags: string[]) => Zone[];
  /** This device, the viewer of a request serve did not forward (a browser on this machine). */
  self: () => { stableId: string; hostName: string; tags: string[] };
  /** Logins that own the mesh (config dashboard.owners); owner-zone devices are owners too. */
  ownerLogins: readonly string[];
}

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

export { forwardedFor };

export async function identifyViewer(headers: IncomingHttpHeaders, deps: ViewerDeps): Promise<ViewerPrincipal> {
  const login = one(headers['tailscale-user-login'])?.trim() || null;
  const ip = forwardedFor(headers);
  let device: ViewerPrincipal['device'] = null;
  if (!ip && login === null) {
    // Not forwarded by serve: a browser on this very machine. The server listens on loopback
    // only, and anyone who can reach loopback could add serve's headers anyway, so this is
    // this device's own user, not a stranger.
    const self = deps.self();
    device = { stableId: self.stableId, hostName: self.hostName, zones: deps.zonesForTags(self.tags) };
  } else if (ip) {
    const who = await deps.whois(ip).catch(() => null);
    if (who) device = { stableId: who.node.stableId, hostName: who.node.hostName, zones: deps.zonesForTags(who.node.tags) };
  }
  const owner = (login !== null && deps.ownerLogins.includes(login)) || (device !== null && device.zones.some((z) => z.id === 'z:owner'));
  return { kind: 'viewer', login, device, owner };
}
