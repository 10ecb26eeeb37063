// tailscaled's serve reverse proxy (ipn/ipnlocal/serve.go reverseProxy: httputil.ReverseProxy with
// a Rewrite hook, over an http.Transport), in Node: which headers the backend gets, which path
// and query, and how the answer comes back. Bodies stream both ways; WebSocket-style upgrades
// are spliced as ReverseProxy's handleUpgradeResponse does.
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { cleanQueryParams, pathEscape, pathUnescape, qEncode } from './go-url.js';

/** Where a Proxy handler sends requests (expandProxyArg + url.Parse). */
export interface ProxyTarget {
  scheme: 'http' | 'https';
  /** host[:port] as written. */
  host: string;
  /** Escaped path of the target URL ("" when it has none, as Go's url.Parse leaves it). */
  rawPath: string;
  rawQuery: string;
  /** https+insecure:// */
  insecure: boolean;
  /** unix:/path: requests go to this socket with Host "localhost". */
  socketPath?: string;
}

/** Who made the request, as addTailscaleIdentityHeaders sees it. */
export interface ProxyCaller {
  funnel: boolean;
  /** The source IP, no port. */
  srcIp: string;
  /** The connection was TLS (an HTTPS port handler): X-Forwarded-Proto https. */
  tls: boolean;
  /** WhoIs of the source, for a tailnet caller that is a known node. */
  whois?: { tagged: boolean; loginName: string; displayName: string; profilePicUrl: string };
}

/**
 * expandProxyArg then the parse proxyHandlerForBackend does; undefined where tailscaled makes no
 * proxy handler (it then answers 500 "unknown proxy destination").
 */
export function proxyTarget(backend: string, tailscaledSocket: string): ProxyTarget | undefined {
  if (backend.startsWith('unix:')) {
    const socketPath = backend.slice('unix:'.length);
    // ErrProxyToTailscaledSocket: serve never proxies to the LocalAPI itself.
    if (socketPath === '' || socketPath === tailscaledSocket) return undefined;
    return { scheme: 'http', host: 'localhost', rawPath: '', rawQuery: '', insecure: false, socketPath };
  }
  let url = backend;
  let insecure = false;
  if (backend.startsWith('https+insecure://')) {
    url = `https://${backend.slice('https+insecure://'.length)}`;
    insecure = true;
  } else if (/^[0-9]+$/.test(backend)) url = `http://127.0.0.1:${backend}`;
  else if (!backend.startsWith('http://') && !backend.startsWith('https://')) url = `http://${backend}`;
  const m = /^(https?):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?/.exec(url);
  if (!m || pathUnescape(m[3] ?? '') === undefined) return undefined;
  try {
    new URL(url); // rejects what url.Parse rejects too: bad ports, spaces in the host
  } catch {
    return undefined;
  }
  return { scheme: m[1] as 'http' | 'https', host: m[2] ?? '', rawPath: m[3] ?? '', rawQuery: m[4] ?? '', insecure };
}

/** httputil singleJoiningSlash on escaped paths (joinURLPath). */
function joinPath(a: string, b: string): string {
  const aslash = a.endsWith('/');
  const bslash = b.startsWith('/');
  if (aslash && bslash) return a + b.slice(1);
  if (!aslash && !bslash) return `${a}/${b}`;
  return a + b;
}

/**
 * The request-URI the backend sees. `strippedRaw` is the request's escaped path after the mount
 * point was cut off ("" for an exact match); `rawQuery` the request's query.
 */
export function outboundUri(target: ProxyTarget, strippedRaw: string, rawQuery: string): string {
  // Rewrite: an exact mount-point match goes to the target's own path, without a slash added.
  const path = strippedRaw === '' && target.rawPath !== '' ? target.rawPath : joinPath(target.rawPath, strippedRaw);
  const inQuery = cleanQueryParams(rawQuery);
  const query = target.rawQuery === '' || inQuery === '' ? target.rawQuery + inQuery : `${target.rawQuery}&${inQuery}`;
  return (path === '' ? '/' : path) + (query !== '' ? `?${query}` : '');
}

const HOP_BY_HOP = ['connection', 'proxy-connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade'];
/** Identity headers a client may not supply (addTailscaleIdentityHeaders, addAppCapabilitiesHeader). */
const SQUATTED = ['tailscale-user-login', 'tailscale-user-name', 'tailscale-user-profile-pic', 'tailscale-funnel-request', 'tailscale-headers-info', 'tailscale-app-capabilities'];

/** removeHopByHopHeaders: the fixed list plus whatever Connection names. */
function withoutHopByHop(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const named = String(headers['connection'] ?? '')
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t !== '');
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.includes(k) && !named.includes(k)) out[k] = v;
  return out;
}

/** upgradeType: the Upgrade token when Connection says "upgrade". */
function upgradeType(headers: IncomingHttpHeaders): string | undefined {
  const conn = String(headers['connection'] ?? '').toLowerCase().split(',').map((t) => t.trim());
  return conn.includes('upgrade') ? (headers['upgrade'] as string | undefined) : undefined;
}

function outboundHeaders(req: IncomingMessage, target: ProxyTarget, caller: ProxyCaller): { headers: OutgoingHttpHeaders; addedGzip: boolean } {
  const h: OutgoingHttpHeaders = withoutHopByHop(req.headers);
  if (/(^|,)\s*trailers\s*(,|$)/i.test(String(req.headers['te'] ?? ''))) h['te'] = 'trailers';
  const up = upgradeType(req.headers);
  if (up !== undefined) {
    h['connection'] = 'Upgrade';
    h['upgrade'] = up;
  }
  // A Rewrite hook makes ReverseProxy drop the client's forwarding headers first.
  for (const k of ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', ...SQUATTED]) delete h[k];
  const inHost = req.headers.host ?? '';
  h['host'] = target.socketPath !== undefined ? target.host : inHost;
  // addProxyForwardedHeaders: set, never appended to.
  h['x-forwarded-host'] = inHost;
  if (caller.tls) h['x-forwarded-proto'] = 'https';
  h['x-forwarded-for'] = caller.srcIp;
  if (caller.funnel) h['tailscale-funnel-request'] = '?1';
  else if (caller.whois && !caller.whois.tagged) {
    // Only nodes with a user identity get these; tagged nodes get none (since 2023-06-14).
    h['tailscale-user-login'] = qEncode(caller.whois.loginName);
    h['tailscale-user-name'] = qEncode(caller.whois.displayName);
    h['tailscale-user-profile-pic'] = caller.whois.profilePicUrl;
    h['tailscale-headers-info'] = 'https://tailscale.com/s/serve-headers';
  }
  // The emulated tailnet grants no app capabilities, so Tailscale-App-Capabilities never appears.
  // http.Transport asks for gzip itself when the client did not choose, and undoes it below.
  const addedGzip = h['accept-encoding'] === undefined && h['range'] === undefined && req.method !== 'HEAD';
  if (addedGzip) h['accept-encoding'] = 'gzip';
  return { headers: h, addedGzip };
}

function send(target: ProxyTarget, method: string, path: string, headers: OutgoingHttpHeaders) {
  const base = { method, path, headers, setHost: false, agent: false as const };
  if (target.socketPath !== undefined) return httpRequest({ ...base, socketPath: target.socketPath });
  const [hostname, port] = splitHostPort(target.host, target.scheme === 'https' ? 443 : 80);
  if (target.scheme === 'https') return httpsRequest({ ...base, hostname, port, servername: hostname, rejectUnauthorized: !target.insecure });
  return httpRequest({ ...base, hostname, port });
}

function splitHostPort(host: string, dflt: number): [string, number] {
  const m = /^(?:\[([^\]]+)\]|([^:]*))(?::(\d+))?$/.exec(host);
  return [m?.[1] ?? m?.[2] ?? host, m?.[3] !== undefined ? Number(m[3]) : dflt];
}

/** The backend's response headers as ReverseProxy copies them. */
function responseHeaders(res: IncomingMessage, gunzip: boolean): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(withoutHopByHop(res.headers))) {
    if (gunzip && (k === 'content-encoding' || k === 'content-length')) continue;
    out[k] = res.headersDistinct[k] ?? (Array.isArray(v) ? v : [v]);
  }
  return out;
}

/** Relays the backend's answer: status, headers, streamed body (gunzipped when the Transport asked for gzip). */
function relay(back: IncomingMessage, res: ServerResponse, addedGzip: boolean): void {
  const gunzip = addedGzip && String(back.headers['content-encoding'] ?? '').toLowerCase() === 'gzip';
  res.writeHead(back.statusCode ?? 502, responseHeaders(back, gunzip));
  const body = gunzip ? back.pipe(createGunzip()) : back;
  // A body cut short mid-way cuts the client's connection (ReverseProxy panics ErrAbortHandler).
  body.on('error', () => res.destroy());
  back.on('aborted', () => res.destroy());
  body.pipe(res);
}

/** The default ErrorHandler: 502 with no body; once the answer has started, the connection is cut. */
function badGateway(res: ServerResponse): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(502);
  res.end();
}

/** ReverseProxy.ServeHTTP for one request. */
export function proxyHttp(req: IncomingMessage, res: ServerResponse, target: ProxyTarget, uri: string, caller: ProxyCaller): void {
  const { headers, addedGzip } = outboundHeaders(req, target, caller);
  const out = send(target, req.method ?? 'GET', uri, headers);
  out.on('error', () => badGateway(res));
  out.on('response', (back) => relay(back, res, addedGzip));
  res.on('close', () => {
    if (!res.writableFinished) out.destroy();
  });
  req.pipe(out);
}

/**
 * A request asking to switch protocols (WebSocket). `res` is bound to the client's socket and
 * answers when the backend declines; when it agrees (101 with the same Upgrade token) the two
 * connections are spliced, as ReverseProxy's handleUpgradeResponse does.
 */
export function proxyUpgrade(req: IncomingMessage, res: ServerResponse, socket: Duplex, head: Buffer, target: ProxyTarget, uri: string, caller: ProxyCaller): void {
  const { headers, addedGzip } = outboundHeaders(req, target, caller);
  const out = send(target, req.method ?? 'GET', uri, headers);
  out.on('error', () => badGateway(res));
  out.on('response', (back) => relay(back, res, addedGzip));
  out.on('upgrade', (back, backSocket, backHead) => {
    const want = String(headers['upgrade']).toLowerCase();
    if (String(back.headers['upgrade'] ?? '').toLowerCase() !== want) {
      // "backend tried to switch protocol %q when %q was requested"
      backSocket.destroy();
      return badGateway(res);
    }
    res.detachSocket(socket as Parameters<ServerResponse['detachSocket']>[0]);
    const lines = [`HTTP/1.1 101 ${back.statusMessage || 'Switching Protocols'}`];
    for (const [k, vs] of Object.entries(responseHeaders(back, false))) for (const v of vs) lines.push(`${k}: ${v}`);
    lines.push('Connection: Upgrade', `Upgrade: ${String(back.headers['upgrade'])}`);
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (backHead.length > 0) socket.write(backHead);
    if (head.length > 0) backSocket.write(head);
    socket.pipe(backSocket).pipe(socket);
    const close = (): void => {
      socket.destroy();
      backSocket.destroy();
    };
    socket.on('error', close).on('close', close);
    backSocket.on('error', close).on('close', close);
  });
  socket.on('close', () => out.destroy());
  out.end();
}
