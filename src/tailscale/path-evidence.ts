// Which way traffic to a peer goes, decided from evidence. tailscaled fills CurAddr/PeerRelay
// only while a UDP path is trusted, and trust lasts seconds after traffic
// (wgengine/magicsock/endpoint.go populatePeerStatus, addrForSendLocked; trustUDPAddrDuration
// 6.5 s and sessionActiveTimeout 45 s in magicsock.go). An idle direct peer therefore shows
// neither, exactly like a relayed one. So the last observed path is remembered for a while, and
// with no evidence at all the peer counts as relayed: that assumption never lets z:owner data
// cross DERP by mistake.
import type { PeerStatus, PingResult } from './model.js';
import type { PeerPath } from './peers.js';

export type ObservedPath = Exclude<PeerPath, 'offline'>;

export interface PathEvidence {
  path: ObservedPath;
  /** When it was observed (ms since epoch). */
  at: number;
  /** `status`: CurAddr/PeerRelay (or DERP while active); `ping`: a disco ping's Endpoint/PeerRelay/DERPRegionID. */
  source: 'status' | 'ping';
}

export interface PathTrackerOptions {
  /** How long an observation stands for an idle peer (default 10 min). */
  ttlMs?: number;
  now?: () => number;
}

export class PathTracker {
  private readonly seen = new Map<string, PathEvidence>();
  readonly ttlMs: number;
  private readonly now: () => number;

  constructor(opts: PathTrackerOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 10 * 60_000;
    this.now = opts.now ?? Date.now;
  }

  /** The path for a status entry, recording what the status itself proves. */
  fromStatus(ps: Pick<PeerStatus, 'stableId' | 'online' | 'curAddr' | 'peerRelay' | 'active'>): PeerPath {
    if (!ps.online) {
      // A device that went away may come back on another network: its old path proves nothing.
      this.seen.delete(ps.stableId);
      return 'offline';
    }
    if (ps.curAddr !== '') return this.record(ps.stableId, 'direct', 'status');
    if (ps.peerRelay !== '') return this.record(ps.stableId, 'peer-relay', 'status');
    // Traffic flowed lately but no UDP path is trusted: magicsock is sending over DERP.
    if (ps.active) return this.record(ps.stableId, 'derp', 'status');
    const last = this.fresh(ps.stableId);
    return last ? last.path : 'derp';
  }

  /** Records a ping answer; returns the evidence, or undefined when the ping proves nothing. */
  fromPing(stableId: string, r: Pick<PingResult, 'err' | 'path'>): PathEvidence | undefined {
    if (r.err !== '' || r.path === 'unknown') return undefined;
    this.record(stableId, r.path, 'ping');
    return this.seen.get(stableId);
  }

  /** The last observation, if younger than `maxAgeMs` (default the TTL; 0 means none is fresh). */
  fresh(stableId: string, maxAgeMs = this.ttlMs): PathEvidence | undefined {
    const e = this.seen.get(stableId);
    return e && maxAgeMs > 0 && this.now() - e.at <= maxAgeMs ? e : undefined;
  }

  /** The last observation, however old. */
  last(stableId: string): PathEvidence | undefined {
    return this.seen.get(stableId);
  }

  forget(stableId: string): void {
    this.seen.delete(stableId);
  }

  private record(stableId: string, path: ObservedPath, source: PathEvidence['source']): ObservedPath {
    this.seen.set(stableId, { path, at: this.now(), source });
    return path;
  }
}
