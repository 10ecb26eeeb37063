// The live view of the tailnet this device sees: itself, its peers, their zones, paths and
// latency. Kept current by the LocalAPI's ipn-bus watch stream (not by polling); a slow
// periodic refresh is only a backstop for a watch that silently stalls.
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { LocalApiClient, peersFromStatus, selfFromStatus, type Peer } from '../tailscale/index.js';
import type { Zone, ZoneRegistry } from '../zones/index.js';

export interface PeerInfo {
  peer: Peer;
  zones: Zone[];
  /** Round-trip latency from the last LocalAPI ping, if any. */
  latencyMs?: number;
  /** Free storage the peer last reported, if any. */
  freeBytes?: number;
  /** When this device first saw the peer offline (ms since epoch); absent while online. */
  offlineSince?: number;
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
  pingIntervalMs?: number;
  backstopRefreshMs?: number;
}

export class PeerDirectory extends EventEmitter {
  private selfPeer: Peer | null = null;
  private readonly infos = new Map<string, PeerInfo>();
  private readonly abort = new AbortController();
  private refreshing: Promise<void> | null = null;
  private refreshQueued = false;
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly opts: PeerDirectoryOptions) {
    super();
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

  async start(): Promise<void> {
    await this.refresh();
    void this.watchLoop();
    const ping = setInterval(() => void this.pingAll(), this.opts.pingIntervalMs ?? 15_000);
    const backstop = setInterval(() => void this.refresh().catch(() => undefined), this.opts.backstopRefreshMs ?? 60_000);
    ping.unref();
    backstop.unref();
    this.timers.push(ping, backstop);
    await this.pingAll();
  }

  stop(): void {
    this.abort.abort();
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /** All known peers (not self), including offline ones. */
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

  /** Online peers passing `filter`, best first. */
  ranked(filter: (info: PeerInfo) => boolean = () => true): PeerInfo[] {
    return this.all()
      .filter((i) => i.peer.online && filter(i))
      .sort(comparePeers);
  }

  setFreeBytes(stableId: string, freeBytes: number): void {
    const info = this.infos.get(stableId);
    if (info) info.freeBytes = freeBytes;
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
          await this.applyStatus();
        } while (this.refreshQueued);
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  private async applyStatus(): Promise<void> {
    const status = await this.opts.client.status();
    this.selfPeer = selfFromStatus(status);
    const seen = new Set<string>();
    const changed: string[] = [];
    for (const peer of peersFromStatus(status)) {
      seen.add(peer.stableId);
      const old = this.infos.get(peer.stableId);
      if (!old || old.peer.online !== peer.online || old.peer.path !== peer.path) changed.push(peer.stableId);
      this.infos.set(peer.stableId, {
        peer,
        zones: this.opts.zones.zonesForTags(peer.tags),
        ...(old?.latencyMs !== undefined ? { latencyMs: old.latencyMs } : {}),
        ...(old?.freeBytes !== undefined ? { freeBytes: old.freeBytes } : {}),
        ...(peer.online ? {} : { offlineSince: old?.offlineSince ?? Date.now() }),
      });
    }
    for (const id of [...this.infos.keys()]) {
      if (!seen.has(id)) {
        this.infos.delete(id);
        changed.push(id);
      }
    }
    if (changed.length > 0) this.emit('change', changed);
  }

  private async watchLoop(): Promise<void> {
    let backoff = 250;
    while (!this.abort.signal.aborted) {
      try {
        for await (const _notify of this.opts.client.watch({ signal: this.abort.signal })) {
          backoff = 250;
          await this.refresh().catch((err: Error) => this.opts.log.warn({ err: err.message }, 'status refresh failed'));
        }
      } catch (err) {
        if (this.abort.signal.aborted) return;
        this.opts.log.warn({ err: (err as Error).message }, 'LocalAPI watch stream failed; retrying');
      }
      if (this.abort.signal.aborted) return;
      await sleep(backoff, this.abort.signal);
      backoff = Math.min(backoff * 2, 10_000);
    }
  }

  private async pingAll(): Promise<void> {
    const online = this.all().filter((i) => i.peer.online && i.peer.tailscaleIps.length > 0);
    await Promise.all(
      online.map(async (info) => {
        try {
          const r = await this.opts.client.ping(info.peer.tailscaleIps[0]!, 'disco', { timeoutMs: 2_000 });
          // A status refresh may have replaced the record meanwhile: update the current one.
          const current = this.infos.get(info.peer.stableId);
          if (!r.err && current) current.latencyMs = r.latencyMs;
        } catch {
          // An unanswered ping leaves the old figure; path and online state come from status.
        }
      }),
    );
  }
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
