// The bits of Go's path, net/url and mime packages that decide what tailscaled's serve does with
// a request path, a query and a header value. Written from the Go semantics, byte for byte where
// it shows (which mount matches, what path and query reach the backend, how a name is encoded).

/** path.Clean. */
export function pathClean(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const joined = out.join('/');
  if (rooted) return `/${joined}`;
  return joined === '' ? '.' : joined;
}

/** path.Dir: everything up to the last slash, cleaned. */
export function pathDir(p: string): string {
  return pathClean(p.slice(0, p.lastIndexOf('/') + 1));
}

const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c);

/** url.PathUnescape (the request path as net/http parses it); undefined for a bad %-escape. */
export function pathUnescape(raw: string): string | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    if (c === '%') {
      if (!isHex(raw[i + 1]) || !isHex(raw[i + 2])) return undefined;
      bytes.push(parseInt(raw.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(c, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** url's escape(s, encodePath): what URL.EscapedPath gives for a path with no RawPath. */
export function pathEscape(p: string): string {
  let out = '';
  for (const b of Buffer.from(p, 'utf8')) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~$&+,/:;=@]/.test(c)) out += c;
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function queryUnescape(s: string): string | undefined {
  return pathUnescape(s.replace(/\+/g, ' '));
}

function queryEscape(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    if (c === ' ') out += '+';
    else if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * httputil's cleanQueryParams: a query with a ';' or a bad %-escape is re-encoded through
 * url.ParseQuery + Values.Encode (bad pairs dropped, keys sorted); any other goes as it came.
 */
export function cleanQueryParams(q: string): string {
  let bad = false;
  for (let i = 0; i < q.length && !bad; i++) {
    if (q[i] === ';') bad = true;
    else if (q[i] === '%') {
      if (!isHex(q[i + 1]) || !isHex(q[i + 2])) bad = true;
      else i += 2;
    }
  }
  if (!bad) return q;
  const values = new Map<string, string[]>();
  for (const pair of q.split('&')) {
    if (pair === '' || pair.includes(';')) continue;
    const eq = pair.indexOf('=');
    const k = queryUnescape(eq < 0 ? pair : pair.slice(0, eq));
    const v = queryUnescape(eq < 0 ? '' : pair.slice(eq + 1));
    if (k === undefined || v === undefined) continue;
    values.set(k, [...(values.get(k) ?? []), v]);
  }
  const keys = [...values.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return keys.flatMap((k) => (values.get(k) ?? []).map((v) => `${queryEscape(k)}=${queryEscape(v)}`)).join('&');
}

const MAX_Q_CONTENT = 75 - '=?UTF-8?q?'.length - '?='.length;

/**
 * mime.QEncoding.Encode("utf-8", v) (ipnlocal encTailscaleHeaderValue): unchanged when every
 * character is printable ASCII or a tab, else RFC 2047 encoded-words of at most 75 characters,
 * never splitting a multi-byte character.
 */
export function qEncode(v: string): string {
  if (![...v].some((c) => (c < ' ' || c > '~') && c !== '\t')) return v;
  let out = '=?utf-8?q?';
  let len = 0;
  for (const ch of v) {
    const bytes = Buffer.from(ch, 'utf8');
    const plain = bytes.length === 1 && ch >= ' ' && ch <= '~' && ch !== '=' && ch !== '?' && ch !== '_';
    const enc = plain ? 1 : 3 * bytes.length;
    if (len + enc > MAX_Q_CONTENT) {
      out += '?= =?utf-8?q?';
      len = 0;
    }
    if (ch === ' ') out += '_';
    else if (plain) out += ch;
    else for (const b of bytes) out += `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
    len += enc;
  }
  return `${out}?=`;
}
