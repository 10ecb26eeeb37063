// Typed errors of the secrets layer. Codes are stable strings; a holder's refusal travels in its
// reply as {code, message} and is raised again on the requesting side with the same class.
import { FcpError } from '../errors/index.js';

export type SecretErrorCode =
  | 'SECRET_NOT_FOUND'
  | 'SECRET_REFUSED'
  | 'SECRET_TOO_FEW_SHARES'
  | 'SECRET_LOST'
  | 'SECRET_BAD_SHARE'
  | 'SECRET_BAD_PARAMS'
  | 'SECRET_TOO_FEW_DEVICES'
  | 'SECRET_PUT_FAILED'
  | 'SECRET_CONFLICT'
  | 'SECRET_HOLDER_FULL'
  | 'SECRET_BAD_REQUEST'
  | 'SECRET_BAD_REPLY'
  | 'SECRET_UNREACHABLE';

export class SecretError extends FcpError {
  declare readonly code: SecretErrorCode;

  constructor(code: SecretErrorCode, message: string) {
    super(code, message);
  }
}

/** No reachable holder knows a secret of that name. */
export class SecretNotFoundError extends SecretError {
  constructor(message: string) {
    super('SECRET_NOT_FOUND', message);
    this.name = 'SecretNotFoundError';
  }
}

/** The caller's zones do not allow the secret's zone (or the holder may not hold that zone). */
export class SecretRefusedError extends SecretError {
  constructor(message: string) {
    super('SECRET_REFUSED', message);
    this.name = 'SecretRefusedError';
  }
}

/** Fewer than k verified shares could be gathered now; the secret may come back with its devices. */
export class SecretTooFewSharesError extends SecretError {
  constructor(message: string) {
    super('SECRET_TOO_FEW_SHARES', message);
    this.name = 'SecretTooFewSharesError';
  }
}

/** Fewer than k shares survive anywhere: the secret cannot be rebuilt, ever. */
export class SecretLostError extends SecretError {
  constructor(message: string) {
    super('SECRET_LOST', message);
    this.name = 'SecretLostError';
  }
}

/** Shares were gathered but no k of them verify against the secret's commitment. */
export class SecretBadShareError extends SecretError {
  constructor(message: string) {
    super('SECRET_BAD_SHARE', message);
    this.name = 'SecretBadShareError';
  }
}

/** Invalid name, zone, value, k or n. */
export class SecretBadParamsError extends SecretError {
  constructor(message: string) {
    super('SECRET_BAD_PARAMS', message);
    this.name = 'SecretBadParamsError';
  }
}

/** Fewer than n online devices may hold the zone, so n distinct holders cannot be chosen. */
export class SecretTooFewDevicesError extends SecretError {
  constructor(message: string) {
    super('SECRET_TOO_FEW_DEVICES', message);
    this.name = 'SecretTooFewDevicesError';
  }
}

/** Not every share could be placed; the new version was withdrawn, the previous one is intact. */
export class SecretPutFailedError extends SecretError {
  constructor(message: string) {
    super('SECRET_PUT_FAILED', message);
    this.name = 'SecretPutFailedError';
  }
}

/** A holder already keeps a different split under that version (concurrent writers). */
export class SecretConflictError extends SecretError {
  constructor(message: string) {
    super('SECRET_CONFLICT', message);
    this.name = 'SecretConflictError';
  }
}

/** A holder has reached its in-memory share limit. */
export class SecretHolderFullError extends SecretError {
  constructor(message: string) {
    super('SECRET_HOLDER_FULL', message);
    this.name = 'SecretHolderFullError';
  }
}

/** A request body a holder received is malformed or violates the protocol. */
export class SecretBadRequestError extends SecretError {
  constructor(message: string) {
    super('SECRET_BAD_REQUEST', message);
    this.name = 'SecretBadRequestError';
  }
}

/** A reply a requester received is malformed or does not answer its request. */
export class SecretBadReplyError extends SecretError {
  constructor(message: string) {
    super('SECRET_BAD_REPLY', message);
    this.name = 'SecretBadReplyError';
  }
}

/** The transport could not reach a device. */
export class SecretUnreachableError extends SecretError {
  constructor(message: string) {
    super('SECRET_UNREACHABLE', message);
    this.name = 'SecretUnreachableError';
  }
}

const CONSTRUCTORS: Record<SecretErrorCode, new (message: string) => SecretError> = {
  SECRET_NOT_FOUND: SecretNotFoundError,
  SECRET_REFUSED: SecretRefusedError,
  SECRET_TOO_FEW_SHARES: SecretTooFewSharesError,
  SECRET_LOST: SecretLostError,
  SECRET_BAD_SHARE: SecretBadShareError,
  SECRET_BAD_PARAMS: SecretBadParamsError,
  SECRET_TOO_FEW_DEVICES: SecretTooFewDevicesError,
  SECRET_PUT_FAILED: SecretPutFailedError,
  SECRET_CONFLICT: SecretConflictError,
  SECRET_HOLDER_FULL: SecretHolderFullError,
  SECRET_BAD_REQUEST: SecretBadRequestError,
  SECRET_BAD_REPLY: SecretBadReplyError,
  SECRET_UNREACHABLE: SecretUnreachableError,
};

export function isSecretErrorCode(code: unknown): code is SecretErrorCode {
  return typeof code === 'string' && Object.hasOwn(CONSTRUCTORS, code);
}

/** Rebuild the typed error a holder encoded in its reply. */
export function secretErrorFromCode(code: SecretErrorCode, message: string): SecretError {
  return new CONSTRUCTORS[code](message);
}

/** Short, secret-free reason for audit events. */
export function reasonOf(err: unknown): string {
  if (err instanceof SecretError) return err.code;
  const code = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined;
  if (typeof code === 'string') return code;
  return 'ERROR';
}
