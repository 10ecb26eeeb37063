// The library API: one device's mesh in this process.
//   const mesh = await SovereignMesh.init({ dataDir });
//   const id = await mesh.store(bytes, 'z:private');
//   const back = await mesh.retrieve(id);
import { MeshNode, type MeshNodeOptions, type ObjectHealth, type StoreOptions } from './mesh/index.js';
import { ShareHolder, Secrets } from './secrets/index.js';
import { MeshSecretsTransport } from './secrets/mesh-transport.js';
import { mayUsePeer } from './zones/index.js';

export interface SovereignMeshConfig extends MeshNodeOptions {
  /**
   * How often the device with the smallest stable id re-splits secrets whose holders restarted
   * or left (ms); 0 = only at start-up. A device also runs it once shortly after it starts.
   */
  secretsRestoreIntervalMs?: number;
}

export class SovereignMesh {
  private timers: NodeJS.Timeout[] = [];

  private constructor(
    readonly node: MeshNode,
    readonly secrets: Secrets,
    private readonly holder: ShareHolder,
  ) {}

  /** Re-splits secrets that lost shares (a holder restarted empty); logs, never throws. */
  async restoreSecrets(): Promise<void> {
    try {
      const outcomes = await this.secrets.restore();
      for (const o of outcomes) if (o.status !== 'healthy') this.node.log.info({ secret: o.name, status: o.status }, 'secret restore');
    } catch (err) {
      this.node.log.warn({ err: (err as Error).message }, 'secret restore failed');
    }
  }

  private scheduleRestores(intervalMs: number): void {
    // A restarted device has lost its shares: ask for them back once the mesh has seen it.
    const first = setTimeout(() => void this.restoreSecrets(), 1_000);
    first.unref();
    this.timers.push(first);
    if (intervalMs > 0) {
      const t = setInterval(() => {
        // One device at a time re-splits: the online fcp device with the smallest stable id.
        const ids = this.node.directory.ranked((i) => i.zones.length > 0).map((i) => i.peer.stableId);
        if (ids.every((id) => this.node.self.stableId < id)) void this.restoreSecrets();
      }, intervalMs);
      t.unref();
      this.timers.push(t);
    }
  }

  static async init(config: SovereignMeshConfig): Promise<SovereignMesh> {
    const node = await MeshNode.start(config);
    let holder: ShareHolder | null = null;
    const transport = new MeshSecretsTransport(node, () => holder!);
    holder = new ShareHolder({ self: transport.self, boxSecretKey: transport.boxSecretKey, audit: (e) => transport.audit(e) });
    const h = holder;
    node.onRequest('secret', async (ctx, msg) => {
      // A zone only counts for a caller whose current path may carry that zone's traffic.
      const info = node.directory.byStableId(ctx.caller.stableId);
      const zones = ctx.caller.zoneIds.filter((id) => node.zones.has(id) && info !== undefined && mayUsePeer(node.zones.get(id), info.peer));
      const body = await h.handle({ nodeId: ctx.caller.stableId, zones }, (msg as unknown as { body: Uint8Array }).body);
      return { t: 'secret_result', body };
    });
    const mesh = new SovereignMesh(node, new Secrets(transport, h), h);
    mesh.scheduleRestores(config.secretsRestoreIntervalMs ?? 60_000);
    return mesh;
  }

  /** Stores bytes in a zone; resolves with the ObjectId (hex) once durable on the zone's devices. */
  store(data: Uint8Array, zone: string, opts?: StoreOptions): Promise<string> {
    return this.node.put(data, zone, opts);
  }

  /**
   * Rebuilds an object from any devices that hold enough of its symbols. With `verify`, the
   * content is also re-hashed and must match its ObjectId (costs a BLAKE3 pass over the object).
   */
  retrieve(objectId: string, opts: { verify?: boolean } = {}): Promise<Uint8Array> {
    return this.node.get(objectId, opts);
  }

  list(zone?: string): Promise<ObjectHealth[]> {
    return this.node.list(zone);
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.holder.wipe();
    await this.node.stop();
  }
}
