// Typed errors of the files layer; `code` is stable and safe to match on.
import { FcpError } from '../errors/index.js';

export type FilesErrorCode =
  /** A file object or chunk-list page that fails validation (or a chunk of the wrong kind or length). */
  | 'FILES_BAD_OBJECT'
  /** The caller aborted a put or get; chunks already placed stay unreferenced until collected. */
  | 'FILES_CANCELLED';

export class FilesError extends FcpError {
  constructor(override readonly code: FilesErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

export function cancelled(what: string): FilesError {
  return new FilesError('FILES_CANCELLED', `${what} was cancelled`);
}
