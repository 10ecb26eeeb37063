// The egress proxy (network guard, FCP V2 §11.2.1, credential injection §7.3.1): connectors make
// their outgoing HTTP(S) requests through it, as JSON `EgressHttpRequest`s on loopback. It
// admits only hosts of the connector's manifest allowlist; resolves the name itself and refuses
// private, loopback, link-local, CGNAT/tailnet, metadata and other non-public addresses AFTER
// resolution, then connects to the address it checked (no DNS rebinding between check and use);
// and adds the credential of a named secret only for the hosts that secret is declared for, so
// the connector never sees it. Redirects are returned, not followed (the next URL is checked
// again). A dev/test-only host setting admits listed address ranges (never from a manifest).
import http from 'node:http';
import https from 'node:https';
import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';
import type { ConnectorManifest, SecretNeed } from './manifest.js';

export interface EgressRequest {
  method?: string;
  url: string;
  headers?: Record<string, string>;
  /** UTF-8 body, or `body_base64` for bytes. */
  body?: string;
  body_base64?: string;
  /** Name of a secret of the manifest (deliver = egress) to add to this request. */
  credential?: string;
}

export interface EgressResponse {
  status: number;
  headers: Record<string, string>;
  body_base64: string;
}

export interface EgressLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface EgressProxyDeps {
  /** Reads a secret for a connector (SecretService.use as that connector: authorized there). */
  useSecret<T>(connectorId: string, name: string, fn: (value: Uint8Array) => T): Promise<T>;
  log: EgressLog;
  /** Name resolution (default: the system resolver, every address). */
  resolve?: (host: string) => Promise<string[]>;
  /**
   * DEV/TEST ONLY: address ranges (CIDR) admitted although not public, e.g. a loopback test
   * upstream. Host configuration only; a manifest can never widen it.
   */
  devAllowAddresses?: string[];
  timeoutMs?: number;
  maxRequestBytes?: number;
  maxResponseBytes?: number;
}

export class EgressDenied extends Error {
  readonly code = 'HUB_EGRESS_DENIED';
}

interface Grant {
  connectorId: string;
  allow: string[];
  secrets: SecretNeed[];
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'content-length']);

/** `Name.Example.` → `name.example`. */
export function canonicalHost(h: string): string {
  return h.toLowerCase().replace(/\.$/, '');
}

/** Whether `host:port` matches an allowlist entry (`name`, `name:port`, `*.suffix[:port]`); no port = the scheme's default. */
export function hostAllowed(allow: readonly string[], host: string, port: number, defaultPort: number): boolean {
  return allow.some((entry) => {
    const m = /^(.*?)(?::(\d+))?$/.exec(entry)!;
    const name = m[1]!;
    const p = m[2] ? Number(m[2]) : defaultPort;
    if (p !== port) return false;
    if (name.startsWith('*.')) return host.endsWith(name.slice(1)) && host.length > name.length - 1;
    return host === name;
  });
}

/** Why an address may not be reached, or null if it is a public unicast address (or dev-allowed). */
export function addressRefusal(address: string, devAllow: ReadonlyArray<[ipaddr.IPv4 | ipaddr.IPv6, number]>): string | null {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.process(address);
  } catch {
    return `${address} is not an IP address`;
  }
  if (devAllow.some(([net, bits]) => net.kind() === ip.kind() && ip.match(net, bits))) return null;
  const range = ip.range();
  if (range === 'unicast') return null;
  return `${address} is a ${range} address`;
}

export class EgressProxy {
  private server: http.Server | null = null;
  private port = 0;
  private readonly grants = new Map<string, Grant>();
  private readonly tokenOf = new Map<string, string>();
  private readonly devAllow: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]>;
  readonly counts = { allowed: 0, denied: 0, failed: 0 };

  constructor(private readonly deps: EgressProxyDeps) {
    this.devAllow = (deps.devAllowAddresses ?? []).map((c) => ipaddr.parseCIDR(c));
  }

  async start(): Promise<void> {
    const server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  /** Registers a connector's allowlist; returns its own proxy URL (its token names it). */
  grant(m: ConnectorManifest): string {
    this.revoke(m.id);
    const token = randomBytes(24).toString('hex');
    this.grants.set(token, { connectorId: m.id, allow: (m.egress?.allow ?? []).map(canonicalHost), secrets: (m.secrets ?? []).filter((s) => s.deliver === 'egress') });
    this.tokenOf.set(m.id, token);
    return `http://127.0.0.1:${this.port}/v1/egress/${token}`;
  }

  revoke(connectorId: string): void {
    const t = this.tokenOf.get(connectorId);
    if (t) this.grants.delete(t);
    this.tokenOf.delete(connectorId);
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const reply = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    const m = /^\/v1\/egress\/([0-9a-f]{48})$/.exec(req.url ?? '');
    const grant = m ? this.grants.get(m[1]!) : undefined;
    if (req.method !== 'POST' || !grant) {
      req.resume();
      return reply(403, { error: { code: 'HUB_EGRESS_DENIED', message: 'unknown egress grant' } });
    }
    let request: EgressRequest;
    try {
      const raw = await readAll(req, this.deps.maxRequestBytes ?? 1024 * 1024);
      request = JSON.parse(raw.toString('utf8')) as EgressRequest;
      if (typeof request !== 'object' || request === null || typeof request.url !== 'string') throw new Error('an egress request needs a url');
    } catch (err) {
      return reply(400, { error: { code: 'HUB_BAD_INPUT', message: (err as Error).message } });
    }
    try {
      const out = await this.forward(grant, request);
      this.counts.allowed++;
      reply(200, out);
    } catch (err) {
      const denied = err instanceof EgressDenied;
      if (denied) this.counts.denied++;
      else this.counts.failed++;
      this.deps.log.warn({ connector: grant.connectorId, url: safeUrl(request.url), reason: (err as Error).message }, denied ? 'egress refused' : 'egress failed');
      reply(denied ? 403 : 502, { error: { code: denied ? 'HUB_EGRESS_DENIED' : 'HUB_EGRESS_FAILED', message: (err as Error).message } });
    }
  }

  private async forward(grant: Grant, r: EgressRequest): Promise<EgressResponse> {
    let url: URL;
    try {
      url = new URL(r.url);
    } catch {
      throw new EgressDenied(`not a URL: ${r.url.slice(0, 80)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new EgressDenied(`${url.protocol} is not http or https`);
    if (url.username || url.password) throw new EgressDenied('credentials in the URL are not allowed');
    const host = canonicalHost(url.hostname.replace(/^\[|\]$/g, ''));
    const defaultPort = url.protocol === 'https:' ? 443 : 80;
    const port = url.port ? Number(url.port) : defaultPort;
    if (!hostAllowed(grant.allow, host, port, defaultPort)) throw new EgressDenied(`${host}:${port} is not in ${grant.connectorId}'s egress allowlist`);
    const literal = ipaddr.isValid(host);
    if (literal && addressRefusal(host, this.devAllow) !== null) throw new EgressDenied(`IP literal ${host} refused: ${addressRefusal(host, this.devAllow)}`);
    const addresses = literal ? [host] : await (this.deps.resolve ?? defaultResolve)(host).catch((err: Error) => {
      throw new Error(`could not resolve ${host}: ${err.message}`);
    });
    if (addresses.length === 0) throw new Error(`${host} has no address`);
    for (const a of addresses) {
      const why = addressRefusal(a, this.devAllow);
      if (why) throw new EgressDenied(`${host} resolves to a refused address: ${why}`);
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.headers ?? {})) if (typeof v === 'string' && !HOP_BY_HOP.has(k.toLowerCase())) headers[k.toLowerCase()] = v;
    headers.host = url.port ? `${host}:${port}` : host;
    if (r.credential !== undefined) {
      const need = grant.secrets.find((s) => s.name === r.credential);
      if (!need) throw new EgressDenied(`${grant.connectorId} names no egress secret ${r.credential}`);
      if (!hostAllowed((need.hosts ?? []).map(canonicalHost), host, port, defaultPort)) throw new EgressDenied(`secret ${need.name} is not for ${host}`);
      const header = (need.header ?? 'authorization').toLowerCase();
      headers[header] = await this.deps.useSecret(grant.connectorId, need.name, (v) => (need.format ?? 'Bearer {secret}').replace('{secret}', Buffer.from(v).toString('utf8')));
      this.deps.log.info({ connector: grant.connectorId, secret: need.name, host }, 'egress credential injected');
    }
    const body = r.body_base64 !== undefined ? Buffer.from(r.body_base64, 'base64') : r.body !== undefined ? Buffer.from(r.body, 'utf8') : undefined;
    if (body) headers['content-length'] = String(body.length);
    return this.send(url, addresses[0]!, port, host, r.method ?? 'GET', headers, body);
  }

  private send(url: URL, address: string, port: number, host: string, method: string, headers: Record<string, string>, body: Buffer | undefined): Promise<EgressResponse> {
    const limit = this.deps.maxResponseBytes ?? 8 * 1024 * 1024;
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(
        {
          host: address,
          port,
          method,
          path: url.pathname + url.search,
          headers,
          // TLS: SNI and the certificate check are against the name, the socket goes to the checked address.
          ...(url.protocol === 'https:' ? { servername: ipaddr.isValid(host) ? undefined : host } : {}),
          timeout: this.deps.timeoutMs ?? 30_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > limit) {
              req.destroy(new Error(`response over ${limit} bytes`));
              return;
            }
            chunks.push(c);
          });
          res.on('end', () => {
            const h: Record<string, string> = {};
            for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h[k] = Array.isArray(v) ? v.join(', ') : v;
            resolve({ status: res.statusCode ?? 0, headers: h, body_base64: Buffer.concat(chunks).toString('base64') });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('upstream timed out')));
      req.on('error', reject);
      req.end(body);
    });
  }
}

async function defaultResolve(host: string): Promise<string[]> {
  return (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
}

function safeUrl(u: string): string {
  try {
    const x = new URL(u);
    return `${x.protocol}//${x.host}${x.pathname}`;
  } catch {
    return u.slice(0, 80);
  }
}

async function readAll(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw new Error(`egress request over ${limit} bytes`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}
