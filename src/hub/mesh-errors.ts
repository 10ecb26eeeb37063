// Typed errors of hub placement, leases, state and routing; `code` is stable and safe to match on.
import { FcpError } from '../errors/index.js';

export type HubMeshErrorCode =
  /** `fcp device set` got a key or value it does not know. */
  | 'HUB_BAD_SETTING'
  /** No online device satisfies the connector's placement needs. */
  | 'HUB_NO_ELIGIBLE_DEVICE'
  /** The connector exists but is not running anywhere now (failed, or between devices). */
  | 'HUB_CONNECTOR_UNAVAILABLE'
  /** The connector ran the operation and it failed. */
  | 'HUB_CONNECTOR_FAILED'
  /** The invoke's deadline passed before a result came back. */
  | 'HUB_DEADLINE_TIMEOUT'
  /** No installed connector has that id. */
  | 'HUB_UNKNOWN_CONNECTOR'
  /** A state write or lease renewal carried a fencing sequence older than one already seen. */
  | 'HUB_LEASE_STALE'
  /** The device asked to run an operation does not hold the connector's lease. */
  | 'HUB_NOT_HOLDER'
  /** A compare-and-set on a head lost against a concurrent writer. */
  | 'HUB_HEAD_CONFLICT'
  /** A state or registry object failed its signature or shape checks. */
  | 'HUB_STATE_DAMAGED'
  /** Too few of the zone's devices answered to grant a lease or commit a write. */
  | 'HUB_TOO_FEW_DEVICES'
  /** A malformed invoke (operation name, input). */
  | 'HUB_BAD_INVOKE';

export class HubMeshError extends FcpError {
  constructor(
    override readonly code: HubMeshErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(code, message);
  }
}
