// The device's key material on disk: its node keys and the keys of the zones it may hold.
// Every file is written mode 0600 and refused when others can read it.
import { mkdir, readdir, access } from 'node:fs/promises';
import { join } from 'node:path';
import {
  generateNodeKeys,
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

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
