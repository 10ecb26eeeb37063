// The daemon's local control API: HTTP over a unix socket (mode 0600) in the data directory.
// Only the local user reaches it, as the LOCAL_CONTROL principal; every route calls a service,
// which authorizes. One route table keyed by method and path; errors carry the stable code and
// the HTTP status of its kind.
import http from 'node:http';
import { chmod, rm } from 'node:fs/promises';
import { LOCAL_CONTROL, type Principal } from '../authz/index.js';
import { describeError } from '../errors/index.js';
import type { MeshServices } from '../sovereign-mesh.js';
import type { PutEntry } from '../services/index.js';
import { ControlError } from './control-client.js';
import { requestBody } from './request-body.js';
import { parseSettings } from '../hub/profile.js';

export const CONTROL_SOCKET = 'fcpd.sock';
/** Objects are coded in memory; past this a store is refused up front with a clear error. */
const MAX_UPLOAD = 2 * 1024 * 1024 * 1024 - 1;
const MAX_SECRET_BODY = 64 * 1024;
/** A names request (a put of a tree names every file in one body: 100k names fit). */
const MAX_NAMES_BODY = 64 * 1024 * 1024;
const MAX_HUB_BODY = 8 * 1024 * 1024;

async function readJsonBody(req: http.IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const raw = await readBody(req, limit);
  let v: unknown;
  try {
    v = JSON.parse(raw.toString('utf8'));
  } catch {
    throw badRequest('the body is not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badRequest('the body must be a JSON object');
  return v as Record<string, unknown>;
}

interface Request {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  query: URLSearchParams;
  /** The path parameter of routes ending in `:param`. */
  param: string;
}

type Reply = { json: unknown } | { sent: true };
type Route = { method: string; path: string; handle: (r: Request) => Promise<Reply> };

const P = LOCAL_CONTROL;

function badRequest(message: string): ControlError {
  return new ControlError('CONTROL_BAD_REQUEST', message);
}

function optionalInt(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw badRequest(`${name} must be a whole number, got ${v}`);
  return n;
}

async function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new ControlError('CONTROL_TOO_LARGE', `a ${declared}-byte body is over the ${limit}-byte limit; split the file`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new ControlError('CONTROL_TOO_LARGE', `request body over ${limit} bytes: objects this large are not supported; split the file`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** An AbortSignal that fires when the client goes away before the reply is complete. */
function cancelOnClose(res: http.ServerResponse, req?: http.IncomingMessage): AbortSignal {
  const ac = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) ac.abort();
  });
  req?.once('close', () => {
    if (!req.complete) ac.abort();
  });
  return ac.signal;
}

function waitDrain(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

type WarnLog = { warn: (obj: object, msg: string) => void };

/** A JSON object body (names requests). */
function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  return readJsonBody(req, MAX_NAMES_BODY);
}

const optText = (v: unknown, name: string): string | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw badRequest(`${name} must be a string`);
  return v;
};
const zoneOpt = (v: unknown): { zone?: string } => {
  const zone = optText(v, 'zone');
  return zone ? { zone } : {};
};

/** Names, directories and versions (the names service). */
function fileRoutes(s: MeshServices): Route[] {
  return [
    { method: 'GET', path: '/v1/files/zone', handle: async ({ query }) => ({ json: { zone: s.names.zoneOf(query.get('zone') ?? undefined).id } }) },
    {
      method: 'GET',
      path: '/v1/files',
      handle: async ({ query }) => ({ json: await s.names.list(P, query.get('path') ?? '', { ...zoneOpt(query.get('zone')), recursive: query.get('recursive') === '1' }) }),
    },
    {
      method: 'POST',
      path: '/v1/files',
      handle: async ({ req }) => {
        const b = await readJson(req);
        if (!Array.isArray(b.entries)) throw badRequest('entries must be an array');
        const message = optText(b.message, 'message');
        const session = optText(b.session, 'session');
        return { json: await s.names.put(P, b.entries as PutEntry[], { ...zoneOpt(b.zone), ...(message ? { message } : {}), ...(session ? { session } : {}) }) };
      },
    },
    {
      method: 'POST',
      path: '/v1/files/mv',
      handle: async ({ req }) => {
        const b = await readJson(req);
        return { json: await s.names.move(P, optText(b.from, 'from') ?? '', optText(b.to, 'to') ?? '', zoneOpt(b.zone)) };
      },
    },
    {
      method: 'POST',
      path: '/v1/files/rm',
      handle: async ({ req }) => {
        const b = await readJson(req);
        return { json: await s.names.remove(P, optText(b.path, 'path') ?? '', { ...zoneOpt(b.zone), recursive: b.recursive === true }) };
      },
    },
    { method: 'GET', path: '/v1/files/log', handle: async ({ query }) => ({ json: await s.names.log(P, query.get('path') ?? '', zoneOpt(query.get('zone'))) }) },
    {
      method: 'POST',
      path: '/v1/files/forget',
      handle: async ({ req }) => {
        const b = await readJson(req);
        if (typeof b.keepLast !== 'number') throw badRequest('keepLast must be a number');
        return { json: await s.names.forget(P, b.keepLast, zoneOpt(b.zone)) };
      },
    },
    {
      method: 'POST',
      path: '/v1/files/gc',
      handle: async ({ req }) => {
        const b = await readJson(req);
        if (b.graceMs !== undefined && typeof b.graceMs !== 'number') throw badRequest('graceMs must be a number of milliseconds');
        return { json: await s.names.gc(P, { ...zoneOpt(b.zone), ...(typeof b.graceMs === 'number' ? { graceMs: b.graceMs } : {}) }) };
      },
    },
  ];
}

function routes(s: MeshServices, log?: WarnLog): Route[] {
  return [
    ...fileRoutes(s),
    { method: 'GET', path: '/v1/status', handle: async () => ({ json: await s.admin.status(P) }) },
    {
      method: 'GET',
      path: '/v1/objects',
      handle: async ({ res, query }) => {
        const l = await s.objects.listing(P, query.get('zone') ?? undefined);
        await writeJsonArray(res, l.count, (i) => l.at(i));
        return { sent: true };
      },
    },
    { method: 'GET', path: '/v1/health', handle: async ({ query }) => ({ json: await s.objects.health(P, query.get('zone') ?? undefined) }) },
    {
      method: 'POST',
      path: '/v1/objects',
      handle: async ({ req, query }) => {
        const zone = query.get('zone');
        if (!zone) throw badRequest('zone is required');
        const tolerate = optionalInt(query, 'tolerate');
        const data = await readBody(req, MAX_UPLOAD);
        const objectId = await s.objects.put(P, new Uint8Array(data.buffer, data.byteOffset, data.length), zone, {
          ...(query.get('schema') ? { schema: query.get('schema')! } : {}),
          ...(tolerate !== undefined ? { policy: { tolerate } } : {}),
        });
        return { json: { objectId, bytes: data.length, zone } };
      },
    },
    { method: 'GET', path: '/v1/usage', handle: async ({ query }) => ({ json: await s.objects.usage(P, query.get('zone') ?? undefined) }) },
    // Files of any size: the body streams into the content service (no buffering; the socket's
    // backpressure holds the client while chunks are placed); a client that goes away cancels.
    {
      method: 'POST',
      path: '/v1/content',
      handle: async ({ req, res, query }) => {
        const zone = query.get('zone');
        if (!zone) throw badRequest('zone is required');
        const tolerate = optionalInt(query, 'tolerate');
        const signal = cancelOnClose(res, req);
        const session = query.get('session') ?? undefined;
        const r = await s.content.putStream(P, zone, requestBody(req), { signal, ...(tolerate !== undefined ? { tolerate } : {}), ...(session !== undefined ? { session } : {}) });
        return { json: { ...r, zone } };
      },
    },
    {
      method: 'GET',
      path: '/v1/content/:id',
      handle: async ({ res, param, query }) => {
        const signal = cancelOnClose(res);
        const c = await s.content.getStream(P, param, { verify: query.get('verify') === '1', signal, reuse: true });
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': c.size, 'x-fcp-object-id': c.id, 'x-fcp-zone': c.zone });
        try {
          for await (const chunk of c.stream) {
            // Once written out (or failed), the chunk's buffer takes the next chunk.
            if (!res.write(chunk, () => c.release(chunk))) await waitDrain(res);
          }
          await new Promise<void>((resolve) => res.end(() => resolve()));
        } catch (err) {
          // Headers are out: the client sees the body end short of content-length.
          log?.warn({ objectId: c.id, err: (err as Error).message }, 'content stream broke off');
          res.destroy();
        }
        return { sent: true };
      },
    },
    { method: 'GET', path: '/v1/objects/:id/health', handle: async ({ param }) => ({ json: await s.objects.inspect(P, param) }) },
    {
      method: 'GET',
      path: '/v1/objects/:id',
      handle: async ({ res, param, query }) => {
        const data = await s.objects.get(P, param, { verify: query.get('verify') === '1' });
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': data.length });
        res.end(data);
        return { sent: true };
      },
    },
    { method: 'POST', path: '/v1/invites', handle: async () => ({ json: s.admin.invite(P) }) },
    { method: 'POST', path: '/v1/keys/reload', handle: async () => ({ json: { zones: await s.admin.reloadKeys(P) } }) },
    { method: 'POST', path: '/v1/repair', handle: async () => ({ json: await s.admin.repair(P) }) },
    { method: 'POST', path: '/v1/scrub', handle: async ({ query }) => ({ json: await s.admin.scrub(P, optionalInt(query, 'symbols') ?? 1_000_000) }) },
    {
      method: 'POST',
      path: '/v1/shutdown',
      handle: async ({ res }) => {
        writeJson(res, 200, { ok: true });
        s.admin.shutdown(P);
        return { sent: true };
      },
    },
    {
      method: 'GET',
      path: '/v1/audit',
      handle: async ({ query }) => {
        const since = optionalInt(query, 'since');
        const limit = optionalInt(query, 'limit');
        return { json: s.audit.log(P, { ...(query.get('zone') ? { zone: query.get('zone')! } : {}), ...(since !== undefined ? { sinceMs: since } : {}), ...(limit !== undefined ? { limit } : {}) }) };
      },
    },
    {
      method: 'POST',
      path: '/v1/audit/verify',
      handle: async ({ query }) => {
        const min = optionalInt(query, 'min-witnesses');
        return { json: await s.audit.verify(P, min !== undefined ? { minWitnesses: min } : {}) };
      },
    },
    {
      method: 'GET',
      path: '/v1/audit/proof',
      handle: async ({ query }) => {
        const index = optionalInt(query, 'index');
        const zone = query.get('zone');
        if (!zone || index === undefined) throw badRequest('a proof needs zone and index (EVENT is ZONE#INDEX, as `fcp audit log` prints it)');
        return { json: await s.audit.proof(P, zone, index) };
      },
    },
    {
      method: 'POST',
      path: '/v1/audit/rebuild',
      handle: async ({ query }) => ({ json: await s.audit.rebuild(P, query.get('zone') ? [query.get('zone')!] : undefined) }),
    },
    // Secrets: values travel only over this 0600 local socket, never in argv or logs.
    { method: 'GET', path: '/v1/secrets', handle: async () => ({ json: await s.secrets.list(P) }) },
    // The hub across devices: device profiles and where each connector runs.
    { method: 'GET', path: '/v1/devices', handle: async () => ({ json: s.hubMesh.devices(P) }) },
    {
      method: 'POST',
      path: '/v1/device',
      handle: async ({ req }) => {
        const words = (await readJsonBody(req, MAX_SECRET_BODY)).set;
        if (!Array.isArray(words) || !words.every((w) => typeof w === 'string')) throw badRequest('body must be {"set": ["key=value", ...]}');
        return { json: await s.hubMesh.setProfile(P, parseSettings(words as string[])) };
      },
    },
    { method: 'GET', path: '/v1/devices/:name/removal', handle: async ({ param }) => ({ json: s.lifecycle.planRemoval(P, param) }) },
    { method: 'POST', path: '/v1/devices/:name/remove', handle: async ({ param }) => ({ json: await s.lifecycle.removeDevice(P, param) }) },
    // A reset device's new node key (`fcp device trust`): what it presents now, then pin it.
    { method: 'GET', path: '/v1/devices/:name/trust', handle: async ({ param }) => ({ json: await s.lifecycle.planTrust(P, param) }) },
    {
      method: 'POST',
      path: '/v1/devices/:name/trust',
      handle: async ({ param, req }) => {
        const expect = (await readJson(req)).expect;
        if (expect !== undefined && typeof expect !== 'string') throw badRequest('body must be {"expect": "<fingerprint>"} or {}');
        return { json: await s.lifecycle.trustDevice(P, param, expect) };
      },
    },
    { method: 'POST', path: '/v1/zones/:zone/rotate', handle: async ({ param }) => ({ json: await s.lifecycle.rotateZone(P, param) }) },
    // The threshold owner key (docs/owner.md).
    { method: 'GET', path: '/v1/owner', handle: async () => ({ json: await s.owner.status(P) }) },
    {
      method: 'POST',
      path: '/v1/owner/init',
      handle: async ({ req }) => {
        const t = (await readJsonBody(req, MAX_SECRET_BODY)).threshold;
        if (t !== undefined && (typeof t !== 'number' || !Number.isInteger(t))) throw badRequest('body must be {"threshold": K} with an integer K, or {}');
        return { json: await s.owner.init(P, t as number | undefined) };
      },
    },
    { method: 'GET', path: '/v1/hub/placements', handle: async () => ({ json: s.hubMesh.placementsFor(P) }) },
    { method: 'POST', path: '/v1/secrets-restore', handle: async () => ({ json: await s.secrets.restore(P) }) },
    {
      method: 'PUT',
      path: '/v1/secrets/:name',
      handle: async ({ req, query, param }) => {
        const k = optionalInt(query, 'k');
        const n = optionalInt(query, 'n');
        const zone = query.get('zone');
        if (k === undefined || n === undefined || !zone) throw badRequest('k, n and zone are required');
        const value = await readBody(req, MAX_SECRET_BODY);
        try {
          await s.secrets.put(P, param, new Uint8Array(value.buffer, value.byteOffset, value.length), { k, n, zone });
        } finally {
          value.fill(0);
        }
        return { json: { name: param, k, n, zone } };
      },
    },
    {
      method: 'POST',
      path: '/v1/secrets/:name/use',
      handle: async ({ res, param }) => {
        await s.secrets.use(P, param, async (buf) => {
          res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': buf.length });
          await new Promise<void>((resolve) => res.end(Buffer.from(buf.buffer, buf.byteOffset, buf.length), () => resolve()));
        });
        return { sent: true };
      },
    },
    { method: 'POST', path: '/v1/secrets/:name/rotate', handle: async ({ param }) => (await s.secrets.rotate(P, param), { json: { name: param, rotated: true } }) },
    { method: 'DELETE', path: '/v1/secrets/:name', handle: async ({ param }) => (await s.secrets.remove(P, param), { json: { name: param, removed: true } }) },
    // The hub: connectors (manifests as JSON bodies) and invokes.
    { method: 'GET', path: '/v1/hub/connectors', handle: async () => ({ json: s.hub.list(P) }) },
    { method: 'POST', path: '/v1/hub/connectors', handle: async ({ req }) => ({ json: await s.hub.install(P, await readJsonBody(req, MAX_HUB_BODY)) }) },
    {
      method: 'POST',
      path: '/v1/hub/connectors/:id/move',
      handle: async ({ req, param }) => {
        const b = await readJsonBody(req, MAX_HUB_BODY);
        if (typeof b.device !== 'string') throw badRequest('device is required');
        return { json: await s.hub.move(P, param, b.device) };
      },
    },
    { method: 'DELETE', path: '/v1/hub/connectors/:id', handle: async ({ param }) => (await s.hub.remove(P, param), { json: { id: param, removed: true } }) },
    { method: 'GET', path: '/v1/hub/tools', handle: async ({ req }) => ({ json: s.hub.callable(callerOf(req)) }) },
    { method: 'GET', path: '/v1/tokens', handle: async () => ({ json: await s.tokens.list(P) }) },
    { method: 'GET', path: '/v1/funnel', handle: async () => ({ json: await s.gateway.funnelStatus(P) }) },
    {
      method: 'POST',
      path: '/v1/funnel',
      handle: async ({ req }) => {
        const b = await readJsonBody(req, MAX_HUB_BODY);
        if (typeof b.on !== 'boolean') throw badRequest('on must be true or false');
        if (b.port !== undefined && (typeof b.port !== 'number' || !Number.isInteger(b.port))) throw badRequest('port must be a port number');
        return { json: await s.gateway.setFunnel(P, b.on, (b.port as number | undefined) ?? 443) };
      },
    },
    { method: 'GET', path: '/v1/funnel/keys', handle: async () => ({ json: await s.gateway.listKeys(P) }) },
    {
      method: 'POST',
      path: '/v1/funnel/keys',
      handle: async ({ req }) => {
        const b = await readJsonBody(req, MAX_HUB_BODY);
        if (typeof b.name !== 'string') throw badRequest('name is required');
        return { json: await s.gateway.addKey(P, b.name) };
      },
    },
    {
      method: 'POST',
      path: '/v1/funnel/keys/revoke',
      handle: async ({ req }) => {
        const b = await readJsonBody(req, MAX_HUB_BODY);
        if (typeof b.key !== 'string' || b.key.length === 0) throw badRequest('key (an id or a name) is required');
        return { json: await s.gateway.revokeKey(P, b.key) };
      },
    },
    { method: 'GET', path: '/v1/revocations', handle: async () => ({ json: s.revocations.head() }) },
    {
      method: 'POST',
      path: '/v1/tokens/revoke',
      handle: async ({ req }) => {
        const b = await readJsonBody(req, MAX_HUB_BODY);
        if (!Array.isArray(b.ids) || !b.ids.every((x) => typeof x === 'string')) throw badRequest('ids must be a list of token ids');
        return { json: await s.revocations.revoke(P, b.ids as string[], optText(b.reason, 'reason') ?? '') };
      },
    },
    {
      method: 'POST',
      path: '/v1/tokens',
      handle: async ({ req }) => {
        const b = await readJsonBody(req, MAX_HUB_BODY);
        const texts = (k: string, required: boolean): string[] | undefined => {
          const v = b[k];
          if (v === undefined && !required) return undefined;
          if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && x.length > 0 && x.length <= 128)) throw badRequest(`${k} must be a list of names`);
          return v as string[];
        };
        if (typeof b.connector !== 'string' || b.connector.length === 0) throw badRequest('connector is required');
        if (typeof b.ttlSeconds !== 'number') throw badRequest('ttlSeconds is required');
        const name = optText(b.name, 'name');
        const forKey = optText(b.holderKey, 'holderKey');
        if (forKey !== undefined && !/^[0-9a-f]{64}$/.test(forKey)) throw badRequest('holderKey is an Ed25519 public key in 64 hex digits');
        const zones = texts('zones', false);
        const m = await s.tokens.mint(P, { connector: b.connector, ops: texts('ops', true)!, ttlSeconds: b.ttlSeconds, ...(zones ? { zones } : {}), ...(name ? { name } : {}), ...(forKey ? { holderKey: new Uint8Array(Buffer.from(forKey, 'hex')) } : {}) });
        return { json: { ...m, token: Buffer.from(m.token).toString('base64url'), ...(m.key ? { key: Buffer.from(m.key).toString('base64url') } : {}) } };
      },
    },
    {
      method: 'POST',
      path: '/v1/hub/invoke',
      handle: async ({ req }) => {
        const b = await readJsonBody(req, MAX_HUB_BODY);
        if (typeof b.connector !== 'string' || typeof b.operation !== 'string') throw badRequest('connector and operation are required');
        const str = (k: string): string | undefined => {
          if (b[k] === undefined) return undefined;
          if (typeof b[k] !== 'string') throw badRequest(`${k} must be a string`);
          return b[k] as string;
        };
        const timeoutMs = b.timeoutMs;
        if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0)) throw badRequest('timeoutMs must be a positive number');
        const idempotencyKey = str('idempotencyKey');
        const traceId = str('traceId');
        const result = await s.hub.invoke(callerOf(req, traceId), b.connector, b.operation, b.input ?? {}, {
          ...(typeof timeoutMs === 'number' ? { deadline: Date.now() + timeoutMs } : {}),
          ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
          ...(traceId !== undefined ? { traceId } : {}),
        });
        return { json: { result: result ?? null } };
      },
    },
  ];
}

/**
 * The local caller, with the capability token it presents (an agent's, `fcp mcp --token`):
 * `X-FCP-Token` (base64url COSE_Sign1) and, for an invoke, `X-FCP-Proof` (`TIME.SIGNATURE`, the
 * holder's signature over the request's trace id). Without them, the local user (this device's grant).
 */
function callerOf(req: http.IncomingMessage, traceId?: string): Principal {
  const token = req.headers['x-fcp-token'];
  if (token === undefined) return P;
  if (typeof token !== 'string' || !/^[A-Za-z0-9_-]{1,22000}$/.test(token)) throw badRequest('X-FCP-Token must be one base64url value');
  const proof = req.headers['x-fcp-proof'];
  if (proof === undefined) return { ...P, credential: { token: new Uint8Array(Buffer.from(token, 'base64url')) } };
  const m = typeof proof === 'string' ? /^(\d{1,12})\.([A-Za-z0-9_-]{86})$/.exec(proof) : null;
  if (!m) throw badRequest('X-FCP-Proof must be TIME.SIGNATURE (seconds, base64url Ed25519 signature)');
  if (traceId === undefined) throw badRequest('an invoke with X-FCP-Proof names its traceId (the proof signs it)');
  return { ...P, credential: { token: new Uint8Array(Buffer.from(token, 'base64url')), proof: { requestId: traceId, time: Number(m[1]), signature: new Uint8Array(Buffer.from(m[2]!, 'base64url')) } } };
}

/** Matches a path against a route pattern with at most one `:param` segment. */
function match(pattern: string, path: string): string | null {
  const a = pattern.split('/');
  const b = path.split('/');
  if (a.length !== b.length) return null;
  let param = '';
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.startsWith(':')) {
      if (b[i] === '') return null;
      try {
        param = decodeURIComponent(b[i]!);
      } catch {
        return null;
      }
    } else if (a[i] !== b[i]) return null;
  }
  return param;
}

function writeJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Entries written per chunk of a JSON array reply. */
const ARRAY_CHUNK = 512;

/**
 * A JSON array reply written a chunk of entries at a time (the same text JSON.stringify gives the
 * whole array), waiting for the socket to drain between chunks: a listing of 100k objects is
 * neither one string nor 100k entries held at once. Entry i is `entry(i)`.
 */
export async function writeJsonArray(res: http.ServerResponse, count: number, entry: (i: number) => unknown): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/json' });
  let closed = false;
  res.once('close', () => (closed = true));
  for (let start = 0; start < count || start === 0; start += ARRAY_CHUNK) {
    const parts: string[] = [];
    for (let i = start; i < Math.min(count, start + ARRAY_CHUNK); i++) parts.push(JSON.stringify(entry(i)) ?? 'null');
    const text = `${start === 0 ? '[' : ','}${parts.join(',')}${start + ARRAY_CHUNK >= count ? ']' : ''}`;
    if (closed) return;
    if (!res.write(text)) {
      await new Promise<void>((resolve) => {
        const done = () => (res.off('drain', done), res.off('close', done), resolve());
        res.on('drain', done);
        res.on('close', done);
      });
    }
    if (count === 0) break;
  }
  res.end();
}

export async function startControlServer(services: MeshServices, socketPath: string, log?: WarnLog): Promise<http.Server> {
  await rm(socketPath, { force: true });
  const table = routes(services, log);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fcpd');
    const method = req.method ?? 'GET';
    const found = table.map((r) => ({ r, param: r.method === method ? match(r.path, url.pathname) : null })).find((x) => x.param !== null);
    const run = found
      ? found.r.handle({ req, res, query: url.searchParams, param: found.param! })
      : Promise.reject(new ControlError('CONTROL_NOT_FOUND', `no such control endpoint: ${method} ${url.pathname}`));
    run.then(
      (reply) => {
        if ('json' in reply) writeJson(res, 200, reply.json);
      },
      (err: unknown) => {
        const d = describeError(err);
        if (res.headersSent) return void res.destroy();
        // Whatever of the body is still coming is read and dropped, so the reply gets through.
        if (!req.complete) req.resume();
        writeJson(res, d.http, { error: { code: d.code, message: d.message } });
      },
    );
  });
  // A streamed upload or download of a large file lasts as long as it lasts: Node's default
  // 300 s request timeout would cut it off with a 408. Only the local user reaches this socket.
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  await chmod(socketPath, 0o600);
  return server;
}
