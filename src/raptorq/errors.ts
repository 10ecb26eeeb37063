// Typed errors of the RaptorQ codec. Each carries a stable `code` for callers to branch on.

export type RaptorQErrorCode =
  | 'RAPTORQ_BAD_OTI'
  | 'RAPTORQ_BAD_PARAMETERS'
  | 'RAPTORQ_BAD_PACKET'
  | 'RAPTORQ_SBN_OUT_OF_RANGE'
  | 'RAPTORQ_ESI_OUT_OF_RANGE'
  | 'RAPTORQ_WORKER_FAILED';

export class RaptorQError extends Error {
  readonly code: RaptorQErrorCode;
  constructor(code: RaptorQErrorCode, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The 12-byte Object Transmission Information is malformed or describes an impossible object. */
export class BadOtiError extends RaptorQError {
  constructor(message: string) {
    super('RAPTORQ_BAD_OTI', message);
  }
}

/** Encoder options (symbol size, alignment, sub-block size) cannot describe a valid encoding. */
export class BadParametersError extends RaptorQError {
  constructor(message: string) {
    super('RAPTORQ_BAD_PARAMETERS', message);
  }
}

/** A packet does not have the length the OTI implies (4-byte payload id + one symbol). */
export class BadPacketError extends RaptorQError {
  constructor(message: string) {
    super('RAPTORQ_BAD_PACKET', message);
  }
}

/** A source block number is not below the object's number of source blocks Z. */
export class SbnOutOfRangeError extends RaptorQError {
  constructor(message: string) {
    super('RAPTORQ_SBN_OUT_OF_RANGE', message);
  }
}

/** An encoding symbol id is outside 0 .. 2^24-1 (or a requested range runs past it). */
export class EsiOutOfRangeError extends RaptorQError {
  constructor(message: string) {
    super('RAPTORQ_ESI_OUT_OF_RANGE', message);
  }
}

/** A worker thread failed or was closed while it held a job. */
export class WorkerFailedError extends RaptorQError {
  constructor(message: string) {
    super('RAPTORQ_WORKER_FAILED', message);
  }
}
