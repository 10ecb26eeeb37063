// Directories in memory over the stored tree objects: loaded on demand, edited in place, and
// written back bottom-up, so a change to one file rewrites only the directories on its path
// (and a directory nobody touched keeps its id). Stored objects are immutable and content-
// addressed, so decoded ones are cached by id without any invalidation.
import { COMMIT_SCHEMA, TREE_SCHEMA, compareNames, decodeCommit, decodeTree, encodeCommit, encodeTree, type Commit, type Entry } from './codec.js';
import { FilesError } from '../errors.js';
import { joinPath, type NamePath } from './path.js';

/** Whole objects of the zone, by hex id (the names service binds it to the mesh). */
export interface ObjectIO {
  put(bytes: Uint8Array, schema: string): Promise<string>;
  get(id: string): Promise<Uint8Array>;
}

const DEFAULT_DIR_MODE = 0o755;

/** Bounded cache of decoded objects (oldest out first). */
class Cache<T> {
  private readonly map = new Map<string, T>();
  constructor(private readonly max: number) {}
  get(id: string): T | undefined {
    return this.map.get(id);
  }
  set(id: string, v: T): void {
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value!);
    this.map.set(id, v);
  }
}

export class TreeStore {
  private readonly trees = new Cache<ReadonlyMap<string, Entry>>(4096);
  private readonly commits = new Cache<Commit>(65536);
  constructor(private readonly io: ObjectIO) {}

  async tree(ref: string): Promise<ReadonlyMap<string, Entry>> {
    const known = this.trees.get(ref);
    if (known) return known;
    const t = decodeTree(await this.io.get(ref));
    this.trees.set(ref, t);
    return t;
  }

  async commit(id: string): Promise<Commit> {
    const known = this.commits.get(id);
    if (known) return known;
    const c = decodeCommit(await this.io.get(id));
    this.commits.set(id, c);
    return c;
  }

  async putTree(entries: ReadonlyMap<string, Entry>): Promise<string> {
    const ref = await this.io.put(encodeTree(entries), TREE_SCHEMA);
    this.trees.set(ref, new Map(entries));
    return ref;
  }

  async putCommit(c: Commit): Promise<string> {
    const id = await this.io.put(encodeCommit(c), COMMIT_SCHEMA);
    this.commits.set(id, c);
    return id;
  }
}

/** A directory being read or edited. A changed one has no ref until it is flushed. */
export class Dir {
  private constructor(
    private readonly store: TreeStore,
    private readonly entries: Map<string, Entry>,
    private readonly children: Map<string, Dir>,
    private stored: string | null,
    private parent: Dir | null,
  ) {}

  static empty(store: TreeStore): Dir {
    return new Dir(store, new Map(), new Map(), null, null);
  }

  static async load(store: TreeStore, ref: string): Promise<Dir> {
    return new Dir(store, new Map(await store.tree(ref)), new Map(), ref, null);
  }

  /** A new, empty directory over the same store. */
  newDir(): Dir {
    return Dir.empty(this.store);
  }

  /** The tree id while unchanged since loading or flushing. */
  get ref(): string | null {
    return this.stored;
  }

  names(): string[] {
    return [...this.entries.keys()].sort(compareNames);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The entry of `name`; a changed subdirectory's entry has ref "" until flushed. */
  entry(name: string): Entry | undefined {
    const e = this.entries.get(name);
    if (!e || e.kind !== 'dir') return e;
    const c = this.children.get(name);
    return c && c.stored === null ? { ...e, ref: '' } : e;
  }

  /** The subdirectory `name` (loaded on first use). */
  async child(name: string): Promise<Dir> {
    const known = this.children.get(name);
    if (known) return known;
    const e = this.entries.get(name);
    if (!e) throw new FilesError('FILES_NOT_FOUND', `no such file or directory: ${name}`);
    if (e.kind !== 'dir') throw new FilesError('FILES_NOT_A_DIRECTORY', `${name} is a file, not a directory`);
    const d = await Dir.load(this.store, e.ref);
    d.parent = this;
    this.children.set(name, d);
    return d;
  }

  /** Sets a file entry, or a directory entry (with its Dir when it is new or changed). */
  set(name: string, entry: Entry, dir?: Dir): void {
    this.entries.set(name, entry);
    this.children.delete(name);
    if (dir) {
      dir.parent = this;
      this.children.set(name, dir);
    }
    this.touch();
  }

  delete(name: string): boolean {
    const had = this.entries.delete(name);
    this.children.delete(name);
    if (had) this.touch();
    return had;
  }

  /** The subdirectory object held for `name`, if one is loaded (moving it keeps its edits). */
  loadedChild(name: string): Dir | undefined {
    return this.children.get(name);
  }

  private touch(): void {
    for (let d: Dir | null = this; d && d.stored !== null; d = d.parent) d.stored = null;
  }

  /** Writes every changed directory below and including this one; returns this tree's id. */
  async flush(): Promise<string> {
    if (this.stored !== null) return this.stored;
    for (const [name, c] of this.children) {
      if (c.stored !== null) continue;
      const ref = await c.flush();
      const prior = this.entries.get(name)!;
      this.entries.set(name, { ...c.summary(prior), ref });
    }
    this.stored = await this.store.putTree(this.entries);
    return this.stored;
  }

  /** A directory entry's derived fields: total size, the newest entry's time and writer. */
  summary(prior: Pick<Entry, 'mode' | 'mtime' | 'by'> | undefined): Omit<Entry, 'ref'> {
    let size = 0;
    let newest: Entry | null = null;
    for (const name of this.names()) {
      const e = this.entries.get(name)!;
      size += e.size;
      if (!newest || e.mtime > newest.mtime) newest = e;
    }
    return { kind: 'dir', size, mtime: newest?.mtime ?? prior?.mtime ?? 0, mode: prior?.mode ?? DEFAULT_DIR_MODE, by: newest?.by ?? prior?.by ?? '' };
  }
}

/** The directory at `path` (creating missing ones when `create`). */
export async function dirAt(root: Dir, path: NamePath, create = false): Promise<Dir> {
  let d = root;
  for (const [i, name] of path.entries()) {
    const e = d.entry(name);
    if (!e && create) {
      const fresh = d.newDir();
      d.set(name, { kind: 'dir', ref: '', size: 0, mtime: Date.now(), mode: DEFAULT_DIR_MODE, by: '' }, fresh);
      d = fresh;
      continue;
    }
    if (!e) throw new FilesError('FILES_NOT_FOUND', `no such directory: ${joinPath(path.slice(0, i + 1))}`);
    if (e.kind !== 'dir') throw new FilesError('FILES_NOT_A_DIRECTORY', `${joinPath(path.slice(0, i + 1))} is a file, not a directory`);
    d = await d.child(name);
  }
  return d;
}

/** The entry at `path`, or undefined (the root has no entry). */
export async function entryAt(root: Dir, path: NamePath): Promise<Entry | undefined> {
  if (path.length === 0) return undefined;
  let parent: Dir;
  try {
    parent = await dirAt(root, path.slice(0, -1));
  } catch (err) {
    if (err instanceof FilesError && (err.code === 'FILES_NOT_FOUND' || err.code === 'FILES_NOT_A_DIRECTORY')) return undefined;
    throw err;
  }
  return parent.entry(path[path.length - 1]!);
}
