// The hub's typed errors. Codes are stable (docs/errors.md); their kinds come from the suffix
// rules or the explicit map in errors/index.ts.
import { FcpError } from '../errors/index.js';

export type HubErrorCode =
  | 'HUB_BAD_MANIFEST'
  | 'HUB_BAD_INPUT'
  | 'HUB_IDEMPOTENCY_REQUIRED'
  | 'HUB_CONNECTOR_NOT_FOUND'
  | 'HUB_UNKNOWN_OPERATION'
  | 'HUB_CONNECTOR_EXISTS'
  | 'HUB_NOT_RUNNING'
  | 'HUB_CONNECTOR_CRASHED'
  | 'HUB_CONNECTOR_FAILED'
  | 'HUB_PROTOCOL_VIOLATION'
  | 'HUB_TIMEOUT'
  | 'HUB_OPERATION_FAILED'
  | 'HUB_EGRESS_DENIED'
  | 'HUB_EGRESS_FAILED'
  | 'HUB_MCP_FAILED';

export class HubError extends FcpError {
  constructor(
    code: HubErrorCode | `CONNECTOR_${string}`,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}
