// Errors of the dashboard's front door: each a stable code whose suffix gives its kind
// (every refusal is a 403, an unknown path a 404).
import { FcpError } from '../errors/index.js';

export type DashboardErrorCode =
  | 'DASHBOARD_FUNNEL_REFUSED'
  | 'DASHBOARD_HOST_REFUSED'
  | 'DASHBOARD_ORIGIN_REFUSED'
  | 'DASHBOARD_CSRF_REFUSED'
  | 'DASHBOARD_NOT_FOUND'
  | 'DASHBOARD_BAD_REQUEST';

export class DashboardError extends FcpError {
  constructor(
    override readonly code: DashboardErrorCode,
    message: string,
  ) {
    super(code, message);
  }
}
