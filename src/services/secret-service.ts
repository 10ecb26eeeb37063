// Secrets for a principal: the local user's put/use/list/rotate/remove/restore, and the share
// requests peers send (authorized per share zone inside the holder, through the same Authorizer).
import { inZone, NODE, type Authorizer, type DevicePrincipal, type Principal } from '../authz/index.js';
import type { PutOptions, RestoreOutcome, SecretListing, Secrets, ShareHolder } from '../secrets/index.js';
import type { ZoneRegistry } from '../zones/index.js';
import { requireZone } from './zone-lookup.js';

export class SecretService {
  constructor(
    private readonly secrets: Secrets,
    private readonly holder: ShareHolder,
    private readonly zones: ZoneRegistry,
    private readonly authz: Authorizer,
  ) {}

  async put(p: Principal, name: string, value: Uint8Array, opts: PutOptions): Promise<void> {
    this.authz.authorize(p, 'secret.put', inZone(requireZone(this.zones, opts.zone)), name);
    await this.secrets.put(name, value, opts);
  }

  use<T>(p: Principal, name: string, fn: (buf: Uint8Array) => Promise<T> | T): Promise<T> {
    this.authz.authorize(p, 'secret.use', NODE, name);
    return this.secrets.use(name, fn);
  }

  list(p: Principal): Promise<SecretListing[]> {
    this.authz.authorize(p, 'secret.list', NODE);
    return this.secrets.list();
  }

  rotate(p: Principal, name: string): Promise<void> {
    this.authz.authorize(p, 'secret.rotate', NODE, name);
    return this.secrets.rotate(name);
  }

  remove(p: Principal, name: string): Promise<void> {
    this.authz.authorize(p, 'secret.remove', NODE, name);
    return this.secrets.remove(name);
  }

  restore(p: Principal): Promise<RestoreOutcome[]> {
    this.authz.authorize(p, 'secret.restore', NODE);
    return this.secrets.restore();
  }

  /** A peer's share request; the holder asks `secret.share` of the Authorizer for each zone it touches. */
  share(p: DevicePrincipal, body: Uint8Array): Promise<Uint8Array> {
    return this.holder.handle({ nodeId: p.stableId, zones: p.zones.map((z) => z.id), principal: p }, body);
  }
}
