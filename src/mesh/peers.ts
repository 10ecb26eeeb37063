// The live view of the tailnet this device sees: itself, its peers, their zones, paths and
// latency, and tailscaled's own state. Kept current by the LocalAPI's ipn-bus watch stream: the
// status is re-read only when a notification changes peers or state (never on engine counters),
// and a slow periodic refresh is only a backstop for a watch that silently stalls.
//
// Paths come from evidence (see tailscale/path-evidence.ts): an idle direct peer shows no
// CurAddr, so the last observed path stands for a while, and confirmPath() re-checks one peer
// right before traffic that must not cross a relay. Pings go only to fcp members, only when
// there is no fresh evidence, and to devices that usually run on battery only once when they
// appear (or when confirmPath needs it): a disco ping marks the peer active and keeps heartbeats
// going for 45 s (wgengine/magicsock/endpoint.go noteTxActivityExtTriggerLocked).
import { EventEmitter } from 'node:events';
import { FcpError } from '../errors/index.js';
import type { Logger } from 'pino';
import {
  conditionOf,
  isForeignPeer,
  LocalApiClient,
  mayBeOnBattery,
  notifyChangesPeers,
  PathTracker,
  peerFromStatus,
  selfFromStatus,
  TailscaleError,
  TailscaleNotLoggedInError,
  TailscaleUserspaceError,
  unreachableCondition,
  waitForRunning,
  type PathEvidence,
  type Peer,
  type TailscaledCondition,
  type TailscaleStatus,
} from '../tailscale/index.js';
import type { Zone, ZoneRegistry } from '../zones/index.js';

export interface PeerInfo {
  peer: Peer;
  zones: Zone[];
  /** Round-trip latency from the last LocalAPI ping or FCP round trip, if any. */
  latencyMs?: number;
  /** Free storage the peer last reported, if any. */
  freeBytes?: number;
  /** When this device first saw the peer offline (ms since epoch); absent while online. */
  offlineSince?: number;
  /** What `peer.path` rests on; absent when nothing was observed (the path then says `derp`). */
  pathEvidence?: PathEvidence;
}

/** tailscaled as this daemon sees it, for `fcp status` and for refusing work while it is down. */
export interface TailscaledState extends TailscaledCondition {
  /** BackendState is Running and the socket answers. */
  running: boolean;
  /** Since when (ms since epoch) this state holds. */
  since: number;
  version?: string;
  /** tailscaled's own health warnings (Status.Health). */
  health: string[];
}

const PATH_RANK: Record<Peer['path'], number> = { direct: 0, 'peer-relay': 1, derp: 2, offline: 3 };

/** Best first: direct, then lower latency, then more free storage; stable id breaks ties. */
export function comparePeers(a: PeerInfo, b: PeerInfo): number {
  const byPath = PATH_RANK[a.peer.path] - PATH_RANK[b.peer.path];
  if (byPath !== 0) return byPath;
  const la = a.latencyMs ?? Number.POSITIVE_INFINITY;
  const lb = b.latencyMs ?? Number.POSITIVE_INFINITY;
  if (la !== lb) return la < lb ? -1 : 1;
  const fa = a.freeBytes ?? 0;
  const fb = b.freeBytes ?? 0;
  if (fa !== fb) return fb - fa;
  return a.peer.stableId < b.peer.stableId ? -1 : a.peer.stableId > b.peer.stableId ? 1 : 0;
}

export interface PeerDirectoryOptions {
  client: LocalApiClient;
  zones: ZoneRegistry;
  log: Logger;
  /** How often members without fresh path evidence are pinged (default 5 min). */
  pingIntervalMs?: number;
  backstopRefreshMs?: number;
  /** How long an observed path stands for an idle peer (default 10 min). */
  pathTtlMs?: number;
  /** How long start() waits for tailscaled to be Running (default: as long as it takes). */
  startTimeoutMs?: number;
  /** Devices removed from the mesh: left out like other people's devices (never members again). */
  isRemoved?: (stableId: string) => boolean;
}

/** The error a caller gets for work that needs the tailnet while tailscaled is not Running. */
export class TailscaledNotRunningError extends FcpError {
  constructor(readonly state: TailscaledState) {
    super('MESH_TAILSCALED_DOWN', `tailscaled is not usable (${state.state}): ${state.advice}`);
  }
}

export class PeerDirectory extends EventEmitter {
  private selfPeer: Peer | null = null;
  private readonly infos = new Map<string, PeerInfo>();
  private readonly abort = new AbortController();
  private refreshing: Promise<void> | null = null;
  private refreshQueued = false;
  private timers: NodeJS.Timeout[] = [];
  private readonly paths: PathTracker;
  private readonly pinging = new Map<string, Promise<void>>();
  private retryTimer: NodeJS.Timeout | undefined;
  private state: TailscaledState = { state: 'NoState', transient: true, advice: 'not started', running: false, since: Date.now(), health: [] };

  constructor(private readonly opts: PeerDirectoryOptions) {
    super();
    this.paths = new PathTracker(opts.pathTtlMs !== undefined ? { ttlMs: opts.pathTtlMs } : {});
  }

  get self(): Peer {
    if (!this.selfPeer) throw new Error('peer directory not started');
    return this.selfPeer;
  }

  get selfZones(): Zone[] {
    return this.opts.zones.zonesForTags(this.self.tags);
  }

  /** This device's tailnet IPv4 address (the FCP server binds it). */
  get selfAddress(): string {
    const v4 = this.self.tailscaleIps.find((ip) => !ip.includes(':'));
    if (!v4) throw new Error('this device has no Tailscale IPv4 address');
    return v4;
  }

  /** Waits for tailscaled to be Running (logging what it waits for), then follows it. */
  async start(): Promise<void> {
    const status = await waitForRunning(this.opts.client, {
      signal: this.abort.signal,
      ...(this.opts.startTimeoutMs !== undefined ? { timeoutMs: this.opts.startTimeoutMs } : {}),
      onCondition: (c) => {
        this.setState(c);
        this.opts.log.warn({ tailscaled: c.state, ...(c.authUrl ? { authUrl: c.authUrl } : {}) }, `waiting for tailscaled: ${c.advice}`);
      },
    });
    this.applyStatus(status);
    void this.watchLoop();
    const ping = setInterval(() => void this.pingStale(this.opts.pingIntervalMs ?? 5 * 60_000), this.opts.pingIntervalMs ?? 5 * 60_000);
    const backstop = setInterval(() => void this.refresh().catch(() => undefined), this.opts.backstopRefreshMs ?? 5 * 60_000);
    ping.unref();
    backstop.unref();
    this.timers.push(ping, backstop);
    // Each member's path is learned once now, phones included: one ping wakes a phone for 45 s
    // once, not every few seconds; after this only members off battery are pinged unasked.
    await this.pingStale(0, true);
  }

  stop(): void {
    this.abort.abort();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /** tailscaled's state now: Running or not, what to do about it, its health warnings. */
  tailscaled(): TailscaledState {
    return { ...this.state, health: [...this.state.health] };
  }

  /** Throws MESH_TAILSCALED_DOWN unless tailscaled is Running (for work that needs the tailnet). */
  requireRunning(): void {
    if (!this.state.running) throw new TailscaledNotRunningError(this.tailscaled());
  }

  /** All known member candidates (not self, not other people's devices), including offline ones. */
  all(): PeerInfo[] {
    return [...this.infos.values()];
  }

  byStableId(id: string): PeerInfo | undefined {
    return this.infos.get(id);
  }

  byIp(ip: string): PeerInfo | undefined {
    for (const info of this.infos.values()) if (info.peer.tailscaleIps.includes(ip)) return info;
    return undefined;
  }

  /** Online peers passing `filter`, best first; none while tailscaled is not Running. */
  ranked(filter: (info: PeerInfo) => boolean = () => true): PeerInfo[] {
    if (!this.state.running) return [];
    return this.all()
      .filter((i) => i.peer.online && filter(i))
      .sort(comparePeers);
  }

  setFreeBytes(stableId: string, freeBytes: number): void {
    const info = this.infos.get(stableId);
    if (info) info.freeBytes = freeBytes;
  }

  /** An FCP round trip measured by the caller: latency without waking the peer with pings. */
  noteRoundTrip(stableId: string, ms: number): void {
    const info = this.infos.get(stableId);
    if (info && Number.isFinite(ms) && ms >= 0) info.latencyMs = ms;
  }

  /**
   * The path to one peer, re-checked now unless observed within `maxAgeMs` (default 30 s): first
   * the status (CurAddr/PeerRelay after recent traffic), else a disco ping, repeated once when
   * the first answer came over DERP (an idle peer's first reply may race the relay). Call it
   * right before traffic whose zone may not cross a relay. A peer that does not answer keeps the
   * `derp` assumption.
   */
  async confirmPath(stableId: string, opts: { maxAgeMs?: number; timeoutMs?: number } = {}): Promise<Peer['path']> {
    const maxAgeMs = opts.maxAgeMs ?? 30_000;
    let info = this.infos.get(stableId);
    if (!info || !info.peer.online) return 'offline';
    if (this.paths.fresh(stableId, maxAgeMs)) return info.peer.path;
    const asked = Date.now();
    await this.refresh().catch(() => undefined);
    info = this.infos.get(stableId);
    if (!info || !info.peer.online) return 'offline';
    // The status just read proves the path (CurAddr or PeerRelay after recent traffic).
    const seen = this.paths.last(stableId);
    if (seen && seen.source === 'status' && seen.at >= asked) return info.peer.path;
    const first = await this.pingOne(info, opts.timeoutMs ?? 3_000);
    if (first === 'derp') await this.pingOne(info, opts.timeoutMs ?? 3_000);
    return this.infos.get(stableId)?.peer.path ?? 'offline';
  }

  /** Re-reads status; concurrent callers share one request and a trailing one is queued. */
  async refresh(): Promise<void> {
    if (this.refreshing) {
      this.refreshQueued = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      try {
        do {
          this.refreshQueued = false;
          await this.readStatus();
        } while (this.refreshQueued);
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  private async readStatus(): Promise<void> {
    let status: TailscaleStatus;
    try {
      status = await this.opts.client.status({ allowNotRunning: true });
    } catch (err) {
      if (isDown(err)) this.setState(unreachableCondition(err));
      throw err;
    }
    this.applyStatus(status);
    if (status.backendState !== 'Running') throw new TailscaleNotLoggedInError(status.backendState);
  }

  private setState(c: TailscaledCondition, status?: TailscaleStatus): void {
    const running = c.state === 'Running' && (status?.tun ?? true);
    const changed = this.state.state !== c.state || this.state.running !== running;
    this.state = {
      ...c,
      running,
      since: changed ? Date.now() : this.state.since,
      health: status ? [...status.health] : changed ? [] : this.state.health,
      ...(status?.version ? { version: status.version } : this.state.version ? { version: this.state.version } : {}),
    };
    if (status && !status.tun) {
      const e = new TailscaleUserspaceError();
      this.state = { ...this.state, running: false, advice: e.message, errorCode: e.code };
    }
    if (changed) {
      if (this.selfPeer) this.opts.log.warn({ tailscaled: c.state }, running ? 'tailscaled is running again' : `tailscaled: ${this.state.advice}`);
      this.emit('tailscaled', this.tailscaled());
    }
  }

  /** Takes in a status answer. Peers are only replaced while Running: a logged-out or stopped daemon lists none, and that must not look like every device leaving. */
  private applyStatus(status: TailscaleStatus): void {
    this.setState(conditionOf(status), status);
    if (status.backendState !== 'Running') return;
    this.selfPeer = selfFromStatus(status);
    const seen = new Set<string>();
    const changed: string[] = [];
    const comingOnline: PeerInfo[] = [];
    for (const ps of status.peers) {
      const peer = peerFromStatus(ps);
      // Other people's devices are never members, whatever tags they carry.
      if (isForeignPeer(peer)) continue;
      // Nor are devices removed from the mesh: placement, repair and leases stop counting them.
      if (this.opts.isRemoved?.(peer.stableId)) continue;
      peer.path = this.paths.fromStatus(ps);
      seen.add(peer.stableId);
      const old = this.infos.get(peer.stableId);
      if (!old || old.peer.online !== peer.online || old.peer.path !== peer.path) changed.push(peer.stableId);
      const evidence = this.paths.fresh(peer.stableId);
      const info: PeerInfo = {
        peer,
        zones: this.opts.zones.zonesForTags(peer.tags),
        ...(old?.latencyMs !== undefined ? { latencyMs: old.latencyMs } : {}),
        ...(old?.freeBytes !== undefined ? { freeBytes: old.freeBytes } : {}),
        ...(peer.online ? {} : { offlineSince: old?.offlineSince ?? Date.now() }),
        ...(evidence ? { pathEvidence: evidence } : {}),
      };
      this.infos.set(peer.stableId, info);
      if (peer.online && (!old || !old.peer.online) && !evidence) comingOnline.push(info);
    }
    for (const id of [...this.infos.keys()]) {
      if (!seen.has(id)) {
        this.infos.delete(id);
        this.paths.forget(id);
        changed.push(id);
      }
    }
    if (changed.length > 0) this.emit('change', changed);
    // A member that (re)appears without evidence is pinged once, so its path is known.
    if (this.timers.length > 0) for (const info of comingOnline) if (this.mayPing(info, true)) void this.pingOne(info, 2_000);
  }

  private async watchLoop(): Promise<void> {
    let backoff = 250;
    while (!this.abort.signal.aborted) {
      try {
        for await (const n of this.opts.client.watch({ signal: this.abort.signal })) {
          backoff = 250;
          if (n.initialStatus) {
            this.applyStatus(n.initialStatus);
            continue;
          }
          if (!notifyChangesPeers(n)) continue;
          await this.refresh().catch((err: Error) => {
            this.opts.log.debug({ err: err.message }, 'status refresh failed; retrying');
            this.retryRefresh();
          });
        }
      } catch (err) {
        if (this.abort.signal.aborted) return;
        if (isDown(err)) this.setState(unreachableCondition(err));
        this.opts.log.warn({ err: (err as Error).message }, 'LocalAPI watch stream failed; retrying');
      }
      if (this.abort.signal.aborted) return;
      await sleep(backoff, this.abort.signal);
      backoff = Math.min(backoff * 2, 10_000);
    }
  }

  /**
   * A change was announced but its status read failed (a busy daemon): read again soon, with
   * backoff, until one succeeds. No notification repeats it, so waiting for the next would lose it.
   */
  private retryRefresh(delayMs = 500): void {
    if (this.retryTimer || this.abort.signal.aborted) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.refresh().catch(() => this.retryRefresh(Math.min(delayMs * 2, 30_000)));
    }, delayMs);
    this.retryTimer.unref();
  }

  /** fcp members (a zone tag, not someone else's device); those presumed on battery only when `firstSight`. */
  private mayPing(info: PeerInfo, firstSight = false): boolean {
    return info.peer.online && info.zones.length > 0 && info.peer.tailscaleIps.length > 0 && (firstSight || !mayBeOnBattery(info.peer));
  }

  /** Pings members whose path was not observed within `olderThanMs`. */
  private async pingStale(olderThanMs: number, firstSight = false): Promise<void> {
    if (!this.state.running) return;
    const due = this.all().filter((i) => this.mayPing(i, firstSight) && !this.paths.fresh(i.peer.stableId, olderThanMs));
    await Promise.all(due.map((info) => this.pingOne(info, 2_000)));
  }

  /** One disco ping (shared by concurrent callers); returns the path it showed, if any. */
  private async pingOne(info: PeerInfo, timeoutMs: number): Promise<Peer['path'] | undefined> {
    const id = info.peer.stableId;
    const running = this.pinging.get(id);
    if (running) await running;
    else {
      const p = this.doPing(info, timeoutMs).finally(() => this.pinging.delete(id));
      this.pinging.set(id, p);
      await p;
    }
    return this.paths.fresh(id, timeoutMs + 1_000)?.path;
  }

  private async doPing(info: PeerInfo, timeoutMs: number): Promise<void> {
    const id = info.peer.stableId;
    try {
      const r = await this.opts.client.ping(info.peer.tailscaleIps[0]!, 'disco', { timeoutMs });
      // A status refresh may have replaced the record meanwhile: update the current one.
      const current = this.infos.get(id);
      if (r.err || !current) return;
      current.latencyMs = r.latencyMs;
      const evidence = this.paths.fromPing(id, r);
      if (evidence && current.peer.online) {
        current.pathEvidence = evidence;
        if (current.peer.path !== evidence.path) {
          current.peer = { ...current.peer, path: evidence.path };
          this.emit('change', [id]);
        }
      }
    } catch {
      // An unanswered ping leaves the old figures; online state comes from status.
    }
  }
}

/** Only a socket that is gone or refused means tailscaled is down; a slow answer does not. */
function isDown(err: unknown): err is TailscaleError {
  return err instanceof TailscaleError && (err.code === 'TS_NOT_RUNNING' || err.code === 'TS_PERMISSION');
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}
