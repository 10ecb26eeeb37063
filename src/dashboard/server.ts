// The web dashboard's HTTP server on 127.0.0.1, meant to be published to the tailnet by
// `tailscale serve` (never Funnel). Every request passes the Funnel/Host checks; every API
// request identifies its viewer and opens a view through the dashboard service (which
// authorizes); changes also pass the Origin/CSRF checks. Live updates are server-sent events.
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describeError } from '../errors/index.js';
import { listen } from '../net/listen.js';
import type { ViewerPrincipal } from '../authz/index.js';
import type { DashboardService, DashboardSnapshot, DashboardView } from '../services/index.js';
import { DashboardError } from './errors.js';
import { checkHost, checkStateChange, csrfToken, refuseFunnel, type HostNames } from './request-checks.js';
import { identifyViewer, type ViewerDeps } from './viewer.js';

/** Where `npm run build` puts the bundled page (dist/dashboard-ui), from dist/src/dashboard. */
const UI_DIR = fileURLToPath(new URL('../../dashboard-ui/', import.meta.url));
const ASSETS: Record<string, string> = { '/assets/app.js': 'text/javascript; charset=utf-8', '/assets/app.css': 'text/css; charset=utf-8' };
const HEARTBEAT_MS = 15_000;
const MAX_CLIENTS = 64;

export interface DashboardServerOptions {
  service: DashboardService;
  viewers: ViewerDeps;
  names: () => HostNames;
  /** 127.0.0.1 unless a test says otherwise; always loopback: serve is the way in. */
  host?: string;
  port: number;
  /** How often live pages get a fresh snapshot (ms). */
  intervalMs?: number;
  log?: { warn: (obj: object, msg: string) => void };
}

export interface DashboardServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

interface LiveClient {
  res: http.ServerResponse;
  view: DashboardView;
  last: string;
}

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

function viewerKey(v: ViewerPrincipal): string {
  return `${v.login ?? ''}|${v.device?.stableId ?? ''}`;
}

function writeJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** A JSON object body of at most 4 KiB (the dashboard's own requests are tiny). */
function readSmallJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      text += c;
      if (text.length > 4096) {
        req.removeAllListeners('data');
        reject(new DashboardError('DASHBOARD_BAD_REQUEST', 'the request body is too large'));
      }
    });
    req.on('end', () => {
      try {
        const v = JSON.parse(text) as unknown;
        if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
        resolve(v as Record<string, unknown>);
      } catch {
        reject(new DashboardError('DASHBOARD_BAD_REQUEST', 'the request body is not a JSON object'));
      }
    });
    req.on('error', reject);
  });
}

function page(csrf: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="fcp-csrf" content="${csrf}"><title>fcp mesh</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/assets/app.css"></head>
<body><div id="app"><p class="loading">Loading the mesh…</p></div><script type="module" src="/assets/app.js"></script></body></html>
`;
}

export async function startDashboardServer(o: DashboardServerOptions): Promise<DashboardServer> {
  const secret = randomBytes(32);
  const clients = new Set<LiveClient>();
  const intervalMs = o.intervalMs ?? 1_000;
  let ticking = false;

  // One snapshot per tick for every live page (the data is the same; the viewer part is theirs).
  const tick = async () => {
    if (ticking || clients.size === 0) return;
    ticking = true;
    try {
      for (const c of clients) {
        const snap = await c.view.snapshot();
        const text = JSON.stringify(snap);
        const key = JSON.stringify({ ...snap, at: 0 });
        if (key !== c.last) {
          c.last = key;
          c.res.write(`event: snapshot\ndata: ${text}\n\n`);
        }
      }
    } catch (err) {
      o.log?.warn({ err: (err as Error).message }, 'dashboard snapshot failed');
    } finally {
      ticking = false;
    }
  };
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  const offActivity = o.service.onActivity(() => void tick());
  const heartbeat = setInterval(() => {
    for (const c of clients) c.res.write(': keep-alive\n\n');
  }, HEARTBEAT_MS);
  heartbeat.unref();

  const viewerOf = (req: http.IncomingMessage) => identifyViewer(req.headers, o.viewers);

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    refuseFunnel(req.headers);
    checkHost(req.headers, o.names());
    const url = new URL(req.url ?? '/', 'http://dashboard');
    const method = req.method ?? 'GET';
    const asset = ASSETS[url.pathname];
    if (method === 'GET' && asset) {
      const body = await readFile(UI_DIR + url.pathname.slice('/assets/'.length)).catch(() => {
        throw new DashboardError('DASHBOARD_NOT_FOUND', `the dashboard page was not built (${url.pathname}); run npm run build`);
      });
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': asset, 'content-length': body.length });
      res.end(body);
      return;
    }
    const viewer = await viewerOf(req);
    if (method === 'GET' && url.pathname === '/') {
      o.service.open(viewer);
      const html = page(csrfToken(secret, viewerKey(viewer)));
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) });
      res.end(html);
      return;
    }
    if (method === 'GET' && url.pathname === '/api/snapshot') return writeJson(res, 200, await o.service.open(viewer).snapshot());
    if (method === 'GET' && url.pathname === '/api/events') {
      if (clients.size >= MAX_CLIENTS) throw new DashboardError('DASHBOARD_BAD_REQUEST', 'too many live dashboard pages are open');
      const view = o.service.open(viewer);
      const first: DashboardSnapshot = await view.snapshot();
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream', connection: 'keep-alive' });
      res.write(`retry: 2000\nevent: snapshot\ndata: ${JSON.stringify(first)}\n\n`);
      const client: LiveClient = { res, view, last: JSON.stringify({ ...first, at: 0 }) };
      clients.add(client);
      res.once('close', () => clients.delete(client));
      return;
    }
    if (method === 'POST' && (url.pathname === '/api/repair' || url.pathname === '/api/scrub')) {
      checkStateChange(req.headers, secret, viewerKey(viewer));
      req.resume();
      const result = url.pathname === '/api/repair' ? await o.service.repair(viewer) : await o.service.scrub(viewer);
      return writeJson(res, 200, result);
    }
    if (method === 'POST' && url.pathname === '/api/connectors/move') {
      checkStateChange(req.headers, secret, viewerKey(viewer));
      const body = await readSmallJson(req);
      if (typeof body.id !== 'string' || typeof body.device !== 'string') throw new DashboardError('DASHBOARD_BAD_REQUEST', 'id and device are required');
      return writeJson(res, 200, await o.service.moveConnector(viewer, body.id, body.device));
    }
    if (method === 'POST' && url.pathname === '/api/tokens/revoke') {
      checkStateChange(req.headers, secret, viewerKey(viewer));
      const body = await readSmallJson(req);
      if (typeof body.id !== 'string' || !/^[0-9a-f]{32}$/.test(body.id)) throw new DashboardError('DASHBOARD_BAD_REQUEST', 'id must be a 32-hex token id');
      return writeJson(res, 200, await o.service.revokeToken(viewer, body.id));
    }
    throw new DashboardError('DASHBOARD_NOT_FOUND', `no such dashboard endpoint: ${method} ${url.pathname}`);
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const d = describeError(err);
      if (res.headersSent) return void res.destroy();
      if (!req.complete) req.resume();
      writeJson(res, d.http, { error: { code: d.code, message: d.message } });
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  const host = o.host ?? '127.0.0.1';
  const listening = await listen(server, o.port, host);
  const port = listening.port;
  return {
    url: `http://${host}:${port}/`,
    port,
    close: async () => {
      clearInterval(timer);
      clearInterval(heartbeat);
      offActivity();
      for (const c of clients) c.res.end();
      clients.clear();
      await listening.close();
    },
  };
}
