// An agent's token file: the capability token and the agent's own key, which signs a proof for
// each request (FCP V2 §9.5), so the token alone is useless. Written by `fcp token mint --out`
// (mode 0600) and read by `fcp mcp --token` and `fcp call --token`.
import { randomBytes } from 'node:crypto';
import { FcpError } from '../errors/index.js';
import { decodeClaimsUnverified, proveHolder, tokenId, type HolderProof, type TokenClaims } from './token.js';

export interface AgentToken {
  token: Uint8Array;
  /** The holder's Ed25519 seed (32 bytes). */
  key: Uint8Array;
}

export class AgentTokenError extends FcpError {
  constructor(message: string) {
    super('TOKEN_FILE_INVALID', message);
  }
}

export function formatAgentToken(a: AgentToken): string {
  const c = decodeClaimsUnverified(a.token);
  return `${JSON.stringify({ id: tokenId(c.jti), connector: c.aud, ops: c.ops, zones: c.zones, expires: new Date(c.exp * 1000).toISOString(), token: Buffer.from(a.token).toString('base64url'), key: Buffer.from(a.key).toString('base64url') }, null, 2)}\n`;
}

export function parseAgentToken(text: string, where: string): AgentToken {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new AgentTokenError(`${where} is not a token file (JSON written by fcp token mint --out)`);
  }
  const o = v as { token?: unknown; key?: unknown };
  if (typeof o.token !== 'string' || typeof o.key !== 'string') throw new AgentTokenError(`${where} has no token and key`);
  const a = { token: new Uint8Array(Buffer.from(o.token, 'base64url')), key: new Uint8Array(Buffer.from(o.key, 'base64url')) };
  if (a.key.length !== 32) throw new AgentTokenError(`${where}: the key is not an Ed25519 seed`);
  decodeClaimsUnverified(a.token);
  return a;
}

/** A fresh request id and the holder's proof over it and `connector.operation`. */
export function proveFor(a: AgentToken, operation: string): { traceId: string; proof: HolderProof; claims: TokenClaims } {
  const claims = decodeClaimsUnverified(a.token);
  const traceId = randomBytes(16).toString('hex');
  return { traceId, proof: proveHolder(claims, a.key, traceId, operation), claims };
}
