// The device's key material on disk: its node keys and the keys of the zones it may hold.
// Every file is written mode 0600 and refused when others can read it.
import { mkdir, readdir, access, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  bytesEqual,
  forgetZoneKey,
  generateNodeKeys,
  rotateZoneKey,
  parseNodeKeys,
  parseZoneKey,
  readKeyFile,
  serializeNodeKeys,
  serializeZoneKey,
  writeKeyFile,
  type NodeKeys,
  type ZoneKey,
} from '../crypto/index.js';
import { MeshError } from './errors.js';

const NODE_KEY_FILE = 'node.key';
const ZONE_DIR = 'zones';
/** Keys of earlier epochs, kept while this device re-seals its symbols after a rotation. */
const OLDER_DIR = 'older';

/** File name of a zone key: zone ids contain ':' which some file systems dislike. */
function zoneFile(zoneId: string): string {
  return `${zoneId.replace(/[^A-Za-z0-9_-]/g, '_')}.key`;
}

export class Keyring {
  private constructor(
    readonly dataDir: string,
    readonly node: NodeKeys,
    private readonly zones: Map<string, ZoneKey>,
  ) {}

  /** Creates the node keys if they do not exist yet (fcp init); returns whether it created them. */
  static async init(dataDir: string): Promise<boolean> {
    await mkdir(join(dataDir, ZONE_DIR), { recursive: true, mode: 0o700 });
    const path = join(dataDir, NODE_KEY_FILE);
    if (await exists(path)) return false;
    await writeKeyFile(path, serializeNodeKeys(generateNodeKeys()));
    return true;
  }

  static async load(dataDir: string): Promise<Keyring> {
    const path = join(dataDir, NODE_KEY_FILE);
    if (!(await exists(path))) {
      throw new MeshError('MESH_NOT_INITIALISED', `no node keys in ${dataDir}; run \`fcp init\` on this device first`);
    }
    const node = parseNodeKeys(await readKeyFile(path));
    const zones = new Map<string, ZoneKey>();
    const dir = join(dataDir, ZONE_DIR);
    const names = (await exists(dir)) ? await readdir(dir) : [];
    for (const name of names.filter((n) => n.endsWith('.key')).sort()) {
      const zk = parseZoneKey(await readKeyFile(join(dir, name)));
      zones.set(zk.zoneId, zk);
    }
    const olderDir = join(dir, OLDER_DIR);
    for (const name of (await exists(olderDir)) ? (await readdir(olderDir)).filter((n) => n.endsWith('.key')).sort() : []) {
      const old = parseZoneKey(await readKeyFile(join(olderDir, name)));
      const current = zones.get(old.zoneId);
      // An older key is kept only beside a newer current key of the same zone (same ObjectIdKey).
      if (!current || old.epoch >= current.epoch || !bytesEqual(old.objectIdKey, current.objectIdKey)) continue;
      zones.set(old.zoneId, withOlder(current, [...(current.older ?? []), old]));
    }
    return new Keyring(dataDir, node, zones);
  }

  zoneKey(zoneId: string): ZoneKey | undefined {
    return this.zones.get(zoneId);
  }

  requireZoneKey(zoneId: string): ZoneKey {
    const zk = this.zones.get(zoneId);
    if (!zk) {
      throw new MeshError('MESH_NO_ZONE_KEY', `this device has no key for ${zoneId}; join from a device of that zone (\`fcp join\`) or check this device's tags`);
    }
    return zk;
  }

  zoneIds(): string[] {
    return [...this.zones.keys()].sort();
  }

  /** Earlier epochs of a zone still kept (newest first). */
  olderKeys(zoneId: string): readonly ZoneKey[] {
    return this.zones.get(zoneId)?.older ?? [];
  }

  /**
   * A new epoch of a zone made here (`fcp zone rotate`): the current key is kept as an older one
   * (on disk first, so a crash leaves both), then the new key becomes current.
   */
  async rotate(zoneId: string): Promise<ZoneKey> {
    const current = this.requireZoneKey(zoneId);
    const next = rotateZoneKey(current);
    await this.install(next, current);
    return this.requireZoneKey(zoneId);
  }

  /**
   * A newer epoch of a zone this device holds, received from a member. Refused unless it carries
   * the zone's ObjectIdKey (only a member of the zone knows it); an epoch not newer changes nothing.
   */
  async accept(zk: ZoneKey): Promise<boolean> {
    const current = this.zones.get(zk.zoneId);
    if (!current) throw new MeshError('MESH_NO_ZONE_KEY', `this device holds no ${zk.zoneId} key; a new epoch is taken only by members (\`fcp join\` first)`);
    if (!bytesEqual(current.objectIdKey, zk.objectIdKey)) throw new MeshError('MESH_KEY_MISMATCH', `the offered ${zk.zoneId} key belongs to another mesh (its ObjectIdKey differs)`);
    if (zk.epoch <= current.epoch) return false;
    await this.install({ zoneId: zk.zoneId, keyId: zk.keyId, key: zk.key, objectIdKey: zk.objectIdKey, epoch: zk.epoch }, current);
    return true;
  }

  /**
   * Keeps an earlier epoch of a zone this device holds (a device joining while re-sealing runs
   * gets them with the current key, so it reads symbols not yet re-sealed). Newer or foreign
   * keys change nothing.
   */
  async keepOlder(zk: ZoneKey): Promise<boolean> {
    const current = this.zones.get(zk.zoneId);
    if (!current || zk.epoch >= current.epoch || !bytesEqual(current.objectIdKey, zk.objectIdKey)) return false;
    if ((current.older ?? []).some((o) => o.epoch === zk.epoch)) return false;
    const old = { zoneId: zk.zoneId, keyId: zk.keyId, key: zk.key, objectIdKey: zk.objectIdKey.slice(), epoch: zk.epoch };
    const olderDir = join(this.dataDir, ZONE_DIR, OLDER_DIR);
    await mkdir(olderDir, { recursive: true, mode: 0o700 });
    await writeKeyFile(join(olderDir, olderFile(old)), serializeZoneKey(old));
    this.zones.set(zk.zoneId, withOlder(current, [...(current.older ?? []), old]));
    return true;
  }

  /** Forgets the older epochs of a zone (re-sealing finished): files removed, key bytes zeroed. */
  async dropOlder(zoneId: string): Promise<number> {
    const current = this.zones.get(zoneId);
    const older = current?.older ?? [];
    if (!current || older.length === 0) return 0;
    for (const o of older) await rm(join(this.dataDir, ZONE_DIR, OLDER_DIR, olderFile(o)), { force: true });
    this.zones.set(zoneId, withOlder(current, []));
    for (const o of older) forgetZoneKey(o);
    return older.length;
  }

  private async install(next: ZoneKey, previous: ZoneKey): Promise<void> {
    const olderDir = join(this.dataDir, ZONE_DIR, OLDER_DIR);
    await mkdir(olderDir, { recursive: true, mode: 0o700 });
    const prev = { zoneId: previous.zoneId, keyId: previous.keyId, key: previous.key, objectIdKey: previous.objectIdKey.slice(), epoch: previous.epoch };
    await writeKeyFile(join(olderDir, olderFile(prev)), serializeZoneKey(prev));
    await writeKeyFile(join(this.dataDir, ZONE_DIR, zoneFile(next.zoneId)), serializeZoneKey(next));
    this.zones.set(next.zoneId, withOlder(next, [prev, ...(previous.older ?? [])]));
  }

  /** Takes a key already on disk into memory (newer epochs only). */
  adopt(zk: ZoneKey): void {
    const current = this.zones.get(zk.zoneId);
    if (!current || current.epoch < zk.epoch || !current.keyId.every((b, i) => b === zk.keyId[i])) this.zones.set(zk.zoneId, zk);
  }

  /** Saves a zone key; an existing key of the same zone is replaced only by a newer epoch or when forced. */
  async saveZoneKey(zk: ZoneKey, opts: { force?: boolean } = {}): Promise<boolean> {
    const current = this.zones.get(zk.zoneId);
    if (current && !opts.force && current.epoch >= zk.epoch) return false;
    await mkdir(join(this.dataDir, ZONE_DIR), { recursive: true, mode: 0o700 });
    await writeKeyFile(join(this.dataDir, ZONE_DIR, zoneFile(zk.zoneId)), serializeZoneKey(zk));
    this.zones.set(zk.zoneId, zk);
    return true;
  }
}

function olderFile(zk: ZoneKey): string {
  return zoneFile(zk.zoneId).replace(/\.key$/, `.${zk.epoch}.key`);
}

/** The key with its older epochs attached (newest first), as openSymbol expects. */
function withOlder(zk: ZoneKey, older: ZoneKey[]): ZoneKey {
  const sorted = [...older].sort((a, b) => b.epoch - a.epoch);
  return { zoneId: zk.zoneId, keyId: zk.keyId, key: zk.key, objectIdKey: zk.objectIdKey, epoch: zk.epoch, ...(sorted.length ? { older: sorted } : {}) };
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
