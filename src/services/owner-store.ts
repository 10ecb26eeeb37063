// What a device keeps of the owner key under dataDir/owner/ (every file mode 0600): its FROST
// share sealed to its own node box key (never plaintext on disk), the group's public part (group
// key, threshold, every participant's verification share) and its device grant.
import { join } from 'node:path';
import { unlink } from 'node:fs/promises';
import { decodeStrict, encodeDeterministic, frostDeserializeScalar, frostSerializeScalar, openSealed, readKeyFile, sealTo, writeKeyFile, type FrostKeyShare } from '../crypto/index.js';
import { OwnerError } from './owner-errors.js';

export interface OwnerParticipant {
  identifier: number;
  stableId: string;
  hostName: string;
  publicShare: Uint8Array;
}

/** The public part of the owner key, the same on every owner device (non-owners keep it too). */
export interface OwnerGroup {
  groupPublicKey: Uint8Array;
  threshold: number;
  participants: OwnerParticipant[];
  createdAt: number;
}

const SHARE_AAD = (stableId: string) => new TextEncoder().encode(`fcp owner share v1 ${stableId}`);

export class OwnerStore {
  constructor(
    private readonly dir: string,
    private readonly box: { publicKey: Uint8Array; secretKey: Uint8Array },
    private readonly stableId: string,
  ) {}

  static at(dataDir: string, box: { publicKey: Uint8Array; secretKey: Uint8Array }, stableId: string): OwnerStore {
    return new OwnerStore(join(dataDir, 'owner'), box, stableId);
  }

  get sharePath(): string {
    return join(this.dir, 'share.sealed');
  }

  async saveShare(share: FrostKeyShare): Promise<void> {
    const plain = encodeDeterministic([share.identifier, frostSerializeScalar(share.secret), share.threshold, share.publicShare, share.groupPublicKey]);
    await writeKeyFile(this.sharePath, sealTo(this.box.publicKey, plain, SHARE_AAD(this.stableId)));
    plain.fill(0);
  }

  async loadShare(): Promise<FrostKeyShare | null> {
    const sealed = await this.readOptional(this.sharePath);
    if (!sealed) return null;
    let plain: Uint8Array;
    try {
      plain = openSealed(this.box.secretKey, sealed, SHARE_AAD(this.stableId));
    } catch {
      throw new OwnerError('OWNER_BAD_SHARE', `${this.sharePath} does not open with this device's node key`);
    }
    const v = decodeStrict(plain, 'owner share') as unknown[];
    plain.fill(0);
    if (!Array.isArray(v) || v.length !== 5) throw new OwnerError('OWNER_BAD_SHARE', `${this.sharePath} is not an owner share`);
    const [identifier, secret, threshold, publicShare, groupPublicKey] = v as [number, Uint8Array, number, Uint8Array, Uint8Array];
    return { identifier, secret: frostDeserializeScalar(secret), threshold, publicShare, groupPublicKey };
  }

  async saveGroup(g: OwnerGroup): Promise<void> {
    await writeKeyFile(join(this.dir, 'group.cbor'), encodeGroup(g));
  }

  async loadGroup(): Promise<OwnerGroup | null> {
    const bytes = await this.readOptional(join(this.dir, 'group.cbor'));
    return bytes ? decodeGroup(bytes) : null;
  }

  async saveGrant(token: Uint8Array): Promise<void> {
    await writeKeyFile(join(this.dir, 'grant.cose'), token);
  }

  async loadGrant(): Promise<Uint8Array | null> {
    return this.readOptional(join(this.dir, 'grant.cose'));
  }

  /** Forgets a half-made key (a failed ceremony). */
  async clear(): Promise<void> {
    for (const f of ['share.sealed', 'group.cbor', 'grant.cose']) await unlink(join(this.dir, f)).catch(() => undefined);
  }

  private async readOptional(path: string): Promise<Uint8Array | null> {
    try {
      return await readKeyFile(path);
    } catch (err) {
      if ((err as { code?: string }).code === 'CRYPTO_KEY_FILE_MISSING') return null;
      throw err;
    }
  }
}

export function encodeGroup(g: OwnerGroup): Uint8Array {
  return encodeDeterministic([g.groupPublicKey, g.threshold, g.participants.map((p) => [p.identifier, p.stableId, p.hostName, p.publicShare]), g.createdAt]);
}

export function decodeGroup(bytes: Uint8Array): OwnerGroup {
  const v = decodeStrict(bytes, 'owner group') as unknown[];
  const bad = () => new OwnerError('OWNER_BAD_REQUEST', 'not an owner group record');
  if (!Array.isArray(v) || v.length !== 4 || !(v[0] instanceof Uint8Array) || v[0].length !== 32 || typeof v[1] !== 'number' || !Array.isArray(v[2]) || typeof v[3] !== 'number') throw bad();
  const participants = (v[2] as unknown[]).map((p) => {
    if (!Array.isArray(p) || p.length !== 4 || typeof p[0] !== 'number' || typeof p[1] !== 'string' || typeof p[2] !== 'string' || !(p[3] instanceof Uint8Array)) throw bad();
    return { identifier: p[0], stableId: p[1], hostName: p[2], publicShare: p[3] };
  });
  return { groupPublicKey: v[0], threshold: v[1], participants, createdAt: v[3] };
}
