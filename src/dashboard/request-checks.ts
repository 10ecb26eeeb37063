// The checks every dashboard request passes before any route, after tailscaled's LocalAPI
// (ipn/localapi/localapi.go): never through Funnel; a Host that names this device (no DNS
// rebinding); and for a state-changing request, an Origin equal to the Host it was sent to,
// no cross-site Sec-Fetch-Site, and the viewer's CSRF token in a header (a form or image on
// another site can send neither).
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { DashboardError } from './errors.js';

export const CSRF_HEADER = 'x-fcp-csrf';

export interface HostNames {
  /** This device's tailnet host name (MagicDNS names start with it) and address. */
  hostName: string;
  address: string;
}

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/** The host part of a Host header ("name:port", "[v6]:port"), lower case. */
function hostPart(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  return colon >= 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
}

export function validHost(host: string | undefined, names: HostNames): boolean {
  if (!host) return false;
  const h = hostPart(host);
  const name = names.hostName.toLowerCase();
  return h === 'localhost' || h === '127.0.0.1' || h === '[::1]' || h === names.address || h === name || h.startsWith(`${name}.`);
}

export function refuseFunnel(headers: IncomingHttpHeaders): void {
  // Serve marks requests that came in over Funnel; the dashboard is for the tailnet only.
  if (one(headers['tailscale-funnel-request']) !== undefined) {
    throw new DashboardError('DASHBOARD_FUNNEL_REFUSED', 'the dashboard is not served over Funnel; open it from a device of your tailnet');
  }
}

export function checkHost(headers: IncomingHttpHeaders, names: HostNames): void {
  if (!validHost(one(headers.host), names)) throw new DashboardError('DASHBOARD_HOST_REFUSED', `the dashboard answers only for ${names.hostName}, not for host ${JSON.stringify(one(headers.host) ?? '')}`);
}

/** The viewer's CSRF token: a keyed hash of who they are, so it works only for them. */
export function csrfToken(secret: Uint8Array, viewerKey: string): string {
  return createHmac('sha256', secret).update(viewerKey).digest('base64url');
}

export function checkStateChange(headers: IncomingHttpHeaders, secret: Uint8Array, viewerKey: string): void {
  const origin = one(headers.origin);
  const host = one(headers.host);
  let originHost: string | null = null;
  try {
    const u = origin ? new URL(origin) : null;
    if (u && (u.protocol === 'http:' || u.protocol === 'https:')) originHost = u.host;
  } catch {
    originHost = null;
  }
  if (!originHost || !host || originHost.toLowerCase() !== host.toLowerCase()) {
    throw new DashboardError('DASHBOARD_ORIGIN_REFUSED', `a change needs an Origin of this dashboard (got ${origin === undefined ? 'none' : JSON.stringify(origin)})`);
  }
  const site = one(headers['sec-fetch-site']);
  if (site !== undefined && site !== 'same-origin') throw new DashboardError('DASHBOARD_ORIGIN_REFUSED', `a change must come from the dashboard itself (Sec-Fetch-Site: ${site})`);
  const given = Buffer.from(one(headers[CSRF_HEADER]) ?? '');
  const want = Buffer.from(csrfToken(secret, viewerKey));
  if (given.length !== want.length || !timingSafeEqual(given, want)) throw new DashboardError('DASHBOARD_CSRF_REFUSED', 'a change needs the CSRF token of this dashboard page; reload it');
}
