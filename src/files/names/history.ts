// The commit graph of a zone's namespace: every device's head, the ancestors of each (up to the
// commits `forget` cut off), which heads are still live (not an ancestor of another), their
// best common ancestor for a merge, and the snapshots in order.
import type { Commit } from './codec.js';
import { FilesError } from '../errors.js';
import type { TreeStore } from './tree.js';

/** More commits than this in one walk is damage or a loop, not history. */
export const MAX_COMMITS = 1_000_000;

export interface Snapshot {
  /** 1 = the oldest kept; as `PATH@N` names it. */
  n: number;
  id: string;
  commit: Commit;
}

/** Snapshot order: by time, then id (the same on every device). */
const byTime = (a: { id: string; commit: Commit }, b: { id: string; commit: Commit }) => a.commit.time - b.commit.time || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export class History {
  private readonly walked = new Map<string, Set<string>>();

  constructor(
    private readonly store: TreeStore,
    /** Commits cut off by `forget`: walks stop before them. */
    private readonly cut: ReadonlySet<string>,
    /**
     * Collected commits: a device that was away during a `forget` may hold a head whose old
     * ancestors are gone; its walk ends there (its merge then has no common ancestor, and keeps
     * both versions of whatever differs).
     */
    private readonly isGone: (id: string) => boolean = () => false,
  ) {}

  /** Whether walks stop before this commit (forgotten or collected). */
  forgotten(id: string): boolean {
    return this.cut.has(id) || this.isGone(id);
  }

  commit(id: string): Promise<Commit> {
    return this.store.commit(id);
  }

  /** `id` and every commit before it, short of forgotten ones. */
  async ancestors(id: string): Promise<Set<string>> {
    const known = this.walked.get(id);
    if (known) return known;
    const seen = new Set<string>();
    const todo = this.forgotten(id) ? [] : [id];
    while (todo.length > 0) {
      const c = todo.pop()!;
      if (seen.has(c)) continue;
      seen.add(c);
      if (seen.size > MAX_COMMITS) throw new FilesError('FILES_DAMAGED', `history of ${id.slice(0, 12)} has over ${MAX_COMMITS} commits`);
      for (const p of (await this.store.commit(c)).parents) if (!seen.has(p) && !this.forgotten(p)) todo.push(p);
    }
    this.walked.set(id, seen);
    return seen;
  }

  /** The heads that are not an ancestor of another head, oldest first (generation, time, id). */
  async liveHeads(ids: string[]): Promise<string[]> {
    const unique = [...new Set(ids)].filter((id) => !this.forgotten(id));
    const live: string[] = [];
    for (const h of unique) {
      let covered = false;
      for (const other of unique) if (other !== h && (await this.ancestors(other)).has(h)) covered = true;
      if (!covered) live.push(h);
    }
    const commits = new Map(await Promise.all(live.map(async (id) => [id, await this.commit(id)] as const)));
    return live.sort((a, b) => commits.get(a)!.gen - commits.get(b)!.gen || byTime({ id: a, commit: commits.get(a)! }, { id: b, commit: commits.get(b)! }));
  }

  /** The best common ancestor of a set (its ancestors) and a head: the highest generation, then the greatest id. */
  async mergeBase(ancestorsOfSet: ReadonlySet<string>, head: string): Promise<string | null> {
    let best: { id: string; gen: number } | null = null;
    for (const id of await this.ancestors(head)) {
      if (!ancestorsOfSet.has(id)) continue;
      const gen = (await this.commit(id)).gen;
      if (!best || gen > best.gen || (gen === best.gen && id > best.id)) best = { id, gen };
    }
    return best?.id ?? null;
  }

  /** Every commit reachable from the heads, oldest first, numbered from 1. */
  async snapshots(heads: string[]): Promise<Snapshot[]> {
    const all = new Set<string>();
    for (const h of heads) for (const id of await this.ancestors(h)) all.add(id);
    const list = await Promise.all([...all].map(async (id) => ({ id, commit: await this.commit(id) })));
    return list.sort(byTime).map((s, i) => ({ n: i + 1, ...s }));
  }
}
