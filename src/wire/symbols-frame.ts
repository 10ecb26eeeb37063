// A fast path for the two bulk messages, `symbols` (what a fetch streams back) and `store` (what a
// writer sends each holder): encoded straight into the frame buffer and decoded into views of the
// frame body, so the envelope bytes are not copied through a general CBOR encoder and decoder. The bytes are exactly those of the
// canonical CBOR the general path writes; anything the fast decoder does not recognise as a
// well-formed, in-range message of the two falls back to the general path and its errors.
import { ENVELOPE_OVERHEAD, type SymbolEntry } from '../crypto/index.js';
import { FRAME_HEADER_BYTES, PROTOCOL_VERSION } from './limits.js';
import type { Message } from './messages.js';

export const MAX_ENVELOPE_BYTES = 65536 + ENVELOPE_OVERHEAD;
const MAX_ESI = 0xffffff;

// a4 61 74 67 "symbols" 61 76 01 62 "id": the canonical prefix (keys sorted length-first).
const PREFIX = Uint8Array.from([0xa4, 0x61, 0x74, 0x67, ...Buffer.from('symbols'), 0x61, 0x76, PROTOCOL_VERSION, 0x62, ...Buffer.from('id')]);
const SYMBOLS_KEY = Uint8Array.from([0x67, ...Buffer.from('symbols')]);
// a6 61 74 65 "store" 61 76 01 62 "id", then "zone", "symbols", "objectId" (length-first order).
const STORE_PREFIX = Uint8Array.from([0xa6, 0x61, 0x74, 0x65, ...Buffer.from('store'), 0x61, 0x76, PROTOCOL_VERSION, 0x62, ...Buffer.from('id')]);
const ZONE_KEY = Uint8Array.from([0x64, ...Buffer.from('zone')]);
const OBJECT_ID_KEY = Uint8Array.from([0x68, ...Buffer.from('objectId'), 0x58, 32]);
const MAX_ZONE_BYTES = 64;

/** The fields a `store` message has besides its symbols. */
export interface StoreHead {
  zone: string;
  objectId: Uint8Array;
}

function asciiZone(zone: unknown): Uint8Array | null {
  if (typeof zone !== 'string' || zone.length === 0 || zone.length > MAX_ZONE_BYTES) return null;
  const bytes = Buffer.from(zone, 'latin1');
  for (const b of bytes) if (b >= 0x80) return null;
  return bytes;
}
const ENV_KEY = Uint8Array.from([0xa3, 0x63, ...Buffer.from('env')]);
const ESI_KEY = Uint8Array.from([0x63, ...Buffer.from('esi')]);
const SBN_KEY = Uint8Array.from([0x63, ...Buffer.from('sbn')]);

/** Bytes of the shortest CBOR head for `value` (major type in the top 3 bits). */
function headSize(value: number): number {
  return value < 24 ? 1 : value < 0x100 ? 2 : value < 0x10000 ? 3 : value < 0x100000000 ? 5 : 9;
}

function writeHead(out: Uint8Array, at: number, major: number, value: number): number {
  const m = major << 5;
  if (value < 24) {
    out[at] = m | value;
    return at + 1;
  }
  if (value < 0x100) {
    out[at] = m | 24;
    out[at + 1] = value;
    return at + 2;
  }
  if (value < 0x10000) {
    out[at] = m | 25;
    out[at + 1] = value >>> 8;
    out[at + 2] = value & 0xff;
    return at + 3;
  }
  if (value < 0x100000000) {
    out[at] = m | 26;
    new DataView(out.buffer, out.byteOffset).setUint32(at + 1, value);
    return at + 5;
  }
  out[at] = m | 27;
  new DataView(out.buffer, out.byteOffset).setBigUint64(at + 1, BigInt(value));
  return at + 9;
}

/**
 * Frame (length prefix + canonical CBOR) of a `symbols` message, or of a `store` message when
 * `store` is given, as pieces to write back to back: the CBOR around the envelopes, in one small
 * buffer, and the envelopes themselves as they are (not copied: a store sends each holder
 * megabytes of them, and a copy of each would be fresh memory to fault in and collect again).
 * Null if an entry is out of range (the general path then says why).
 */
export function encodeSymbolsFramePieces(id: number, symbols: readonly SymbolEntry[], store?: StoreHead): Uint8Array[] | null {
  if (!Number.isSafeInteger(id) || id < 0) return null;
  const zone = store ? asciiZone(store.zone) : null;
  if (store && (!zone || !(store.objectId instanceof Uint8Array) || store.objectId.length !== 32)) return null;
  const prefix = store ? STORE_PREFIX : PREFIX;
  let glueSize = FRAME_HEADER_BYTES + prefix.length + headSize(id) + SYMBOLS_KEY.length + headSize(symbols.length);
  if (zone) glueSize += ZONE_KEY.length + headSize(zone.length) + zone.length + OBJECT_ID_KEY.length + 32;
  let envBytes = 0;
  for (const s of symbols) {
    if (!Number.isInteger(s.sbn) || s.sbn < 0 || s.sbn > 0xff || !Number.isInteger(s.esi) || s.esi < 0 || s.esi > MAX_ESI) return null;
    if (!(s.env instanceof Uint8Array) || s.env.length < ENVELOPE_OVERHEAD || s.env.length > MAX_ENVELOPE_BYTES) return null;
    glueSize += ENV_KEY.length + headSize(s.env.length) + ESI_KEY.length + headSize(s.esi) + SBN_KEY.length + headSize(s.sbn);
    envBytes += s.env.length;
  }
  const glue = new Uint8Array(glueSize);
  new DataView(glue.buffer).setUint32(0, glueSize - FRAME_HEADER_BYTES + envBytes);
  const pieces: Uint8Array[] = [];
  let from = 0;
  let at = FRAME_HEADER_BYTES;
  glue.set(prefix, at);
  at = writeHead(glue, at + prefix.length, 0, id);
  if (zone) {
    glue.set(ZONE_KEY, at);
    at = writeHead(glue, at + ZONE_KEY.length, 3, zone.length);
    glue.set(zone, at);
    at += zone.length;
  }
  glue.set(SYMBOLS_KEY, at);
  at = writeHead(glue, at + SYMBOLS_KEY.length, 4, symbols.length);
  for (const s of symbols) {
    glue.set(ENV_KEY, at);
    at = writeHead(glue, at + ENV_KEY.length, 2, s.env.length);
    pieces.push(glue.subarray(from, at), s.env);
    from = at;
    glue.set(ESI_KEY, at);
    at = writeHead(glue, at + ESI_KEY.length, 0, s.esi);
    glue.set(SBN_KEY, at);
    at = writeHead(glue, at + SBN_KEY.length, 0, s.sbn);
  }
  if (store) {
    glue.set(OBJECT_ID_KEY, at);
    glue.set(store.objectId, at + OBJECT_ID_KEY.length);
    at += OBJECT_ID_KEY.length + 32;
  }
  pieces.push(glue.subarray(from, at));
  return pieces;
}

/** The same frame in one buffer. */
export function encodeSymbolsFrame(id: number, symbols: readonly SymbolEntry[], store?: StoreHead): Uint8Array | null {
  const pieces = encodeSymbolsFramePieces(id, symbols, store);
  return pieces && joinPieces(pieces);
}

export function joinPieces(pieces: readonly Uint8Array[]): Uint8Array {
  if (pieces.length === 1) return pieces[0]!;
  const out = new Uint8Array(pieces.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Reads a shortest-form head of `major` at `at`; [value, next] or null. */
function readHead(b: Uint8Array, at: number, major: number): [number, number] | null {
  if (at >= b.length || b[at]! >>> 5 !== major) return null;
  const info = b[at]! & 0x1f;
  if (info < 24) return [info, at + 1];
  const n = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0;
  if (n === 0 || at + 1 + n > b.length) return null;
  let v = 0;
  for (let i = 0; i < n; i++) v = v * 256 + b[at + 1 + i]!;
  if (!Number.isSafeInteger(v) || headSize(v) !== 1 + n) return null; // not shortest: general path decides
  return [v, at + 1 + n];
}

function matches(b: Uint8Array, at: number, what: Uint8Array): boolean {
  if (at + what.length > b.length) return false;
  for (let i = 0; i < what.length; i++) if (b[at + i] !== what[i]) return false;
  return true;
}

/**
 * Decodes a canonical `symbols` or `store` body with every envelope a view into `body`; null
 * when the body is anything else (the caller then takes the general path).
 */
export function decodeSymbolsBody(body: Uint8Array, maxArrayLength: number): Message | null {
  const store = matches(body, 0, STORE_PREFIX);
  if (!store && !matches(body, 0, PREFIX)) return null;
  const idHead = readHead(body, (store ? STORE_PREFIX : PREFIX).length, 0);
  if (!idHead) return null;
  let at = idHead[1];
  let zone = '';
  if (store) {
    if (!matches(body, at, ZONE_KEY)) return null;
    const len = readHead(body, at + ZONE_KEY.length, 3);
    if (!len || len[0] === 0 || len[0] > MAX_ZONE_BYTES || len[1] + len[0] > body.length) return null;
    for (let i = len[1]; i < len[1] + len[0]; i++) if (body[i]! >= 0x80) return null;
    zone = Buffer.from(body.buffer, body.byteOffset + len[1], len[0]).toString('latin1');
    at = len[1] + len[0];
  }
  if (!matches(body, at, SYMBOLS_KEY)) return null;
  const count = readHead(body, at + SYMBOLS_KEY.length, 4);
  if (!count || count[0] > maxArrayLength) return null;
  at = count[1];
  const symbols: SymbolEntry[] = new Array(count[0]);
  for (let i = 0; i < count[0]; i++) {
    if (!matches(body, at, ENV_KEY)) return null;
    const len = readHead(body, at + ENV_KEY.length, 2);
    if (!len || len[0] < ENVELOPE_OVERHEAD || len[0] > MAX_ENVELOPE_BYTES || len[1] + len[0] > body.length) return null;
    // A plain Uint8Array view (also when the body is a Buffer), like the general decoder returns.
    const env = new Uint8Array(body.buffer, body.byteOffset + len[1], len[0]);
    at = len[1] + len[0];
    if (!matches(body, at, ESI_KEY)) return null;
    const esi = readHead(body, at + ESI_KEY.length, 0);
    if (!esi || esi[0] > MAX_ESI) return null;
    if (!matches(body, esi[1], SBN_KEY)) return null;
    const sbn = readHead(body, esi[1] + SBN_KEY.length, 0);
    if (!sbn || sbn[0] > 0xff) return null;
    at = sbn[1];
    symbols[i] = { sbn: sbn[0], esi: esi[0], env };
  }
  if (!store) {
    if (at !== body.length) return null;
    return { v: PROTOCOL_VERSION, t: 'symbols', id: idHead[0], symbols } as Message;
  }
  if (!matches(body, at, OBJECT_ID_KEY) || at + OBJECT_ID_KEY.length + 32 !== body.length) return null;
  const objectId = new Uint8Array(body.buffer, body.byteOffset + at + OBJECT_ID_KEY.length, 32);
  // The zone's own rules (and anything else a store must be) are the general checker's.
  return { v: PROTOCOL_VERSION, t: 'store', id: idHead[0], zone, symbols, objectId } as Message;
}
