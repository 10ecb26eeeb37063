// Typed errors of the Tailscale layer. Each carries a stable `code` and a
// message that tells the user what to do next.
import { FcpError } from '../errors/index.js';

export type TailscaleErrorCode =
  | 'TS_NOT_RUNNING'
  | 'TS_PERMISSION'
  | 'TS_NOT_LOGGED_IN'
  | 'TS_BAD_JSON'
  | 'TS_HTTP'
  | 'TS_TIMEOUT'
  | 'TS_BAD_INPUT'
  | 'TS_WATCH_CLOSED';

export class TailscaleError extends FcpError {
  declare readonly code: TailscaleErrorCode;
  constructor(code: TailscaleErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** The socket is missing or refuses connections: tailscaled is not running. */
export class TailscaleNotRunningError extends TailscaleError {
  readonly socketPath: string;
  constructor(socketPath: string, detail: string, options?: { cause?: unknown }) {
    super(
      'TS_NOT_RUNNING',
      `cannot reach tailscaled at ${socketPath} (${detail}); start it (e.g. "sudo systemctl start tailscaled"), ` +
        'or point TS_SOCKET at the right socket',
      options,
    );
    this.name = 'TailscaleNotRunningError';
    this.socketPath = socketPath;
  }
}

/** The socket exists but this user may not open it. */
export class TailscalePermissionError extends TailscaleError {
  readonly socketPath: string;
  constructor(socketPath: string, detail: string, options?: { cause?: unknown }) {
    super(
      'TS_PERMISSION',
      `permission denied on ${socketPath} (${detail}); run as a user allowed to use tailscale ` +
        '(e.g. "sudo tailscale set --operator=$USER") or run with sudo',
      options,
    );
    this.name = 'TailscalePermissionError';
    this.socketPath = socketPath;
  }
}

/** The daemon answers but is not connected: BackendState is not "Running". */
export class TailscaleNotLoggedInError extends TailscaleError {
  readonly backendState: string;
  constructor(backendState: string) {
    super(
      'TS_NOT_LOGGED_IN',
      `tailscaled is in state "${backendState}", not "Running"; run "tailscale up" (or log in) and try again`,
    );
    this.name = 'TailscaleNotLoggedInError';
    this.backendState = backendState;
  }
}

/** The daemon sent a body that is not the JSON shape expected. */
export class TailscaleBadJsonError extends TailscaleError {
  readonly endpoint: string;
  constructor(endpoint: string, detail: string, options?: { cause?: unknown }) {
    super(
      'TS_BAD_JSON',
      `tailscaled answered ${endpoint} with malformed JSON (${detail}); check that TS_SOCKET points at tailscaled ` +
        'and that its version is supported',
      options,
    );
    this.name = 'TailscaleBadJsonError';
    this.endpoint = endpoint;
  }
}

/** The daemon answered with an unexpected HTTP status. */
export class TailscaleHttpError extends TailscaleError {
  readonly status: number;
  readonly endpoint: string;
  readonly body: string;
  constructor(endpoint: string, status: number, body: string) {
    const hint =
      status === 403
        ? 'the daemon refused access; run as a user allowed to use tailscale (see "tailscale set --operator")'
        : 'check "tailscale status" and the tailscaled logs';
    super('TS_HTTP', `tailscaled answered ${endpoint} with HTTP ${status}: ${body.trim() || '(empty body)'}; ${hint}`);
    this.name = 'TailscaleHttpError';
    this.status = status;
    this.endpoint = endpoint;
    this.body = body;
  }
}

/** No answer in time (the daemon has no timeouts of its own on ping). */
export class TailscaleTimeoutError extends TailscaleError {
  readonly endpoint: string;
  readonly timeoutMs: number;
  constructor(endpoint: string, timeoutMs: number) {
    super(
      'TS_TIMEOUT',
      `tailscaled did not answer ${endpoint} within ${timeoutMs} ms; the daemon may be hung or the peer unreachable ` +
        '(check "tailscale status"), or raise the timeout',
    );
    this.name = 'TailscaleTimeoutError';
    this.endpoint = endpoint;
    this.timeoutMs = timeoutMs;
  }
}

/** The caller passed something the LocalAPI cannot take. */
export class TailscaleBadInputError extends TailscaleError {
  constructor(message: string) {
    super('TS_BAD_INPUT', message);
    this.name = 'TailscaleBadInputError';
  }
}

/** The ipn bus stream ended because the daemon closed it. */
export class TailscaleWatchClosedError extends TailscaleError {
  constructor(detail: string) {
    super('TS_WATCH_CLOSED', `the tailscaled notification stream closed (${detail}); call watch() again to resume`);
    this.name = 'TailscaleWatchClosedError';
  }
}
