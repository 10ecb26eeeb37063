// What a caller presents for a capability: a token and its holder's proof for one request.
import type { HolderProof } from './token.js';

/** A token and its holder's proof for one request (no proof: good for listing what it grants, never for an invoke). */
export interface Credential {
  token: Uint8Array;
  proof?: HolderProof;
}
