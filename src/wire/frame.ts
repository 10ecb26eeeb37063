// Frames: 4-byte big-endian body length, then one canonical CBOR message. The decoder is
// streaming, checks the length prefix before buffering a body, walks the CBOR shape under hard
// caps before decoding, validates the message against its schema, and after any error refuses
// all further input (the connection is to be closed).
import { decode, encode } from 'cborg';
import { ProtocolError } from './errors.js';
import { checkCborShape } from './cbor-shape.js';
import { decodeSymbolsBody, encodeSymbolsFramePieces, joinPieces } from './symbols-frame.js';
import { checkFields, isPlainObject, leniently, uint } from './schema.js';
import { DEFAULT_LIMITS, FRAME_HEADER_BYTES, MAX_FRAME_BYTES_CEILING, PROTOCOL_VERSION, type WireLimits } from './limits.js';
import { MESSAGE_FIELDS, isMessageType, type Message, type MessageBody, type MessageOf, type MessageType } from './messages.js';

/** The strict CBOR decoding every wire and stored format uses: definite lengths, no duplicate keys, no undefined, NaN, Infinity or bigints. */
export const STRICT_CBOR_DECODE = {
  strict: true,
  allowIndefinite: false,
  allowUndefined: false,
  allowInfinity: false,
  allowNaN: false,
  allowBigInt: false,
  rejectDuplicateMapKeys: true,
} as const;

const ENVELOPE_FIELDS: ReadonlySet<string> = new Set(['v', 't', 'id']);
const requestId = uint();

/** Checks a decoded (or about to be encoded) value against the message schemas; returns a clean copy. */
export function validateMessage(value: unknown): Message {
  if (!isPlainObject(value)) throw new ProtocolError('PROTO_BAD_MESSAGE', 'a message must be a CBOR map', 'message');
  if (value.v !== PROTOCOL_VERSION) {
    throw new ProtocolError('PROTO_BAD_VERSION', `unsupported protocol version ${String(value.v)}; this node speaks version ${PROTOCOL_VERSION}`, 'v');
  }
  const t = value.t;
  if (!isMessageType(t)) {
    throw new ProtocolError('PROTO_UNKNOWN_TYPE', `unknown message type ${JSON.stringify(String(t)).slice(0, 80)}`, 't');
  }
  const id = requestId(value.id, 'id');
  const fields = checkFields(value, MESSAGE_FIELDS[t], '', ENVELOPE_FIELDS);
  return { v: PROTOCOL_VERSION, t, id, ...fields } as Message;
}

/** Builds a message of type t with request id `id`. */
export function makeMessage<T extends MessageType>(t: T, id: number, body: MessageBody<T>): MessageOf<T> {
  return { v: PROTOCOL_VERSION, t, id, ...body } as unknown as MessageOf<T>;
}

function resolveLimits(opts: Partial<WireLimits> | undefined): WireLimits {
  const limits = { ...DEFAULT_LIMITS, ...opts };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`wire limit ${name} must be a positive integer`);
  }
  if (limits.maxFrameBytes > MAX_FRAME_BYTES_CEILING) {
    throw new RangeError(`maxFrameBytes may be at most ${MAX_FRAME_BYTES_CEILING}`);
  }
  return limits;
}

/** Encodes one message as a frame. Invalid messages throw ProtocolError, as they would on receipt. */
export function encodeFrame(msg: Message, opts?: { maxFrameBytes?: number }): Uint8Array {
  return joinPieces(encodeFramePieces(msg, opts));
}

/** Bytes of a frame given as pieces. */
export function piecesLength(pieces: readonly Uint8Array[]): number {
  let n = 0;
  for (const p of pieces) n += p.length;
  return n;
}

/**
 * Encodes one message as a frame in pieces to be written back to back: the bulk messages keep
 * their envelopes as the caller's views (see symbols-frame.ts), anything else is one piece.
 */
export function encodeFramePieces(msg: Message, opts?: { maxFrameBytes?: number }): Uint8Array[] {
  const limits = resolveLimits(opts);
  if (msg.t === 'symbols' && msg.v === PROTOCOL_VERSION && Object.keys(msg).length === 4) {
    const fast = encodeSymbolsFramePieces(msg.id, msg.symbols);
    if (fast && piecesLength(fast) - FRAME_HEADER_BYTES <= limits.maxFrameBytes) return fast;
  }
  if (msg.t === 'store' && msg.v === PROTOCOL_VERSION && Object.keys(msg).length === 6) {
    // Checked as the general path checks (zone rules, sizes), then written without cborg.
    const clean = validateMessage(msg) as MessageOf<'store'>;
    const fast = encodeSymbolsFramePieces(clean.id, clean.symbols, { zone: clean.zone, objectId: clean.objectId });
    if (fast && piecesLength(fast) - FRAME_HEADER_BYTES <= limits.maxFrameBytes) return fast;
  }
  const clean = validateMessage(msg);
  // cborg's default encoding is canonical CBOR (RFC 7049 §3.9): shortest forms, definite
  // lengths, map keys sorted length-first then bytewise. It is cheaper than bytewise sorting.
  const body = encode(clean);
  if (body.length > limits.maxFrameBytes) {
    throw new ProtocolError('PROTO_FRAME_TOO_LARGE', `message of ${body.length} bytes exceeds the frame cap of ${limits.maxFrameBytes}; send fewer symbols per message`);
  }
  const frame = new Uint8Array(FRAME_HEADER_BYTES + body.length);
  new DataView(frame.buffer).setUint32(0, body.length);
  frame.set(body, FRAME_HEADER_BYTES);
  return [frame];
}

/** Decodes one frame body (without its length prefix). */
export function decodeFrameBody(body: Uint8Array, opts?: Partial<WireLimits>): Message {
  const limits = resolveLimits(opts);
  if (body.length > limits.maxFrameBytes) {
    throw new ProtocolError('PROTO_FRAME_TOO_LARGE', `frame of ${body.length} bytes exceeds the cap of ${limits.maxFrameBytes}`);
  }
  const fast = decodeSymbolsBody(body, limits.maxArrayLength);
  if (fast) return fast.t === 'store' ? leniently(() => validateMessage(fast)) : fast;
  checkCborShape(body, limits);
  let value: unknown;
  try {
    value = decode(body, STRICT_CBOR_DECODE);
  } catch (err) {
    throw new ProtocolError('PROTO_BAD_CBOR', `frame body is not valid canonical CBOR: ${(err as Error).message}`);
  }
  return leniently(() => validateMessage(value));
}

/**
 * Smallest first allocation for a frame body. The first allocation is this or what the chunk
 * already holds of the body, whichever is more: a peer that announces a huge frame and sends
 * little makes us allocate little, and the doubling growth keeps large bodies O(n).
 */
const INITIAL_BODY_BYTES = 64 * 1024;

/** One decoded message and the size of the frame it came in (length prefix included). */
export interface SizedMessage {
  msg: Message;
  bytes: number;
}

export class FrameDecoder {
  private readonly limits: WireLimits;
  /** Bytes of the current length prefix received so far. */
  private readonly header = new Uint8Array(FRAME_HEADER_BYTES);
  private headerFill = 0;
  /** Body length of the frame being received, or -1 while waiting for a length prefix. */
  private expected = -1;
  /**
   * Partial body. It grows by doubling as bytes arrive, so memory follows what the peer has
   * actually sent (not what it announced), and a body trickled in tiny pieces costs O(n).
   */
  private body: Uint8Array = new Uint8Array(0);
  private bodyFill = 0;
  private failure: ProtocolError | undefined;

  constructor(opts?: { maxFrameBytes?: number; maxDepth?: number; maxArrayLength?: number }) {
    this.limits = resolveLimits(opts);
  }

  /** Bytes received but not yet decoded. */
  get bufferedBytes(): number {
    return this.expected < 0 ? this.headerFill : FRAME_HEADER_BYTES + this.bodyFill;
  }

  /** True after an error: the decoder refuses further input. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /**
   * Size (length prefix included) of the frame being received, once its length prefix is in;
   * 0 between frames. A receiver reserves this much before reading the rest of the body.
   */
  get pendingFrameBytes(): number {
    return this.expected < 0 ? 0 : FRAME_HEADER_BYTES + this.expected;
  }

  /** Feeds bytes from the connection; returns every message completed by them. */
  push(chunk: Uint8Array): Message[] {
    return this.pushSized(chunk).map((m) => m.msg);
  }

  /** As `push`, with the size of each message's frame (for budgets). */
  pushSized(chunk: Uint8Array): SizedMessage[] {
    if (this.failure) throw this.failure;
    try {
      if (!(chunk instanceof Uint8Array)) throw new ProtocolError('PROTO_BAD_CBOR', 'input must be bytes');
      const out: SizedMessage[] = [];
      let at = 0;
      while (at < chunk.length) {
        if (this.expected < 0) {
          // Fast path: a whole frame sits in the chunk; decode it where it lies.
          if (this.headerFill === 0 && chunk.length - at >= FRAME_HEADER_BYTES) {
            const length = this.checkLength(readU32(chunk, at));
            if (chunk.length - at - FRAME_HEADER_BYTES >= length) {
              out.push({ msg: decodeFrameBody(chunk.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + length), this.limits), bytes: FRAME_HEADER_BYTES + length });
              at += FRAME_HEADER_BYTES + length;
              continue;
            }
          }
          const take = Math.min(FRAME_HEADER_BYTES - this.headerFill, chunk.length - at);
          this.header.set(chunk.subarray(at, at + take), this.headerFill);
          this.headerFill += take;
          at += take;
          if (this.headerFill < FRAME_HEADER_BYTES) break;
          this.expected = this.checkLength(readU32(this.header, 0));
          this.headerFill = 0;
          this.bodyFill = 0;
          this.body = new Uint8Array(Math.min(this.expected, Math.max(INITIAL_BODY_BYTES, chunk.length - at)));
          continue;
        }
        const take = Math.min(this.expected - this.bodyFill, chunk.length - at);
        if (this.bodyFill + take > this.body.length) {
          const grown = new Uint8Array(Math.min(this.expected, Math.max(this.body.length * 2, this.bodyFill + take)));
          grown.set(this.body.subarray(0, this.bodyFill));
          this.body = grown;
        }
        this.body.set(chunk.subarray(at, at + take), this.bodyFill);
        this.bodyFill += take;
        at += take;
        if (this.bodyFill === this.expected) {
          const body = this.body;
          this.expected = -1;
          this.body = new Uint8Array(0);
          this.bodyFill = 0;
          out.push({ msg: decodeFrameBody(body, this.limits), bytes: FRAME_HEADER_BYTES + body.length });
        }
      }
      return out;
    } catch (err) {
      this.failure =
        err instanceof ProtocolError ? err : new ProtocolError('PROTO_BAD_CBOR', `undecodable frame: ${(err as Error).message}`);
      this.expected = -1;
      this.body = new Uint8Array(0);
      this.bodyFill = 0;
      this.headerFill = 0;
      throw this.failure;
    }
  }

  private checkLength(length: number): number {
    if (length > this.limits.maxFrameBytes) {
      throw new ProtocolError('PROTO_FRAME_TOO_LARGE', `peer announced a frame of ${length} bytes; the cap is ${this.limits.maxFrameBytes}`);
    }
    if (length === 0) throw new ProtocolError('PROTO_BAD_CBOR', 'empty frame body');
    return length;
  }
}

function readU32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}
