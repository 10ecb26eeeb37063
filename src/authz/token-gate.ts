// The capability check of a hub invoke (FCP V2 §7, §9.5), as authorize() runs it after the zone
// rules allowed the call. Once the owner key exists, every invoke needs a token whose chain ends
// at the owner key, granting this connector, operation and zone, not revoked, and used by its
// holder (a proof over this request). Before the owner key exists the zone rules alone decide.
import type { OperationFacts } from './actions.js';
import type { OwnerAuthority } from './owner-authority.js';
import type { Principal } from './principal.js';
import type { RevocationList, Risk } from './revocation.js';
import { TokenError, requireGrant, tokenId, verifyHolder, verifyToken, type HolderProof, type TokenClaims } from './token.js';
import { FcpError } from '../errors/index.js';

export type { Credential } from './credential.js';

/** What an invoke is about, for the capability check. */
export interface InvokeSubject extends OperationFacts {
  risk: Risk;
  /** The request id the holder's proof must name (the invoke's trace id). */
  requestId: string;
}

export interface TokenGateDeps {
  owner: Pick<OwnerAuthority, 'publicKey' | 'deviceGrant'>;
  revocations?: Pick<RevocationList, 'isRevoked' | 'requireFresh'>;
  /** Seconds since the epoch. */
  now?: () => number;
  skewSeconds?: number;
}

/** A proof seen within the skew window is refused the second time (FCP_ERR_REPLAY). */
const MAX_SEEN = 20_000;

export class ReplayError extends FcpError {
  constructor(message: string) {
    super('FCP_ERR_REPLAY', message);
  }
}

export class TokenGate {
  private readonly seen = new Map<string, number>();

  constructor(private readonly d: TokenGateDeps) {}

  /** Whether invokes need a token now (the owner key exists). */
  get enforcing(): boolean {
    return this.d.owner.publicKey() !== undefined;
  }

  /**
   * Throws TokenError (FCP_ERR_*) unless `p` may invoke `s` in `zone`. The local user of this
   * device calls with this device's grant; everyone else must bring a credential.
   */
  require(p: Principal, s: InvokeSubject, zone: string): TokenClaims | undefined {
    const ownerKey = this.d.owner.publicKey();
    if (!ownerKey) return undefined;
    const now = this.d.now?.() ?? Math.floor(Date.now() / 1000);
    const skew = this.d.skewSeconds ?? 60;
    const isRevoked = (jti: string) => this.d.revocations?.isRevoked('token', jti) ?? false;
    const credential = 'credential' in p ? p.credential : undefined;
    let claims: TokenClaims;
    if (credential) {
      claims = verifyToken(credential.token, { ownerKey, now, skewSeconds: skew, isRevoked }).claims;
      if (!credential.proof) throw new TokenError('FCP_ERR_TOKEN_HOLDER_MISMATCH', 'an invoke with a token needs its holder\'s proof');
      if (credential.proof.requestId !== s.requestId) throw new TokenError('FCP_ERR_TOKEN_HOLDER_MISMATCH', 'the holder proof is for another request');
      verifyHolder(claims, credential.proof, `${s.connector}.${s.operation}`, { now, skewSeconds: skew });
      this.once(claims, credential.proof, now, skew);
    } else if (p.kind === 'local') {
      const grant = this.d.owner.deviceGrant();
      if (!grant) throw new TokenError('FCP_ERR_CAPABILITY_DENIED', 'this device has no grant from the owner key yet (see `fcp owner status`)');
      claims = verifyToken(grant, { ownerKey, now, skewSeconds: skew, isRevoked }).claims;
    } else {
      throw new TokenError('FCP_ERR_CAPABILITY_DENIED', `${s.connector}.${s.operation} needs a capability token (fcp token mint)`);
    }
    requireGrant(claims, s.connector, s.operation, zone);
    // Risky and dangerous operations only on a device whose revocation head is fresh (§14.3.1).
    this.d.revocations?.requireFresh(s.risk);
    return claims;
  }

  /**
   * Whether the capability `p` presents grants `connector.operation` in `zone` (what MCP
   * `tools/list` shows). The token is checked, not a holder proof: listing is not an invoke.
   */
  grants(p: Principal, connector: string, operation: string, zone: string): boolean {
    const ownerKey = this.d.owner.publicKey();
    if (!ownerKey) return true;
    const token = ('credential' in p ? p.credential?.token : undefined) ?? (p.kind === 'local' ? this.d.owner.deviceGrant() : undefined);
    if (!token) return false;
    try {
      const { claims } = verifyToken(token, { ownerKey, ...(this.d.now ? { now: this.d.now() } : {}), skewSeconds: this.d.skewSeconds ?? 60, isRevoked: (jti) => this.d.revocations?.isRevoked('token', jti) ?? false });
      requireGrant(claims, connector, operation, zone);
      return true;
    } catch {
      return false;
    }
  }

  private once(claims: TokenClaims, proof: HolderProof, now: number, skew: number): void {
    for (const [k, until] of this.seen) {
      if (until >= now && this.seen.size < MAX_SEEN) break;
      this.seen.delete(k);
    }
    const key = `${tokenId(claims.jti)}:${proof.requestId}`;
    if (this.seen.has(key)) throw new ReplayError(`request ${proof.requestId} was already made with token ${tokenId(claims.jti)}`);
    this.seen.set(key, proof.time + 2 * skew);
  }
}
