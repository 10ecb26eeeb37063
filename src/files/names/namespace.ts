// One zone's namespace as every device sees it: the heads of all devices (refs), merged. Reading
// drops heads that are ancestors of another and three-way merges the rest (merge.ts), folding
// them oldest first, so every device that knows the same heads sees the same tree. A change is
// made on that merged tree and committed with every live head as a parent, which makes the new
// commit the one live head once it has spread. Each device writes only its own head.
import type { RefRecord } from '../../crypto/index.js';
import type { Commit } from './codec.js';
import { FilesError } from '../errors.js';
import { History, type Snapshot } from './history.js';
import { merge3 } from './merge.js';
import { Dir, type TreeStore } from './tree.js';

/** The zone's heads as this device can learn them, and how its own head is published. */
export interface RefIO {
  /** Every device's latest head of the zone (asked of the online devices first). */
  pull(): Promise<RefRecord[]>;
  publish(ref: RefRecord): Promise<void>;
}

export interface View {
  root: Dir;
  /** Live heads (commit ids), oldest first; one after every device has seen the last change. */
  heads: string[];
  snapshots: Snapshot[];
  history: History;
  refs: RefRecord[];
  /**
   * Heads whose commits cannot be read now (stored only on devices that are away). The view
   * goes on without them; a change made meanwhile does not name them as parents, so they
   * merge in as concurrent heads when their devices return. Nothing is collected meanwhile.
   */
  unreadable: string[];
}

export interface NamespaceDeps {
  zone: string;
  self: () => { stableId: string; hostName: string };
  trees: TreeStore;
  refs: RefIO;
  /** Whether an object was collected (tombstoned): history walks stop at such commits. */
  isGone?: (id: string) => boolean;
  now?: () => number;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));

export class Namespace {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly d: NamespaceDeps) {}

  private now(): number {
    return (this.d.now ?? Date.now)();
  }

  /** The merged tree of all devices' heads. */
  async view(): Promise<View> {
    const refs = (await this.d.refs.pull()).filter((r) => r.zone === this.d.zone);
    const forgotten = new Set(refs.flatMap((r) => r.forgotten.map(hex)));
    const history = new History(this.d.trees, forgotten, this.d.isGone);
    const readable: string[] = [];
    const unreadable: string[] = [];
    for (const id of new Set(refs.map((r) => hex(r.commit)))) {
      try {
        await history.ancestors(id);
        readable.push(id);
      } catch (err) {
        if ((err as { code?: string }).code === 'FILES_DAMAGED') throw err;
        unreadable.push(id);
      }
    }
    const heads = await history.liveHeads(readable);
    const snapshots = await history.snapshots(heads);
    if (heads.length === 0) return { root: Dir.empty(this.d.trees), heads, snapshots, history, refs, unreadable };
    let root = await Dir.load(this.d.trees, (await history.commit(heads[0]!)).tree);
    const folded = new Set(await history.ancestors(heads[0]!));
    for (const h of heads.slice(1)) {
      const base = await history.mergeBase(folded, h);
      const baseDir = base ? await Dir.load(this.d.trees, (await history.commit(base)).tree) : null;
      root = await merge3(baseDir, root, await Dir.load(this.d.trees, (await history.commit(h)).tree), () => Dir.empty(this.d.trees));
      for (const id of await history.ancestors(h)) folded.add(id);
    }
    return { root, heads, snapshots, history, refs, unreadable };
  }

  /** The tree of snapshot `n` of a view. */
  async snapshotRoot(view: View, n: number): Promise<{ root: Dir; snapshot: Snapshot }> {
    const s = view.snapshots[n - 1];
    if (!s) {
      throw new FilesError('FILES_SNAPSHOT_NOT_FOUND', view.snapshots.length === 0 ? `zone ${this.d.zone} has no snapshots yet` : `no snapshot @${n}: ${this.d.zone} has snapshots @1 to @${view.snapshots.length} (see \`fcp log\`)`);
    }
    return { root: await Dir.load(this.d.trees, s.commit.tree), snapshot: s };
  }

  /** Runs one change at a time on this device (each on the view left by the one before). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Edits the merged tree and commits the result as this device's new head; nothing is
   * committed when the tree comes out unchanged (a single head with the same tree).
   */
  change(message: string, edit: (root: Dir, view: View) => Promise<void>): Promise<{ commit: string | null; changed: boolean }> {
    return this.serial(async () => {
      const v = await this.view();
      await edit(v.root, v);
      const tree = await v.root.flush();
      const only = v.heads.length === 1 ? await v.history.commit(v.heads[0]!) : null;
      if ((only && only.tree === tree) || (v.heads.length === 0 && v.root.size === 0)) return { commit: v.heads[0] ?? null, changed: false };
      const id = await this.commit(v, tree, message);
      return { commit: id, changed: true };
    });
  }

  private async commit(v: View, tree: string, message: string, forgotten?: string[]): Promise<string> {
    const self = this.d.self();
    const parents = await Promise.all(v.heads.map((h) => v.history.commit(h)));
    const c: Commit = {
      tree,
      parents: [...v.heads].sort(),
      device: self.stableId,
      host: self.hostName,
      // After every parent even if this device's clock is behind: snapshots stay in order.
      time: Math.max(this.now(), ...parents.map((p) => p.time + 1)),
      gen: 1 + Math.max(0, ...parents.map((p) => p.gen)),
      message,
    };
    const id = await this.d.trees.putCommit(c);
    await this.publish(v, id, forgotten);
    return id;
  }

  private async publish(v: View, commit: string, forgotten?: string[]): Promise<void> {
    const self = this.d.self();
    const own = v.refs.find((r) => r.device === self.stableId);
    await this.d.refs.publish({
      zone: this.d.zone,
      device: self.stableId,
      seq: (own?.seq ?? 0) + 1,
      commit: bytes(commit),
      forgotten: forgotten ? forgotten.map(bytes) : (own?.forgotten ?? []),
      time: this.now(),
    });
  }

  /**
   * Keeps the newest `keepLast` snapshots (and every live head); older ones leave the history
   * (their commits, and what only they reference, become garbage). Concurrent heads are merged
   * into one commit first.
   */
  forget(keepLast: number): Promise<{ kept: number; forgotten: number }> {
    if (!Number.isSafeInteger(keepLast) || keepLast < 1) return Promise.reject(new FilesError('FILES_BAD_FORGET', `--keep-last must be a whole number of at least 1 (got ${keepLast})`));
    return this.serial(async () => {
      let v = await this.view();
      if (v.heads.length === 0) return { kept: 0, forgotten: 0 };
      if (v.heads.length > 1) {
        await this.commit(v, await v.root.flush(), 'merge before forget');
        v = await this.view();
      }
      const kept = new Set([...v.snapshots.slice(-keepLast).map((s) => s.id), ...v.heads]);
      if (kept.size === v.snapshots.length) return { kept: kept.size, forgotten: 0 };
      // The cut: parents of kept commits that are not kept. Walks stop there; what lies beyond
      // is reachable only through them. Earlier cuts still named as a kept commit's parent stay.
      const cut = new Set<string>();
      for (const s of v.snapshots) {
        if (!kept.has(s.id)) continue;
        for (const p of s.commit.parents) if (!kept.has(p)) cut.add(p);
      }
      // Heads of devices that have not changed anything since: ancestors of the live head, and
      // now forgotten too, or they would come back as heads with no common ancestor.
      for (const r of v.refs) if (!kept.has(hex(r.commit))) cut.add(hex(r.commit));
      await this.publish(v, v.heads[0]!, [...cut].sort());
      return { kept: kept.size, forgotten: v.snapshots.length - kept.size };
    });
  }
}
