// HuJSON ("human JSON", the Tailscale policy file format): JSON plus
// comments and trailing commas. The parser records the line and column of
// every value so that policy errors can point at the exact field.

export type HuValue = null | boolean | number | string | HuValue[] | { [key: string]: HuValue };

export interface SourcePosition {
  line: number;
  column: number;
}

export class HuJsonSyntaxError extends Error {
  readonly code = 'POLICY_SYNTAX';
  constructor(readonly line: number, readonly column: number, detail: string) {
    super(`line ${line}, column ${column}: ${detail}`);
    this.name = 'HuJsonSyntaxError';
  }
}

export interface HuDocument {
  value: HuValue;
  /** Position of the value at a path such as "grants[2].ip[0]" (nearest known parent otherwise). */
  positionOf(path: string): SourcePosition;
}

const MAX_DEPTH = 128;

export function joinPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  const safe = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? key : JSON.stringify(key);
  if (parent === '') return safe;
  return /^[A-Za-z_$]/.test(safe) ? `${parent}.${safe}` : `${parent}[${safe}]`;
}

class Parser {
  private pos = 0;
  readonly positions = new Map<string, SourcePosition>();
  private readonly lineStarts: number[] = [0];

  constructor(private readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  at(offset: number): SourcePosition {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.lineStarts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - (this.lineStarts[lo] ?? 0) + 1 };
  }

  fail(detail: string, offset = this.pos): never {
    const p = this.at(offset);
    throw new HuJsonSyntaxError(p.line, p.column, detail);
  }

  document(): HuValue {
    this.skip();
    const v = this.value('', 0);
    this.skip();
    if (this.pos < this.text.length) this.fail('unexpected text after the end of the document');
    return v;
  }

  private skip(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t[this.pos];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\ufeff') {
        this.pos++;
      } else if (c === '/' && t[this.pos + 1] === '/') {
        const end = t.indexOf('\n', this.pos);
        this.pos = end < 0 ? t.length : end;
      } else if (c === '/' && t[this.pos + 1] === '*') {
        const end = t.indexOf('*/', this.pos + 2);
        if (end < 0) this.fail('unterminated /* comment');
        this.pos = end + 2;
      } else {
        return;
      }
    }
  }

  private value(path: string, depth: number): HuValue {
    if (depth > MAX_DEPTH) this.fail('nesting too deep');
    this.positions.set(path, this.at(this.pos));
    const c = this.text[this.pos];
    if (c === '{') return this.object(path, depth);
    if (c === '[') return this.array(path, depth);
    if (c === '"') return this.string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return v;
      }
    }
    if (c === undefined) this.fail('unexpected end of file');
    return this.fail(`unexpected character ${JSON.stringify(c)}`);
  }

  private object(path: string, depth: number): HuValue {
    const out: { [key: string]: HuValue } = {};
    this.pos++;
    for (;;) {
      this.skip();
      if (this.text[this.pos] === '}') {
        this.pos++;
        return out;
      }
      if (this.text[this.pos] !== '"') this.fail('expected a quoted field name or "}"');
      const keyAt = this.pos;
      const key = this.string();
      if (Object.prototype.hasOwnProperty.call(out, key)) this.fail(`duplicate field ${JSON.stringify(key)}`, keyAt);
      this.skip();
      if (this.text[this.pos] !== ':') this.fail(`expected ":" after field ${JSON.stringify(key)}`);
      this.pos++;
      this.skip();
      const v = this.value(joinPath(path, key), depth + 1);
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      this.skip();
      if (this.text[this.pos] === ',') {
        this.pos++;
        continue;
      }
      if (this.text[this.pos] === '}') continue;
      this.fail('expected "," or "}"');
    }
  }

  private array(path: string, depth: number): HuValue {
    const out: HuValue[] = [];
    this.pos++;
    for (;;) {
      this.skip();
      if (this.text[this.pos] === ']') {
        this.pos++;
        return out;
      }
      out.push(this.value(joinPath(path, out.length), depth + 1));
      this.skip();
      if (this.text[this.pos] === ',') {
        this.pos++;
        continue;
      }
      if (this.text[this.pos] === ']') continue;
      this.fail('expected "," or "]"');
    }
  }

  private string(): string {
    const start = this.pos;
    this.pos++;
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c === 0x22) {
        this.pos++;
        try {
          return JSON.parse(this.text.slice(start, this.pos)) as string;
        } catch {
          this.fail('invalid escape in string', start);
        }
      }
      if (c === 0x5c) this.pos += 2;
      else if (c < 0x20) this.fail('line break or control character inside a string');
      else this.pos++;
    }
    return this.fail('unterminated string', start);
  }

  private number(): number {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.text.slice(this.pos, this.pos + 64));
    if (!m) this.fail('invalid number');
    this.pos += m[0].length;
    return Number(m[0]);
  }
}

/** Parses HuJSON; syntax errors are HuJsonSyntaxError with line and column. */
export function parseHuJson(text: string): HuDocument {
  const parser = new Parser(text);
  const value = parser.document();
  const positions = parser.positions;
  return {
    value,
    positionOf(path: string): SourcePosition {
      let p = path;
      for (;;) {
        const found = positions.get(p);
        if (found) return found;
        if (p === '') return { line: 1, column: 1 };
        const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
        p = cut <= 0 ? '' : p.slice(0, cut);
      }
    },
  };
}
