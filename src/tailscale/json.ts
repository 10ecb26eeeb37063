// JSON that keeps 64-bit integers exact. Tailscale node and user IDs are Go
// int64 and may exceed 2^53; JSON.parse would silently round them. Integers
// outside the safe range parse to bigint, everything else as JSON.parse does.

export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export class JsonSyntaxError extends Error {
  readonly code = 'TS_JSON_SYNTAX';
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`${message} at offset ${offset}`);
    this.name = 'JsonSyntaxError';
    this.offset = offset;
  }
}

const MAX_DEPTH = 256;

class Parser {
  private pos = 0;
  constructor(private readonly text: string) {}

  parseDocument(): JsonValue {
    this.skipWhitespace();
    const value = this.parseValue(0);
    this.skipWhitespace();
    if (this.pos !== this.text.length) throw new JsonSyntaxError('unexpected trailing data', this.pos);
    return value;
  }

  private skipWhitespace(): void {
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.pos++;
      else break;
    }
  }

  private parseValue(depth: number): JsonValue {
    if (depth > MAX_DEPTH) throw new JsonSyntaxError('nesting too deep', this.pos);
    const c = this.text[this.pos];
    switch (c) {
      case '{':
        return this.parseObject(depth);
      case '[':
        return this.parseArray(depth);
      case '"':
        return this.parseString();
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      default:
        if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.parseNumber();
        throw new JsonSyntaxError(c === undefined ? 'unexpected end of input' : `unexpected character ${JSON.stringify(c)}`, this.pos);
    }
  }

  private literal<T extends JsonValue>(word: string, value: T): T {
    if (this.text.startsWith(word, this.pos)) {
      this.pos += word.length;
      return value;
    }
    throw new JsonSyntaxError(`invalid literal`, this.pos);
  }

  private parseObject(depth: number): JsonObject {
    const out: JsonObject = {};
    this.pos++;
    this.skipWhitespace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.pos] !== '"') throw new JsonSyntaxError('expected a string key', this.pos);
      const key = this.parseString();
      this.skipWhitespace();
      if (this.text[this.pos] !== ':') throw new JsonSyntaxError('expected ":"', this.pos);
      this.pos++;
      this.skipWhitespace();
      // defineProperty keeps a "__proto__" key an ordinary own property.
      Object.defineProperty(out, key, { value: this.parseValue(depth + 1), enumerable: true, writable: true, configurable: true });
      this.skipWhitespace();
      const sep = this.text[this.pos];
      if (sep === ',') {
        this.pos++;
        continue;
      }
      if (sep === '}') {
        this.pos++;
        return out;
      }
      throw new JsonSyntaxError('expected "," or "}"', this.pos);
    }
  }

  private parseArray(depth: number): JsonValue[] {
    const out: JsonValue[] = [];
    this.pos++;
    this.skipWhitespace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipWhitespace();
      out.push(this.parseValue(depth + 1));
      this.skipWhitespace();
      const sep = this.text[this.pos];
      if (sep === ',') {
        this.pos++;
        continue;
      }
      if (sep === ']') {
        this.pos++;
        return out;
      }
      throw new JsonSyntaxError('expected "," or "]"', this.pos);
    }
  }

  private parseString(): string {
    const start = this.pos;
    this.pos++;
    let simple = true;
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c === 0x22) {
        this.pos++;
        const raw = this.text.slice(start, this.pos);
        // The built-in parser validates escapes and decodes them exactly.
        if (simple) return raw.slice(1, -1);
        try {
          return JSON.parse(raw) as string;
        } catch {
          throw new JsonSyntaxError('invalid string escape', start);
        }
      }
      if (c === 0x5c) {
        simple = false;
        this.pos += 2;
        continue;
      }
      if (c < 0x20) throw new JsonSyntaxError('control character in string', this.pos);
      this.pos++;
    }
    throw new JsonSyntaxError('unterminated string', start);
  }

  private parseNumber(): number | bigint {
    const start = this.pos;
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.text.slice(this.pos, this.pos + 400));
    if (!m) throw new JsonSyntaxError('invalid number', start);
    this.pos += m[0].length;
    if (m[2] === undefined && m[3] === undefined) {
      const n = Number(m[0]);
      if (!Number.isSafeInteger(n)) return BigInt(m[0]);
      return n;
    }
    return Number(m[0]);
  }
}

/** Parses JSON text; integers beyond +-(2^53-1) become bigint. */
export function parseJsonLossless(text: string): JsonValue {
  return new Parser(text).parseDocument();
}

/**
 * Serialises like JSON.stringify (undefined object members are left out), but
 * bigint values are written as bare integers.
 */
export function stringifyJsonLossless(value: unknown, indent = ''): string {
  return write(value, indent, '');
}

function write(value: unknown, indent: string, current: string): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'bigint':
      return value.toString();
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('cannot serialise a non-finite number as JSON');
      return JSON.stringify(value);
    case 'boolean':
    case 'string':
      return JSON.stringify(value);
    case 'object':
      break;
    default:
      throw new TypeError(`cannot serialise a ${typeof value} as JSON`);
  }
  const inner = current + indent;
  const nl = indent === '' ? '' : '\n';
  const colon = indent === '' ? ':' : ': ';
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return '[' + nl + value.map((v) => inner + write(v, indent, inner)).join(',' + nl) + nl + current + ']';
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).filter((k) => record[k] !== undefined);
  if (keys.length === 0) return '{}';
  return (
    '{' +
    nl +
    keys.map((k) => inner + JSON.stringify(k) + colon + write(record[k], indent, inner)).join(',' + nl) +
    nl +
    current +
    '}'
  );
}
