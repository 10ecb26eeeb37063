// Capability tokens for a principal: mint one for an agent (narrowed from this device's grant and
// signed with this device's node key: no quorum needed) and list those minted here. Revoking is
// the owner key's (a signed revocation event); it is not here yet.
import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { NODE, attenuate, describePrincipal, tokenId, verifyToken, type Authorizer, type OwnerAuthority, type Principal, type TokenClaims } from '../authz/index.js';
import { FcpError } from '../errors/index.js';

export class TokenServiceError extends FcpError {}

export interface MintOptions {
  connector: string;
  ops: string[];
  /** Default: every zone this device's grant covers. */
  zones?: string[];
  ttlSeconds: number;
  /** Who it is for, as people read it. */
  name?: string;
  /** The agent's Ed25519 public key; without it a fresh key is made and returned with the token. */
  holderKey?: Uint8Array;
}

export interface MintedToken {
  id: string;
  connector: string;
  ops: string[];
  zones: string[];
  name: string;
  expires: number;
  token: Uint8Array;
  /** The agent's seed, when this call made the key. */
  key?: Uint8Array;
}

export type ListedToken = Omit<MintedToken, 'token' | 'key'>;

const MAX_TTL_SECONDS = 30 * 24 * 3600;
const LIST_FILE = 'tokens.json';

export interface TokenServiceDeps {
  authz: Authorizer;
  owner: OwnerAuthority | undefined;
  nodeSeed: Uint8Array;
  dataDir: string;
  /** The audit log's token events (never token bytes). */
  audit?: { tokenMinted(t: { zone: string; principal: string; tokenId: string; audience?: string; grants?: number }): void };
}

export class TokenService {
  constructor(private readonly d: TokenServiceDeps) {}

  async mint(p: Principal, o: MintOptions): Promise<MintedToken> {
    this.d.authz.authorize(p, 'token.mint', NODE, `${o.connector}:${o.ops.join(',')}`);
    const ownerKey = this.d.owner?.publicKey();
    const grant = this.d.owner?.deviceGrant();
    if (!ownerKey || !grant) throw new TokenServiceError('OWNER_NO_KEY', 'tokens come from the owner key, which does not exist yet, or has not granted this device (fcp owner init; fcp owner status)');
    if (!Number.isSafeInteger(o.ttlSeconds) || o.ttlSeconds < 1 || o.ttlSeconds > MAX_TTL_SECONDS) throw new TokenServiceError('TOKEN_BAD_REQUEST', `a token lives 1 s to ${MAX_TTL_SECONDS / 86400} days`);
    if (o.ops.length === 0) throw new TokenServiceError('TOKEN_BAD_REQUEST', 'name at least one operation (or *)');
    const parent: TokenClaims = verifyToken(grant, { ownerKey }).claims;
    const key = o.holderKey ? undefined : new Uint8Array(randomBytes(32));
    const holderKey = o.holderKey ?? ed25519.getPublicKey(key!);
    const zones = o.zones ?? parent.zones;
    const name = o.name ?? 'agent';
    const ttl = Math.min(o.ttlSeconds, parent.exp - Math.floor(Date.now() / 1000));
    // Narrowing is checked when it is minted (attenuate) and again by every verifier.
    const token = attenuate(grant, this.d.nodeSeed, { parentClaims: parent, sub: name, aud: o.connector, ops: o.ops, zones, holderKey, ttlSeconds: ttl });
    const claims = verifyToken(token, { ownerKey }).claims;
    const minted: MintedToken = { id: tokenId(claims.jti), connector: claims.aud, ops: claims.ops, zones: claims.zones, name, expires: claims.exp, token, ...(key ? { key } : {}) };
    this.d.audit?.tokenMinted({ zone: 'device', principal: describePrincipal(p), tokenId: minted.id, audience: minted.connector, grants: minted.ops.length });
    const all = await this.load();
    all.push({ id: minted.id, connector: minted.connector, ops: minted.ops, zones: minted.zones, name, expires: minted.expires });
    await this.save(all);
    return minted;
  }

  async list(p: Principal): Promise<ListedToken[]> {
    this.d.authz.authorize(p, 'token.list', NODE);
    return this.load();
  }

  /** The tokens minted here (ids, audiences, expiry: never a token's bytes), for a view another front door authorized (the dashboard). */
  records(): Promise<ListedToken[]> {
    return this.load();
  }

  private async load(): Promise<ListedToken[]> {
    try {
      return JSON.parse(await readFile(join(this.d.dataDir, LIST_FILE), 'utf8')) as ListedToken[];
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new TokenServiceError('TOKEN_LIST_DAMAGED', `${LIST_FILE} in the data directory cannot be read: ${(err as Error).message}`);
    }
  }

  private async save(all: ListedToken[]): Promise<void> {
    const file = join(this.d.dataDir, LIST_FILE);
    await writeFile(`${file}.tmp`, JSON.stringify(all, null, 2), { mode: 0o600 });
    await rename(`${file}.tmp`, file);
  }
}
