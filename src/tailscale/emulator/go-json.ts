// Go's encoding/json as tailscaled runs it, for the serve config: a reader that fails with the
// Go scanner's own messages and keeps every object member in order (duplicates included, as Go
// decodes them one by one), and a string writer that escapes as json.Marshal does.

export type GoJson =
  | { t: 'object'; members: Array<[string, GoJson]> }
  | { t: 'array'; items: GoJson[] }
  | { t: 'string'; v: string }
  | { t: 'number'; raw: string }
  | { t: 'bool'; v: boolean }
  | { t: 'null' };

/** A json.Decoder error; `message` is Go's err.Error() text. */
export class GoJsonError extends Error {}

const MAX_DEPTH = 10_000; // Go's maxNestingDepth

/** The first byte of c in UTF-8, as Go's scanner reports a bad character (one byte, as a rune). */
function firstByte(c: string): number {
  const cp = c.codePointAt(0) ?? 0;
  if (cp < 0x80) return cp;
  if (cp < 0x800) return 0xc0 | (cp >> 6);
  if (cp < 0x10000) return 0xe0 | (cp >> 12);
  return 0xf0 | (cp >> 18);
}

/** scanner.go quoteChar: strconv.Quote of the byte as a rune, in single quotes. */
function quoteChar(c: string): string {
  const b = firstByte(c);
  if (b === 0x27) return "'\\''";
  if (b === 0x22) return `'"'`;
  const short: Record<number, string> = { 7: '\\a', 8: '\\b', 12: '\\f', 10: '\\n', 13: '\\r', 9: '\\t', 11: '\\v', 0x5c: '\\\\' };
  const s = short[b];
  if (s !== undefined) return `'${s}'`;
  if (b < 0x20 || b === 0x7f) return `'\\x${b.toString(16).padStart(2, '0')}'`;
  if ((b >= 0x80 && b <= 0xa0) || b === 0xad) return `'\\u${b.toString(16).padStart(4, '0')}'`;
  return `'${String.fromCharCode(b)}'`;
}

class Reader {
  private pos = 0;
  constructor(private readonly text: string) {}

  private fail(context: string): never {
    const c = this.text[this.pos];
    if (c === undefined) throw new GoJsonError('unexpected EOF');
    throw new GoJsonError(`invalid character ${quoteChar(this.text.slice(this.pos, this.pos + 2))} ${context}`);
  }

  private space(): void {
    while (this.pos < this.text.length && ' \t\r\n'.includes(this.text[this.pos] as string)) this.pos++;
  }

  /** Decoder.Decode: one value; whatever follows it is left unread. */
  first(): GoJson {
    this.space();
    if (this.pos >= this.text.length) throw new GoJsonError('EOF');
    return this.value(0);
  }

  private value(depth: number): GoJson {
    if (depth > MAX_DEPTH) throw new GoJsonError('exceeded max depth');
    const c = this.text[this.pos];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return { t: 'string', v: this.string() };
    if (c === 't') return this.literal('true', { t: 'bool', v: true });
    if (c === 'f') return this.literal('false', { t: 'bool', v: false });
    if (c === 'n') return this.literal('null', { t: 'null' });
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    return this.fail('looking for beginning of value');
  }

  private literal(word: string, v: GoJson): GoJson {
    for (let i = 1; i < word.length; i++) {
      this.pos++;
      if (this.text[this.pos] !== word[i]) this.fail(`in literal ${word} (expecting '${word[i] ?? ''}')`);
    }
    this.pos++;
    return v;
  }

  private digits(): number {
    const start = this.pos;
    while (this.pos < this.text.length && (this.text[this.pos] as string) >= '0' && (this.text[this.pos] as string) <= '9') this.pos++;
    return this.pos - start;
  }

  private number(): GoJson {
    const start = this.pos;
    if (this.text[this.pos] === '-') {
      this.pos++;
      if (!this.isDigit()) this.fail('in numeric literal');
    }
    if (this.text[this.pos] === '0') this.pos++;
    else this.digits();
    if (this.text[this.pos] === '.') {
      this.pos++;
      if (!this.isDigit()) this.fail('after decimal point in numeric literal');
      this.digits();
    }
    if (this.text[this.pos] === 'e' || this.text[this.pos] === 'E') {
      this.pos++;
      if (this.text[this.pos] === '+' || this.text[this.pos] === '-') this.pos++;
      if (!this.isDigit()) this.fail('in exponent of numeric literal');
      this.digits();
    }
    return { t: 'number', raw: this.text.slice(start, this.pos) };
  }

  private isDigit(): boolean {
    const c = this.text[this.pos];
    return c !== undefined && c >= '0' && c <= '9';
  }

  private string(): string {
    this.pos++; // opening quote
    let out = '';
    for (;;) {
      const c = this.text[this.pos];
      if (c === undefined) this.fail('');
      if (c === '"') {
        this.pos++;
        return out;
      }
      if (c < ' ') this.fail('in string literal');
      if (c !== '\\') {
        out += c;
        this.pos++;
        continue;
      }
      this.pos++;
      const e = this.text[this.pos];
      const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
      if (e !== undefined && simple[e] !== undefined) {
        out += simple[e];
        this.pos++;
      } else if (e === 'u') {
        this.pos++;
        let unit = this.hex4();
        // decode.go unquote: a surrogate only counts with its pair; alone it is U+FFFD.
        if (unit >= 0xd800 && unit < 0xdc00 && this.text.startsWith('\\u', this.pos)) {
          const save = this.pos;
          this.pos += 2;
          const low = this.hex4();
          if (low >= 0xdc00 && low < 0xe000) {
            out += String.fromCharCode(unit, low);
            continue;
          }
          this.pos = save;
        }
        if (unit >= 0xd800 && unit < 0xe000) unit = 0xfffd;
        out += String.fromCharCode(unit);
      } else {
        this.fail('in string escape code');
      }
    }
  }

  private hex4(): number {
    let n = 0;
    for (let i = 0; i < 4; i++) {
      const c = this.text[this.pos];
      if (c === undefined || !/[0-9a-fA-F]/.test(c)) this.fail('in \\u hexadecimal character escape');
      n = n * 16 + parseInt(c, 16);
      this.pos++;
    }
    return n;
  }

  private object(depth: number): GoJson {
    const members: Array<[string, GoJson]> = [];
    this.pos++;
    this.space();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return { t: 'object', members };
    }
    for (;;) {
      if (this.text[this.pos] !== '"') this.fail('looking for beginning of object key string');
      const key = this.string();
      this.space();
      if (this.text[this.pos] !== ':') this.fail('after object key');
      this.pos++;
      this.space();
      members.push([key, this.value(depth + 1)]);
      this.space();
      const sep = this.text[this.pos];
      if (sep === '}') {
        this.pos++;
        return { t: 'object', members };
      }
      if (sep !== ',') this.fail('after object key:value pair');
      this.pos++;
      this.space();
    }
  }

  private array(depth: number): GoJson {
    const items: GoJson[] = [];
    this.pos++;
    this.space();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return { t: 'array', items };
    }
    for (;;) {
      items.push(this.value(depth + 1));
      this.space();
      const sep = this.text[this.pos];
      if (sep === ']') {
        this.pos++;
        return { t: 'array', items };
      }
      if (sep !== ',') this.fail('after array element');
      this.pos++;
      this.space();
    }
  }
}

/** json.NewDecoder(body).Decode's reading: the first JSON value, or Go's error text. */
export function readGoJson(text: string): GoJson {
  return new Reader(text).first();
}

/** encoding/json's string encoding with HTML escaping on (json.Marshal, json.Encoder). */
export function goQuote(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x08) out += '\\b';
    else if (c === 0x0c) out += '\\f';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26 || c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) < 0xe000) {
      out += s[i] + (s[i + 1] as string);
      i++;
    } else if (c >= 0xd800 && c < 0xe000) out += '\\ufffd'; // not valid UTF-8: Go writes U+FFFD
    else out += s[i];
  }
  return out + '"';
}
