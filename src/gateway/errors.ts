// Errors of the public gateway. Each has a stable code and the HTTP status it is answered with;
// messages say what the caller can do and never carry internal detail (paths, devices, stacks).
import { FcpError } from '../errors/index.js';

export const GATEWAY_STATUS = {
  GATEWAY_NOT_LOOPBACK: 403,
  GATEWAY_UNIDENTIFIED: 403,
  GATEWAY_BAD_KEY: 401,
  GATEWAY_FORBIDDEN: 403,
  GATEWAY_NOT_FOUND: 404,
  GATEWAY_METHOD: 405,
  GATEWAY_BAD_REQUEST: 400,
  GATEWAY_BODY_TOO_LARGE: 413,
  GATEWAY_RATE_LIMITED: 429,
  GATEWAY_BUSY: 503,
  GATEWAY_TIMEOUT: 504,
  GATEWAY_UPSTREAM_FAILED: 502,
} as const;

export type GatewayErrorCode = keyof typeof GATEWAY_STATUS;

export class GatewayError extends FcpError {
  constructor(
    override readonly code: GatewayErrorCode,
    message: string,
    /** Seconds until a rate-limited caller may try again. */
    readonly retryAfter?: number,
  ) {
    super(code, message);
  }

  get status(): number {
    return GATEWAY_STATUS[this.code];
  }
}
