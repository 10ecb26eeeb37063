// Typed protocol errors. Any of them closes the connection that produced it and nothing else.

export type ProtocolErrorCode =
  | 'PROTO_FRAME_TOO_LARGE'
  | 'PROTO_BAD_CBOR'
  | 'PROTO_BAD_VERSION'
  | 'PROTO_UNKNOWN_TYPE'
  | 'PROTO_BAD_MESSAGE';

export class ProtocolError extends Error {
  readonly code: ProtocolErrorCode;
  /** Dotted path of the offending field, for PROTO_BAD_MESSAGE (e.g. "symbols[3].esi"). */
  readonly field: string | undefined;

  constructor(code: ProtocolErrorCode, message: string, field?: string) {
    super(message);
    this.name = 'ProtocolError';
    this.code = code;
    this.field = field;
  }
}
