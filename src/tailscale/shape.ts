// Small readers that pull typed fields out of parsed JSON and say exactly
// which field was wrong when the shape does not match.
import type { JsonObject, JsonValue } from './json.js';

export class ShapeError extends Error {
  readonly code = 'TS_SHAPE';
  constructor(readonly path: string, expected: string, got: JsonValue | undefined) {
    super(`${path}: expected ${expected}, got ${describe(got)}`);
    this.name = 'ShapeError';
  }
}

function describe(v: JsonValue | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(typeof v === 'bigint' ? v.toString() : v)}`;
}

/** Go's zero time.Time, which means "never" in tailscaled's JSON. */
const GO_ZERO_TIME = /^0001-01-01T00:00:00(\.0+)?Z$/;

export class ObjectReader {
  constructor(readonly obj: JsonObject, readonly path: string) {}

  static of(value: JsonValue | undefined, path: string): ObjectReader {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ShapeError(path, 'an object', value);
    return new ObjectReader(value, path);
  }

  private at(key: string): JsonValue | undefined {
    return Object.prototype.hasOwnProperty.call(this.obj, key) ? this.obj[key] : undefined;
  }

  has(key: string): boolean {
    const v = this.at(key);
    return v !== undefined && v !== null;
  }

  string(key: string, fallback = ''): string {
    const v = this.at(key);
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'string') throw new ShapeError(`${this.path}.${key}`, 'a string', v);
    return v;
  }

  optionalString(key: string): string | undefined {
    return this.has(key) ? this.string(key) : undefined;
  }

  bool(key: string, fallback = false): boolean {
    const v = this.at(key);
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') throw new ShapeError(`${this.path}.${key}`, 'a boolean', v);
    return v;
  }

  optionalBool(key: string): boolean | undefined {
    return this.has(key) ? this.bool(key) : undefined;
  }

  number(key: string, fallback = 0): number {
    const v = this.at(key);
    if (v === undefined || v === null) return fallback;
    if (typeof v === 'bigint') return Number(v);
    if (typeof v !== 'number') throw new ShapeError(`${this.path}.${key}`, 'a number', v);
    return v;
  }

  /** An int64 ID as an exact decimal string ("" when absent). */
  id(key: string): string {
    const v = this.at(key);
    if (v === undefined || v === null) return '';
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'number' && Number.isInteger(v)) return String(v);
    if (typeof v === 'string' && /^-?[0-9]+$/.test(v)) return v;
    throw new ShapeError(`${this.path}.${key}`, 'an integer ID', v);
  }

  /** A time stamp; Go's zero time and absence both give undefined. */
  time(key: string): string | undefined {
    const v = this.optionalString(key);
    if (v === undefined || v === '' || GO_ZERO_TIME.test(v)) return undefined;
    return v;
  }

  strings(key: string): string[] {
    const v = this.at(key);
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw new ShapeError(`${this.path}.${key}`, 'an array of strings', v);
    return v.map((item, i) => {
      if (typeof item !== 'string') throw new ShapeError(`${this.path}.${key}[${i}]`, 'a string', item);
      return item;
    });
  }

  array(key: string): JsonValue[] {
    const v = this.at(key);
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw new ShapeError(`${this.path}.${key}`, 'an array', v);
    return v;
  }

  object(key: string): ObjectReader | undefined {
    const v = this.at(key);
    if (v === undefined || v === null) return undefined;
    return ObjectReader.of(v, `${this.path}.${key}`);
  }

  /** A map of capability name to its list of raw JSON values. */
  capMap(key: string): Record<string, JsonValue[]> {
    const m = this.object(key);
    const out: Record<string, JsonValue[]> = {};
    if (!m) return out;
    for (const name of Object.keys(m.obj)) {
      const v = m.obj[name];
      if (v !== null && v !== undefined && !Array.isArray(v)) throw new ShapeError(`${m.path}.${name}`, 'an array or null', v);
      Object.defineProperty(out, name, { value: v ?? [], enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
}
