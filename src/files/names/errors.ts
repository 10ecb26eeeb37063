// Typed errors of the namespace (names, directories, versions); `code` is stable.
import { FcpError } from '../../errors/index.js';

export type FilesErrorCode =
  | 'FILES_BAD_PATH'
  | 'FILES_NOT_FOUND'
  | 'FILES_NOT_A_DIRECTORY'
  | 'FILES_IS_A_DIRECTORY'
  | 'FILES_EXISTS'
  | 'FILES_BAD_SNAPSHOT'
  | 'FILES_SNAPSHOT_NOT_FOUND'
  | 'FILES_BAD_ENTRY'
  | 'FILES_DAMAGED'
  | 'FILES_HISTORY_UNAVAILABLE'
  | 'FILES_BAD_FORGET'
  | 'FILES_NEED_ZONE';

export class FilesError extends FcpError {
  constructor(override readonly code: FilesErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
