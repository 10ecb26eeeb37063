// The secrets transport over the mesh: share requests travel as one `secret` frame to the
// holder's FCP server, whose front door authenticates the caller (whois) and authorizes it.
import type { Principal } from '../authz/index.js';
import { expectReply, type MeshNode } from '../mesh/index.js';
import type { RequestOrigin, ShareHolder } from './holder.js';
import type { SecretsAuditEvent, SecretsPeer, SecretsTransport } from './transport.js';

export class MeshSecretsTransport implements SecretsTransport {
  readonly self: SecretsPeer;
  readonly boxSecretKey: Uint8Array;

  constructor(
    private readonly node: Pick<MeshNode, 'self' | 'keyring' | 'zones' | 'eligibility' | 'directory' | 'call' | 'boxKeyOf' | 'log'>,
    private readonly holder: () => ShareHolder,
    /** This device as the principal of its own share requests. */
    private readonly selfPrincipal: () => Principal,
  ) {
    const s = node.self;
    this.self = { nodeId: s.stableId, name: s.hostName, zones: s.zones, boxPublicKey: node.keyring.node.encryptionPublicKey, self: true };
    this.boxSecretKey = node.keyring.node.encryptionSecretKey;
  }

  /** This device first (no network hop), then peers of exactly that zone, ranked, on a path the zone may use. */
  async eligiblePeers(zone: string): Promise<SecretsPeer[]> {
    if (!this.node.zones.has(zone)) return [];
    const out: SecretsPeer[] = [];
    if (this.self.zones.includes(zone)) out.push(this.self);
    const peers = await Promise.all(this.node.eligibility.shareMembers(this.node.zones.get(zone)).map((i) => this.toSecretsPeer(i.peer.stableId)));
    for (const p of peers) if (p) out.push(p);
    return out;
  }

  async onlinePeers(): Promise<SecretsPeer[]> {
    const peers = await Promise.all(this.node.eligibility.members().map((i) => this.toSecretsPeer(i.peer.stableId)));
    return [this.self, ...peers.filter((p): p is SecretsPeer => p !== null)];
  }

  async request(peer: SecretsPeer, body: Uint8Array): Promise<Uint8Array> {
    if (peer.self) return this.holder().handle(this.selfOrigin(), body);
    return expectReply(await this.node.call(peer.nodeId, { t: 'secret', body }), 'secret_result').body;
  }

  selfOrigin(): RequestOrigin {
    return { nodeId: this.self.nodeId, zones: this.self.zones, principal: this.selfPrincipal() };
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
