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
  | 'TS_WATCH_CLOSED'
  | 'TS_USERSPACE'
  | 'TS_SERVE_CONFLICT';

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

/**
 * The socket exists but this user may not open it. On Unix tailscaled lets every local user read
 * status, whois and ping over its socket (ipn/ipnserver/server.go actor.Permissions; ping has no
 * check at all), so EACCES is a file-permission or mount problem, not an --operator setting.
 */
export class TailscalePermissionError extends TailscaleError {
  readonly socketPath: string;
  constructor(socketPath: string, detail: string, options?: { cause?: unknown; fromDaemon?: boolean }) {
    super(
      'TS_PERMISSION',
      options?.fromDaemon
        ? `tailscaled at ${socketPath} refused the request (${detail}); this user may read but not change tailscaled: ` +
            'run as root, or let this user change settings with "sudo tailscale set --operator=$USER"'
        : `cannot open ${socketPath} (${detail}): the socket file or a directory above it is not accessible to this user. ` +
            'This is a file-permission or mount problem, not a Tailscale setting (tailscaled lets any local user read ' +
            'status over its socket): check "ls -l" of the socket and its directory, run fcpd as a user who can open it, ' +
            'or, in a container, mount the host\'s tailscaled socket directory and point TS_SOCKET at it',
      options,
    );
    this.name = 'TailscalePermissionError';
    this.socketPath = socketPath;
  }
}

/** What the user should do about each tailscaled state that is not "Running" (ipn/backend.go State). */
export function backendStateAdvice(state: string): string {
  switch (state) {
    case 'NeedsLogin':
      return 'this device is logged out of Tailscale: run "tailscale up" (or "tailscale login") on it';
    case 'NeedsMachineAuth':
      return 'this device waits for an admin to approve it in the Tailscale admin console';
    case 'Stopped':
      return 'Tailscale is turned off on this device: run "tailscale up"';
    case 'InUseOtherUser':
      return 'tailscaled is in use by another user of this machine';
    case 'NoState':
    case 'Starting':
      return 'tailscaled is still starting';
    default:
      return 'run "tailscale up" (or log in) and try again';
  }
}

/** Transient states: tailscaled gets out of them by itself (NeedsMachineAuth once an admin approves). */
export function isTransientBackendState(state: string): boolean {
  return state === 'NoState' || state === 'Starting' || state === 'NeedsMachineAuth';
}

/** The daemon answers but is not connected: BackendState is not "Running". */
export class TailscaleNotLoggedInError extends TailscaleError {
  readonly backendState: string;
  constructor(backendState: string) {
    super('TS_NOT_LOGGED_IN', `tailscaled is in state "${backendState}", not "Running": ${backendStateAdvice(backendState)}`);
    this.name = 'TailscaleNotLoggedInError';
    this.backendState = backendState;
  }
}

/**
 * tailscaled runs with userspace networking (Status.TUN false, --tun=userspace-networking): there
 * is no tailnet interface to bind, and inbound tailnet TCP arrives from tailscaled on loopback.
 */
export class TailscaleUserspaceError extends TailscaleError {
  constructor() {
    super(
      'TS_USERSPACE',
      'tailscaled runs with userspace networking (TUN off, e.g. --tun=userspace-networking in a container or on a NAS), ' +
        'so this device has no Tailscale address fcpd can listen on. Run tailscaled with a TUN device: drop ' +
        '--tun=userspace-networking (TS_USERSPACE=false for the tailscale/tailscale container image) and give the ' +
        'container /dev/net/tun and the NET_ADMIN capability; then start fcpd again',
    );
    this.name = 'TailscaleUserspaceError';
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
    const hint = 'check "tailscale status" and the tailscaled logs';
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

/** The serve config changed since it was read (HTTP 412 on If-Match): read it again and redo the change. */
export class TailscaleServeConflictError extends TailscaleError {
  constructor() {
    super('TS_SERVE_CONFLICT', 'the serve config changed while it was being edited (someone else ran tailscale serve/funnel); try again');
    this.name = 'TailscaleServeConflictError';
  }
}
