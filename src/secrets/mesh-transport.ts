// The secrets transport over the mesh: share requests travel as one `secret` frame to the
// holder's FCP server, which authenticates the caller (whois + zone) before the holder sees it.
import type { MeshNode } from '../mesh/index.js';
import { mayUsePeer } from '../zones/index.js';
import type { ShareHolder } from './holder.js';
import type { SecretsAuditEvent, SecretsPeer, SecretsTransport } from './transport.js';

export class MeshSecretsTransport implements SecretsTransport {
  readonly self: SecretsPeer;
  readonly boxSecretKey: Uint8Array;

  constructor(
    private readonly node: MeshNode,
    private readonly holder: () => ShareHolder,
  ) {
    const s = node.self;
    this.self = { nodeId: s.stableId, name: s.hostName, zones: s.zones, boxPublicKey: node.keyring.node.encryptionPublicKey, self: true };
    this.boxSecretKey = node.keyring.node.encryptionSecretKey;
  }

  /** This device first (no network hop), then peers of exactly that zone, ranked, on a path the zone may use. */
  async eligiblePeers(zone: string): Promise<SecretsPeer[]> {
    if (!this.node.zones.has(zone)) return [];
    const z = this.node.zones.get(zone);
    const out: SecretsPeer[] = [];
    if (this.self.zones.includes(zone)) out.push(this.self);
    const infos = this.node.directory.ranked((i) => i.zones.some((iz) => iz.id === zone) && mayUsePeer(z, i.peer));
    const peers = await Promise.all(infos.map((i) => this.toSecretsPeer(i.peer.stableId)));
    for (const p of peers) if (p) out.push(p);
    return out;
  }

  async onlinePeers(): Promise<SecretsPeer[]> {
    const infos = this.node.directory.ranked((i) => i.zones.length > 0);
    const peers = await Promise.all(infos.map((i) => this.toSecretsPeer(i.peer.stableId)));
    return [this.self, ...peers.filter((p): p is SecretsPeer => p !== null)];
  }

  async request(peer: SecretsPeer, body: Uint8Array): Promise<Uint8Array> {
    if (peer.self) return this.holder().handle({ nodeId: this.self.nodeId, zones: this.self.zones }, body);
    const reply = (await this.node.call(peer.nodeId, { t: 'secret', body })) as unknown as { body: Uint8Array };
    return reply.body;
  }

  audit(event: SecretsAuditEvent): void {
    this.node.log.info({ audit: 'secret', ...event }, 'secret request');
  }

  private async toSecretsPeer(stableId: string): Promise<SecretsPeer | null> {
    const info = this.node.directory.byStableId(stableId);
    if (!info) return null;
    try {
      const boxPublicKey = await this.node.boxKeyOf(stableId);
      return { nodeId: stableId, name: info.peer.hostName, zones: info.zones.map((z) => z.id), boxPublicKey, self: false };
    } catch {
      return null; // not running fcpd right now
    }
  }
}
