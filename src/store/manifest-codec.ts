// Manifests at rest: canonical CBOR, the same encoding the wire uses.
//
// Listing reads every manifest of the store (ls, status, each repair pass), so decoding is on
// the path of every per-object operation at scale. cborg's generic decoder makes a token object
// per item; `fastDecode` below reads the small subset of CBOR a manifest is made of directly and
// gives up (undefined) on anything else, which then goes through cborg as before. It accepts only
// what cborg's strict decode accepts, and returns what cborg would: plain objects with keys in
// encoding order, byte strings as fresh Uint8Array copies, numbers, ASCII strings. Anything else
// (tags, indefinite lengths, undefined, NaN, integers beyond 2^53, non-ASCII text, duplicate keys,
// non-text keys, trailing bytes, non-minimal lengths) is left to cborg, so its answers and its
// errors are unchanged.
import { decode, encode } from 'cborg';
import type { Manifest } from '../crypto/index.js';
import { StoreError } from './errors.js';

export function encodeManifest(m: Manifest): Uint8Array {
  return encode(m);
}

export function decodeManifest(bytes: Uint8Array): Manifest {
  const fast = fastDecode(bytes);
  if (fast !== undefined) return fast as Manifest;
  try {
    return decode(bytes, { strict: true, allowUndefined: false }) as Manifest;
  } catch (err) {
    throw new StoreError('STORE_CORRUPT', `stored manifest is unreadable (${(err as Error).message}); delete the object and let repair restore it`);
  }
}

interface Reader {
  pos: number;
  /** The same bytes as a Buffer, for its string slicing. */
  text: Buffer;
}

/** Not handled here: the caller falls back to cborg. */
const GIVE_UP = Symbol('give up');
const MAX_DEPTH = 8;
const scratch = new Uint8Array(8);
const scratchView = new DataView(scratch.buffer);

/** The value of one whole CBOR item in `b`, or undefined when the fast path does not handle it. */
export function fastDecode(b: Uint8Array): unknown {
  // Byte strings are sliced from a plain Uint8Array view (as cborg does), so they are not Buffers.
  const text = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (Buffer.isBuffer(b)) b = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  const r: Reader = { pos: 0, text };
  let v = manifestShape(b, r);
  if (v === GIVE_UP) {
    r.pos = 0;
    v = item(b, r, 0);
  }
  return v === GIVE_UP || r.pos !== b.length ? undefined : v;
}

const keyBytes = (keys: string[]) => keys.map((k) => Uint8Array.from([0x60 + k.length, ...Buffer.from(k, 'latin1')]));
/** A manifest's keys in the order its canonical encoding has them (shorter first, then bytewise). */
const MANIFEST_KEYS = keyBytes(['oti', 'zone', 'epoch', 'keyId', 'length', 'schema', 'writer', 'created', 'objectId', 'placement']);
const PLACEMENT_KEYS = keyBytes(['target', 'maxShare', 'tolerate', 'minDevices']);

function expectKey(b: Uint8Array, r: Reader, key: Uint8Array): boolean {
  if (r.pos + key.length > b.length) return false;
  for (let i = 0; i < key.length; i++) if (b[r.pos + i] !== key[i]) return false;
  r.pos += key.length;
  return true;
}

/**
 * A manifest with exactly the fields the store writes, in their encoded order: built as one
 * object literal (the key order is the encoding's, as cborg gives it), values read by `item`.
 */
function manifestShape(b: Uint8Array, r: Reader): unknown {
  if (b[0] !== 0xa0 + MANIFEST_KEYS.length) return GIVE_UP;
  r.pos = 1;
  const v: unknown[] = [];
  for (let i = 0; i < MANIFEST_KEYS.length - 1; i++) {
    if (!expectKey(b, r, MANIFEST_KEYS[i]!)) return GIVE_UP;
    const x = item(b, r, 1);
    if (x === GIVE_UP) return GIVE_UP;
    v.push(x);
  }
  if (!expectKey(b, r, MANIFEST_KEYS[MANIFEST_KEYS.length - 1]!)) return GIVE_UP;
  let placement: unknown;
  const at = r.pos;
  if (b[at] === 0xa0 + PLACEMENT_KEYS.length) {
    r.pos = at + 1;
    const p: unknown[] = [];
    for (const key of PLACEMENT_KEYS) {
      if (!expectKey(b, r, key)) break;
      const x = item(b, r, 2);
      if (x === GIVE_UP) return GIVE_UP;
      p.push(x);
    }
    if (p.length === PLACEMENT_KEYS.length) placement = { target: p[0], maxShare: p[1], tolerate: p[2], minDevices: p[3] };
  }
  if (placement === undefined) {
    r.pos = at;
    placement = item(b, r, 1);
    if (placement === GIVE_UP) return GIVE_UP;
  }
  return { oti: v[0], zone: v[1], epoch: v[2], keyId: v[3], length: v[4], schema: v[5], writer: v[6], created: v[7], objectId: v[8], placement };
}

/** The argument of an item's head (minimal encoding only, as strict cborg), or -1. */
function argument(b: Uint8Array, r: Reader, minor: number): number {
  const at = r.pos;
  if (minor < 24) return minor;
  if (minor === 24) {
    if (at + 1 > b.length) return -1;
    r.pos = at + 1;
    const v = b[at]!;
    return v < 24 ? -1 : v;
  }
  if (minor === 25) {
    if (at + 2 > b.length) return -1;
    r.pos = at + 2;
    const v = (b[at]! << 8) | b[at + 1]!;
    return v < 0x100 ? -1 : v;
  }
  if (minor === 26) {
    if (at + 4 > b.length) return -1;
    r.pos = at + 4;
    const v = b[at]! * 0x1000000 + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);
    return v < 0x10000 ? -1 : v;
  }
  if (minor === 27) {
    if (at + 8 > b.length) return -1;
    r.pos = at + 8;
    const hi = b[at]! * 0x1000000 + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);
    const lo = b[at + 4]! * 0x1000000 + ((b[at + 5]! << 16) | (b[at + 6]! << 8) | b[at + 7]!);
    // Below 2^32 is not minimal; above 2^53 - 1 cborg gives a BigInt.
    if (hi === 0 || hi > 0x1fffff) return -1;
    const v = hi * 0x100000000 + lo;
    return v > Number.MAX_SAFE_INTEGER ? -1 : v;
  }
  return -1;
}

function item(b: Uint8Array, r: Reader, depth: number): unknown {
  if (r.pos >= b.length) return GIVE_UP;
  const head = b[r.pos++]!;
  const major = head >> 5;
  const minor = head & 0x1f;
  switch (major) {
    case 0: {
      const v = argument(b, r, minor);
      return v < 0 ? GIVE_UP : v;
    }
    case 1: {
      if (minor === 27) return GIVE_UP;
      const v = argument(b, r, minor);
      return v < 0 ? GIVE_UP : -1 - v;
    }
    case 2: {
      const n = argument(b, r, minor);
      if (n < 0 || r.pos + n > b.length) return GIVE_UP;
      const out = b.slice(r.pos, r.pos + n);
      r.pos += n;
      return out;
    }
    case 3: {
      const n = argument(b, r, minor);
      if (n < 0 || r.pos + n > b.length) return GIVE_UP;
      const s = asciiText(b, r, n);
      if (s === undefined) return GIVE_UP;
      r.pos += n;
      return s;
    }
    case 4: {
      const n = argument(b, r, minor);
      if (n < 0 || depth >= MAX_DEPTH || n > b.length - r.pos) return GIVE_UP;
      const out: unknown[] = [];
      for (let i = 0; i < n; i++) {
        const v = item(b, r, depth + 1);
        if (v === GIVE_UP) return GIVE_UP;
        out.push(v);
      }
      return out;
    }
    case 5: {
      const n = argument(b, r, minor);
      if (n < 0 || depth >= MAX_DEPTH || 2 * n > b.length - r.pos) return GIVE_UP;
      const out: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) {
        const k = item(b, r, depth + 1);
        if (typeof k !== 'string' || k === '__proto__' || Object.prototype.hasOwnProperty.call(out, k)) return GIVE_UP;
        const v = item(b, r, depth + 1);
        if (v === GIVE_UP) return GIVE_UP;
        out[k] = v;
      }
      return out;
    }
    case 7: {
      if (minor === 20) return false;
      if (minor === 21) return true;
      if (minor === 22) return null;
      let v: number;
      const at = r.pos;
      if (minor === 25) {
        if (at + 2 > b.length) return GIVE_UP;
        v = half((b[at]! << 8) | b[at + 1]!);
        r.pos = at + 2;
      } else if (minor === 26) {
        if (at + 4 > b.length) return GIVE_UP;
        for (let i = 0; i < 4; i++) scratch[i] = b[at + i]!;
        v = scratchView.getFloat32(0, false);
        r.pos = at + 4;
      } else if (minor === 27) {
        if (at + 8 > b.length) return GIVE_UP;
        for (let i = 0; i < 8; i++) scratch[i] = b[at + i]!;
        v = scratchView.getFloat64(0, false);
        r.pos = at + 8;
      } else {
        return GIVE_UP;
      }
      return Number.isNaN(v) ? GIVE_UP : v;
    }
    default:
      return GIVE_UP;
  }
}

/**
 * Recently read short strings by a hash of their bytes: zone, schema and writer repeat from one
 * manifest to the next, and strings are immutable, so the same value is handed out again.
 */
const TEXT_SLOTS = 64;
const textBytes: Array<Uint8Array | undefined> = new Array(TEXT_SLOTS);
const textValues: string[] = new Array(TEXT_SLOTS);

/** The ASCII text of the next `n` bytes, or undefined if any is not ASCII. */
function asciiText(b: Uint8Array, r: Reader, n: number): string | undefined {
  const start = r.pos;
  let h = 0x811c9dc5;
  for (let i = start; i < start + n; i++) {
    const c = b[i]!;
    if (c >= 0x80) return undefined;
    h = Math.imul(h ^ c, 0x01000193);
  }
  if (n > 64) return r.text.toString('latin1', start, start + n);
  const slot = (h >>> 0) % TEXT_SLOTS;
  const held = textBytes[slot];
  if (held && held.length === n) {
    let same = true;
    for (let i = 0; i < n; i++) if (held[i] !== b[start + i]) { same = false; break; }
    if (same) return textValues[slot];
  }
  const s = r.text.toString('latin1', start, start + n);
  textBytes[slot] = b.slice(start, start + n);
  textValues[slot] = s;
  return s;
}

/** An IEEE 754 half-precision value, as cborg reads it. */
function half(h: number): number {
  if (h === 0x7c00) return Infinity;
  if (h === 0xfc00) return -Infinity;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  let val: number;
  if (exp === 0) val = mant * 2 ** -24;
  else if (exp !== 31) val = (mant + 1024) * 2 ** (exp - 25);
  else return NaN;
  return h & 0x8000 ? -val : val;
}
