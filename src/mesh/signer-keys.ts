// The node signing keys of the other devices, pinned: what verifies their heads and tombstones.
// A device's key is learned from the device itself, over FCP (`info`, the message that already
// carries its X25519 key for secrets), never from a third device: a member relaying "X's key"
// could then forge X's records. The first key a device presents is pinned (trust on first use,
// as the audit witness pins a log's key, src/audit/witness.ts): the tailnet has already
// authenticated the connection as that device (WireGuard key, whois). A later, different key for
// a pinned device is refused and logged: a device that was reset (a new data dir, so a new node
// key) is not believed until its old pin is removed from signer-keys.json by hand.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { bytesEqual } from '../crypto/index.js';
import { MeshError } from './errors.js';

export interface SignerKeysDeps {
  /** Where the pins are kept (JSON: stable id → base64 key). */
  path: string;
  self: { stableId: string; signingPublicKey: Uint8Array };
  /** Asks the device itself for its signing key (FCP `info`); throws when it cannot be reached. */
  ask: (stableId: string) => Promise<Uint8Array>;
  log: Logger;
}

export type Offer = 'pinned' | 'known' | 'changed';

export class SignerKeys {
  private readonly pins: Map<string, Uint8Array>;
  /** One question per device at a time (many records of one device arrive in one pull). */
  private readonly asking = new Map<string, Promise<Uint8Array>>();

  constructor(private readonly d: SignerKeysDeps) {
    this.pins = new Map();
    if (existsSync(d.path)) {
      const raw = JSON.parse(readFileSync(d.path, 'utf8')) as Record<string, string>;
      for (const [id, b64] of Object.entries(raw)) {
        const key = new Uint8Array(Buffer.from(b64, 'base64'));
        if (key.length === 32) this.pins.set(id, key);
      }
    }
  }

  /** The pinned key of a device (this device's own from its keyring), if any. */
  pinned(stableId: string): Uint8Array | undefined {
    if (stableId === this.d.self.stableId) return this.d.self.signingPublicKey;
    return this.pins.get(stableId);
  }

  /**
   * A key the device itself presented (its `info` answer): pinned if it is the first, compared
   * with the pin otherwise. A different key is refused (the pin stays) and logged.
   */
  offer(stableId: string, key: Uint8Array): Offer {
    const known = this.pinned(stableId);
    if (known) {
      if (bytesEqual(known, key)) return 'known';
      this.d.log.warn({ device: stableId }, 'a device presented another node signing key than the one pinned for it; its heads and tombstones stay refused until the pin is cleared');
      return 'changed';
    }
    if (key.length !== 32) return 'changed';
    this.pins.set(stableId, Uint8Array.from(key));
    this.save();
    this.d.log.info({ device: stableId }, 'node signing key pinned (first use)');
    return 'pinned';
  }

  /**
   * The key that verifies `stableId`'s records: the pin, or asked of the device now and pinned.
   * MESH_SIGNER_UNKNOWN when the device cannot be asked (offline, not a member): its records
   * wait until it has been reached once. MESH_SIGNER_CHANGED when it presents another key.
   */
  async keyOf(stableId: string): Promise<Uint8Array> {
    const known = this.pinned(stableId);
    if (known) return known;
    let q = this.asking.get(stableId);
    if (!q) {
      q = this.d.ask(stableId).finally(() => this.asking.delete(stableId));
      this.asking.set(stableId, q);
    }
    let key: Uint8Array;
    try {
      key = await q;
    } catch (err) {
      throw new MeshError('MESH_SIGNER_UNKNOWN', `the node signing key of ${stableId} is not known here and it could not be asked (${(err as Error).message}); its records are taken once it has been reached`);
    }
    if (this.offer(stableId, key) === 'changed') throw new MeshError('MESH_SIGNER_CHANGED', `${stableId} presents another node signing key than the one pinned for it`);
    return this.pinned(stableId)!;
  }

  /** Written at once (a pin is rare, and must survive a crash to mean anything). */
  private save(): void {
    const out: Record<string, string> = {};
    for (const [id, key] of this.pins) out[id] = Buffer.from(key).toString('base64');
    writeFileSync(`${this.d.path}.tmp`, JSON.stringify(out), { mode: 0o600 });
    renameSync(`${this.d.path}.tmp`, this.d.path);
  }
}
