// The library API: one device's mesh in this process.
//   const mesh = await SovereignMesh.init({ dataDir });
//   const id = await mesh.store(bytes, 'z:private');
//   const back = await mesh.retrieve(id);
import { MeshNode, type MeshNodeOptions, type ObjectHealth, type StoreOptions } from './mesh/index.js';
import { ShareHolder, Secrets } from './secrets/index.js';
import { MeshSecretsTransport } from './secrets/mesh-transport.js';
import { mayUsePeer } from './zones/index.js';

export type SovereignMeshConfig = MeshNodeOptions;

export class SovereignMesh {
  private constructor(
    readonly node: MeshNode,
    readonly secrets: Secrets,
    private readonly holder: ShareHolder,
  ) {}

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
    return new SovereignMesh(node, new Secrets(transport, h), h);
  }

  /** Stores bytes in a zone; resolves with the ObjectId (hex) once durable on the zone's devices. */
  store(data: Uint8Array, zone: string, opts?: StoreOptions): Promise<string> {
    return this.node.put(data, zone, opts);
  }

  /** Rebuilds an object from any devices that hold enough of its symbols. */
  retrieve(objectId: string): Promise<Uint8Array> {
    return this.node.get(objectId);
  }

  list(zone?: string): Promise<ObjectHealth[]> {
    return this.node.list(zone);
  }

  async close(): Promise<void> {
    this.holder.wipe();
    await this.node.stop();
  }
}
