// Signed notes (C2SP signed-note v1.0.0) with Ed25519 signatures (type 0x01) and Ed25519
// cosignatures (C2SP tlog-cosignature, type 0x04): the text, a blank line, then lines
// "— <name> base64(keyID || signature)". Byte-exact with Go's sumdb/note and the public
// witnesses (tested against their published notes). No npm package implements these formats.
import { createHash } from 'node:crypto';
import { signingPublicKey, sign, verify } from '../crypto/index.js';
import { AuditError } from './errors.js';

export const SIG_ED25519 = 0x01;
export const SIG_COSIGNATURE_V1 = 0x04;
const EM_DASH_SPACE = '\u2014 ';
/** Go's sumdb/note refuses notes with more signatures than this; so do we. */
const MAX_SIGNATURES = 100;

export interface NoteSignature {
  name: string;
  keyId: Uint8Array;
  /** The signature bytes after the key id (for a cosignature: timestamp || Ed25519 signature). */
  body: Uint8Array;
}

export interface Note {
  /** The signed text, ending in a newline. */
  text: string;
  signatures: NoteSignature[];
}

/** A verifier key: whose signature lines to read and how to check them. */
export interface VerifierKey {
  name: string;
  type: typeof SIG_ED25519 | typeof SIG_COSIGNATURE_V1;
  publicKey: Uint8Array;
  keyId: Uint8Array;
}

function checkName(name: string): void {
  if (name.length === 0 || /[\s+]/u.test(name)) throw new AuditError('AUDIT_BAD_KEY', `a key name must be non-empty with no spaces or '+': ${JSON.stringify(name)}`);
}

/** key ID = SHA-256(name || "\n" || type || public key)[:4] (signed-note, tlog-cosignature). */
export function keyIdOf(name: string, type: number, publicKey: Uint8Array): Uint8Array {
  const h = createHash('sha256').update(name, 'utf8').update('\n').update(Uint8Array.of(type)).update(publicKey).digest();
  return new Uint8Array(h.subarray(0, 4));
}

export function verifierKey(name: string, type: VerifierKey['type'], publicKey: Uint8Array): VerifierKey {
  checkName(name);
  if (publicKey.length !== 32) throw new AuditError('AUDIT_BAD_KEY', 'an Ed25519 public key is 32 bytes');
  return { name, type, publicKey, keyId: keyIdOf(name, type, publicKey) };
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

function strictBase64(text: string, what: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw new AuditError('AUDIT_BAD_NOTE', `${what} is not base64`);
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/** The text form of a verifier key: name+hex(keyID)+base64(type || public key). */
export function formatVerifierKey(k: VerifierKey): string {
  return `${k.name}+${hex(k.keyId)}+${b64(Uint8Array.of(k.type, ...k.publicKey))}`;
}

export function parseVerifierKey(text: string): VerifierKey {
  const first = text.indexOf('+');
  const second = text.indexOf('+', first + 1);
  if (first <= 0 || second < 0) throw new AuditError('AUDIT_BAD_KEY', 'a verifier key is name+keyid+base64');
  const name = text.slice(0, first);
  const id = text.slice(first + 1, second);
  const material = strictBase64(text.slice(second + 1), 'verifier key material');
  if (!/^[0-9a-f]{8}$/.test(id)) throw new AuditError('AUDIT_BAD_KEY', 'the key id of a verifier key is 8 hex digits');
  const type = material[0];
  if ((type !== SIG_ED25519 && type !== SIG_COSIGNATURE_V1) || material.length !== 33) throw new AuditError('AUDIT_BAD_KEY', `unsupported verifier key type ${type ?? 'none'}`);
  const k = verifierKey(name, type, material.subarray(1));
  if (hex(k.keyId) !== id) throw new AuditError('AUDIT_BAD_KEY', `verifier key id ${id} does not match its name and key`);
  return k;
}

/** Splits a signed note into its text and signature lines (signed-note §Format). */
export function parseNote(message: string): Note {
  const at = message.lastIndexOf('\n\n');
  if (at < 0 || !message.endsWith('\n')) throw new AuditError('AUDIT_BAD_NOTE', 'a signed note is text, a blank line, and signature lines, each ending in a newline');
  const text = message.slice(0, at + 1);
  const lines = message.slice(at + 2, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw new AuditError('AUDIT_BAD_NOTE', `more than ${MAX_SIGNATURES} signatures`);
  const signatures = lines.map((line) => {
    if (!line.startsWith(EM_DASH_SPACE)) throw new AuditError('AUDIT_BAD_NOTE', `not a signature line: ${JSON.stringify(line.slice(0, 40))}`);
    const rest = line.slice(EM_DASH_SPACE.length);
    const space = rest.lastIndexOf(' ');
    if (space <= 0) throw new AuditError('AUDIT_BAD_NOTE', 'a signature line is "— name base64"');
    const name = rest.slice(0, space);
    checkName(name);
    const raw = strictBase64(rest.slice(space + 1), 'signature');
    if (raw.length < 5) throw new AuditError('AUDIT_BAD_NOTE', 'a signature is a 4-byte key id and signature bytes');
    return { name, keyId: raw.subarray(0, 4), body: raw.subarray(4) };
  });
  return { text, signatures };
}

export function formatNote(note: Note): string {
  return `${note.text}\n${note.signatures.map((s) => `${EM_DASH_SPACE}${s.name} ${b64(Uint8Array.of(...s.keyId, ...s.body))}\n`).join('')}`;
}

function requireText(text: string): void {
  if (!text.endsWith('\n')) throw new AuditError('AUDIT_BAD_NOTE', 'note text must end with a newline');
}

/** An Ed25519 note signature (type 0x01) over the text, by `name` with the 32-byte seed. */
export function signNote(text: string, name: string, seed: Uint8Array): NoteSignature {
  requireText(text);
  const k = verifierKey(name, SIG_ED25519, signingPublicKey(seed));
  return { name, keyId: k.keyId, body: sign(new TextEncoder().encode(text), seed) };
}

function cosignedMessage(text: string, timestamp: number): Uint8Array {
  return new TextEncoder().encode(`cosignature/v1\ntime ${timestamp}\n${text}`);
}

/** A cosignature/v1 (type 0x04) over a checkpoint's text at `timestamp` (POSIX seconds). */
export function cosignNote(text: string, name: string, seed: Uint8Array, timestamp: number): NoteSignature {
  requireText(text);
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new AuditError('AUDIT_BAD_NOTE', 'a cosignature time is whole POSIX seconds');
  const k = verifierKey(name, SIG_COSIGNATURE_V1, signingPublicKey(seed));
  const ts = new Uint8Array(8);
  new DataView(ts.buffer).setBigUint64(0, BigInt(timestamp));
  return { name, keyId: k.keyId, body: Uint8Array.of(...ts, ...sign(cosignedMessage(text, timestamp), seed)) };
}

/** The cosignature time of a type-0x04 signature body. */
export function cosignatureTime(body: Uint8Array): number {
  if (body.length !== 72) throw new AuditError('AUDIT_BAD_SIGNATURE', 'a cosignature is an 8-byte time and a 64-byte signature');
  return Number(new DataView(body.buffer, body.byteOffset, 8).getBigUint64(0));
}

/** True when `sig` is a valid signature of `key` over `text`; lines of other keys give false. */
export function signatureValid(text: string, sig: NoteSignature, key: VerifierKey): boolean {
  if (sig.name !== key.name || hex(sig.keyId) !== hex(key.keyId)) return false;
  if (key.type === SIG_ED25519) return sig.body.length === 64 && verify(sig.body, new TextEncoder().encode(text), key.publicKey);
  if (sig.body.length !== 72) return false;
  return verify(sig.body.subarray(8), cosignedMessage(text, cosignatureTime(sig.body)), key.publicKey);
}

/** The keys among `keys` that validly signed the note; throws when none did. */
export function verifyNote(note: Note, keys: readonly VerifierKey[]): VerifierKey[] {
  const good = keys.filter((k) => note.signatures.some((s) => signatureValid(note.text, s, k)));
  if (good.length === 0) throw new AuditError('AUDIT_BAD_SIGNATURE', `no valid signature by ${keys.map((k) => k.name).join(', ') || 'any known key'}`);
  return good;
}
