// The owner key's FCP body: one CBOR map per step (`op`), carried in an `owner` frame and answered
// in an `owner_result` frame as {ok: true, ...} or {ok: false, code, message}. Decoding checks
// every field's type and size; anything else is OWNER_BAD_REQUEST.
import { decodeStrict, encodeDeterministic, type DkgPackage, type FrostCommitment } from '../crypto/index.js';
import { FcpError } from '../errors/index.js';
import { OwnerError } from './owner-errors.js';

export const OWNER_PURPOSES = ['token-grant', 'revocation', 'device-enrollment'] as const;
export type OwnerPurpose = (typeof OWNER_PURPOSES)[number];

export type OwnerRequest =
  | { op: 'dkg1'; session: Uint8Array; threshold: number; participants: { identifier: number; stableId: string }[] }
  | { op: 'dkg2'; session: Uint8Array; packages: DkgPackage[]; shares: { from: number; box: Uint8Array }[] }
  | { op: 'dkg3'; session: Uint8Array; group: Uint8Array }
  | { op: 'dkg-abort'; session: Uint8Array }
  | { op: 'commit'; session: Uint8Array }
  | { op: 'sign'; session: Uint8Array; purpose: string; message: Uint8Array; commitments: FrostCommitment[] }
  | { op: 'grant'; grant: Uint8Array }
  | { op: 'enroll'; signingKey: Uint8Array }
  | { op: 'info' };

export type OwnerReply = { ok: true; [field: string]: unknown } | { ok: false; code: string; message: string };

const MAX_PARTICIPANTS = 32;

/** Maps (cborg's decoding) to plain objects, recursively. */
function plain(v: unknown): unknown {
  if (v instanceof Map) return Object.fromEntries([...v.entries()].map(([k, x]) => [String(k), plain(x)]));
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

const bad = (what: string) => new OwnerError('OWNER_BAD_REQUEST', `owner request: ${what}`);

function bytesField(o: Record<string, unknown>, key: string, min: number, max: number): Uint8Array {
  const v = o[key];
  if (!(v instanceof Uint8Array) || v.length < min || v.length > max) throw bad(`${key} must be ${min}..${max} bytes`);
  return v;
}

function intField(o: Record<string, unknown>, key: string, min: number, max: number): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw bad(`${key} must be an integer in ${min}..${max}`);
  return v;
}

function listField(o: Record<string, unknown>, key: string, max = MAX_PARTICIPANTS): Record<string, unknown>[] {
  const v = o[key];
  if (!Array.isArray(v) || v.length > max || !v.every((x) => x !== null && typeof x === 'object' && !Array.isArray(x) && !(x instanceof Uint8Array))) throw bad(`${key} must be a list of at most ${max} maps`);
  return v as Record<string, unknown>[];
}

function packageOf(o: Record<string, unknown>): DkgPackage {
  const c = o['commitments'];
  if (!Array.isArray(c) || c.length < 1 || c.length > MAX_PARTICIPANTS || !c.every((x) => x instanceof Uint8Array && x.length === 32)) throw bad('commitments must be 32-byte points');
  return { identifier: intField(o, 'identifier', 1, 255), commitments: c as Uint8Array[], proofR: bytesField(o, 'proofR', 32, 32), proofMu: bytesField(o, 'proofMu', 32, 32) };
}

function commitmentOf(o: Record<string, unknown>): FrostCommitment {
  return { identifier: intField(o, 'identifier', 1, 255), hiding: bytesField(o, 'hiding', 32, 32), binding: bytesField(o, 'binding', 32, 32) };
}

export function encodeOwnerRequest(r: OwnerRequest): Uint8Array {
  return encodeDeterministic(r);
}

export function decodeOwnerRequest(body: Uint8Array): OwnerRequest {
  let raw: unknown;
  try {
    raw = plain(decodeStrict(body, 'owner request'));
  } catch {
    throw bad('not CBOR');
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw bad('not a map');
  const o = raw as Record<string, unknown>;
  const session = () => bytesField(o, 'session', 16, 16);
  switch (o['op']) {
    case 'dkg1':
      return { op: 'dkg1', session: session(), threshold: intField(o, 'threshold', 2, MAX_PARTICIPANTS), participants: listField(o, 'participants').map((p) => ({ identifier: intField(p, 'identifier', 1, 255), stableId: textOf(p, 'stableId') })) };
    case 'dkg2':
      return { op: 'dkg2', session: session(), packages: listField(o, 'packages').map(packageOf), shares: listField(o, 'shares').map((s) => ({ from: intField(s, 'from', 1, 255), box: bytesField(s, 'box', 32, 512) })) };
    case 'dkg3':
      return { op: 'dkg3', session: session(), group: bytesField(o, 'group', 1, 16 * 1024) };
    case 'dkg-abort':
      return { op: 'dkg-abort', session: session() };
    case 'commit':
      return { op: 'commit', session: session() };
    case 'sign':
      return { op: 'sign', session: session(), purpose: textOf(o, 'purpose'), message: bytesField(o, 'message', 1, 64 * 1024), commitments: listField(o, 'commitments').map(commitmentOf) };
    case 'grant':
      return { op: 'grant', grant: bytesField(o, 'grant', 1, 16 * 1024) };
    case 'enroll':
      return { op: 'enroll', signingKey: bytesField(o, 'signingKey', 32, 32) };
    case 'info':
      return { op: 'info' };
    default:
      throw bad(`unknown op ${String(o['op'])}`);
  }
}

function textOf(o: Record<string, unknown>, key: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0 || v.length > 200) throw bad(`${key} must be a short string`);
  return v;
}

export function encodeOwnerReply(r: OwnerReply): Uint8Array {
  return encodeDeterministic(r);
}

export function errorReply(err: unknown): Uint8Array {
  if (err instanceof FcpError) return encodeOwnerReply({ ok: false, code: err.code, message: err.message });
  return encodeOwnerReply({ ok: false, code: 'OWNER_BAD_REQUEST', message: 'the request could not be handled' });
}

/** The reply's fields, or the participant's typed error raised again here. */
export function decodeOwnerReply(body: Uint8Array, who: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = plain(decodeStrict(body, 'owner reply'));
  } catch {
    throw new OwnerError('OWNER_BAD_REQUEST', `${who} sent an owner reply that is not CBOR`);
  }
  if (raw === null || typeof raw !== 'object') throw new OwnerError('OWNER_BAD_REQUEST', `${who} sent an owner reply that is not a map`);
  const o = raw as Record<string, unknown>;
  if (o['ok'] === true) return o;
  const code = typeof o['code'] === 'string' ? o['code'] : 'OWNER_BAD_REQUEST';
  const message = typeof o['message'] === 'string' ? o['message'] : 'refused';
  throw new OwnerError(code, `${who}: ${message}`);
}

export const replyBytes = (o: Record<string, unknown>, key: string, len: number, who: string): Uint8Array => {
  const v = o[key];
  if (!(v instanceof Uint8Array) || v.length !== len) throw new OwnerError('OWNER_BAD_REQUEST', `${who} sent no ${key}`);
  return v;
};

export { packageOf as replyPackage, listField as replyList, bytesField as replyBytesIn };
