// Edits of tailscaled's ServeConfig (ipn/serve.go) for one HTTPS host:port that proxies to a
// loopback server: what `tailscale serve --https=PORT http://127.0.0.1:N` and `tailscale funnel`
// write. The config is kept whole as JSON, so entries this project did not make (other ports,
// other handlers, Services, fields of a newer tailscaled) survive every edit.
import type { JsonObject, JsonValue } from './json.js';

/** One published web endpoint: https://host:port/ proxied to `proxy`; `funnel` opens it to the internet. */
export interface ProxyEndpoint {
  /** The device's MagicDNS name, no trailing dot. */
  host: string;
  /** 443, 8443 or 10000 for Funnel; any port for serve. */
  port: number;
  /** The loopback URL it proxies to. */
  proxy: string;
  funnel: boolean;
}

/** What the config says about host:port now. */
export interface EndpointState {
  /** The proxy target of its "/" handler, when there is one. */
  proxy: string | null;
  /** Whether Funnel is allowed on it. */
  funnel: boolean;
}

/** The ports Funnel accepts (tailscale funnel --help; ipn/serve.go). */
export const FUNNEL_PORTS: readonly number[] = [443, 8443, 10000];

const obj = (v: JsonValue | undefined): JsonObject | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : undefined);

function hostPort(host: string, port: number): string {
  return `${host.replace(/\.$/, '')}:${port}`;
}

function copy(config: JsonObject | null): JsonObject {
  return config ? (structuredClone(config) as JsonObject) : {};
}

/** Removes an emptied map so the config stays as tailscaled writes it (omitempty). */
function dropIfEmpty(config: JsonObject, key: string): void {
  const m = obj(config[key]);
  if (m && Object.keys(m).length === 0) delete config[key];
}

export function endpointState(config: JsonObject | null, host: string, port: number): EndpointState {
  const hp = hostPort(host, port);
  const handler = obj(obj(obj(obj(config?.Web)?.[hp])?.Handlers)?.['/']);
  const proxy = typeof handler?.Proxy === 'string' ? handler.Proxy : null;
  return { proxy, funnel: obj(config?.AllowFunnel)?.[hp] === true };
}

/** The config with host:port serving HTTPS and its "/" proxied to the endpoint (Funnel on or off as asked). */
export function withEndpoint(config: JsonObject | null, e: ProxyEndpoint): JsonObject {
  const out = copy(config);
  const hp = hostPort(e.host, e.port);
  const tcp = obj(out.TCP) ?? {};
  tcp[String(e.port)] = { ...(obj(tcp[String(e.port)]) ?? {}), HTTPS: true };
  out.TCP = tcp;
  const web = obj(out.Web) ?? {};
  const site = obj(web[hp]) ?? {};
  site.Handlers = { ...(obj(site.Handlers) ?? {}), '/': { Proxy: e.proxy } };
  web[hp] = site;
  out.Web = web;
  const allow = obj(out.AllowFunnel) ?? {};
  if (e.funnel) allow[hp] = true;
  else delete allow[hp];
  out.AllowFunnel = allow;
  dropIfEmpty(out, 'AllowFunnel');
  return out;
}

/**
 * The config without what withEndpoint added for host:port: its Funnel bit, its "/" handler if it
 * still proxies to `proxy`, and the port's HTTPS entry once no site uses the port.
 */
export function withoutEndpoint(config: JsonObject | null, host: string, port: number, proxy: string): JsonObject {
  const out = copy(config);
  const hp = hostPort(host, port);
  const allow = obj(out.AllowFunnel);
  if (allow) delete allow[hp];
  dropIfEmpty(out, 'AllowFunnel');
  const web = obj(out.Web);
  const site = obj(web?.[hp]);
  const handlers = obj(site?.Handlers);
  if (web && site && handlers && obj(handlers['/'])?.Proxy === proxy) {
    delete handlers['/'];
    if (Object.keys(handlers).length === 0) delete web[hp];
  }
  if (web) dropIfEmpty(out, 'Web');
  const portUsed = Object.keys(obj(out.Web) ?? {}).some((k) => k.endsWith(`:${port}`));
  const tcp = obj(out.TCP);
  if (tcp && !portUsed && obj(tcp[String(port)])?.HTTPS === true) delete tcp[String(port)];
  dropIfEmpty(out, 'TCP');
  return out;
}
