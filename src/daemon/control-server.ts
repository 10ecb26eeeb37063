// The daemon's local control API: HTTP over a unix socket (mode 0600) in the data directory.
// Only the `fcp` command on this device talks to it; the mesh itself speaks FCP on TCP.
import http from 'node:http';
import { chmod, rm } from 'node:fs/promises';
import type { SovereignMesh } from '../sovereign-mesh.js';

export const CONTROL_SOCKET = 'fcpd.sock';
/** Objects are coded in memory; past this a store is refused up front with a clear error. */
const MAX_UPLOAD = 2 * 1024 * 1024 * 1024 - 1;

interface ErrorLike {
  code?: string;
  message: string;
}

function statusFor(code: string | undefined): number {
  switch (code) {
    case 'MESH_NOT_FOUND':
    case 'SECRET_NOT_FOUND':
      return 404;
    case 'MESH_REFUSED':
    case 'SECRET_REFUSED':
      return 403;
    case 'MESH_BAD_POLICY':
    case 'SECRET_BAD_PARAMS':
    case 'CONTROL_BAD_REQUEST':
      return 400;
    case 'MESH_UNAVAILABLE':
    case 'MESH_TOO_FEW_DEVICES':
    case 'SECRET_TOO_FEW_SHARES':
      return 503;
    default:
      return 500;
  }
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: http.IncomingMessage, limit = MAX_UPLOAD): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw Object.assign(new Error(`request body over ${limit} bytes: objects this large are not supported; split the file`), { code: 'CONTROL_BAD_REQUEST' });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function optionalInt(v: string | null): number | undefined {
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw Object.assign(new Error(`not a number: ${v}`), { code: 'CONTROL_BAD_REQUEST' });
  return n;
}

export async function startControlServer(mesh: SovereignMesh, socketPath: string, onShutdown: () => void): Promise<http.Server> {
  await rm(socketPath, { force: true });
  const server = http.createServer((req, res) => {
    route(mesh, req, res, onShutdown).catch((err: ErrorLike) => sendJson(res, statusFor(err.code), { error: { code: err.code ?? 'INTERNAL', message: err.message } }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  await chmod(socketPath, 0o600);
  return server;
}

async function route(mesh: SovereignMesh, req: http.IncomingMessage, res: http.ServerResponse, onShutdown: () => void): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://fcpd');
  const path = url.pathname;
  const q = url.searchParams;
  const method = req.method ?? 'GET';

  if (method === 'GET' && path === '/v1/status') return sendJson(res, 200, await mesh.node.status());
  if (method === 'GET' && path === '/v1/objects') return sendJson(res, 200, await mesh.list(q.get('zone') ?? undefined));
  if (method === 'POST' && path === '/v1/objects') {
    const zone = q.get('zone');
    if (!zone) throw Object.assign(new Error('zone is required'), { code: 'CONTROL_BAD_REQUEST' });
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_UPLOAD) throw Object.assign(new Error(`a ${declared}-byte object is over the ${MAX_UPLOAD}-byte limit; split the file`), { code: 'CONTROL_BAD_REQUEST' });
    const data = await readBody(req);
    const tolerate = optionalInt(q.get('tolerate'));
    const objectId = await mesh.store(new Uint8Array(data.buffer, data.byteOffset, data.length), zone, {
      ...(q.get('schema') ? { schema: q.get('schema')! } : {}),
      ...(tolerate !== undefined ? { policy: { tolerate } } : {}),
    });
    return sendJson(res, 200, { objectId, bytes: data.length, zone });
  }
  const healthMatch = /^\/v1\/objects\/([0-9a-fA-F]+)\/health$/.exec(path);
  if (method === 'GET' && healthMatch) return sendJson(res, 200, await mesh.node.health(await mesh.node.manifest(healthMatch[1]!)));
  const objectMatch = /^\/v1\/objects\/([0-9a-fA-F]+)$/.exec(path);
  if (method === 'GET' && objectMatch) {
    const data = await mesh.retrieve(objectMatch[1]!, { verify: q.get('verify') === '1' });
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': data.length });
    res.end(data);
    return;
  }
  if (method === 'POST' && path === '/v1/invites') {
    const invite = mesh.node.createInvite();
    return sendJson(res, 200, { ...invite, address: mesh.node.self.address, hostName: mesh.node.self.hostName });
  }
  if (method === 'POST' && path === '/v1/keys/reload') {
    await mesh.node.reloadKeys();
    return sendJson(res, 200, { zones: mesh.node.keyring.zoneIds() });
  }
  if (method === 'POST' && path === '/v1/repair') {
    const outcomes = await mesh.node.repair.pass();
    const counts: Record<string, number> = {};
    for (const o of outcomes.values()) counts[o] = (counts[o] ?? 0) + 1;
    return sendJson(res, 200, { outcomes: counts, stats: mesh.node.repair.stats });
  }
  if (method === 'POST' && path === '/v1/scrub') {
    const corrupt = await mesh.node.repair.scrubStep(optionalInt(q.get('symbols')) ?? 1_000_000);
    return sendJson(res, 200, { corrupt, stats: mesh.node.repair.stats });
  }
  if (method === 'POST' && path === '/v1/shutdown') {
    sendJson(res, 200, { ok: true });
    onShutdown();
    return;
  }
  // Secrets: values travel only over this 0600 local socket, never in argv or logs.
  if (method === 'GET' && path === '/v1/secrets') return sendJson(res, 200, await mesh.secrets.list());
  if (method === 'POST' && path === '/v1/secrets-restore') return sendJson(res, 200, await mesh.secrets.restore());
  const secretMatch = /^\/v1\/secrets\/([^/]+)(\/use|\/rotate)?$/.exec(path);
  if (secretMatch) {
    const name = decodeURIComponent(secretMatch[1]!);
    const action = secretMatch[2];
    if (method === 'PUT' && !action) {
      const value = await readBody(req, 64 * 1024);
      const k = optionalInt(q.get('k'));
      const n = optionalInt(q.get('n'));
      const zone = q.get('zone');
      if (k === undefined || n === undefined || !zone) throw Object.assign(new Error('k, n and zone are required'), { code: 'CONTROL_BAD_REQUEST' });
      try {
        await mesh.secrets.put(name, new Uint8Array(value.buffer, value.byteOffset, value.length), { k, n, zone });
      } finally {
        value.fill(0);
      }
      return sendJson(res, 200, { name, k, n, zone });
    }
    if (method === 'POST' && action === '/use') {
      await mesh.secrets.use(name, async (buf) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': buf.length });
        await new Promise<void>((resolve) => res.end(Buffer.from(buf.buffer, buf.byteOffset, buf.length), () => resolve()));
      });
      return;
    }
    if (method === 'POST' && action === '/rotate') {
      await mesh.secrets.rotate(name);
      return sendJson(res, 200, { name, rotated: true });
    }
    if (method === 'DELETE' && !action) {
      await mesh.secrets.remove(name);
      return sendJson(res, 200, { name, removed: true });
    }
  }
  sendJson(res, 404, { error: { code: 'CONTROL_NOT_FOUND', message: `no such control endpoint: ${method} ${path}` } });
}
