// ipn.ServeConfig as tailscaled holds it (ipn/serve.go): decoded with encoding/json's rules
// (field names matched case-insensitively, unknown fields ignored, maps merged when a field comes
// twice, the first type error reported with Go's text), re-marshalled in Go's field order with
// omitempty, and the ETag = hex sha256 of that marshalling (ipnlocal/serve.go
// generateServeConfigETag). Maps are JS Maps (null = Go nil) so "__proto__" keys stay keys.
import { createHash } from 'node:crypto';
import { GoJsonError, goQuote, readGoJson, type GoJson } from './go-json.js';

export interface TCPPortHandler {
  HTTPS: boolean;
  HTTP: boolean;
  TCPForward: string;
  TerminateTLS: string;
  /** Go int; bigint so no value is rounded. */
  ProxyProtocol: bigint;
}
export interface HTTPHandler {
  Path: string;
  Proxy: string;
  Text: string;
  AcceptAppCaps: string[] | null;
  Redirect: string;
}
export interface WebServerConfig {
  Handlers: Map<string, HTTPHandler | null> | null;
}
export interface ServiceConfig {
  TCP: Map<number, TCPPortHandler | null> | null;
  Web: Map<string, WebServerConfig | null> | null;
  Tun: boolean;
}
export interface ServeConfig {
  TCP: Map<number, TCPPortHandler | null> | null;
  Web: Map<string, WebServerConfig | null> | null;
  Services: Map<string, ServiceConfig | null> | null;
  AllowFunnel: Map<string, boolean> | null;
  Foreground: Map<string, ServeConfig | null> | null;
}

// ---- Go types, enough to decode and marshal the structs above ----

type GoType =
  | { k: 'bool' }
  | { k: 'string'; name: string }
  | { k: 'int' }
  | { k: 'slice'; elem: GoType; name: string }
  | { k: 'map'; key: 'string' | 'uint16'; elem: GoType; name: string }
  | { k: 'ptr'; elem: StructType }
  | StructType;
interface StructType {
  k: 'struct';
  /** reflect.Type.String(), e.g. "ipn.ServeConfig"; Name() is the part after the dot. */
  name: string;
  fields: Array<{ name: string; type: GoType; omitEmpty: boolean }>;
}

const BOOL: GoType = { k: 'bool' };
const STRING: GoType = { k: 'string', name: 'string' };
const str = (name: string): GoType => ({ k: 'string', name });
const field = (name: string, type: GoType, omitEmpty = true) => ({ name, type, omitEmpty });

const TCP_PORT_HANDLER: StructType = {
  k: 'struct',
  name: 'ipn.TCPPortHandler',
  fields: [field('HTTPS', BOOL), field('HTTP', BOOL), field('TCPForward', STRING), field('TerminateTLS', STRING), field('ProxyProtocol', { k: 'int' })],
};
const HTTP_HANDLER: StructType = {
  k: 'struct',
  name: 'ipn.HTTPHandler',
  fields: [
    field('Path', STRING),
    field('Proxy', STRING),
    field('Text', STRING),
    field('AcceptAppCaps', { k: 'slice', elem: str('peercap.Cap'), name: '[]peercap.Cap' }),
    field('Redirect', STRING),
  ],
};
const WEB_SERVER_CONFIG: StructType = {
  k: 'struct',
  name: 'ipn.WebServerConfig',
  // No omitempty: an absent Handlers map marshals as "Handlers":null.
  fields: [field('Handlers', { k: 'map', key: 'string', elem: { k: 'ptr', elem: HTTP_HANDLER }, name: 'map[string]*ipn.HTTPHandler' }, false)],
};
const TCP_MAP: GoType = { k: 'map', key: 'uint16', elem: { k: 'ptr', elem: TCP_PORT_HANDLER }, name: 'map[uint16]*ipn.TCPPortHandler' };
const WEB_MAP: GoType = { k: 'map', key: 'string', elem: { k: 'ptr', elem: WEB_SERVER_CONFIG }, name: 'map[ipn.HostPort]*ipn.WebServerConfig' };
const SERVICE_CONFIG: StructType = { k: 'struct', name: 'ipn.ServiceConfig', fields: [field('TCP', TCP_MAP), field('Web', WEB_MAP), field('Tun', BOOL)] };
const SERVE_CONFIG: StructType = { k: 'struct', name: 'ipn.ServeConfig', fields: [] };
SERVE_CONFIG.fields.push(
  field('TCP', TCP_MAP),
  field('Web', WEB_MAP),
  field('Services', { k: 'map', key: 'string', elem: { k: 'ptr', elem: SERVICE_CONFIG }, name: 'map[tailcfg.ServiceName]*ipn.ServiceConfig' }),
  field('AllowFunnel', { k: 'map', key: 'string', elem: BOOL, name: 'map[ipn.HostPort]bool' }),
  field('Foreground', { k: 'map', key: 'string', elem: { k: 'ptr', elem: SERVE_CONFIG }, name: 'map[string]*ipn.ServeConfig' }),
);

function zero(t: GoType): unknown {
  switch (t.k) {
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'int':
      return 0n;
    case 'struct':
      return Object.fromEntries(t.fields.map((f) => [f.name, zero(f.type)]));
    default:
      return null;
  }
}

// ---- decoding (encoding/json decode.go) ----

class Decoder {
  /** errorContext: the innermost struct and the field names leading to the value. */
  private struct: string | undefined;
  private readonly stack: string[] = [];
  firstError: string | undefined;

  /** d.saveError(&UnmarshalTypeError{...}) with addErrorContext: only the first one counts. */
  private typeError(what: string, type: string): void {
    if (this.firstError !== undefined) return;
    const into = this.struct !== undefined ? `Go struct field ${this.struct}.${this.stack.join('.')}` : 'Go value';
    this.firstError = `json: cannot unmarshal ${what} into ${into} of type ${type}`;
  }

  /** Decodes v into a Go value of type t whose current value is `cur`; returns the new value. */
  decode(v: GoJson, t: GoType, cur: unknown): unknown {
    if (v.t === 'null') return t.k === 'map' || t.k === 'slice' || t.k === 'ptr' ? null : cur; // null leaves scalars alone
    switch (t.k) {
      case 'bool':
        if (v.t === 'bool') return v.v;
        this.typeError(v.t, 'bool');
        return cur;
      case 'string':
        if (v.t === 'string') return v.v;
        this.typeError(v.t, t.name);
        return cur;
      case 'int':
        if (v.t === 'number') {
          // strconv.ParseInt(s, 10, 64): no fraction, no exponent, within int64.
          const n = /^-?[0-9]+$/.test(v.raw) ? BigInt(v.raw) : undefined;
          if (n !== undefined && n >= -(2n ** 63n) && n < 2n ** 63n) return n;
          this.typeError(`number ${v.raw}`, 'int');
          return cur;
        }
        this.typeError(v.t, 'int');
        return cur;
      case 'ptr':
        // indirect() allocates a fresh struct for each map element.
        return this.decode(v, t.elem, zero(t.elem));
      case 'slice':
        if (v.t !== 'array') {
          this.typeError(v.t, t.name);
          return cur;
        }
        return v.items.map((item) => this.decode(item, t.elem, zero(t.elem)));
      case 'map':
        return this.map(v, t, cur as Map<unknown, unknown> | null);
      case 'struct':
        return this.structValue(v, t, cur as Record<string, unknown>);
    }
  }

  private map(v: GoJson, t: Extract<GoType, { k: 'map' }>, cur: Map<unknown, unknown> | null): unknown {
    if (v.t !== 'object') {
      this.typeError(v.t, t.name);
      return cur;
    }
    const m = cur ?? new Map<unknown, unknown>(); // an existing map is added to, not replaced
    for (const [key, value] of v.members) {
      const elem = this.decode(value, t.elem, zero(t.elem));
      if (t.key === 'string') {
        m.set(key, elem);
        continue;
      }
      // strconv.ParseUint(key, 10, 64) then OverflowUint for uint16.
      if (/^[0-9]+$/.test(key) && BigInt(key) <= 65535n) m.set(Number(key), elem);
      else this.typeError(`number ${key}`, 'uint16');
    }
    return m;
  }

  private structValue(v: GoJson, t: StructType, cur: Record<string, unknown>): unknown {
    if (v.t !== 'object') {
      this.typeError(v.t, t.name);
      return cur;
    }
    const out = { ...cur };
    for (const [key, value] of v.members) {
      // Exact name first, then Go's case folding; unknown fields are skipped.
      const f = t.fields.find((x) => x.name === key) ?? t.fields.find((x) => fold(x.name) === fold(key));
      if (!f) continue;
      const saved = { struct: this.struct, depth: this.stack.length };
      this.struct = t.name.slice(t.name.indexOf('.') + 1);
      this.stack.push(f.name);
      out[f.name] = this.decode(value, f.type, out[f.name]);
      this.struct = saved.struct;
      this.stack.length = saved.depth;
    }
    return out;
  }
}

/** encoding/json's foldName: ASCII case plus the two non-ASCII letters that fold to ASCII (ſ, K). */
function fold(s: string): string {
  return s.replace(/\u017f/g, 's').replace(/\u212a/g, 'k').replace(/[A-Z]/g, (c) => c.toLowerCase());
}

export type DecodeResult = { ok: true; config: ServeConfig } | { ok: false; error: string };

/**
 * json.NewDecoder(body).Decode(new(ipn.ServeConfig)): a `null` body gives an empty (not nil)
 * config, as the LocalAPI decodes into a fresh struct. `error` is Go's message.
 */
export function decodeServeConfig(body: string): DecodeResult {
  let doc: GoJson;
  try {
    doc = readGoJson(body);
  } catch (err) {
    if (err instanceof GoJsonError) return { ok: false, error: err.message };
    throw err;
  }
  const d = new Decoder();
  const config = d.decode(doc, SERVE_CONFIG, zero(SERVE_CONFIG)) as ServeConfig;
  return d.firstError !== undefined ? { ok: false, error: d.firstError } : { ok: true, config };
}

// ---- marshalling (encoding/json encode.go) ----

function isEmpty(t: GoType, v: unknown): boolean {
  if (v === null) return true;
  if (t.k === 'bool') return v === false;
  if (t.k === 'string') return v === '';
  if (t.k === 'int') return v === 0n;
  if (t.k === 'map') return (v as Map<unknown, unknown>).size === 0;
  if (t.k === 'slice') return (v as unknown[]).length === 0;
  return false;
}

function marshal(t: GoType, v: unknown): string {
  if (v === null) return 'null';
  switch (t.k) {
    case 'bool':
      return v ? 'true' : 'false';
    case 'string':
      return goQuote(v as string);
    case 'int':
      return (v as bigint).toString();
    case 'slice':
      return `[${(v as unknown[]).map((x) => marshal(t.elem, x)).join(',')}]`;
    case 'ptr':
      return marshal(t.elem, v);
    case 'map': {
      // Keys are written as strings and sorted as strings (so "10000" < "443").
      const entries = [...(v as Map<unknown, unknown>)].map(([k, x]) => [String(k), x] as const);
      entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, x]) => `${goQuote(k)}:${marshal(t.elem, x)}`).join(',')}}`;
    }
    case 'struct': {
      const o = v as Record<string, unknown>;
      const parts = t.fields.filter((f) => !(f.omitEmpty && isEmpty(f.type, o[f.name]))).map((f) => `${goQuote(f.name)}:${marshal(f.type, o[f.name])}`);
      return `{${parts.join(',')}}`;
    }
  }
}

/** json.Marshal of the config view: "null" when none is set. */
export function marshalServeConfig(config: ServeConfig | null): string {
  return marshal({ k: 'ptr', elem: SERVE_CONFIG }, config);
}

export function serveConfigETag(config: ServeConfig | null): string {
  return createHash('sha256').update(marshalServeConfig(config)).digest('hex');
}

/** Round-trips through JSON as tailscaled's state store does (a deep copy). */
export function cloneServeConfig(config: ServeConfig): ServeConfig {
  const r = decodeServeConfig(marshalServeConfig(config));
  if (!r.ok) throw new Error(`serve config does not round-trip: ${r.error}`);
  return r.config;
}

// ---- lookups (ipn/serve.go ServeConfigView) ----

/** FindTCP: a foreground session's handler first, then the background one. */
export function findTCP(sc: ServeConfig, port: number): TCPPortHandler | null | undefined {
  for (const fg of sc.Foreground?.values() ?? []) if (fg?.TCP?.has(port)) return fg.TCP.get(port);
  return sc.TCP?.has(port) ? sc.TCP.get(port) : undefined;
}

function findForegroundTCP(sc: ServeConfig, port: number): boolean {
  for (const fg of sc.Foreground?.values() ?? []) if (fg?.TCP?.has(port)) return true;
  return false;
}

/** FindWeb: foreground first, then background. */
export function findWeb(sc: ServeConfig, hostPort: string): WebServerConfig | null | undefined {
  for (const fg of sc.Foreground?.values() ?? []) if (fg?.Web?.has(hostPort)) return fg.Web.get(hostPort);
  return sc.Web?.has(hostPort) ? sc.Web.get(hostPort) : undefined;
}

/** HasFunnelForTarget. */
export function hasFunnelForTarget(sc: ServeConfig, hostPort: string): boolean {
  if (sc.AllowFunnel?.get(hostPort) === true) return true;
  for (const fg of sc.Foreground?.values() ?? []) if (fg?.AllowFunnel?.get(hostPort) === true) return true;
  return false;
}

// ---- validateServeConfigUpdate (ipn/ipnlocal/serve.go) ----

function serveType(h: TCPPortHandler | null | undefined): string {
  // A null handler would make tailscaled dereference nil; here it is simply of no known type.
  if (!h) return 'unknownServeType';
  if (h.HTTP) return 'http';
  if (h.HTTPS) return 'https';
  if (h.TerminateTLS !== '') return 'tls-terminated-tcp';
  if (h.TCPForward !== '') return 'tcp';
  return 'unknownServeType';
}

/** TCPs(): the ports of the config and of its foreground sessions. */
function tcpPorts(sc: ServeConfig): number[] {
  const ports = [...(sc.TCP?.keys() ?? [])];
  for (const fg of sc.Foreground?.values() ?? []) ports.push(...(fg?.TCP?.keys() ?? []));
  return ports;
}

const sorted = <K>(m: Map<K, unknown> | null | undefined): K[] => [...(m?.keys() ?? [])].sort((a, b) => (String(a) < String(b) ? -1 : 1));

/**
 * The checks SetServeConfig makes before storing; returns the error text or undefined. Go walks
 * maps in random order, so with several conflicts which one it names varies; here keys go sorted.
 */
export function validateServeConfigUpdate(existing: ServeConfig | null, incoming: ServeConfig): string | undefined {
  for (const name of sorted(incoming.Services)) {
    const svc = incoming.Services?.get(name);
    if (svc?.Tun && ((svc.TCP?.size ?? 0) > 0 || (svc.Web?.size ?? 0) > 0)) return `cannot configure TUN mode in combination with TCP or web handlers for ${name}`;
  }
  if (!existing) return undefined;
  for (const session of sorted(incoming.Foreground)) {
    if (existing.Foreground?.has(session)) continue;
    const fg = incoming.Foreground?.get(session);
    for (const port of fg ? tcpPorts(fg) : []) if (findTCP(existing, port) !== undefined) return `listener already exists for port ${port}`;
  }
  for (const port of sorted(incoming.TCP)) if (findForegroundTCP(existing, port)) return `foreground listener already exists for port ${port}`;
  for (const port of sorted(incoming.TCP)) {
    const had = findTCP(existing, port);
    if (had === undefined) continue;
    const want = serveType(incoming.TCP?.get(port));
    if (want !== serveType(had)) return `want to serve "${want}", but port ${port} is already serving "${serveType(had)}"`;
  }
  for (const name of sorted(incoming.Services)) {
    const inc = incoming.Services?.get(name);
    const ex = existing.Services?.get(name);
    if (!existing.Services?.has(name) || !inc || !ex) continue;
    for (const port of sorted(inc.TCP)) {
      if (!ex.TCP?.has(port)) continue;
      const want = serveType(inc.TCP?.get(port));
      const have = serveType(ex.TCP.get(port));
      if (want !== have) return `want to serve "${want}", but port ${port} is already serving "${have}" for ${name}`;
    }
    const exHandlers = (ex.TCP?.size ?? 0) > 0 || (ex.Web?.size ?? 0) > 0;
    if (inc.Tun && exHandlers) return `cannot turn on TUN mode with existing TCP or web handlers for ${name}`;
    const incHandlers = (inc.TCP?.size ?? 0) > 0 || (inc.Web?.size ?? 0) > 0;
    if (incHandlers && ex.Tun) return `cannot add TCP or web handlers as TUN mode is enabled for ${name}`;
  }
  return undefined;
}
