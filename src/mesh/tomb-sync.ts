// When this device last synced tombstones with each peer, per zone (tomb-sync.json), and which
// zones it has not reconciled since it came back from an absence longer than the tombstone TTL.
//
// Tombstones expire (gc.tombstoneTtlMs, default 90 days): past it, every device forgets them.
// A device that was away longer than that can no longer learn that an object it still holds was
// collected while it was away: the tombstone is gone everywhere. Re-spreading its copies would
// bring the object back. So a device whose last tombstone sync of a zone (with any peer) is older
// than the TTL when it syncs again marks the zone unreconciled: its copies of objects of that zone
// that no other device holds are held back (repair neither repairs nor re-spreads them, peers are
// refused them with MESH_UNRECONCILED) until it has heard every device of the zone and the names
// of the zone have been checked (the collection pass tombstones what nothing names; what a name
// still needs is released). Objects another device also holds are alive: they are never held.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

interface ZoneSync {
  /** Peer stable id → wall ms of the last tombstone sync with it. */
  peers: Record<string, number>;
  /** Wall ms since which the zone is unreconciled (absent: reconciled). */
  unreconciledSince?: number;
  /** Object ids (hex) held back while unreconciled. */
  held?: string[];
}

interface SyncFile {
  /** Wall ms this record was started (a zone never synced counts from here). */
  since: number;
  zones: Record<string, ZoneSync>;
}

export class TombSync {
  private readonly data: SyncFile;
  private readonly heldIds = new Set<string>();

  constructor(
    private readonly path: string | null,
    private readonly now: () => number,
  ) {
    let data: SyncFile | null = null;
    if (path && existsSync(path)) {
      try {
        const raw = JSON.parse(readFileSync(path, 'utf8')) as SyncFile;
        if (typeof raw.since === 'number' && raw.zones && typeof raw.zones === 'object') data = raw;
      } catch {
        data = null;
      }
    }
    // No record (a new data dir, or one from before tombstones expired): counted from now.
    this.data = data ?? { since: now(), zones: {} };
    for (const z of Object.values(this.data.zones)) for (const id of z.held ?? []) this.heldIds.add(id);
    if (!data) this.save();
  }

  private zone(id: string): ZoneSync {
    return (this.data.zones[id] ??= { peers: {} });
  }

  /** Wall ms of the last tombstone sync of `zone` with any peer (or when this record began). */
  lastSync(zone: string): number {
    const peers = Object.values(this.data.zones[zone]?.peers ?? {});
    return peers.length ? Math.max(...peers) : this.data.since;
  }

  lastSyncWith(zone: string, peer: string): number | undefined {
    return this.data.zones[zone]?.peers[peer];
  }

  /**
   * A sync of `zone` with `peers` (their tombstone lists received) at now. If the zone's previous
   * sync was longer than `ttlMs` ago, the zone becomes unreconciled (returns true then).
   */
  noteSync(zone: string, peers: string[], ttlMs: number): boolean {
    if (peers.length === 0) return false;
    const now = this.now();
    const z = this.zone(zone);
    const stale = now - this.lastSync(zone) > ttlMs;
    if (stale && z.unreconciledSince === undefined) z.unreconciledSince = now;
    for (const p of peers) z.peers[p] = now;
    this.save();
    return stale;
  }

  unreconciled(zone: string): boolean {
    return this.data.zones[zone]?.unreconciledSince !== undefined;
  }

  unreconciledZones(): string[] {
    return Object.entries(this.data.zones).filter(([, z]) => z.unreconciledSince !== undefined).map(([id]) => id);
  }

  isHeld(objectIdHex: string): boolean {
    return this.heldIds.has(objectIdHex);
  }

  /** The objects of an unreconciled zone that no other device holds: held back from now on. */
  hold(zone: string, ids: string[]): void {
    const z = this.zone(zone);
    const set = new Set(z.held ?? []);
    for (const id of ids) {
      set.add(id);
      this.heldIds.add(id);
    }
    z.held = [...set].sort();
    this.save();
  }

  /** An object another device holds again (stored again, or found elsewhere): no longer held. */
  release(objectIdHex: string): boolean {
    if (!this.heldIds.delete(objectIdHex)) return false;
    for (const z of Object.values(this.data.zones)) if (z.held) z.held = z.held.filter((x) => x !== objectIdHex);
    this.save();
    return true;
  }

  /** The zone is reconciled: nothing of it is held any more. */
  reconciled(zone: string): void {
    const z = this.zone(zone);
    for (const id of z.held ?? []) this.heldIds.delete(id);
    delete z.held;
    delete z.unreconciledSince;
    this.save();
  }

  allHeld(): string[] {
    return [...this.heldIds];
  }

  held(zone: string): string[] {
    return [...(this.data.zones[zone]?.held ?? [])];
  }

  private save(): void {
    if (!this.path) return;
    writeFileSync(`${this.path}.tmp`, JSON.stringify(this.data), { mode: 0o600 });
    renameSync(`${this.path}.tmp`, this.path);
  }
}
