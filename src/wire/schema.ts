// Hand-written field validators. Each returns a clean copy of the value or throws
// ProtocolError PROTO_BAD_MESSAGE naming the field. Objects must be plain (no prototype tricks).
import { ProtocolError } from './errors.js';

export type Check<T> = (value: unknown, field: string) => T;

export interface OptionalCheck<T> {
  optional: true;
  check: Check<T>;
}

export type FieldCheck = Check<unknown> | OptionalCheck<unknown>;
export type FieldTable = Readonly<Record<string, FieldCheck>>;

// While reading a peer's message, fields this version does not know are dropped instead of
// refused, so a device one release behind still talks with a newer one (as protobuf readers skip
// unknown fields). Senders stay strict: a message is only ever sent with known fields. What a
// handler sees is the clean copy, so a dropped field can never reach it. Set only around the
// synchronous validation of a received message (receivedMessage()).
let dropUnknownFields = false;

/** Runs a validation of a received message: unknown fields (at any depth) are dropped. */
export function leniently<T>(validate: () => T): T {
  const before = dropUnknownFields;
  dropUnknownFields = true;
  try {
    return validate();
  } finally {
    dropUnknownFields = before;
  }
}

export function fail(field: string, expectation: string): never {
  throw new ProtocolError('PROTO_BAD_MESSAGE', `field "${field}" ${expectation}`, field);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function optional<T>(check: Check<T>): OptionalCheck<T> {
  return { optional: true, check };
}

export function uint(max: number = Number.MAX_SAFE_INTEGER): Check<number> {
  return (value, field) => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > max) {
      fail(field, `must be an integer in 0..${max}`);
    }
    return value;
  };
}

/** A finite number in (0, 1] — used for fractions. */
export function fraction(): Check<number> {
  return (value, field) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 1) fail(field, 'must be a number in (0, 1]');
    return value;
  };
}

/** A finite number in [min, max] (floats allowed). */
export function numberIn(min: number, max: number): Check<number> {
  return (value, field) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) fail(field, `must be a number in [${min}, ${max}]`);
    return value;
  };
}

/** true or false. */
export function flag(): Check<boolean> {
  return (value, field) => {
    if (typeof value !== 'boolean') fail(field, 'must be true or false');
    return value;
  };
}

/** One of a closed set of strings. */
export function oneOf<T extends string>(values: readonly T[]): Check<T> {
  return (value, field) => {
    if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) fail(field, `must be one of ${values.join(', ')}`);
    return value as T;
  };
}

export function literal<T extends string | number>(expected: T): Check<T> {
  return (value, field) => {
    if (value !== expected) fail(field, `must be ${JSON.stringify(expected)}`);
    return expected;
  };
}

export function text(opts: { min?: number; max: number; pattern?: RegExp }): Check<string> {
  const min = opts.min ?? 1;
  return (value, field) => {
    if (typeof value !== 'string' || value.length < min || Buffer.byteLength(value, 'utf8') > opts.max) {
      fail(field, `must be a string of ${min}..${opts.max} bytes`);
    }
    if (opts.pattern && !opts.pattern.test(value)) fail(field, `must match ${opts.pattern}`);
    return value;
  };
}

export function bytes(opts: { exact?: number; min?: number; max?: number }): Check<Uint8Array> {
  const min = opts.exact ?? opts.min ?? 0;
  const max = opts.exact ?? opts.max ?? Number.MAX_SAFE_INTEGER;
  return (value, field) => {
    if (!(value instanceof Uint8Array) || value.length < min || value.length > max) {
      fail(field, opts.exact !== undefined ? `must be a byte string of ${opts.exact} bytes` : `must be a byte string of ${min}..${max} bytes`);
    }
    return value;
  };
}

export function arrayOf<T>(item: Check<T>, maxLength: number): Check<T[]> {
  return (value, field) => {
    if (!Array.isArray(value) || value.length > maxLength) fail(field, `must be an array of at most ${maxLength} items`);
    const out: T[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = item(value[i], `${field}[${i}]`);
    return out;
  };
}

export function pair<A, B>(first: Check<A>, second: Check<B>): Check<[A, B]> {
  return (value, field) => {
    if (!Array.isArray(value) || value.length !== 2) fail(field, 'must be a pair [a, b]');
    return [first(value[0], `${field}[0]`), second(value[1], `${field}[1]`)];
  };
}

/** Validates a map against a field table: required fields present, optional ones checked, no others. */
export function record<T>(table: FieldTable): Check<T> {
  return (value, field) => checkFields(value, table, field) as T;
}

export function checkFields(value: unknown, table: FieldTable, field: string, skip: ReadonlySet<string> = new Set()): Record<string, unknown> {
  if (!isPlainObject(value)) fail(field || 'message', 'must be a map');
  const prefix = field ? `${field}.` : '';
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(table)) {
    const present = Object.hasOwn(value, name) && value[name] !== undefined;
    if (typeof spec === 'function') {
      if (!present) fail(prefix + name, 'is required');
      out[name] = spec(value[name], prefix + name);
    } else if (present) {
      out[name] = spec.check(value[name], prefix + name);
    }
  }
  for (const name of Object.keys(value)) {
    if (!Object.hasOwn(table, name) && !skip.has(name) && !dropUnknownFields) fail(prefix + name, 'is not a known field');
  }
  return out;
}

