// Typed errors of the store layer.
import { FcpError } from '../errors/index.js';

export type StoreErrorCode = 'STORE_QUOTA' | 'STORE_BAD_INPUT' | 'STORE_CLOSED' | 'STORE_CORRUPT' | 'STORE_CONFLICT';

export class StoreError extends FcpError {
  declare readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string) {
    super(code, message);
  }
}
