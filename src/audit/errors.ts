// Typed errors of the audit layer: proofs, notes and checkpoints that do not hold.
import { FcpError } from '../errors/index.js';

export type AuditErrorCode =
  | 'AUDIT_BAD_PROOF'
  | 'AUDIT_BAD_INDEX'
  | 'AUDIT_BAD_NOTE'
  | 'AUDIT_BAD_KEY'
  | 'AUDIT_BAD_SIGNATURE'
  | 'AUDIT_BAD_CHECKPOINT'
  | 'AUDIT_BAD_EVENT'
  | 'AUDIT_LOG_CORRUPT'
  | 'AUDIT_NOT_FOUND'
  | 'AUDIT_FORK'
  | 'AUDIT_ROLLBACK'
  | 'AUDIT_BAD_ARCHIVE'
  | 'AUDIT_NO_ARCHIVE';

export class AuditError extends FcpError {
  declare readonly code: AuditErrorCode;

  constructor(code: AuditErrorCode, message: string) {
    super(code, message);
  }
}
