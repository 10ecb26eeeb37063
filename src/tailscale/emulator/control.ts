// A small HTTP control API over a unix socket, so that a dev tailnet running
// in another process (`fcp dev-tailnet up`) can be driven at run time.
//   GET  /control/v0/devices                      -> live device list
//   POST /control/v0/devices/<name>/online  {"online": false}
//   POST /control/v0/devices/<name>/path    {"path": "derp"}
//   POST /control/v0/devices/<name>/latency {"ms": 80}
//   POST /control/v0/devices/<name>/fault   {"fault": "hang"}
//   POST /control/v0/devices/<name>/remove
//   POST /control/v0/stop
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { rmSync } from 'node:fs';
import type { DevTailnet, DevTailnetSnapshotDevice } from './dev-tailnet.js';
import type { EmulatedPath, EmulatorFault } from './description.js';
import { DevTailnetError } from './errors.js';

const MAX_BODY = 64 * 1024;

export interface ControlServer {
  readonly socketPath: string;
  close(): Promise<void>;
}

export async function startControlServer(tailnet: DevTailnet, socketPath: string, onStop: () => void): Promise<ControlServer> {
  rmSync(socketPath, { force: true });
  const server: Server = createServer((req, res) => {
    handle(tailnet, req, res, onStop).catch((err: unknown) => reply(res, statusFor(err), errorBody(err)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new DevTailnetError('DEV_TAILNET_SOCKET', `cannot listen on ${socketPath}: ${err.message}`, { cause: err })));
    server.listen(socketPath, () => resolve());
  });
  return {
    socketPath,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          rmSync(socketPath, { force: true });
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}

function statusFor(err: unknown): number {
  if (err instanceof DevTailnetError) return err.code === 'DEV_TAILNET_UNKNOWN_DEVICE' ? 404 : 400;
  return 500;
}

function errorBody(err: unknown): Record<string, string> {
  if (err instanceof DevTailnetError) return { error: err.message, code: err.code };
  return { error: err instanceof Error ? err.message : String(err), code: 'DEV_TAILNET_CONTROL' };
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body) + '\n');
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req as AsyncIterable<Buffer>) {
    text += chunk.toString('utf8');
    if (text.length > MAX_BODY) throw new DevTailnetError('DEV_TAILNET_BAD_ARGUMENT', 'control request body too large');
  }
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new DevTailnetError('DEV_TAILNET_BAD_ARGUMENT', 'control request body is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new DevTailnetError('DEV_TAILNET_BAD_ARGUMENT', 'control request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

async function handle(tailnet: DevTailnet, req: IncomingMessage, res: ServerResponse, onStop: () => void): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://control').pathname;
  if (req.method === 'GET' && path === '/control/v0/devices') {
    return reply(res, 200, { tailnet: tailnet.tailnet, devices: tailnet.snapshot() });
  }
  if (req.method === 'POST' && path === '/control/v0/stop') {
    reply(res, 200, { stopping: true });
    res.on('finish', onStop);
    return;
  }
  const m = /^\/control\/v0\/devices\/([^/]+)\/(online|path|latency|fault|remove)$/.exec(path);
  if (req.method !== 'POST' || !m) return reply(res, 404, { error: `no control endpoint ${req.method ?? ''} ${path}`, code: 'DEV_TAILNET_CONTROL' });
  const name = decodeURIComponent(m[1] ?? '');
  const body = await readJson(req);
  switch (m[2]) {
    case 'online':
      tailnet.setOnline(name, body['online'] as boolean);
      break;
    case 'path':
      tailnet.setPath(name, body['path'] as EmulatedPath);
      break;
    case 'latency':
      tailnet.setLatency(name, body['ms'] as number);
      break;
    case 'fault':
      await tailnet.setFault(name, body['fault'] as EmulatorFault);
      break;
    default:
      tailnet.removeNode(name);
  }
  reply(res, 200, { device: tailnet.snapshot().find((d) => d.name === name) });
}

/** Talks to the control API of a dev tailnet running elsewhere. */
export class DevTailnetControlClient {
  constructor(readonly socketPath: string, private readonly timeoutMs = 5000) {}

  async devices(): Promise<{ tailnet: string; devices: DevTailnetSnapshotDevice[] }> {
    return (await this.call('GET', '/control/v0/devices')) as { tailnet: string; devices: DevTailnetSnapshotDevice[] };
  }
  async setOnline(name: string, online: boolean): Promise<void> {
    await this.call('POST', `/control/v0/devices/${encodeURIComponent(name)}/online`, { online });
  }
  async setPath(name: string, path: EmulatedPath): Promise<void> {
    await this.call('POST', `/control/v0/devices/${encodeURIComponent(name)}/path`, { path });
  }
  async setLatency(name: string, ms: number): Promise<void> {
    await this.call('POST', `/control/v0/devices/${encodeURIComponent(name)}/latency`, { ms });
  }
  async setFault(name: string, fault: EmulatorFault): Promise<void> {
    await this.call('POST', `/control/v0/devices/${encodeURIComponent(name)}/fault`, { fault });
  }
  async removeNode(name: string): Promise<void> {
    await this.call('POST', `/control/v0/devices/${encodeURIComponent(name)}/remove`);
  }
  async stop(): Promise<void> {
    await this.call('POST', '/control/v0/stop');
  }

  private call(method: string, path: string, body?: unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const req = request({ socketPath: this.socketPath, method, path, headers: { 'Content-Type': 'application/json' }, agent: false });
      const timer = setTimeout(() => {
        req.destroy();
        reject(new DevTailnetError('DEV_TAILNET_CONTROL', `the dev tailnet at ${this.socketPath} did not answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(
          new DevTailnetError('DEV_TAILNET_CONTROL', `no dev tailnet answers at ${this.socketPath} (${err.message}); start one with "fcp dev-tailnet up"`, {
            cause: err,
          }),
        );
      });
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          clearTimeout(timer);
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            reject(new DevTailnetError('DEV_TAILNET_CONTROL', `bad answer from the dev tailnet control API: ${text.slice(0, 200)}`));
            return;
          }
          if ((res.statusCode ?? 0) !== 200) {
            const e = parsed as { error?: string; code?: string };
            const code = e.code === 'DEV_TAILNET_UNKNOWN_DEVICE' || e.code === 'DEV_TAILNET_BAD_ARGUMENT' ? e.code : 'DEV_TAILNET_CONTROL';
            reject(new DevTailnetError(code, e.error ?? `control API answered HTTP ${res.statusCode ?? 0}`));
            return;
          }
          resolve(parsed);
        });
      });
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }
}
