// The devices this mesh no longer trusts (`fcp device remove`): a grow-only set, persisted in the
// data directory with a sequence that counts its changes, and spread between members (a member
// that was away learns it when it is back). authorize() denies every request of a removed device;
// the peer directory leaves it out, so placement, repair, leases and secrets no longer count it.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { WireRemoval } from '../wire/index.js';
import { MeshError } from './errors.js';

const FILE = 'removed.json';

export type Removal = WireRemoval;

interface Persisted {
  seq: number;
  removed: Removal[];
}

export class RemovedDevices {
  private constructor(
    private readonly path: string,
    private seqNo: number,
    private readonly byId: Map<string, Removal>,
  ) {}

  static async load(dataDir: string): Promise<RemovedDevices> {
    const path = join(dataDir, FILE);
    let raw: string | null = null;
    try {
      raw = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const byId = new Map<string, Removal>();
    let seq = 0;
    if (raw !== null) {
      let v: Persisted;
      try {
        v = JSON.parse(raw) as Persisted;
        if (!Number.isSafeInteger(v.seq) || !Array.isArray(v.removed)) throw new Error('bad shape');
      } catch {
        throw new MeshError('MESH_STATE_CORRUPT', `${path} is not a removed-devices file; restore it from a backup or another member (it only grows)`);
      }
      seq = v.seq;
      for (const r of v.removed) if (typeof r?.stableId === 'string') byId.set(r.stableId, r);
    }
    return new RemovedDevices(path, seq, byId);
  }

  has(stableId: string): boolean {
    return this.byId.has(stableId);
  }

  get(stableId: string): Removal | undefined {
    return this.byId.get(stableId);
  }

  /** How many times the set grew here (a member's set is newer when it holds entries this one lacks). */
  get seq(): number {
    return this.seqNo;
  }

  list(): Removal[] {
    return [...this.byId.values()].sort((a, b) => a.at - b.at || (a.stableId < b.stableId ? -1 : 1));
  }

  /** Adds the entries not held yet (durable before it resolves); returns those. */
  async add(entries: Removal[]): Promise<Removal[]> {
    const fresh = entries.filter((e) => !this.byId.has(e.stableId));
    if (fresh.length === 0) return [];
    for (const e of fresh) this.byId.set(e.stableId, { stableId: e.stableId, hostName: e.hostName, zones: [...e.zones], at: e.at, by: e.by });
    this.seqNo += 1;
    const body: Persisted = { seq: this.seqNo, removed: this.list() };
    const tmp = `${this.path}.tmp`;
    await writeFile(tmp, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, this.path);
    return fresh;
  }
}
