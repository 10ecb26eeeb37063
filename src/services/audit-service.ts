// This device's audit logs for the local user: read entries, verify every log.
import { NODE, type Authorizer, type Principal } from '../authz/index.js';
import type { AuditRecorder, ListedEntry, VerifyReport } from '../audit/index.js';

export class AuditService {
  constructor(
    private readonly recorder: AuditRecorder,
    private readonly authz: Authorizer,
  ) {}

  log(p: Principal, opts: { zone?: string; sinceMs?: number; limit?: number } = {}): ListedEntry[] {
    this.authz.authorize(p, 'audit.read', NODE);
    return this.recorder.entries(opts);
  }

  verify(p: Principal): VerifyReport[] {
    this.authz.authorize(p, 'audit.verify', NODE);
    return this.recorder.verify();
  }
}
