// Default stores of the hub on one device: installed manifests in a JSON file of the data
// directory (written whole, then renamed), and connector state (§10.4) as mesh objects in the
// connector's zone, each update naming the previous one, with the head id kept in a local file.
// Placement-aware, fenced state across devices replaces the second (hub registry and state).
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ConnectorPrincipal } from '../authz/index.js';
import type { ObjectService } from './object-service.js';
import type { ConnectorStateStore, InstalledStore } from './hub-service.js';

async function readJson<T>(path: string, fallback: T): Promise<T> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
    throw err;
  }
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp`;
  await writeFile(tmp, JSON.stringify(value, null, 2), { mode: 0o600 });
  await rename(tmp, path);
}

export class FileInstalledStore<M> implements InstalledStore<M> {
  constructor(
    private readonly path: string,
    private readonly parse: (v: unknown) => M,
  ) {}
  async load(): Promise<M[]> {
    const raw = await readJson<unknown[]>(this.path, []);
    return raw.map((v) => this.parse(v));
  }
  save(all: M[]): Promise<void> {
    return writeJson(this.path, all);
  }
}

interface Head {
  id: string;
  seq: number;
}

export class MeshStateStore implements ConnectorStateStore {
  private heads: Record<string, Head> | null = null;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly objects: ObjectService,
    private readonly headsPath: string,
  ) {}

  private async load(): Promise<Record<string, Head>> {
    this.heads ??= await readJson<Record<string, Head>>(this.headsPath, {});
    return this.heads;
  }

  async get(p: ConnectorPrincipal): Promise<{ value: unknown; seq: number }> {
    const head = (await this.load())[p.connectorId];
    if (!head) return { value: null, seq: 0 };
    const doc = JSON.parse(new TextDecoder().decode(await this.objects.get(p, head.id))) as { value: unknown; seq: number };
    return { value: doc.value, seq: doc.seq };
  }

  /** Writes are serialised per store so sequence numbers never repeat. */
  put(p: ConnectorPrincipal, value: unknown): Promise<{ seq: number }> {
    const next = this.chain.then(async () => {
      const heads = await this.load();
      const prev = heads[p.connectorId];
      const seq = (prev?.seq ?? 0) + 1;
      const doc = { connector_id: p.connectorId, zone_id: p.zone.id, prev: prev?.id ?? null, seq, value, updated_at: Date.now() };
      const id = await this.objects.put(p, new TextEncoder().encode(JSON.stringify(doc)), p.zone.id, { schema: 'fcp.hub.connector-state' });
      heads[p.connectorId] = { id, seq };
      await writeJson(this.headsPath, heads);
      return { seq };
    });
    this.chain = next.catch(() => undefined);
    return next;
  }
}
