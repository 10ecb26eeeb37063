// One error base for every layer (RaptorQ excepted: it has no dependencies at all, and its codes
// are classified here by name). Each error has a stable code, and from the code's kind an HTTP
// status (control API, later the dashboard and gateway) and a CLI exit code (docs/errors.md).

/** What went wrong, as a caller acts on it. */
export type ErrorKind = 'bad-input' | 'refused' | 'not-found' | 'conflict' | 'unavailable' | 'damaged' | 'config' | 'internal';

export interface KindInfo {
  http: number;
  exit: number;
  meaning: string;
}

/** The one table of statuses and exit codes (documented in docs/errors.md). */
export const ERROR_KINDS: Readonly<Record<ErrorKind, KindInfo>> = {
  internal: { http: 500, exit: 1, meaning: 'an unexpected failure inside fcp (a bug: please report it)' },
  'bad-input': { http: 400, exit: 2, meaning: 'the request, arguments or input were malformed' },
  refused: { http: 403, exit: 3, meaning: 'not allowed: the zone, path or caller may not do this' },
  'not-found': { http: 404, exit: 4, meaning: 'no such object, secret, device or endpoint' },
  conflict: { http: 409, exit: 5, meaning: 'conflicts with what is already stored (other bytes, zone or key)' },
  unavailable: { http: 503, exit: 6, meaning: 'not possible now: too few devices online, busy, full or timed out; try again' },
  damaged: { http: 502, exit: 7, meaning: 'data failed its integrity checks (corrupt symbols, wrong content)' },
  config: { http: 500, exit: 8, meaning: 'this device is not set up right (not initialised, bad config, no zone key)' },
};

// Codes whose kind the suffix rules below would get wrong, or that have no telling suffix.
const EXPLICIT: Readonly<Record<string, ErrorKind>> = {
  MESH_NO_ZONE_KEY: 'config',
  FILES_NOT_SYNCED: 'unavailable',
  MESH_NOT_INITIALISED: 'config',
  MESH_BAD_CONFIG: 'config',
  MESH_DECODE_FAILED: 'damaged',
  MESH_STORE_FAILED: 'unavailable',
  MESH_JOIN_FAILED: 'refused',
  MESH_CLOSED: 'unavailable',
  MESH_PEER_ERROR: 'unavailable',
  MESH_KEY_MISMATCH: 'conflict',
  MESH_TOMBSTONED: 'conflict',
  // A head or tombstone whose signature does not verify against its device's pinned key (forged or altered).
  MESH_BAD_SIGNATURE: 'damaged',
  // The signing device's key is not pinned yet and it cannot be asked now: try again later.
  MESH_SIGNER_UNKNOWN: 'unavailable',
  MESH_SIGNER_CHANGED: 'conflict',
  MESH_UNRECONCILED: 'unavailable',
  CONFIG_INVALID: 'config',
  ZONE_CONFIG: 'config',
  ZONE_UNKNOWN: 'bad-input',
  STORE_QUOTA: 'unavailable',
  STORE_CLOSED: 'unavailable',
  STORE_CORRUPT: 'damaged',
  STORE_IO: 'unavailable',
  CRYPTO_AEAD_FAIL: 'damaged',
  CRYPTO_KEY_ID_MISMATCH: 'conflict',
  CRYPTO_KEY_FILE_PERMS: 'config',
  CRYPTO_KEY_FILE_MISSING: 'config',
  CRYPTO_SHARES_INSUFFICIENT: 'unavailable',
  CRYPTO_SHARES_INCONSISTENT: 'damaged',
  SECRET_TOO_FEW_SHARES: 'unavailable',
  SECRET_UNREACHABLE: 'unavailable',
  TS_NOT_RUNNING: 'unavailable',
  TS_WATCH_CLOSED: 'unavailable',
  PROTO_VERSION: 'bad-input',
  RAPTORQ_DECODE_FAILED: 'damaged',
  RAPTORQ_WORKER_FAILED: 'internal',
  AUTHZ_DENIED: 'refused',
  CONTROL_NOT_FOUND: 'not-found',
  CONTROL_UNREACHABLE: 'unavailable',
  INTERRUPTED: 'unavailable',
  INIT_NO_ZONE: 'config',
  MESH_TAILSCALED_DOWN: 'unavailable',
  FCPD_NOT_RUNNING: 'unavailable',
  FCPD_CONTROL_FAILED: 'unavailable',
  SECRET_PUT_FAILED: 'unavailable',
  SECRET_LOST: 'not-found',
  SECRET_EMPTY: 'bad-input',
  SECRET_ABORTED: 'unavailable',
  CONTROL_TOO_LARGE: 'bad-input',
  AUDIT_BAD_PROOF: 'damaged',
  AUDIT_BAD_SIGNATURE: 'damaged',
  FCP_ERR_TOKEN_EXPIRED: 'refused',
  FCP_ERR_TOKEN_NOT_YET_VALID: 'refused',
  FCP_ERR_TOKEN_AUD_MISMATCH: 'refused',
  FCP_ERR_TOKEN_SIG_INVALID: 'refused',
  FCP_ERR_TOKEN_MALFORMED: 'bad-input',
  FCP_ERR_TOKEN_HOLDER_MISMATCH: 'refused',
  FCP_ERR_TOKEN_REVOKED: 'refused',
  FCP_ERR_CAPABILITY_DENIED: 'refused',
  FCP_ERR_CHECKPOINT_STALE: 'unavailable',
  FCP_ERR_REPLAY: 'refused',
  REVOCATION_GAP: 'unavailable',
  REVOCATION_FORK: 'damaged',
  AUDIT_VERIFY_DAMAGED: 'damaged',
  AUDIT_LOG_CORRUPT: 'damaged',
  AUDIT_BAD_ARCHIVE: 'damaged',
  AUDIT_FORK: 'conflict',
  AUDIT_ROLLBACK: 'conflict',
  AUDIT_NO_ARCHIVE: 'not-found',
  FILES_NOT_A_DIRECTORY: 'conflict',
  FILES_IS_A_DIRECTORY: 'conflict',
  FILES_NEED_ZONE: 'bad-input',
  INPUT_EMPTY: 'bad-input',
  INPUT_NOT_A_FILE: 'bad-input',
  INPUT_IS_DIRECTORY: 'bad-input',
  FILES_BAD_OBJECT: 'damaged',
  OUTPUT_IS_TERMINAL: 'bad-input',
  FCPD_STREAM_BROKEN: 'unavailable',
  FILES_CANCELLED: 'unavailable',
  OUTPUT_IS_DIRECTORY: 'bad-input',
  INPUT_IO: 'unavailable',
  OUTPUT_IO: 'unavailable',
  HUB_NO_ELIGIBLE_DEVICE: 'unavailable',
  HUB_LEASE_STALE: 'conflict',
  HUB_NOT_HOLDER: 'unavailable',
  HUB_IDEMPOTENCY_REQUIRED: 'bad-input',
  HUB_NOT_RUNNING: 'unavailable',
  HUB_CONNECTOR_CRASHED: 'unavailable',
  HUB_CONNECTOR_FAILED: 'unavailable',
  HUB_PROTOCOL_VIOLATION: 'unavailable',
  HUB_OPERATION_FAILED: 'unavailable',
  HUB_EGRESS_FAILED: 'unavailable',
  HUB_MCP_FAILED: 'unavailable',
  CONNECTOR_TOOL_FAILED: 'unavailable',
  DEVICE_IS_SELF: 'refused',
  DEVICE_LAST_OWNER: 'refused',
  DEVICE_NOT_A_MEMBER: 'refused',
  DEVICE_REMOVE_CANCELLED: 'refused',
  DEVICE_TRUST_CANCELLED: 'refused',
  DEVICE_REMOVED: 'refused',
  DEVICE_KEY_UNKNOWN: 'unavailable',
  DEVICE_KEY_MISMATCH: 'conflict',
  OWNER_NO_KEY: 'not-found',
  OWNER_BAD_SHARE: 'damaged',
  OWNER_DKG_FAILED: 'damaged',
  OWNER_NONCE_USED: 'refused',
  OWNER_NOT_OWNER: 'refused',
  OWNER_BAD_PURPOSE: 'refused',
  OWNER_UNREACHABLE: 'unavailable',
  TS_SERVE_CONFLICT: 'conflict',
  FUNNEL_NOT_AVAILABLE: 'refused',
  FUNNEL_NO_GATEWAY: 'config',
  FUNNEL_NO_DNS_NAME: 'unavailable',
  GATEWAY_NO_SUCH_KEY: 'not-found',
  GATEWAY_KEYS_DAMAGED: 'damaged',
};

const SUFFIXES: ReadonlyArray<[RegExp, ErrorKind]> = [
  [/_NOT_FOUND$|_UNKNOWN_/, 'not-found'],
  [/_REFUSED$|_DENIED$|_FORBIDDEN$/, 'refused'],
  [/_CONFLICT$|_EXISTS$/, 'conflict'],
  [/_BAD_|_INVALID|_TOO_LARGE$|_MALFORMED|_USAGE$/, 'bad-input'],
  [/_UNAVAILABLE$|_TIMEOUT$|_BUSY$|_FULL$|_GONE$|_TOO_FEW|_OFFLINE$/, 'unavailable'],
  [/_CORRUPT|_DAMAGED$|_AUTH/, 'damaged'],
  [/_CONFIG$|_NOT_INITIALI[SZ]ED$/, 'config'],
];

/** The kind of a stable error code (unknown codes are internal). */
export function kindOf(code: string | undefined): ErrorKind {
  if (!code) return 'internal';
  const explicit = EXPLICIT[code];
  if (explicit) return explicit;
  for (const [pattern, kind] of SUFFIXES) if (pattern.test(code)) return kind;
  return 'internal';
}

/** The base of every fcp error: `code` is stable and safe to match on. */
export class FcpError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }

  get kind(): ErrorKind {
    return kindOf(this.code);
  }

  get httpStatus(): number {
    return ERROR_KINDS[this.kind].http;
  }

  get exitCode(): number {
    return ERROR_KINDS[this.kind].exit;
  }
}

/** Code, HTTP status and exit code of anything thrown (a non-fcp error is internal). */
export function describeError(err: unknown): { code: string; message: string; kind: ErrorKind; http: number; exit: number } {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = e && typeof e.code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(e.code) ? e.code : 'INTERNAL';
  const message = e && typeof e.message === 'string' ? e.message : String(err);
  const kind = kindOf(code);
  return { code, message, kind, http: ERROR_KINDS[kind].http, exit: ERROR_KINDS[kind].exit };
}
