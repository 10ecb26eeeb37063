// Request and reply bodies exchanged between a requester and a ShareHolder: canonical CBOR maps
// (cborg), version 1. Every field is validated on decode; anything unexpected is a typed error,
// so a hostile body can never reach the share table.
import { decode, encode } from 'cborg';
import {
  SecretBadReplyError,
  SecretBadRequestError,
  type SecretErrorCode,
  isSecretErrorCode,
} from './errors.js';
import {
  BOX_KEY_BYTES,
  SPLIT_ID_BYTES,
  MAX_BODY_BYTES,
  MAX_NAME_CHARS,
  MAX_SHARES,
  MAX_ZONE_CHARS,
  MIN_THRESHOLD,
  NAME_PATTERN,
  ZONE_PATTERN,
} from './limits.js';

export const PROTOCOL_VERSION = 1;
const MAX_NODE_ID_CHARS = 256;
const MAX_MESSAGE_CHARS = 512;
const MAX_LIST_ENTRIES = 4096;
const MAX_VERSION = Number.MAX_SAFE_INTEGER;

/** Metadata a holder keeps beside each share; the same for every share of one split. */
export interface HeldMeta {
  name: string;
  zone: string;
  k: number;
  n: number;
  version: number;
  /** Random id of this split, the same in every share's metadata. */
  splitId: Uint8Array;
  /** nodeId of the device given share i, for i in 0..n-1. */
  holders: string[];
  /** Index of the share this holder keeps. */
  index: number;
}

export type SecretRequest =
  | { op: 'store'; meta: HeldMeta; sealed: Uint8Array }
  | { op: 'get'; name: string; version: number; replyKey: Uint8Array }
  | { op: 'drop'; name: string; version?: number; splitId?: Uint8Array; below?: number }
  | { op: 'list'; name?: string };

export type SecretReply =
  | { ok: true; op: 'store' }
  | { ok: true; op: 'get'; meta: HeldMeta; sealed: Uint8Array }
  | { ok: true; op: 'drop'; dropped: number }
  | { ok: true; op: 'list'; entries: HeldMeta[] }
  | { ok: false; code: SecretErrorCode; message: string };

type Fail = (message: string) => never;

function failRequest(message: string): never {
  throw new SecretBadRequestError(`malformed secrets request: ${message}`);
}

function failReply(message: string): never {
  throw new SecretBadReplyError(`malformed secrets reply: ${message}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

function field(obj: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

function onlyKeys(obj: Record<string, unknown>, allowed: readonly string[], fail: Fail): void {
  for (const key of Object.keys(obj)) if (!allowed.includes(key)) fail(`unexpected field "${key}"`);
}

function str(value: unknown, what: string, max: number, pattern: RegExp | null, fail: Fail): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    fail(`${what} must be a non-empty string of at most ${max} characters`);
  }
  if (pattern && !pattern.test(value)) fail(`${what} has characters outside ${pattern.source}`);
  return value;
}

function int(value: unknown, what: string, min: number, max: number, fail: Fail): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    fail(`${what} must be an integer in ${min}..${max}`);
  }
  return value;
}

function bytes(value: unknown, what: string, min: number, max: number, fail: Fail): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length < min || value.length > max) {
    fail(`${what} must be a byte string of ${min === max ? min : `${min}..${max}`} bytes`);
  }
  return value;
}

export function validName(value: unknown, fail: Fail): string {
  return str(value, 'name', MAX_NAME_CHARS, NAME_PATTERN, fail);
}

export function validZone(value: unknown, fail: Fail): string {
  return str(value, 'zone', MAX_ZONE_CHARS, ZONE_PATTERN, fail);
}

function parseMeta(value: unknown, fail: Fail): HeldMeta {
  if (!isRecord(value)) fail('meta must be a map');
  onlyKeys(value, ['name', 'zone', 'k', 'n', 'version', 'splitId', 'holders', 'index'], fail);
  const name = validName(field(value, 'name'), fail);
  const zone = validZone(field(value, 'zone'), fail);
  const n = int(field(value, 'n'), 'n', MIN_THRESHOLD, MAX_SHARES, fail);
  const k = int(field(value, 'k'), 'k', MIN_THRESHOLD, n, fail);
  const version = int(field(value, 'version'), 'version', 1, MAX_VERSION, fail);
  const splitId = bytes(field(value, 'splitId'), 'splitId', SPLIT_ID_BYTES, SPLIT_ID_BYTES, fail);
  const holdersRaw = field(value, 'holders');
  if (!Array.isArray(holdersRaw) || holdersRaw.length !== n) fail('holders must list exactly n node ids');
  const holders = holdersRaw.map((h) => str(h, 'holder node id', MAX_NODE_ID_CHARS, null, fail));
  if (new Set(holders).size !== holders.length) fail('holders must be distinct devices');
  const index = int(field(value, 'index'), 'index', 0, n - 1, fail);
  return { name, zone, k, n, version, splitId, holders, index };
}

function metaToWire(meta: HeldMeta): Record<string, unknown> {
  return {
    name: meta.name,
    zone: meta.zone,
    k: meta.k,
    n: meta.n,
    version: meta.version,
    splitId: meta.splitId,
    holders: meta.holders,
    index: meta.index,
  };
}

function decodeMap(body: unknown, fail: Fail): Record<string, unknown> {
  if (!(body instanceof Uint8Array)) fail('body must be bytes');
  if (body.length === 0 || body.length > MAX_BODY_BYTES) fail(`body must be 1..${MAX_BODY_BYTES} bytes`);
  let decoded: unknown;
  try {
    decoded = decode(body, { strict: true, rejectDuplicateMapKeys: true, allowUndefined: false, allowBigInt: false });
  } catch {
    fail('not canonical CBOR');
  }
  if (!isRecord(decoded)) fail('top level must be a map');
  if (field(decoded, 'v') !== PROTOCOL_VERSION) fail(`protocol version must be ${PROTOCOL_VERSION}`);
  return decoded;
}

export function encodeRequest(req: SecretRequest): Uint8Array {
  switch (req.op) {
    case 'store':
      return encode({ v: PROTOCOL_VERSION, op: 'store', meta: metaToWire(req.meta), sealed: req.sealed });
    case 'get':
      return encode({ v: PROTOCOL_VERSION, op: 'get', name: req.name, version: req.version, replyKey: req.replyKey });
    case 'drop': {
      const out: Record<string, unknown> = { v: PROTOCOL_VERSION, op: 'drop', name: req.name };
      if (req.version !== undefined) out.version = req.version;
      if (req.splitId !== undefined) out.splitId = req.splitId;
      if (req.below !== undefined) out.below = req.below;
      return encode(out);
    }
    case 'list': {
      const out: Record<string, unknown> = { v: PROTOCOL_VERSION, op: 'list' };
      if (req.name !== undefined) out.name = req.name;
      return encode(out);
    }
  }
}

/** Decode and validate a request body; throws SecretBadRequestError on anything unexpected. */
export function decodeRequest(body: unknown): SecretRequest {
  const fail: Fail = failRequest;
  const m = decodeMap(body, fail);
  const op = field(m, 'op');
  switch (op) {
    case 'store': {
      onlyKeys(m, ['v', 'op', 'meta', 'sealed'], fail);
      const meta = parseMeta(field(m, 'meta'), fail);
      const sealed = bytes(field(m, 'sealed'), 'sealed', 1, MAX_BODY_BYTES, fail);
      return { op, meta, sealed };
    }
    case 'get': {
      onlyKeys(m, ['v', 'op', 'name', 'version', 'replyKey'], fail);
      return {
        op,
        name: validName(field(m, 'name'), fail),
        version: int(field(m, 'version'), 'version', 1, MAX_VERSION, fail),
        replyKey: bytes(field(m, 'replyKey'), 'replyKey', BOX_KEY_BYTES, BOX_KEY_BYTES, fail),
      };
    }
    case 'drop': {
      onlyKeys(m, ['v', 'op', 'name', 'version', 'splitId', 'below'], fail);
      const req: SecretRequest = { op, name: validName(field(m, 'name'), fail) };
      if (field(m, 'version') !== undefined) req.version = int(field(m, 'version'), 'version', 1, MAX_VERSION, fail);
      if (field(m, 'splitId') !== undefined) {
        req.splitId = bytes(field(m, 'splitId'), 'splitId', SPLIT_ID_BYTES, SPLIT_ID_BYTES, fail);
      }
      if (field(m, 'below') !== undefined) req.below = int(field(m, 'below'), 'below', 1, MAX_VERSION, fail);
      if (req.below !== undefined && req.version !== undefined) fail('drop takes version or below, not both');
      if (req.splitId !== undefined && req.version === undefined) fail('splitId needs version');
      return req;
    }
    case 'list': {
      onlyKeys(m, ['v', 'op', 'name'], fail);
      const req: SecretRequest = { op };
      if (field(m, 'name') !== undefined) req.name = validName(field(m, 'name'), fail);
      return req;
    }
    default:
      return fail('op must be one of store, get, drop, list');
  }
}

export function encodeReply(reply: SecretReply): Uint8Array {
  if (!reply.ok) {
    return encode({ v: PROTOCOL_VERSION, ok: false, code: reply.code, message: reply.message.slice(0, MAX_MESSAGE_CHARS) });
  }
  switch (reply.op) {
    case 'store':
      return encode({ v: PROTOCOL_VERSION, ok: true, op: 'store' });
    case 'get':
      return encode({ v: PROTOCOL_VERSION, ok: true, op: 'get', meta: metaToWire(reply.meta), sealed: reply.sealed });
    case 'drop':
      return encode({ v: PROTOCOL_VERSION, ok: true, op: 'drop', dropped: reply.dropped });
    case 'list':
      return encode({ v: PROTOCOL_VERSION, ok: true, op: 'list', entries: reply.entries.map(metaToWire) });
  }
}

/** Decode and validate a reply to a request of kind `expected`; throws SecretBadReplyError. */
export function decodeReply(body: unknown, expected: SecretRequest['op']): SecretReply {
  const fail: Fail = failReply;
  const m = decodeMap(body, fail);
  const ok = field(m, 'ok');
  if (ok === false) {
    onlyKeys(m, ['v', 'ok', 'code', 'message'], fail);
    const code = field(m, 'code');
    if (!isSecretErrorCode(code)) fail('unknown error code');
    const message = str(field(m, 'message'), 'message', MAX_MESSAGE_CHARS, null, fail);
    return { ok: false, code, message };
  }
  if (ok !== true) fail('ok must be a boolean');
  if (field(m, 'op') !== expected) fail(`expected a reply to ${expected}`);
  switch (expected) {
    case 'store':
      onlyKeys(m, ['v', 'ok', 'op'], fail);
      return { ok: true, op: 'store' };
    case 'get':
      onlyKeys(m, ['v', 'ok', 'op', 'meta', 'sealed'], fail);
      return {
        ok: true,
        op: 'get',
        meta: parseMeta(field(m, 'meta'), fail),
        sealed: bytes(field(m, 'sealed'), 'sealed', 1, MAX_BODY_BYTES, fail),
      };
    case 'drop':
      onlyKeys(m, ['v', 'ok', 'op', 'dropped'], fail);
      return { ok: true, op: 'drop', dropped: int(field(m, 'dropped'), 'dropped', 0, MAX_LIST_ENTRIES, fail) };
    case 'list': {
      onlyKeys(m, ['v', 'ok', 'op', 'entries'], fail);
      const entries = field(m, 'entries');
      if (!Array.isArray(entries) || entries.length > MAX_LIST_ENTRIES) fail('entries must be a bounded list');
      return { ok: true, op: 'list', entries: entries.map((e) => parseMeta(e, fail)) };
    }
  }
}

/** Associated data of a sealed share: which split, which share, and which direction it travels. */
export function shareBoxAad(meta: HeldMeta, direction: 'store' | 'reply'): Uint8Array {
  return encode([
    'fcp-mesh/secret-share-box/v1',
    direction,
    meta.name,
    meta.zone,
    meta.k,
    meta.n,
    meta.version,
    meta.splitId,
    meta.index,
  ]);
}
