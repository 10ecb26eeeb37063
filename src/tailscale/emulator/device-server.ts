// One emulated tailscaled: a LocalAPI HTTP server on the device's own unix
// socket, answering from the shared tailnet state as this device sees it.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { rmSync } from 'node:fs';
import { stringifyJsonLossless } from '../json.js';
import { DevTailnetError } from './errors.js';
import {
  backendState,
  renderEngine,
  renderNode,
  renderNotify,
  renderPing,
  renderPingError,
  renderStatus,
  renderWhoIs,
  sessionId,
  STATE_NUMBER,
  type PingKind,
  type RawObject,
} from './render.js';
import type { NodeState, TailnetChange, TailnetState } from './tailnet-state.js';
import { goQuote } from './go-json.js';
import { cloneServeConfig, decodeServeConfig, marshalServeConfig, validateServeConfigUpdate, type ServeConfig } from './serve-config.js';

const PING_KINDS: readonly PingKind[] = ['disco', 'TSMP', 'ICMP', 'peerapi'];
const WATCH = {
  engine: 1 << 0,
  initialState: 1 << 1,
  initialPrefs: 1 << 2,
  initialNetMap: 1 << 3,
  rateLimit: 1 << 8,
  peerChanges: 1 << 12,
  noNetMap: 1 << 13,
  initialStatus: 1 << 14,
  peerPatches: 1 << 15,
  inProcessNoDisconnect: 1 << 16,
};
/** Bits that make WatchNotificationsAs send a first message at once (ipn/ipnlocal/local.go). */
const INITIAL_BITS = (1 << 1) | (1 << 2) | (1 << 3) | (1 << 14) | (1 << 5) | (1 << 10) | (1 << 11) | (1 << 17) | (1 << 18);
/** ipn.NotifyRateLimitIncompatibleBits (ipn/backend.go). */
const RATE_LIMIT_INCOMPATIBLE = WATCH.peerChanges | WATCH.noNetMap | WATCH.initialStatus | WATCH.peerPatches;
/** pollRequestEngineStatus: with the engine bit, every watcher gets Engine this often. */
export const ENGINE_POLL_MS = 2000;

/** What a device's LocalAPI was asked, for tests that check fcpd's load on tailscaled. */
export interface DeviceStats {
  statusRequests: number;
  whoisRequests: number;
  /** Pings by target device name (or IP when no device has it). */
  pings: Record<string, number>;
  /** Masks of the watch streams open now. */
  watchMasks: number[];
  /** Engine notifications written to watchers. */
  engineNotifies: number;
}

interface Watcher {
  res: ServerResponse;
  mask: number;
  /** Every bus session has an ID (sent only with NotifyInitialState); foreground serve configs are keyed by it. */
  sessionId: string;
}

export class DeviceServer {
  private server: Server | undefined;
  private readonly watchers = new Set<Watcher>();
  /** Requests held open while the daemon "hangs". */
  private readonly held = new Set<ServerResponse>();
  /** Pings to unreachable peers: never answered, like the real daemon's. */
  private readonly unanswered = new Set<ServerResponse>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly onChange = (change: TailnetChange): void => this.handleChange(change);
  private readonly counters = { statusRequests: 0, whoisRequests: 0, engineNotifies: 0 };
  private readonly pingCounts = new Map<string, number>();
  private engineTimer: NodeJS.Timeout | undefined;
  enginePollMs = ENGINE_POLL_MS;
  /** Stop/restart of the socket, serialised so a restart never races a close. */
  private transition: Promise<void> = Promise.resolve();

  constructor(
    private readonly state: TailnetState,
    private readonly node: NodeState,
    readonly socketPath: string,
  ) {}

  async start(): Promise<void> {
    this.state.on('change', this.onChange);
    await this.listen();
  }

  stats(): DeviceStats {
    return {
      ...this.counters,
      pings: Object.fromEntries(this.pingCounts),
      watchMasks: [...this.watchers].map((w) => w.mask),
    };
  }

  /** Sends one Engine message to every watcher that asked for engine updates; returns how many. */
  pushEngineUpdate(): number {
    let sent = 0;
    this.broadcast((mask) => {
      if (!(mask & WATCH.engine)) return undefined;
      sent++;
      return renderNotify({ Engine: renderEngine(this.state, this.node) });
    });
    this.counters.engineNotifies += sent;
    return sent;
  }

  /** Polls like tailscaled while any watcher wants engine updates. */
  private syncEnginePoll(): void {
    const wanted = [...this.watchers].some((w) => w.mask & WATCH.engine);
    if (wanted && !this.engineTimer) {
      this.engineTimer = setInterval(() => this.pushEngineUpdate(), this.enginePollMs);
      this.engineTimer.unref();
    } else if (!wanted && this.engineTimer) {
      clearInterval(this.engineTimer);
      this.engineTimer = undefined;
    }
  }

  async stop(): Promise<void> {
    this.state.off('change', this.onChange);
    await this.enqueue(() => this.close());
  }

  /** Resolves once every pending stop/restart of the socket has happened. */
  settled(): Promise<void> {
    return this.transition;
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    // A failed restart leaves the device stopped; clients then see TS_NOT_RUNNING.
    this.transition = this.transition.then(step).catch(() => undefined);
    return this.transition;
  }

  private listen(): Promise<void> {
    rmSync(this.socketPath, { force: true });
    const server = createServer((req, res) => this.handle(req, res));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', (err) =>
        reject(new DevTailnetError('DEV_TAILNET_SOCKET', `cannot listen on ${this.socketPath}: ${err.message}`, { cause: err })),
      );
      server.listen(this.socketPath, () => resolve());
    });
  }

  private async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const w of this.watchers) w.res.destroy();
    this.watchers.clear();
    this.syncEnginePoll();
    for (const r of this.held) r.destroy();
    this.held.clear();
    for (const r of this.unanswered) r.destroy();
    this.unanswered.clear();
    const server = this.server;
    this.server = undefined;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    rmSync(this.socketPath, { force: true });
  }

  private handleChange(change: TailnetChange): void {
    if (change.kind === 'fault' && change.node === this.node) {
      if (change.node.fault === 'stopped') void this.enqueue(() => this.close());
      else if (change.previous === 'stopped') void this.enqueue(() => this.listen());
      else {
        // Every watcher hears state changes, whatever its mask (ipnlocal sends State to all).
        this.broadcast(() => renderNotify({ State: STATE_NUMBER[backendState(this.node)] }));
      }
      if (change.previous === 'hang') {
        for (const r of this.held) r.destroy();
        this.held.clear();
      }
      return;
    }
    if (change.kind === 'fault' || change.kind === 'latency') return;
    const node = change.node;
    if (node === this.node) {
      if (change.kind === 'removed') this.broadcast(() => renderNotify({ State: STATE_NUMBER[backendState(this.node)] }));
      if (change.kind === 'online') this.broadcast((mask) => (mask & WATCH.peerChanges ? renderNotify({ SelfChange: renderNode(this.state, node) }) : undefined));
      return;
    }
    if (change.kind === 'removed') {
      this.broadcast((mask) => (mask & (WATCH.peerChanges | WATCH.peerPatches) ? renderNotify({ PeersRemoved: [node.nodeId] }) : undefined));
    } else if (change.kind === 'online') {
      this.broadcast((mask) => {
        if (mask & WATCH.peerPatches) {
          const patch: RawObject = { NodeID: node.nodeId, Online: node.online };
          if (!node.online) patch['LastSeen'] = node.lastSeen;
          return renderNotify({ PeerChangedPatch: [patch] });
        }
        if (mask & WATCH.peerChanges) return renderNotify({ PeersChanged: [renderNode(this.state, node)] });
        return undefined;
      });
    }
    // Every peer-set or path change moves the engine's live peers / DERP counts.
    this.pushEngineUpdate();
  }

  private broadcast(make: (mask: number) => RawObject | undefined): void {
    if (this.node.fault === 'hang' || this.node.fault === 'error') return;
    for (const w of this.watchers) {
      const notify = make(w.mask);
      if (notify) w.res.write(stringifyJsonLossless(notify) + '\n');
    }
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    // tailscaled refuses browser-originated requests and unexpected Host headers.
    const host = req.headers.host ?? '';
    if (req.headers.referer !== undefined || req.headers.origin !== undefined || (host !== '' && host !== 'local-tailscaled.sock')) {
      return this.plainError(res, 403, 'invalid localapi request');
    }
    res.setHeader('Tailscale-Version', '1.90.1-fcpdev');
    const fault = this.node.fault;
    if (fault === 'hang') {
      this.held.add(res);
      res.on('close', () => this.held.delete(res));
      return;
    }
    if (fault === 'error') return this.jsonError(res, 'emulated daemon fault: internal error');
    const url = new URL(req.url ?? '/', 'http://local-tailscaled.sock');
    switch (url.pathname) {
      case '/localapi/v0/status':
        this.counters.statusRequests++;
        return this.json(res, renderStatus(this.state, this.node), '\t');
      case '/localapi/v0/whois':
        return this.whois(url, res);
      case '/localapi/v0/ping':
        return this.ping(req, url, res);
      case '/localapi/v0/watch-ipn-bus':
        return this.watch(url, res);
      case '/localapi/v0/serve-config':
        return this.serveConfig(req, res);
      default:
        return this.plainError(res, 404, '404 page not found');
    }
  }

  private whois(url: URL, res: ServerResponse): void {
    this.counters.whoisRequests++;
    const addr = url.searchParams.get('addr') ?? '';
    if (addr === '') return this.plainError(res, 400, "missing 'addr' parameter");
    let target: NodeState | undefined;
    if (addr.startsWith('nodekey:')) {
      if (!/^nodekey:[0-9a-fA-F]{64}$/.test(addr)) return this.plainError(res, 400, "invalid nodekey in 'addr' parameter");
      target = this.state.byNodeKey(addr);
    } else {
      const ip = hostOf(addr);
      if (ip === undefined) return this.plainError(res, 400, "invalid 'addr' parameter");
      target = this.state.byAddress(ip);
    }
    if (!target || backendState(this.node) !== 'Running') return this.plainError(res, 404, 'no match for IP:port');
    // MarshalIndent + Write: no trailing newline, unlike status (localapi.go serveWhoIsWithBackend).
    this.json(res, renderWhoIs(this.state, target), '\t', false);
  }

  private ping(req: IncomingMessage, url: URL, res: ServerResponse): void {
    if (req.method !== 'POST') return this.plainError(res, 400, 'want POST');
    const ip = url.searchParams.get('ip') ?? '';
    if (ip === '') return this.plainError(res, 400, "missing 'ip' parameter");
    if (isIP(ip) === 0) return this.plainError(res, 400, 'invalid IP');
    const kind = url.searchParams.get('type') ?? '';
    if (kind === '') return this.plainError(res, 400, "missing 'type' parameter");
    const size = url.searchParams.get('size');
    if (size !== null && size !== '') {
      if (!/^-?[0-9]+$/.test(size)) return this.plainError(res, 400, "invalid 'size' parameter");
      if (Number(size) !== 0 && kind !== 'disco') return this.plainError(res, 400, "'size' parameter is only supported with disco pings");
    }
    const target = this.state.byAddress(ip);
    const key = target?.name ?? ip;
    this.pingCounts.set(key, (this.pingCounts.get(key) ?? 0) + 1);
    // Without a netmap the engine knows no peer: 200 with Err (wgengine/userspace.go Ping).
    if (backendState(this.node) !== 'Running') return this.json(res, renderPingError(ip, 'no matching peer', false));
    if (target === this.node) return this.json(res, renderPingError(ip, `${ip} is local Tailscale IP`, true));
    if (!target) return this.json(res, renderPingError(ip, 'no matching peer', false));
    if (!(PING_KINDS as readonly string[]).includes(kind)) return this.jsonError(res, `unknown ping type "${kind}"`);
    // The daemon never times a ping out: an unreachable peer leaves the request open.
    if (!target.online || target.fault === 'stopped' || !this.node.online) {
      this.unanswered.add(res);
      res.on('close', () => this.unanswered.delete(res));
      return;
    }
    // A disco ping is traffic: it wakes the path and starts heartbeats (magicsock endpoint.go).
    if (kind === 'disco') this.state.noteTraffic(this.node, target);
    const latency = this.state.latencyOf(target);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (res.destroyed) return;
      this.json(res, renderPing(this.state, target, kind as PingKind, latency, ip));
    }, latency);
    this.timers.add(timer);
  }

  private watch(url: URL, res: ServerResponse): void {
    const rawMask = url.searchParams.get('mask') ?? '';
    if (rawMask !== '' && !/^[0-9]+$/.test(rawMask)) return this.plainError(res, 400, 'bad mask');
    const mask = rawMask === '' ? 0 : Number(rawMask);
    if (mask & WATCH.inProcessNoDisconnect) {
      return this.plainError(res, 400, 'NotifyInProcessNoDisconnect is only valid for in-process IPN bus subscribers');
    }
    if (mask & WATCH.rateLimit && mask & RATE_LIMIT_INCOMPATIBLE) {
      return this.plainError(res, 400, 'NotifyRateLimit is incompatible with new-style IPN bus subscription bits');
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    const watcher: Watcher = { res, mask, sessionId: sessionId() };
    this.watchers.add(watcher);
    res.on('close', () => {
      this.watchers.delete(watcher);
      this.syncEnginePoll();
      this.deleteForegroundSession(watcher.sessionId);
    });
    this.syncEnginePoll();
    // No first message at all unless an initial bit is set; SessionID only with the initial state.
    if (!(mask & INITIAL_BITS)) return;
    const first: RawObject = {};
    if (mask & WATCH.initialState) {
      first['SessionID'] = watcher.sessionId;
      first['State'] = STATE_NUMBER[backendState(this.node)];
      if (backendState(this.node) === 'NeedsLogin') first['BrowseToURL'] = `https://login.tailscale.com/a/emulated-${this.node.index + 1}`;
    }
    if (mask & WATCH.initialNetMap && backendState(this.node) === 'Running') first['SelfChange'] = renderNode(this.state, this.node);
    if (mask & WATCH.initialStatus) first['InitialStatus'] = renderStatus(this.state, this.node);
    res.write(stringifyJsonLossless(renderNotify(first)) + '\n');
  }

  /**
   * The serve config as LocalBackend.serveConfig holds it: reloaded from the store only while
   * logged in with a netmap (reloadServeConfigLocked), so null otherwise.
   */
  private currentServeConfig(): ServeConfig | null {
    return backendState(this.node) === 'Running' ? this.state.serveConfig(this.node) : null;
  }

  /** ipn/localapi/serve.go serveServeConfig. */
  private serveConfig(req: IncomingMessage, res: ServerResponse): void {
    if (req.method === 'GET') {
      const body = marshalServeConfig(this.currentServeConfig());
      res.writeHead(200, { Etag: createHash('sha256').update(body).digest('hex'), 'Content-Type': 'application/json' });
      res.end(body);
      return;
    }
    if (req.method !== 'POST') return this.plainError(res, 405, 'method not allowed');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const decoded = decodeServeConfig(Buffer.concat(chunks).toString('utf8'));
      if (!decoded.ok) return this.goErrorJson(res, `decoding config: ${decoded.error}`);
      const err = this.setServeConfig(decoded.config, req.headers['if-match'] ?? '');
      if (err === 'etag mismatch') return this.plainError(res, 412, err);
      if (err !== undefined) return this.goErrorJson(res, `updating config: ${err}`);
      res.writeHead(200);
      res.end();
    });
  }

  /** LocalBackend.setServeConfigLocked; returns Go's error text. */
  private setServeConfig(config: ServeConfig, etag: string): string | undefined {
    if (backendState(this.node) !== 'Running') return 'netMap is nil';
    const prev = this.currentServeConfig();
    // An empty If-Match overwrites; otherwise it must be the current ETag exactly (no quotes).
    if (etag !== '' && etag !== createHash('sha256').update(marshalServeConfig(prev)).digest('hex')) return 'etag mismatch';
    const invalid = validateServeConfigUpdate(prev, config);
    if (invalid !== undefined) return invalid;
    // Stored, then reloaded: the reload drops foreground sessions with no bus watcher of that ID.
    const stored = cloneServeConfig(config);
    const live = new Set([...this.watchers].map((w) => w.sessionId));
    for (const id of [...(stored.Foreground?.keys() ?? [])]) if (!live.has(id)) stored.Foreground?.delete(id);
    this.state.storeServeConfig(this.node, stored);
    return undefined;
  }

  /** A bus session ended: its foreground serve config goes with it (DeleteForegroundSession). */
  private deleteForegroundSession(id: string): void {
    const sc = this.currentServeConfig();
    if (!sc?.Foreground?.has(id)) return;
    const next = cloneServeConfig(sc);
    next.Foreground?.delete(id);
    this.setServeConfig(next, '');
  }

  private json(res: ServerResponse, body: RawObject, indent = '', newline = true): void {
    const text = stringifyJsonLossless(body, indent) + (newline ? '\n' : '');
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(text);
  }

  /** LocalAPI's WriteErrorJSON: HTTP 500 with {"error": "..."}. */
  private jsonError(res: ServerResponse, message: string): void {
    res.writeHead(500, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: message }) + '\n');
  }

  /** WriteErrorJSON through json.Encoder: HTML-escaped like Go, one trailing newline. */
  private goErrorJson(res: ServerResponse, message: string): void {
    res.writeHead(500, { 'Content-Type': 'application/json' });
    res.end(`{"error":${goQuote(message)}}\n`);
  }

  /** Go's http.Error: plain text plus a newline. */
  private plainError(res: ServerResponse, status: number, message: string): void {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
    res.end(message + '\n');
  }
}

/** The IP of "ip", "ip:port" or "[v6]:port", as netip.ParseAddrPort would accept. */
function hostOf(addr: string): string | undefined {
  if (isIP(addr) !== 0) return addr;
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(addr);
  if (!m || Number(m[3]) > 65535) return undefined;
  const host = m[1] ?? m[2] ?? '';
  return isIP(host) !== 0 ? host : undefined;
}
