// Audit events and the log entries that carry them. An entry is canonical CBOR
// { seq, prev, event }: `prev` is the leaf hash of the entry before it, so an edited, removed
// or moved entry is named by the first index whose link breaks, not only by a failing root.
import { decodeStrict, encodeDeterministic } from '../crypto/index.js';
import { AuditError } from './errors.js';
import { HASH_SIZE } from './merkle.js';

/** What happened, who asked, in which zone, with what outcome. Never secret bytes. */
export interface AuditEvent {
  /** Milliseconds since the epoch. */
  at: number;
  /** e.g. `authz.decision`, `hub.invoke`, `secret.use`, `object.put`, `object.erase`, `token.mint`. */
  kind: string;
  zone: string;
  principal: string;
  action?: string;
  allow?: boolean;
  reason?: string;
  /** Object, secret name, connector operation or token id the event is about. */
  subject?: string;
  /** A few scalar facts (sizes, counts, trace ids). */
  detail?: Record<string, string | number | boolean>;
}

export interface LogEntry {
  seq: number;
  prev: Uint8Array;
  event: AuditEvent;
}

const MAX_TEXT = 512;
const MAX_DETAIL = 16;

function text(v: unknown, what: string, optional = false): void {
  if (v === undefined && optional) return;
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_TEXT) throw new AuditError('AUDIT_BAD_EVENT', `audit event ${what} must be a string of 1-${MAX_TEXT} characters`);
}

/** Checks an event's shape: only short strings, whole numbers and booleans go into the log. */
export function checkEvent(e: AuditEvent): AuditEvent {
  if (!Number.isSafeInteger(e.at) || e.at < 0) throw new AuditError('AUDIT_BAD_EVENT', 'audit event time must be whole milliseconds');
  text(e.kind, 'kind');
  text(e.zone, 'zone');
  text(e.principal, 'principal');
  text(e.action, 'action', true);
  text(e.reason, 'reason', true);
  text(e.subject, 'subject', true);
  if (e.allow !== undefined && typeof e.allow !== 'boolean') throw new AuditError('AUDIT_BAD_EVENT', 'audit event allow must be a boolean');
  if (e.detail !== undefined) {
    const entries = Object.entries(e.detail);
    if (entries.length > MAX_DETAIL) throw new AuditError('AUDIT_BAD_EVENT', `audit event detail has more than ${MAX_DETAIL} facts`);
    for (const [k, v] of entries) {
      text(k, 'detail key');
      if (typeof v === 'string') text(v, `detail ${k}`);
      else if (typeof v === 'number' ? !Number.isSafeInteger(v) : typeof v !== 'boolean') throw new AuditError('AUDIT_BAD_EVENT', `audit event detail ${k} must be a string, whole number or boolean`);
    }
  }
  return e;
}

function withoutUndefined(e: AuditEvent): Record<string, unknown> {
  return Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined));
}

export function encodeEntry(entry: LogEntry): Uint8Array {
  if (entry.prev.length !== HASH_SIZE) throw new AuditError('AUDIT_BAD_EVENT', 'prev is a leaf hash');
  return encodeDeterministic({ seq: entry.seq, prev: entry.prev, event: withoutUndefined(checkEvent(entry.event)) });
}

export function decodeEntry(bytes: Uint8Array): LogEntry {
  let v: unknown;
  try {
    v = decodeStrict(bytes, 'audit entry');
  } catch {
    throw new AuditError('AUDIT_BAD_EVENT', 'audit entry is not CBOR');
  }
  if (!(v instanceof Map)) throw new AuditError('AUDIT_BAD_EVENT', 'audit entry is not a map');
  const seq = v.get('seq');
  const prev = v.get('prev');
  const event = v.get('event');
  if (!Number.isSafeInteger(seq) || !(prev instanceof Uint8Array) || prev.length !== HASH_SIZE || !(event instanceof Map)) throw new AuditError('AUDIT_BAD_EVENT', 'audit entry lacks seq, prev or event');
  const plain = Object.fromEntries(event) as Record<string, unknown>;
  if (plain.detail instanceof Map) plain.detail = Object.fromEntries(plain.detail);
  return { seq: seq as number, prev, event: checkEvent(plain as unknown as AuditEvent) };
}

/** Where other parts report what happened (the recorder's `note`): timed when recorded. */
export type AuditSink = (e: Omit<AuditEvent, 'at'>) => void;
