// The public gateway's HTTP server on 127.0.0.1, for `tailscale funnel` to publish. Each request:
// from loopback only; the caller classified as serve presents them; rate-limited per key or
// source address; a bounded body and a deadline; then the gateway service (which authorizes).
// Answers are JSON; errors carry a stable code and nothing internal.
//
//   GET  /v1/operations                     what this caller may invoke
//   POST /v1/invoke/{connector}/{operation} body: the input (JSON); Idempotency-Key for risky ones
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { AuthzError, type PublicPrincipal } from '../authz/index.js';
import { listen } from '../net/listen.js';
import type { GatewayService } from '../services/gateway-service.js';
import { classify, isLoopback, type ClassifyDeps } from './classify.js';
import { GatewayError } from './errors.js';
import { RateLimiter, type RateLimit } from './rate-limit.js';

export interface GatewayLimits {
  /** Funnel callers without a key, per source address. */
  publicRate: RateLimit;
  /** Community keys, per key; tailnet callers, per device. */
  communityRate: RateLimit;
  maxBodyBytes: number;
  /** Deadline of one invoke (ms). */
  timeoutMs: number;
  /** Requests served at once; more are answered 503. */
  maxInFlight: number;
}

export const DEFAULT_GATEWAY_LIMITS: GatewayLimits = {
  publicRate: { perMinute: 60, burst: 20 },
  communityRate: { perMinute: 600, burst: 60 },
  maxBodyBytes: 64 * 1024,
  timeoutMs: 15_000,
  maxInFlight: 32,
};

export interface GatewayServerOptions {
  service: GatewayService;
  /** whois and this device, for tailnet callers. */
  identity: Pick<ClassifyDeps, 'whois' | 'self'>;
  host?: string;
  port: number;
  limits?: Partial<GatewayLimits>;
  log?: { info: (obj: object, msg: string) => void; warn: (obj: object, msg: string) => void };
}

export interface GatewayServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
const CONNECTOR_RE = /^[a-z][a-z0-9_-]{0,62}$/;

function send(res: http.ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  if (res.headersSent) return void res.destroy();
  const text = JSON.stringify(body);
  res.writeHead(status, { ...HEADERS, ...extra, 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

function sendError(res: http.ServerResponse, e: GatewayError, trace?: string): void {
  send(res, e.status, { error: { code: e.code, message: e.message, ...(trace ? { trace } : {}) } }, e.retryAfter !== undefined ? { 'retry-after': String(e.retryAfter) } : {});
}

/** Reads at most `max` bytes; a longer body is refused as soon as it is seen to be longer. */
function readBody(req: http.IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > max) return Promise.reject(new GatewayError('GATEWAY_BODY_TOO_LARGE', `a request body is at most ${max} bytes`));
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.removeAllListeners('data');
        req.pause();
        reject(new GatewayError('GATEWAY_BODY_TOO_LARGE', `a request body is at most ${max} bytes`));
      } else parts.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

/**
 * What a public caller is told when something fails: the decision's kind, never which connectors
 * exist elsewhere or what broke inside. An unknown connector and one not exposed look the same.
 */
export function publicError(err: unknown, name: string): GatewayError {
  if (err instanceof GatewayError) return err;
  const code = (err as { code?: string }).code ?? '';
  const peerCode = (err as { details?: { peerCode?: string } }).details?.peerCode;
  const reason = err instanceof AuthzError ? err.reason : undefined;
  if (reason === 'community-only') return new GatewayError('GATEWAY_FORBIDDEN', `${name} is for community callers: send a community key in X-FCP-API-Key`);
  if (reason === 'taint') return new GatewayError('GATEWAY_FORBIDDEN', `${name} may not be driven by public input`);
  if (code === 'AUTHZ_DENIED' || peerCode === 'AUTHZ_DENIED' || code === 'HUB_CONNECTOR_NOT_FOUND' || code === 'HUB_UNKNOWN_OPERATION' || code === 'HUB_UNKNOWN_CONNECTOR') {
    return new GatewayError('GATEWAY_FORBIDDEN', `${name} is not available through this gateway`);
  }
  if (code === 'HUB_BAD_INPUT' || code === 'HUB_BAD_INVOKE') return new GatewayError('GATEWAY_BAD_REQUEST', (err as Error).message.replace(/^[A-Z_]+: /, ''));
  if (code === 'HUB_IDEMPOTENCY_REQUIRED') return new GatewayError('GATEWAY_BAD_REQUEST', `${name} needs an Idempotency-Key header so a retry cannot act twice`);
  if (code === 'HUB_TIMEOUT' || code === 'HUB_DEADLINE_TIMEOUT') return new GatewayError('GATEWAY_TIMEOUT', `${name} did not finish in time`);
  return new GatewayError('GATEWAY_UPSTREAM_FAILED', `${name} failed`);
}

export async function startGatewayServer(o: GatewayServerOptions): Promise<GatewayServer> {
  const limits: GatewayLimits = { ...DEFAULT_GATEWAY_LIMITS, ...o.limits };
  const limiter = new RateLimiter();
  const deps: ClassifyDeps = { identifyKey: (k) => o.service.identifyKey(k), callerZone: (c) => o.service.callerZone(c), ...o.identity };
  let inFlight = 0;

  const rateKey = (p: PublicPrincipal): [string, RateLimit] =>
    p.keyId ? [`key:${p.keyId}`, limits.communityRate] : p.device ? [`device:${p.device.stableId}`, limits.communityRate] : [`ip:${p.source}`, limits.publicRate];

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, trace: string): Promise<void> => {
    // Funnel and serve reach this server over loopback; anything else went around them.
    if (!isLoopback(req.socket.remoteAddress)) throw new GatewayError('GATEWAY_NOT_LOOPBACK', 'the gateway is reached through tailscale serve or funnel only');
    const p = await classify(req.headers, deps);
    const [bucket, rate] = rateKey(p);
    const wait = limiter.take(bucket, rate);
    if (wait > 0) throw new GatewayError('GATEWAY_RATE_LIMITED', `too many requests; try again in ${wait} s`, wait);
    const url = new URL(req.url ?? '/', 'http://gateway');
    if (url.pathname === '/v1/operations') {
      if (req.method !== 'GET') throw new GatewayError('GATEWAY_METHOD', 'use GET for /v1/operations');
      const operations = o.service.operations(p).flatMap((c) =>
        c.operations.map((op) => ({ connector: c.id, operation: op.name, ...(op.description ? { description: op.description } : {}), risk: op.risk, exposure: op.exposure, ...(op.input_schema ? { input_schema: op.input_schema } : {}) })),
      );
      return send(res, 200, { caller: { zone: p.zone.id, via: p.via, ...(p.keyId ? { key: p.keyId } : {}) }, operations });
    }
    const m = /^\/v1\/invoke\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (!m) throw new GatewayError('GATEWAY_NOT_FOUND', 'no such path: the gateway answers GET /v1/operations and POST /v1/invoke/{connector}/{operation}');
    if (req.method !== 'POST') throw new GatewayError('GATEWAY_METHOD', 'use POST for an invoke');
    const connector = decodeURIComponent(m[1]!);
    const operation = decodeURIComponent(m[2]!);
    const name = `${connector}.${operation}`;
    if (!CONNECTOR_RE.test(connector) || !CONNECTOR_RE.test(operation)) throw new GatewayError('GATEWAY_FORBIDDEN', `${name.slice(0, 130)} is not available through this gateway`);
    const body = await readBody(req, limits.maxBodyBytes);
    let input: unknown = {};
    if (body.length > 0) {
      try {
        input = JSON.parse(body.toString('utf8'));
      } catch {
        throw new GatewayError('GATEWAY_BAD_REQUEST', 'the request body is not JSON');
      }
    }
    const key = req.headers['idempotency-key'];
    let output: unknown;
    try {
      output = await o.service.invoke(p, connector, operation, input, { deadline: Date.now() + limits.timeoutMs, traceId: trace, ...(typeof key === 'string' ? { idempotencyKey: key } : {}) });
    } catch (err) {
      const e = publicError(err, name);
      if (e.code === 'GATEWAY_UPSTREAM_FAILED') o.log?.warn({ trace, connector, operation, err: (err as Error).message }, 'gateway invoke failed');
      throw e;
    }
    send(res, 200, { output: output ?? null, provenance: { origin_zone: p.zone.id, via: p.via, taint: ['PUBLIC_INPUT'] }, trace });
  };

  const server = http.createServer((req, res) => {
    const trace = randomUUID();
    if (inFlight >= limits.maxInFlight) return sendError(res, new GatewayError('GATEWAY_BUSY', 'the gateway is busy; try again shortly', 1));
    inFlight++;
    res.on('close', () => inFlight--);
    handle(req, res, trace).catch((err: unknown) => {
      const e = err instanceof GatewayError ? err : publicError(err, 'the request');
      // A refused body is not read further: the connection ends with the answer.
      if (e.code === 'GATEWAY_BODY_TOO_LARGE') res.setHeader('connection', 'close');
      sendError(res, e, trace);
    });
  });
  // Slow clients do not hold a slot for long: headers in 10 s, the whole request within its deadline.
  server.headersTimeout = 10_000;
  server.requestTimeout = limits.timeoutMs + 10_000;
  server.keepAliveTimeout = 5_000;
  server.maxHeadersCount = 100;
  const host = o.host ?? '127.0.0.1';
  const { port, close } = await listen(server, o.port, host);
  return { url: `http://${host}:${port}`, port, close };
}
