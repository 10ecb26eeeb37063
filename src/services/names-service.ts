// Names, directories and versions of a zone for a principal (the local user): list, put, move,
// remove, log, forget, and garbage collection. Each method asks authorize() with the zone
// before the mesh acts. The namespace itself lives in files/names; this binds it to the mesh:
// its objects go through the writer and reader, its heads and tombstones through NameRecords.
import { inZone, LOCAL_LIBRARY, type Authorizer, type Principal } from '../authz/index.js';
import { zoneKeyFor, bytesEqual, objectIdFromHex, objectIdToHex, type Manifest, type Tombstone } from '../crypto/index.js';
import {
  COLLECTED_SCHEMAS,
  DEFAULT_GC_GRACE_MS,
  FILE_SCHEMA,
  FilesError,
  Namespace,
  TreeStore,
  dirAt,
  entryAt,
  joinPath,
  markReachable,
  parsePath,
  parsePathAt,
  sweep,
  type Candidate,
  Dir,
  type Entry,
  type NamePath,
  type ObjectIO,
  type Snapshot,
  type View,
} from '../files/index.js';
import { MeshError, type MeshNode } from '../mesh/index.js';
import { UnknownZoneError, type Zone } from '../zones/index.js';
import type { ContentService, ContentStream } from './content-service.js';
import { countOf, idsWithPrefix } from './object-ids.js';

type NodeParts = Pick<MeshNode, 'zones' | 'store' | 'keyring' | 'writer' | 'reader' | 'eligibility' | 'records' | 'self' | 'log'>;

/** The zone used when none is given, if this device holds it. */
export const DEFAULT_FILES_ZONE = 'z:private';

export interface NamesOptions {
  /** Time between collection passes on the zone's collecting device (ms); 0 = only `fcp gc`. */
  gcIntervalMs?: number;
  /** Unreferenced objects younger than this are left alone (ms). */
  gcGraceMs?: number;
  /** How long a listing on a device that never synced the zone's heads waits for a peer (ms; default 10 s). */
  syncWaitMs?: number;
}

/** A device that has never synced a zone's heads waits this long for a peer before it answers. */
const DEFAULT_SYNC_WAIT_MS = 10_000;

export interface Listed extends Entry {
  /** Full path in the zone. */
  path: string;
  name: string;
}

export interface ListResult {
  zone: string;
  path: string;
  snapshot: number | null;
  /** The path itself when it is a file; its entries (recursively with `recursive`) when a directory. */
  entries: Listed[];
  kind: 'file' | 'dir';
  /** Devices' latest changes that cannot be read now (their devices are away): not shown yet. */
  unreadableHeads: number;
  /**
   * False when this device has never synced the zone's heads with a peer (just reset, and no
   * peer reached within the wait): the listing shows only what it holds itself, perhaps nothing.
   */
  synced: boolean;
}

export interface PutEntry {
  path: string;
  kind: 'file' | 'dir';
  /** The file's content object (hex id or unique prefix); not for directories. */
  ref?: string;
  size?: number;
  mtime?: number;
  mode?: number;
}

export interface Version {
  snapshot: number;
  commit: string;
  time: number;
  host: string;
  message: string;
  /** The path in this snapshot (null: it did not exist). */
  entry: Entry | null;
}

export interface GcReport {
  zone: string;
  marked: number;
  candidates: number;
  collected: number;
  bytes: number;
  objects: string[];
  /** Devices not asked (offline or not answering): they erase their copies when they return. */
  unreachable: string[];
}

export class NamesService {
  private readonly spaces = new Map<string, { ns: Namespace; trees: TreeStore; io: ObjectIO }>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly node: NodeParts,
    private readonly authz: Authorizer,
    /** File content: names refer to its file objects; collection marks what they are made of. */
    private readonly content: Pick<ContentService, 'putStream' | 'getStream' | 'references' | 'endSession'>,
    private readonly opts: NamesOptions = {},
  ) {}

  /** The zone named, or z:private when this device holds it; unknown zones list the known ones. */
  zoneOf(zoneId: string | undefined): Zone {
    if (zoneId === undefined || zoneId === '') {
      if (this.node.keyring.zoneKey(DEFAULT_FILES_ZONE) && this.node.zones.has(DEFAULT_FILES_ZONE)) return this.node.zones.get(DEFAULT_FILES_ZONE);
      throw new FilesError('FILES_NEED_ZONE', `this device does not hold ${DEFAULT_FILES_ZONE}; give --zone (it holds: ${this.node.keyring.zoneIds().join(', ') || 'no zone keys'})`);
    }
    if (!this.node.zones.has(zoneId)) throw new UnknownZoneError(zoneId, this.node.zones.all().map((z) => z.id));
    return this.node.zones.get(zoneId);
  }

  private space(zone: Zone): { ns: Namespace; trees: TreeStore; io: ObjectIO } {
    const known = this.spaces.get(zone.id);
    if (known) return known;
    const io = this.objectIO(zone);
    const trees = new TreeStore(io);
    const ns = new Namespace({
      zone: zone.id,
      self: () => this.node.self,
      trees,
      refs: {
        pull: async () => (await this.node.records.pullRefs(zone)).records,
        publish: (ref) => this.node.records.publishRef(zone, ref),
      },
      isGone: (id) => this.node.records.isDead(objectIdFromHex(id)),
    });
    const s = { ns, trees, io };
    this.spaces.set(zone.id, s);
    return s;
  }

  private objectIO(zone: Zone): ObjectIO {
    return {
      put: (bytes, schema) => this.node.writer.put(bytes, zone, this.node.keyring.requireZoneKey(zone.id), { schema }),
      get: async (id) => {
        const m = await this.node.reader.findManifest(id);
        if (m.zone !== zone.id) throw new FilesError('FILES_DAMAGED', `${id.slice(0, 12)} is an object of ${m.zone}, named in ${zone.id}`);
        const zk = this.node.keyring.requireZoneKey(zone.id);
        if (!zoneKeyFor(zk, m.keyId)) throw new MeshError('MESH_NO_ZONE_KEY', `object was sealed under ${zone.id} key epoch ${m.epoch}; this device has epoch ${zk.epoch}`);
        return this.node.reader.read(m, zone, zk);
      },
    };
  }

  private async rootAt(ns: Namespace, view: View, snapshot: number | null): Promise<Dir> {
    return snapshot === null ? view.root : (await ns.snapshotRoot(view, snapshot)).root;
  }

  /** A file or directory listing; `PATH@N` lists snapshot N. */
  async list(p: Principal, spec: string, opts: { zone?: string; recursive?: boolean } = {}): Promise<ListResult> {
    const zone = this.zoneOf(opts.zone);
    this.authz.authorize(p, 'files.list', inZone(zone));
    return this.listIn(zone, spec, opts.recursive ?? false);
  }

  /**
   * Every name of a zone, for a view another front door has authorized for it (the dashboard's
   * `dashboard.names`, decided when its page opens): not a new decision per refresh.
   */
  async allNames(zoneId: string): Promise<Listed[]> {
    return (await this.listIn(this.zoneOf(zoneId), '', true)).entries;
  }

  private async listIn(zone: Zone, spec: string, recursive: boolean): Promise<ListResult> {
    const opts = { recursive };
    const { path, snapshot } = parsePathAt(spec);
    const { ns } = this.space(zone);
    const synced = await this.synced(zone);
    const view = await ns.view();
    const root = await this.rootAt(ns, view, snapshot);
    const entry = await entryAt(root, path);
    if (path.length > 0 && !entry) throw this.missing(path, zone, synced);
    const unreadableHeads = view.unreadable.length;
    if (entry?.kind === 'file') return { zone: zone.id, path: joinPath(path), snapshot, kind: 'file', entries: [listed(path, entry)], unreadableHeads, synced };
    const entries: Listed[] = [];
    const walk = async (d: Dir, at: NamePath) => {
      for (const name of d.names()) {
        const e = d.entry(name)!;
        entries.push(listed([...at, name], e));
        if (opts.recursive && e.kind === 'dir') await walk(await d.child(name), [...at, name]);
      }
    };
    await walk(await dirAt(root, path), path);
    return { zone: zone.id, path: joinPath(path), snapshot, kind: 'dir', entries, unreadableHeads, synced };
  }

  /**
   * Names content objects (and makes directories) in one commit: `fcp put ./photos photos/2026/`
   * uploads the files, then names them all here. A file over a directory (or the reverse) is refused.
   */
  async put(p: Principal, entries: PutEntry[], opts: { zone?: string; message?: string; session?: string } = {}): Promise<{ commit: string | null; changed: boolean; files: number; dirs: number }> {
    try {
      return await this.commitEntries(p, entries, opts);
    } finally {
      // Named (or failed): the upload session's pins go; named content is now kept by its names.
      if (opts.session !== undefined) this.content.endSession(opts.session);
    }
  }

  private async commitEntries(p: Principal, entries: PutEntry[], opts: { zone?: string; message?: string }): Promise<{ commit: string | null; changed: boolean; files: number; dirs: number }> {
    const zone = this.zoneOf(opts.zone);
    this.authz.authorize(p, 'files.put', inZone(zone));
    if (!Array.isArray(entries) || entries.length === 0) throw new FilesError('FILES_BAD_ENTRY', 'nothing to put: give at least one file or directory');
    const host = this.node.self.hostName;
    const now = Date.now();
    const checked: Array<{ path: NamePath; entry: Entry }> = [];
    for (const e of entries) {
      const path = parsePath(e.path);
      if (path.length === 0) throw new FilesError('FILES_BAD_PATH', 'the root is not a file; name a path under it');
      const mtime = wholeMs(e.mtime, 'mtime') ?? now;
      const mode = wholeMs(e.mode, 'mode') ?? (e.kind === 'dir' ? 0o755 : 0o644);
      if (e.kind === 'dir') {
        checked.push({ path, entry: { kind: 'dir', ref: '', size: 0, mtime, mode, by: host } });
        continue;
      }
      if (e.kind !== 'file' || typeof e.ref !== 'string') throw new FilesError('FILES_BAD_ENTRY', `${e.path}: an entry is a file with a content ref, or a directory`);
      const m = await this.contentManifest(e.ref, zone);
      const size = wholeMs(e.size, 'size') ?? (await this.content.getStream(p, objectIdToHex(m.objectId))).size;
      checked.push({ path, entry: { kind: 'file', ref: objectIdToHex(m.objectId), size, mtime, mode, by: host } });
    }
    const message = opts.message ?? `put ${checked.length === 1 ? joinPath(checked[0]!.path) : `${checked.length} entries`}`;
    const r = await this.space(zone).ns.change(message, async (root) => {
      for (const { path, entry } of checked) {
        const parent = await dirAt(root, path.slice(0, -1), true);
        const name = path[path.length - 1]!;
        const existing = parent.entry(name);
        if (entry.kind === 'dir') {
          if (existing?.kind === 'file') throw new FilesError('FILES_NOT_A_DIRECTORY', `${joinPath(path)} is a file; a directory cannot replace it (fcp rm it first)`);
          if (!existing) parent.set(name, entry, parent.newDir());
        } else {
          if (existing?.kind === 'dir') throw new FilesError('FILES_IS_A_DIRECTORY', `${joinPath(path)} is a directory; a file cannot replace it (fcp rm -r it first)`);
          parent.set(name, entry);
        }
      }
    });
    return { ...r, files: checked.filter((c) => c.entry.kind === 'file').length, dirs: checked.filter((c) => c.entry.kind === 'dir').length };
  }

  /** The manifest of a content object a name may refer to: in this zone, of a file schema. */
  private async contentManifest(ref: string, zone: Zone): Promise<Manifest> {
    const id = ref.toLowerCase();
    if (!/^[0-9a-f]{8,64}$/.test(id)) throw new FilesError('FILES_BAD_ENTRY', `not a content id: ${ref}`);
    const full = id.length === 64 ? id : this.uniquePrefix(id);
    const m = await this.node.reader.findManifest(full);
    if (m.zone !== zone.id) throw new FilesError('FILES_BAD_ENTRY', `${ref} is an object of ${m.zone}; a name in ${zone.id} refers to ${zone.id} content only`);
    if (m.schema !== FILE_SCHEMA) throw new FilesError('FILES_BAD_ENTRY', `${ref} has schema ${m.schema}; names refer to file objects (${FILE_SCHEMA}, what \`fcp put\` stores)`);
    return m;
  }

  private uniquePrefix(prefix: string): string {
    const hits = idsWithPrefix(this.node.store, prefix);
    if (hits.length === 1) return hits[0]!;
    if (hits.length === 0) throw new MeshError('MESH_NOT_FOUND', `no object on this device starts with ${prefix}`);
    throw new MeshError('MESH_BAD_ID', `${countOf(hits)} objects start with ${prefix}; give more digits`);
  }

  /** Stores a file's content (bytes or a stream) and names it. */
  async putFile(p: Principal, path: string, data: Uint8Array | AsyncIterable<Uint8Array>, opts: { zone?: string; mtime?: number; mode?: number; signal?: AbortSignal } = {}): Promise<{ commit: string | null; ref: string; size: number }> {
    const zone = this.zoneOf(opts.zone);
    this.authz.authorize(p, 'files.put', inZone(zone));
    parsePath(path);
    const source = data instanceof Uint8Array ? (async function* () { yield data; })() : data;
    // Its objects stay pinned until the commit naming them is published (see NameRecords).
    const pins = this.node.records.pins();
    try {
      const stored = await this.content.putStream(p, zone.id, source, { pins, ...(opts.signal ? { signal: opts.signal } : {}) });
      const entry: PutEntry = { path, kind: 'file', ref: stored.id, size: stored.size, ...(opts.mtime !== undefined ? { mtime: opts.mtime } : {}), ...(opts.mode !== undefined ? { mode: opts.mode } : {}) };
      const r = await this.put(p, [entry], { zone: zone.id });
      return { commit: r.commit, ref: stored.id, size: stored.size };
    } finally {
      pins.release();
    }
  }

  /** The entry at `PATH[@N]` (a file or a directory). */
  async stat(p: Principal, spec: string, opts: { zone?: string } = {}): Promise<Listed> {
    const zone = this.zoneOf(opts.zone);
    this.authz.authorize(p, 'files.get', inZone(zone));
    const { path, snapshot } = parsePathAt(spec);
    const { ns } = this.space(zone);
    const synced = await this.synced(zone);
    const root = await this.rootAt(ns, await ns.view(), snapshot);
    if (path.length === 0) return { ...root.summary(undefined), ref: root.ref ?? '', path: '', name: '' };
    const e = await entryAt(root, path);
    if (!e) throw this.missing(path, zone, synced);
    return listed(path, e);
  }

  /**
   * Whether this device's view of the zone's names was ever synced with a peer; if not (a
   * device just reset), waits a bounded time for its first pull to reach one.
   */
  private synced(zone: Zone): Promise<boolean> {
    return this.node.records.awaitRefsSynced(zone, this.opts.syncWaitMs ?? DEFAULT_SYNC_WAIT_MS);
  }

  /** A name not found: FILES_NOT_FOUND, or FILES_NOT_SYNCED when the view was never synced (it may exist). */
  private missing(path: NamePath, zone: Zone, synced: boolean): FilesError {
    if (synced) return notFound(path, zone);
    return new FilesError('FILES_NOT_SYNCED', `${joinPath(path)} is not known here, but this device has not yet synced the names of ${zone.id} with any other device (just reset, or its peers not reached yet); try again once a peer is online`);
  }

  /** The content of the file at `PATH[@N]`, streamed. */
  async openFile(p: Principal, spec: string, opts: { zone?: string; verify?: boolean; signal?: AbortSignal } = {}): Promise<ContentStream & { entry: Listed }> {
    const zone = this.zoneOf(opts.zone);
    const entry = await this.stat(p, spec, { zone: zone.id });
    if (entry.kind !== 'file') throw new FilesError('FILES_IS_A_DIRECTORY', `${entry.path || '/'} is a directory; list it with fcp ls, restore it with fcp get -o DIR`);
    const s = await this.content.getStream(p, entry.ref, { ...(opts.verify !== undefined ? { verify: opts.verify } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
    return { ...s, entry };
  }

  /** Library convenience: the whole content of the file at `PATH[@N]`. */
  async readFile(p: Principal, spec: string, opts: { zone?: string } = {}): Promise<Uint8Array> {
    const s = await this.openFile(p, spec, opts);
    const parts: Uint8Array[] = [];
    for await (const chunk of s.stream) parts.push(chunk);
    return new Uint8Array(Buffer.concat(parts));
  }

  /** `fcp mv`: into an existing directory (or one named with a trailing /), or to a new name. */
  async move(p: Principal, from: string, to: string, opts: { zone?: string } = {}): Promise<{ commit: string | null; to: string }> {
    const zone = this.zoneOf(opts.zone);
    this.authz.authorize(p, 'files.remove', inZone(zone));
    const src = parsePath(from);
    if (src.length === 0) throw new FilesError('FILES_BAD_PATH', 'the root cannot be moved');
    let dest = parsePath(to);
    let landed = '';
    const r = await this.space(zone).ns.change(`mv ${joinPath(src)} ${to}`, async (root) => {
      const srcParent = await dirAt(root, src.slice(0, -1)).catch(() => {
        throw notFound(src, zone);
      });
      const name = src[src.length - 1]!;
      const e = srcParent.entry(name);
      if (!e) throw notFound(src, zone);
      const target = await entryAt(root, dest);
      if (to.endsWith('/') || dest.length === 0 || target?.kind === 'dir') dest = [...dest, name];
      if (dest.length >= src.length && src.every((s, i) => dest[i] === s)) {
        if (dest.length === src.length) return; // onto itself: nothing changes
        throw new FilesError('FILES_BAD_PATH', `cannot move ${joinPath(src)} into itself`);
      }
      const existing = await entryAt(root, dest);
      if (existing?.kind === 'dir') throw new FilesError('FILES_EXISTS', `${joinPath(dest)} already exists as a directory`);
      if (existing && e.kind === 'dir') throw new FilesError('FILES_EXISTS', `${joinPath(dest)} already exists as a file`);
      const child = e.kind === 'dir' ? await srcParent.child(name) : undefined;
      srcParent.delete(name);
      const destParent = await dirAt(root, dest.slice(0, -1), true);
      destParent.set(dest[dest.length - 1]!, e, child);
      landed = joinPath(dest);
    });
    return { commit: r.commit, to: landed || joinPath(dest) };
  }

  /** `fcp rm [-r]`: removes the name; the content goes at the next collection once no snapshot keeps it. */
  async remove(p: Principal, spec: string, opts: { zone?: string; recursive?: boolean } = {}): Promise<{ commit: string | null; removed: Listed }> {
    const zone = this.zoneOf(opts.zone);
    this.authz.authorize(p, 'files.remove', inZone(zone));
    const path = parsePath(spec);
    if (path.length === 0) throw new FilesError('FILES_BAD_PATH', 'the root cannot be removed; remove what is in it');
    let removed: Listed | null = null;
    const r = await this.space(zone).ns.change(`rm ${joinPath(path)}`, async (root) => {
      const e = await entryAt(root, path);
      if (!e) throw notFound(path, zone);
      if (e.kind === 'dir' && !opts.recursive) throw new FilesError('FILES_IS_A_DIRECTORY', `${joinPath(path)} is a directory; use rm -r to remove it and everything in it`);
      (await dirAt(root, path.slice(0, -1))).delete(path[path.length - 1]!);
      removed = listed(path, e);
    });
    return { commit: r.commit, removed: removed! };
  }

  /** Snapshots of the zone, oldest first, numbered as `PATH@N` names them. */
  async snapshots(p: Principal, opts: { zone?: string } = {}): Promise<Array<Omit<Version, 'entry'>>> {
    const zone = this.zoneOf(opts.zone);
    this.authz.authorize(p, 'files.list', inZone(zone));
    return (await this.space(zone).ns.view()).snapshots.map(snapshotRow);
  }

  /** `fcp log PATH`: the snapshots in which PATH changed (newest first). */
  async log(p: Principal, spec: string, opts: { zone?: string } = {}): Promise<Version[]> {
    const zone = this.zoneOf(opts.zone);
    this.authz.authorize(p, 'files.list', inZone(zone));
    const path = parsePath(spec);
    const { ns, trees } = this.space(zone);
    const view = await ns.view();
    const out: Version[] = [];
    let previous: string | null = null;
    for (const s of view.snapshots) {
      const root = await Dir.load(trees, s.commit.tree);
      const e = path.length === 0 ? { ...root.summary(undefined), ref: s.commit.tree } : ((await entryAt(root, path)) ?? null);
      const key = e ? `${e.kind}:${e.ref}:${e.mode}` : 'none';
      if (key !== previous && !(previous === null && e === null)) out.push({ ...snapshotRow(s), entry: e });
      previous = key;
    }
    if (out.length === 0 && path.length > 0) throw notFound(path, zone);
    return out.reverse();
  }

  /** `fcp forget --keep-last N`. */
  async forget(p: Principal, keepLast: number, opts: { zone?: string } = {}): Promise<{ zone: string; kept: number; forgotten: number }> {
    const zone = this.zoneOf(opts.zone);
    this.authz.authorize(p, 'files.remove', inZone(zone));
    return { zone: zone.id, ...(await this.space(zone).ns.forget(keepLast)) };
  }

  /**
   * Every object the zone's names still need (what a collection pass marks): the mesh asks it when
   * it reconciles a zone after an absence longer than the tombstone TTL (held-back objects a name
   * needs are released). The daemon's own question (the local library, in the zone).
   */
  async namedObjects(zoneId: string): Promise<Set<string>> {
    const zone = this.zoneOf(zoneId);
    this.authz.authorize(LOCAL_LIBRARY, 'files.gc', inZone(zone));
    const { ns, trees } = this.space(zone);
    const view = await ns.view();
    return markReachable(trees, view.history, view.refs.map((r) => objectIdToHex(r.commit)), { references: (id) => this.content.references(LOCAL_LIBRARY, id) });
  }

  /**
   * One collection pass over the zone: objects of the namespace's schemas that no device's
   * kept snapshots reach and older than the grace period are tombstoned on the zone's devices
   * (each erases its copy on receipt) and erased here.
   */
  async gc(p: Principal, opts: { zone?: string; graceMs?: number } = {}): Promise<GcReport> {
    const zone = this.zoneOf(opts.zone);
    this.authz.authorize(p, 'files.gc', inZone(zone));
    const graceMs = opts.graceMs ?? this.opts.gcGraceMs ?? DEFAULT_GC_GRACE_MS;
    if (!Number.isFinite(graceMs) || graceMs < 0) throw new FilesError('FILES_BAD_ENTRY', `the grace period must be a number of ms >= 0 (got ${graceMs})`);
    const { ns, trees } = this.space(zone);
    const view = await ns.view();
    const heads = view.refs.map((r) => objectIdToHex(r.commit));
    const marked = await markReachable(trees, view.history, heads, { references: (id) => this.content.references(p, id) });
    const candidates = new Map<string, Candidate>();
    const add = (m: Manifest) => candidates.set(objectIdToHex(m.objectId), { id: objectIdToHex(m.objectId), schema: m.schema, created: m.created, length: m.length });
    for (const m of this.node.store.listManifests(zone.id)) add(m);
    const remotes = this.node.eligibility.holdersFor(zone).filter((h) => !h.local);
    const unreachable: string[] = [];
    const answers = await Promise.allSettled(remotes.map((h) => h.listManifests(zone.id)));
    answers.forEach((a, i) => (a.status === 'fulfilled' ? a.value.filter((m) => m.zone === zone.id).forEach(add) : unreachable.push(remotes[i]!.hostName)));
    const now = Date.now();
    const doomed = sweep(candidates.values(), marked, now, graceMs);
    const at = this.node.records.now();
    const tombstones: Tombstone[] = doomed.map((c) => ({ objectId: objectIdFromHex(c.id), zone: zone.id, at, dead: true }));
    // Kept here (erasing the copy here) and sent to every online holder (each erases its own).
    await this.node.records.spreadTombstones(zone, tombstones);
    if (doomed.length > 0) this.node.log.info({ zone: zone.id, objects: doomed.length }, 'unreferenced namespace objects collected');
    return { zone: zone.id, marked: marked.size, candidates: candidates.size, collected: doomed.length, bytes: doomed.reduce((a, c) => a + c.length, 0), objects: doomed.map((c) => c.id), unreachable };
  }

  /**
   * Periodic collection: for each zone with names, the online member with the smallest stable
   * id collects (as repair chooses its repairer), so two devices never sweep one zone at once.
   */
  startCollector(): void {
    const interval = this.opts.gcIntervalMs ?? 15 * 60_000;
    if (interval <= 0) return;
    this.timer = setInterval(() => void this.collectIfLeader().catch((err: Error) => this.node.log.warn({ err: err.message }, 'collection pass failed')), interval);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async collectIfLeader(): Promise<void> {
    const zones = new Set(this.node.store.listRefs().map((r) => r.zone));
    for (const id of zones) {
      if (!this.node.zones.has(id) || !this.node.keyring.zoneKey(id)) continue;
      const zone = this.node.zones.get(id);
      const ids = this.node.eligibility.holdersFor(zone).map((h) => h.stableId);
      if (ids.some((other) => other < this.node.self.stableId)) continue;
      await this.gc(LOCAL_LIBRARY, { zone: id });
    }
  }
}

function listed(path: NamePath, e: Entry): Listed {
  return { ...e, path: joinPath(path), name: path[path.length - 1] ?? '' };
}

function snapshotRow(s: Snapshot): Omit<Version, 'entry'> {
  return { snapshot: s.n, commit: s.id, time: s.commit.time, host: s.commit.host, message: s.commit.message };
}

function notFound(path: NamePath, zone: Zone): FilesError {
  return new FilesError('FILES_NOT_FOUND', `no such file or directory in ${zone.id}: ${joinPath(path)} (fcp ls to see what is there)`);
}

function wholeMs(v: unknown, what: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new FilesError('FILES_BAD_ENTRY', `${what} must be a whole number >= 0 (got ${String(v)})`);
  return v;
}
