// Typed errors of the crypto layer. Codes are stable strings callers may switch on.
import { FcpError } from '../errors/index.js';

export type CryptoErrorCode =
  | 'CRYPTO_AEAD_FAIL'
  | 'CRYPTO_KEY_ID_MISMATCH'
  | 'CRYPTO_BAD_ENVELOPE'
  | 'CRYPTO_BAD_INPUT'
  | 'CRYPTO_BAD_COSE'
  | 'CRYPTO_BAD_HEX'
  | 'CRYPTO_BAD_ZONE'
  | 'CRYPTO_BAD_KEY'
  | 'CRYPTO_KEY_FILE_PERMS'
  | 'CRYPTO_KEY_FILE_MISSING'
  | 'CRYPTO_SHARES_INSUFFICIENT'
  | 'CRYPTO_SHARES_INCONSISTENT';

export class CryptoError extends FcpError {
  declare readonly code: CryptoErrorCode;

  constructor(code: CryptoErrorCode, message: string) {
    super(code, message);
  }
}
