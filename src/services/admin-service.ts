// Administration of this device for the local user: status, invites, key reload, repair and
// scrub passes, shutdown.
import { NODE, type Authorizer, type Principal } from '../authz/index.js';
import type { MeshNode, RepairOutcome, RepairStats } from '../mesh/index.js';

type NodeParts = Pick<MeshNode, 'status' | 'createInvite' | 'self' | 'reloadKeys' | 'keyring' | 'repair'>;

export class AdminService {
  constructor(
    private readonly node: NodeParts,
    private readonly authz: Authorizer,
    private readonly onShutdown: () => void = () => undefined,
  ) {}

  status(p: Principal): Promise<Record<string, unknown>> {
    this.authz.authorize(p, 'admin.status', NODE);
    return this.node.status();
  }

  invite(p: Principal): { code: string; expires: number; address: string; hostName: string } {
    this.authz.authorize(p, 'admin.invite', NODE);
    return { ...this.node.createInvite(), address: this.node.self.address, hostName: this.node.self.hostName };
  }

  async reloadKeys(p: Principal): Promise<string[]> {
    this.authz.authorize(p, 'admin.reload-keys', NODE);
    await this.node.reloadKeys();
    return this.node.keyring.zoneIds();
  }

  async repair(p: Principal): Promise<{ outcomes: Record<string, number>; stats: RepairStats }> {
    this.authz.authorize(p, 'admin.repair', NODE);
    const outcomes = await this.node.repair.pass();
    const counts: Partial<Record<RepairOutcome, number>> = {};
    for (const o of outcomes.values()) counts[o] = (counts[o] ?? 0) + 1;
    return { outcomes: counts, stats: this.node.repair.stats };
  }

  async scrub(p: Principal, symbols: number): Promise<{ corrupt: number; stats: RepairStats }> {
    this.authz.authorize(p, 'admin.scrub', NODE);
    return { corrupt: await this.node.repair.scrubStep(symbols), stats: this.node.repair.stats };
  }

  shutdown(p: Principal): void {
    this.authz.authorize(p, 'admin.shutdown', NODE);
    this.onShutdown();
  }
}
