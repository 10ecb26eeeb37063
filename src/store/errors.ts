// Typed errors of the store layer.

export type StoreErrorCode = 'STORE_QUOTA' | 'STORE_BAD_INPUT' | 'STORE_CLOSED' | 'STORE_CORRUPT';

export class StoreError extends Error {
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string) {
    super(message);
    this.name = 'StoreError';
    this.code = code;
  }
}
