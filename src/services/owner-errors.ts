// Typed errors of the owner key (docs/errors.md). A participant's refusal travels in its reply
// as {code, message} and is raised again on the coordinating device with the same code.
import { FcpError } from '../errors/index.js';

export type OwnerErrorCode =
  | 'OWNER_NO_KEY'
  | 'OWNER_EXISTS'
  | 'OWNER_NOT_OWNER'
  | 'OWNER_TOO_FEW_ONLINE'
  | 'OWNER_BAD_SHARE'
  | 'OWNER_DKG_FAILED'
  | 'OWNER_NONCE_USED'
  | 'OWNER_BAD_PURPOSE'
  | 'OWNER_BAD_THRESHOLD'
  | 'OWNER_BAD_REQUEST'
  | 'OWNER_UNREACHABLE'
  | 'OWNER_BUSY';

export class OwnerError extends FcpError {
  constructor(code: string, message: string) {
    super(code, message);
    this.name = 'OwnerError';
  }
}
