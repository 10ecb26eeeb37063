// HTTP client for tailscaled's LocalAPI over its unix socket. It speaks to a
// real tailscaled and to the dev-tailnet emulator alike.
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import {
  TailscaleBadInputError,
  TailscaleBadJsonError,
  TailscaleError,
  TailscaleHttpError,
  TailscaleNotLoggedInError,
  TailscaleNotRunningError,
  TailscalePermissionError,
  TailscaleServeConflictError,
  TailscaleTimeoutError,
  TailscaleWatchClosedError,
} from './errors.js';
import { parseJsonLossless, stringifyJsonLossless, type JsonObject, type JsonValue } from './json.js';
import {
  parseNotify,
  parsePingResult,
  parseStatus,
  parseWhoIs,
  type IpnNotify,
  type PingResult,
  type PingType,
  type TailscaleStatus,
  type WhoIs,
} from './model.js';
import { resolveSocketPath } from './socket-path.js';

/** The Host header tailscaled expects (apitype.LocalAPIHost). */
export const LOCAL_API_HOST = 'local-tailscaled.sock';

/** ipn.NotifyWatchOpt bits used by watch(). */
export const NotifyWatch = {
  engineUpdates: 1 << 0,
  initialState: 1 << 1,
  initialNetMap: 1 << 3,
  peerChanges: 1 << 12,
  noNetMap: 1 << 13,
  initialStatus: 1 << 14,
  peerPatches: 1 << 15,
} as const;

/**
 * Initial state and status, then state changes, peer adds/removes and narrow peer patches; no
 * netmaps. Never engine updates: with that bit tailscaled polls the engine every 2 s and sends
 * every watcher an Engine message (ipn/ipnlocal/local.go WatchNotificationsAs).
 */
export const DEFAULT_WATCH_MASK =
  NotifyWatch.initialState | NotifyWatch.peerChanges | NotifyWatch.peerPatches | NotifyWatch.noNetMap | NotifyWatch.initialStatus;

/**
 * Whether a notification changes what status says about this device or its peers. Engine
 * counters, health text, prefs and the like do not, so they cause no status re-read.
 */
export function notifyChangesPeers(n: IpnNotify): boolean {
  return (
    n.state !== undefined ||
    n.selfChange !== undefined ||
    n.peersChanged !== undefined ||
    n.peersRemoved !== undefined ||
    n.peerChangedPatch !== undefined ||
    n.loginFinished ||
    (n.raw['NetMap'] !== undefined && n.raw['NetMap'] !== null)
  );
}

const PING_TYPES: readonly PingType[] = ['disco', 'TSMP', 'ICMP', 'peerapi'];
const MAX_BODY_BYTES = 64 * 1024 * 1024;

export interface LocalApiClientOptions {
  /** Socket path; default: TS_SOCKET, else the platform default. */
  socketPath?: string;
  /** Per-request timeout for status/whois and for opening a watch (default 5000 ms). */
  timeoutMs?: number;
  /** Default ping timeout (default 5000 ms); the daemon itself never times a ping out. */
  pingTimeoutMs?: number;
}

interface RawResponse {
  status: number;
  body: string;
  headers: IncomingMessage['headers'];
}

export class LocalApiClient {
  readonly socketPath: string;
  readonly timeoutMs: number;
  readonly pingTimeoutMs: number;

  constructor(opts: LocalApiClientOptions = {}) {
    this.socketPath = resolveSocketPath(opts.socketPath);
    this.timeoutMs = positiveOr(opts.timeoutMs, 5000, 'timeoutMs');
    this.pingTimeoutMs = positiveOr(opts.pingTimeoutMs, 5000, 'pingTimeoutMs');
  }

  /**
   * GET /localapi/v0/status. Throws TS_NOT_LOGGED_IN unless BackendState is
   * "Running"; pass `allowNotRunning` to read the status of a stopped daemon.
   */
  async status(opts: { allowNotRunning?: boolean } = {}): Promise<TailscaleStatus> {
    const endpoint = '/localapi/v0/status';
    const res = await this.send('GET', endpoint, this.timeoutMs);
    this.expectOk(endpoint, res);
    const status = this.decode(endpoint, res.body, parseStatus);
    if (!opts.allowNotRunning && status.backendState !== 'Running') throw new TailscaleNotLoggedInError(status.backendState);
    return status;
  }

  /**
   * GET /localapi/v0/whois?addr=IP:port. Returns null when the daemon knows
   * no node with that address (HTTP 404). Accepts "ip:port", "[v6]:port",
   * a bare IP, or whois(ip, port).
   */
  async whois(addr: string, port?: number): Promise<WhoIs | null> {
    const target = whoisTarget(addr, port);
    const endpoint = '/localapi/v0/whois';
    const res = await this.send('GET', `${endpoint}?addr=${encodeURIComponent(target)}`, this.timeoutMs);
    if (res.status === 404) return null;
    this.expectOk(endpoint, res);
    return this.decode(endpoint, res.body, parseWhoIs);
  }

  /**
   * GET /localapi/v0/serve-config: the whole ServeConfig (null when none is set) and its ETag,
   * for a change sent back with setServeConfig (ipn/localapi/serve.go).
   */
  async getServeConfig(): Promise<{ config: JsonObject | null; etag: string }> {
    const endpoint = '/localapi/v0/serve-config';
    const res = await this.send('GET', endpoint, this.timeoutMs);
    this.expectOk(endpoint, res);
    const config = this.decode(endpoint, res.body, (v) => {
      if (v !== null && (typeof v !== 'object' || Array.isArray(v))) throw new Error('the serve config is not an object');
      return v as JsonObject | null;
    });
    const etag = res.headers.etag;
    return { config, etag: typeof etag === 'string' ? etag : '' };
  }

  /**
   * POST /localapi/v0/serve-config with If-Match: the config replaces the current one only if it
   * is still the one `etag` names (TS_SERVE_CONFLICT otherwise). The whole config goes back, so
   * fields this client does not know survive.
   */
  async setServeConfig(config: JsonObject, etag: string): Promise<void> {
    const endpoint = '/localapi/v0/serve-config';
    const res = await this.send('POST', endpoint, this.timeoutMs, { body: stringifyJsonLossless(config), headers: etag ? { 'If-Match': etag } : {} });
    if (res.status === 412) throw new TailscaleServeConflictError();
    this.expectOk(endpoint, res);
  }

  /** POST /localapi/v0/ping. A ping with no answer ends in TS_TIMEOUT after our own timeout. */
  async ping(ip: string, type: PingType = 'disco', opts: { timeoutMs?: number } = {}): Promise<PingResult> {
    if (isIP(ip) === 0) throw new TailscaleBadInputError(`ping needs an IP address, got ${JSON.stringify(ip)}`);
    if (!PING_TYPES.includes(type)) {
      throw new TailscaleBadInputError(`ping type must be one of ${PING_TYPES.join(', ')}, got ${JSON.stringify(type)}`);
    }
    const timeoutMs = positiveOr(opts.timeoutMs, this.pingTimeoutMs, 'timeoutMs');
    const endpoint = '/localapi/v0/ping';
    const query = new URLSearchParams({ ip, size: '0', type });
    const res = await this.send('POST', `${endpoint}?${query.toString()}`, timeoutMs);
    this.expectOk(endpoint, res);
    return this.decode(endpoint, res.body, parsePingResult);
  }

  /**
   * GET /localapi/v0/watch-ipn-bus: one parsed notification per message.
   * The first carries the state and the full status; later ones carry peer
   * changes and engine updates (re-read status() on those to see new paths).
   * Ends quietly on abort (or when the loop breaks); throws TS_WATCH_CLOSED if
   * the daemon ends the stream.
   */
  async *watch(opts: { signal?: AbortSignal; mask?: number } = {}): AsyncGenerator<IpnNotify, void, undefined> {
    const { signal } = opts;
    if (signal?.aborted) return;
    const endpoint = '/localapi/v0/watch-ipn-bus';
    const mask = opts.mask ?? DEFAULT_WATCH_MASK;
    const { req, res } = await this.openStream(`${endpoint}?mask=${mask}`, signal);
    if (!req || !res) return;
    const onAbort = (): void => {
      req.destroy();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      res.setEncoding('utf8');
      let buffered = '';
      try {
        for await (const chunk of res as AsyncIterable<string>) {
          buffered += chunk;
          let newline: number;
          while ((newline = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, newline);
            buffered = buffered.slice(newline + 1);
            if (line.trim() !== '') yield this.decode(endpoint, line, parseNotify);
          }
          if (buffered.length > MAX_BODY_BYTES) throw new TailscaleBadJsonError(endpoint, 'a notification exceeded 64 MiB');
        }
      } catch (err) {
        if (signal?.aborted) return;
        if (err instanceof TailscaleError) throw err;
        throw new TailscaleWatchClosedError(errorDetail(err));
      }
      if (signal?.aborted) return;
      if (buffered.trim() !== '') yield this.decode(endpoint, buffered, parseNotify);
      throw new TailscaleWatchClosedError('the daemon ended the stream');
    } finally {
      signal?.removeEventListener('abort', onAbort);
      req.destroy();
    }
  }

  private openStream(
    path: string,
    signal: AbortSignal | undefined,
  ): Promise<{ req?: ClientRequest; res?: IncomingMessage }> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const req = request({ socketPath: this.socketPath, path, method: 'GET', headers: this.headers(), agent: false });
      const timer = setTimeout(() => {
        finish(() => reject(new TailscaleTimeoutError('/localapi/v0/watch-ipn-bus', this.timeoutMs)));
        req.destroy();
      }, this.timeoutMs);
      const onAbort = (): void => {
        finish(() => resolve({}));
        req.destroy();
      };
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        fn();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (err) => finish(() => reject(this.connectionError(err))));
      req.on('response', (res) => {
        if (res.statusCode === 200) {
          finish(() => resolve({ req, res }));
          return;
        }
        readBody(res)
          .then((body) => finish(() => reject(this.httpError('/localapi/v0/watch-ipn-bus', { status: res.statusCode ?? 0, body, headers: res.headers }))))
          .catch((err: unknown) => finish(() => reject(this.connectionError(err))))
          .finally(() => req.destroy());
      });
      req.end();
    });
  }

  private headers(): Record<string, string> {
    return { Host: LOCAL_API_HOST, 'Sec-Tailscale': 'localapi' };
  }

  private send(method: 'GET' | 'POST', path: string, timeoutMs: number, extra: { body?: string; headers?: Record<string, string> } = {}): Promise<RawResponse> {
    const endpoint = path.split('?')[0] ?? path;
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn();
      };
      const headers = { ...this.headers(), ...extra.headers, ...(extra.body !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(extra.body)) } : {}) };
      const req = request({ socketPath: this.socketPath, path, method, headers, agent: false });
      const timer = setTimeout(() => {
        finish(() => reject(new TailscaleTimeoutError(endpoint, timeoutMs)));
        req.destroy();
      }, timeoutMs);
      req.on('error', (err) => finish(() => reject(this.connectionError(err))));
      req.on('response', (res) => {
        readBody(res)
          .then((body) => finish(() => resolve({ status: res.statusCode ?? 0, body, headers: res.headers })))
          .catch((err: unknown) => finish(() => reject(this.connectionError(err))));
      });
      req.end(extra.body);
    });
  }

  private expectOk(endpoint: string, res: RawResponse): void {
    if (res.status !== 200) throw this.httpError(endpoint, res);
  }

  private httpError(endpoint: string, res: RawResponse): TailscaleError {
    const message = errorMessageFromBody(res.body);
    if (res.status === 403) return new TailscalePermissionError(this.socketPath, message, { fromDaemon: true });
    return new TailscaleHttpError(endpoint, res.status, message);
  }

  private decode<T>(endpoint: string, body: string, parse: (v: JsonValue) => T): T {
    let value: JsonValue;
    try {
      value = parseJsonLossless(body);
    } catch (err) {
      throw new TailscaleBadJsonError(endpoint, errorDetail(err), { cause: err });
    }
    try {
      return parse(value);
    } catch (err) {
      throw new TailscaleBadJsonError(endpoint, errorDetail(err), { cause: err });
    }
  }

  private connectionError(err: unknown): TailscaleError {
    if (err instanceof TailscaleError) return err;
    return socketErrorToTailscaleError(this.socketPath, err);
  }
}

/** Maps a socket-level failure to the typed error the user can act on. */
export function socketErrorToTailscaleError(socketPath: string, err: unknown): TailscaleError {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
  const detail = errorDetail(err);
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return new TailscalePermissionError(socketPath, detail, { cause: err });
    case 'ENOENT':
    case 'ECONNREFUSED':
    case 'ENOTSOCK':
    case 'ENOTDIR':
      return new TailscaleNotRunningError(socketPath, detail, { cause: err });
    default:
      return new TailscaleNotRunningError(socketPath, `connection failed: ${detail}`, { cause: err });
  }
}

function errorDetail(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** LocalAPI errors come as {"error": "..."} or as plain text from http.Error. */
function errorMessageFromBody(body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null && 'error' in parsed) {
      const e = (parsed as { error: unknown }).error;
      if (typeof e === 'string' && e !== '') return e;
    }
  } catch {
    // plain text body
  }
  return body.trim();
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        res.destroy(new Error('response larger than 64 MiB'));
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
    res.on('aborted', () => reject(new Error('connection closed mid-response')));
  });
}

function positiveOr(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new TailscaleBadInputError(`${name} must be a positive number of milliseconds`);
  return value;
}

/** Validates a whois target: "ip:port", "[v6]:port", a bare IP or "nodekey:<hex>". */
export function whoisTarget(addr: string, port?: number): string {
  if (typeof addr !== 'string' || addr === '') throw new TailscaleBadInputError('whois needs an address such as "100.64.0.1:9473"');
  if (port !== undefined) {
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TailscaleBadInputError(`whois port out of range: ${port}`);
    const v = isIP(addr);
    if (v === 0) throw new TailscaleBadInputError(`whois needs an IP address, got ${JSON.stringify(addr)}`);
    return v === 6 ? `[${addr}]:${port}` : `${addr}:${port}`;
  }
  // key.NodePublic.UnmarshalText takes hex digits of either case (types/key/util.go parseHex).
  if (/^nodekey:[0-9a-fA-F]{64}$/.test(addr)) return addr;
  if (isIP(addr) !== 0) return addr;
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(addr);
  const host = m ? (m[1] ?? m[2] ?? '') : '';
  if (!m || isIP(host) === 0 || Number(m[3]) > 65535) {
    throw new TailscaleBadInputError(`whois needs "ip:port", "[v6]:port" or an IP, got ${JSON.stringify(addr)}`);
  }
  return addr;
}
