// Typed protocol errors. Any of them closes the connection that produced it and nothing else.
import { FcpError } from '../errors/index.js';

export type ProtocolErrorCode =
  | 'PROTO_FRAME_TOO_LARGE'
  | 'PROTO_BAD_CBOR'
  | 'PROTO_BAD_VERSION'
  | 'PROTO_UNKNOWN_TYPE'
  | 'PROTO_BAD_MESSAGE';

export class ProtocolError extends FcpError {
  declare readonly code: ProtocolErrorCode;
  /** Dotted path of the offending field, for PROTO_BAD_MESSAGE (e.g. "symbols[3].esi"). */
  readonly field: string | undefined;

  constructor(code: ProtocolErrorCode, message: string, field?: string) {
    super(code, message);
    this.field = field;
  }
}
