// One emulated tailscaled: a LocalAPI HTTP server on the device's own unix
// socket, answering from the shared tailnet state as this device sees it.
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
  STATE_NUMBER,
  type PingKind,
  type RawObject,
} from './render.js';
import type { NodeState, TailnetChange, TailnetState } from './tailnet-state.js';

const PING_KINDS: readonly PingKind[] = ['disco', 'TSMP', 'ICMP', 'peerapi'];
const WATCH = { engine: 1 << 0, initialState: 1 << 1, peerChanges: 1 << 12, initialStatus: 1 << 14, peerPatches: 1 << 15 };

interface Watcher {
  res: ServerResponse;
  mask: number;
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
  private sessionCounter = 0;
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
      else if (change.node.fault === 'logged-out' || change.previous === 'logged-out') {
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
      this.broadcast((mask) => (mask & WATCH.peerChanges ? renderNotify({ PeersRemoved: [node.nodeId] }) : undefined));
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
    this.broadcast((mask) => (mask & WATCH.engine ? renderNotify({ Engine: renderEngine(this.state, this.node) }) : undefined));
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
        return this.json(res, renderStatus(this.state, this.node), '\t');
      case '/localapi/v0/whois':
        return this.whois(url, res);
      case '/localapi/v0/ping':
        return this.ping(req, url, res);
      case '/localapi/v0/watch-ipn-bus':
        return this.watch(url, res);
      default:
        return this.plainError(res, 404, '404 page not found');
    }
  }

  private whois(url: URL, res: ServerResponse): void {
    const addr = url.searchParams.get('addr') ?? '';
    if (addr === '') return this.plainError(res, 400, "missing 'addr' parameter");
    let target: NodeState | undefined;
    if (addr.startsWith('nodekey:')) {
      if (!/^nodekey:[0-9a-f]{64}$/.test(addr)) return this.plainError(res, 400, "invalid nodekey in 'addr' parameter");
      target = this.state.byNodeKey(addr);
    } else {
      const ip = hostOf(addr);
      if (ip === undefined) return this.plainError(res, 400, "invalid 'addr' parameter");
      target = this.state.byAddress(ip);
    }
    if (!target || backendState(this.node) !== 'Running') return this.plainError(res, 404, 'no match for IP:port');
    this.json(res, renderWhoIs(this.state, target), '\t');
  }

  private ping(req: IncomingMessage, url: URL, res: ServerResponse): void {
    if (req.method !== 'POST') return this.plainError(res, 400, 'want POST');
    const ip = url.searchParams.get('ip') ?? '';
    if (ip === '') return this.plainError(res, 400, "missing 'ip' parameter");
    if (isIP(ip) === 0) return this.plainError(res, 400, 'invalid IP');
    const kind = url.searchParams.get('type') ?? '';
    if (kind === '') return this.plainError(res, 400, "missing 'type' parameter");
    if (!(PING_KINDS as readonly string[]).includes(kind)) return this.jsonError(res, `unknown ping type "${kind}"`);
    if (backendState(this.node) !== 'Running') return this.jsonError(res, 'not running');
    if (ip === this.node.address) return this.json(res, renderPingError(ip, `${ip} is local Tailscale IP`, true));
    const target = this.state.byAddress(ip);
    if (!target) return this.json(res, renderPingError(ip, 'no matching peer', false));
    // The daemon never times a ping out: an unreachable peer leaves the request open.
    if (!target.online || target.fault === 'stopped' || !this.node.online) {
      this.unanswered.add(res);
      res.on('close', () => this.unanswered.delete(res));
      return;
    }
    const latency = this.state.latencyOf(target);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (res.destroyed) return;
      this.json(res, renderPing(target, kind as PingKind, latency));
    }, latency);
    this.timers.add(timer);
  }

  private watch(url: URL, res: ServerResponse): void {
    const rawMask = url.searchParams.get('mask') ?? '0';
    if (!/^[0-9]+$/.test(rawMask)) return this.plainError(res, 400, 'bad mask');
    const mask = Number(rawMask);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    const watcher: Watcher = { res, mask };
    this.watchers.add(watcher);
    res.on('close', () => this.watchers.delete(watcher));
    this.sessionCounter++;
    const first: RawObject = { SessionID: `emulated-${this.node.index + 1}-${this.sessionCounter}` };
    if (mask & WATCH.initialState) first['State'] = STATE_NUMBER[backendState(this.node)];
    if (mask & WATCH.initialStatus) first['InitialStatus'] = renderStatus(this.state, this.node);
    if (mask & WATCH.engine) first['Engine'] = renderEngine(this.state, this.node);
    res.write(stringifyJsonLossless(renderNotify(first)) + '\n');
  }

  private json(res: ServerResponse, body: RawObject, indent = ''): void {
    const text = stringifyJsonLossless(body, indent) + '\n';
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(text);
  }

  /** LocalAPI's WriteErrorJSON: HTTP 500 with {"error": "..."}. */
  private jsonError(res: ServerResponse, message: string): void {
    res.writeHead(500, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: message }) + '\n');
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
