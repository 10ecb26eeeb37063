// Typed errors of the files layer; `code` is stable and safe to match on.
import { FcpError } from '../errors/index.js';

export type FilesErrorCode =
  /** A file object or chunk-list page that fails validation (or a chunk of the wrong kind or length). */
  | 'FILES_BAD_OBJECT'
  /** The caller aborted a put or get; chunks already placed stay unreferenced until collected. */
  | 'FILES_CANCELLED'
  // Names, directories and versions:
  | 'FILES_BAD_PATH'
  | 'FILES_NOT_FOUND'
  | 'FILES_NOT_A_DIRECTORY'
  | 'FILES_IS_A_DIRECTORY'
  | 'FILES_EXISTS'
  | 'FILES_BAD_SNAPSHOT'
  | 'FILES_SNAPSHOT_NOT_FOUND'
  | 'FILES_BAD_ENTRY'
  /** A tree or commit object of the namespace fails validation. */
  | 'FILES_DAMAGED'
  /** Part of the namespace cannot be read now (too few devices); collection does nothing then. */
  | 'FILES_HISTORY_UNAVAILABLE'
  | 'FILES_BAD_FORGET'
  /** No zone given and this device does not hold the default one. */
  | 'FILES_NEED_ZONE'
  /** A name looked up on a device that has never synced the zone's heads with a peer (just reset, peers not reached yet). */
  | 'FILES_NOT_SYNCED';

export class FilesError extends FcpError {
  constructor(override readonly code: FilesErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

export function cancelled(what: string): FilesError {
  return new FilesError('FILES_CANCELLED', `${what} was cancelled`);
}
