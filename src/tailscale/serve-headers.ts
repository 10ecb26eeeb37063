// Reading what tailscaled's serve/Funnel proxy adds to a request it forwards to a loopback
// backend (ipn/ipnlocal/serve.go: addProxyForwardedHeaders, addTailscaleIdentityHeaders).
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/** The caller's address serve forwarded: the last hop it appended (serve is the only proxy in front). */
export function forwardedFor(headers: IncomingHttpHeaders): string | null {
  const raw = one(headers['x-forwarded-for']);
  if (!raw) return null;
  const last = raw.split(',').map((s) => s.trim()).filter(Boolean).pop();
  return last && isIP(last) ? last : null;
}

/** Whether the request came in over Funnel from the internet (serve sets exactly `?1`, after deleting any client copy). */
export function isFunnelRequest(headers: IncomingHttpHeaders): boolean {
  return one(headers['tailscale-funnel-request']) === '?1';
}
