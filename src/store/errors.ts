// Typed errors of the store layer. Codes are stable; callers branch on them:
//   STORE_QUOTA     the batch would exceed the configured quota (nothing written)
//   STORE_BAD_INPUT malformed arguments (nothing written)
//   STORE_CLOSED    the store was closed
//   STORE_FULL      the disk (or file size limit) is full: nothing of the batch was written,
//                   reads still work, writes succeed again once space is back
//   STORE_IO        the write failed for another I/O reason (nothing written; retry may work)
//   STORE_GONE      the store's directory was deleted or replaced under the running store:
//                   writes are refused, since they would land in a deleted file
//   STORE_CORRUPT   the store's files are damaged; `startFresh` moves them aside
//   STORE_CONFLICT  a stored symbol would be replaced by other bytes (nothing written)
import { FcpError } from '../errors/index.js';

export type StoreErrorCode =
  | 'STORE_QUOTA'
  | 'STORE_BAD_INPUT'
  | 'STORE_CLOSED'
  | 'STORE_CORRUPT'
  | 'STORE_FULL'
  | 'STORE_IO'
  | 'STORE_GONE'
  | 'STORE_CONFLICT';

export class StoreError extends FcpError {
  declare readonly code: StoreErrorCode;
  /** The file or directory concerned, when the error is about one. */
  readonly path: string | null;

  constructor(code: StoreErrorCode, message: string, opts: { path?: string; cause?: unknown } = {}) {
    super(code, message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.path = opts.path ?? null;
  }
}
