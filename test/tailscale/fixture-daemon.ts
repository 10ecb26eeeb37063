// A stand-in daemon that replays recorded tailscaled answers from
// test/fixtures/tailscale over a unix socket, byte for byte.
import { createServer, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const FIXTURES = 'test/fixtures/tailscale';

export function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

export interface ReplayRoutes {
  status?: string;
  /** whois answers by IP; other IPs get 404 like tailscaled. */
  whois?: Record<string, string>;
  /** ping answers by IP (all types). */
  ping?: Record<string, string>;
  /** ping answers by type, taking precedence over `ping`. */
  pingByType?: Record<string, string>;
  /** ipn bus lines, written at once; the stream then stays open. */
  watch?: string;
  /** Answer everything with this status and body instead. */
  override?: { status: number; body: string; contentType?: string };
}

export interface FixtureDaemon {
  socketPath: string;
  requests: Array<{ method: string; url: string; host: string; secTailscale: string }>;
  /** Open ipn bus streams right now. */
  openWatches(): number;
  close(): Promise<void>;
}

export async function startFixtureDaemon(routes: ReplayRoutes): Promise<FixtureDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'fcp-fixture-'));
  const socketPath = join(dir, 'tailscaled.sock');
  const requests: FixtureDaemon['requests'] = [];
  const watches = new Set<ServerResponse>();
  const send = (res: ServerResponse, status: number, body: string, type = 'application/json'): void => {
    res.writeHead(status, { 'Content-Type': type });
    res.end(body);
  };
  const server: Server = createServer((req, res) => {
    requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      host: req.headers.host ?? '',
      secTailscale: String(req.headers['sec-tailscale'] ?? ''),
    });
    if (routes.override) return send(res, routes.override.status, routes.override.body, routes.override.contentType);
    const url = new URL(req.url ?? '/', 'http://local-tailscaled.sock');
    if (url.pathname === '/localapi/v0/status' && routes.status !== undefined) return send(res, 200, routes.status);
    if (url.pathname === '/localapi/v0/whois') {
      const addr = url.searchParams.get('addr') ?? '';
      const ip = addr.replace(/^\[?([^\]]*?)\]?(:\d+)?$/, '$1');
      const body = routes.whois?.[ip];
      return body === undefined ? send(res, 404, 'no match for IP:port\n', 'text/plain; charset=utf-8') : send(res, 200, body);
    }
    if (url.pathname === '/localapi/v0/ping') {
      const byType = routes.pingByType?.[url.searchParams.get('type') ?? ''];
      const body = byType ?? routes.ping?.[url.searchParams.get('ip') ?? ''];
      if (body === undefined) return; // no answer, like an unreachable peer
      return send(res, 200, body);
    }
    if (url.pathname === '/localapi/v0/watch-ipn-bus' && routes.watch !== undefined) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(routes.watch);
      watches.add(res);
      res.on('close', () => watches.delete(res));
      return;
    }
    send(res, 404, '404 page not found\n', 'text/plain; charset=utf-8');
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath,
    requests,
    openWatches: () => watches.size,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}

/** Polls `check` until it returns true, at most `timeoutMs`. */
export async function waitFor(check: () => boolean, timeoutMs = 2000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
