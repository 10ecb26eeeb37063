// The serve/Funnel data path of one emulated device: what a tailnet peer reaches at
// https://<device fqdn>:443 and what the internet reaches through Funnel, each a plain-HTTP
// listener on the device's loopback address (TLS is taken as terminated: X-Forwarded-Proto is
// https). Requests go through the device's current serve config as tailscaled's serve does
// (ipn/ipnlocal/serve.go: tcpHandlerForServe, HandleIngressTCPConn, getServeHandler,
// serveWebHandler); proxying is in serve-proxy.ts.
//
// A connection tailscaled would never get, or would reset, is reset here at once
// (socket.resetAndDestroy): a refused or unroutable connection is the observable outcome, and a
// reset keeps tests from waiting out a timeout where real packets would just be dropped.
import { createServer as createHttpServer, STATUS_CODES, ServerResponse, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { connect, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { pathClean, pathDir, pathEscape, pathUnescape } from './go-url.js';
import { backendState } from './render.js';
import { findTCP, findWeb, hasFunnelForTarget, type HTTPHandler, type ServeConfig, type TCPPortHandler } from './serve-config.js';
import { outboundUri, proxyHttp, proxyTarget, proxyUpgrade, type ProxyCaller } from './serve-proxy.js';
import type { NodeState, TailnetState } from './tailnet-state.js';

export interface IngressEndpoint {
  host: string;
  port: number;
}
export interface IngressEndpoints {
  /** Stands in for https://<fqdn>:443 as a tailnet peer dials it; connect from the peer's address. */
  tailnet: IngressEndpoint;
  /** Stands in for the public https://<fqdn>:443 behind Funnel; any non-tailnet source. */
  funnel: IngressEndpoint;
}

/** What the serve listener knows about one connection (serveHTTPContext). */
interface Conn {
  funnel: boolean;
  srcIp: string;
  tls: boolean;
}

/** The one port the stand-in listeners represent. */
const SERVE_PORT = 443;

function plainError(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
  res.end(`${message}\n`);
}

const notFound = (res: ServerResponse): void => plainError(res, 404, '404 page not found');

export class DeviceIngress {
  private readonly listeners: { tailnet?: NetServer; funnel?: NetServer } = {};
  private readonly http: HttpServer;
  private readonly sockets = new Set<Socket>();
  private readonly conns = new WeakMap<object, Conn>();

  constructor(
    private readonly state: TailnetState,
    private readonly node: NodeState,
    /** The device's LocalAPI socket: serve refuses to proxy to it. */
    private readonly tailscaledSocket: string,
  ) {
    this.http = createHttpServer((req, res) => this.request(req, res));
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
  }

  async start(): Promise<void> {
    for (const kind of ['tailnet', 'funnel'] as const) {
      const server = createNetServer((socket) => this.accept(kind, socket));
      this.listeners[kind] = server;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, this.node.address, () => resolve());
      });
    }
  }

  endpoints(): IngressEndpoints {
    const at = (s: NetServer | undefined): IngressEndpoint => {
      const a = s?.address();
      if (!a || typeof a === 'string') throw new Error(`ingress of ${this.node.name} is not listening`);
      return { host: a.address, port: a.port };
    };
    return { tailnet: at(this.listeners.tailnet), funnel: at(this.listeners.funnel) };
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await Promise.all(
      Object.values(this.listeners).map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))),
    );
  }

  /** The serve config LocalBackend holds: none unless logged in with a netmap. */
  private config(): ServeConfig | null {
    return backendState(this.node) === 'Running' ? this.state.serveConfig(this.node) : null;
  }

  /** A daemon that is gone, offline or without a netmap takes no traffic at all. */
  private static reachable(n: NodeState): boolean {
    return !n.removed && n.online && n.fault !== 'stopped' && backendState(n) === 'Running';
  }

  private sni(): string {
    return this.state.fqdn(this.node).replace(/\.$/, '');
  }

  private accept(kind: 'tailnet' | 'funnel', socket: Socket): void {
    const srcIp = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    const sc = this.config();
    let handler: TCPPortHandler | null | undefined;
    if (!DeviceIngress.reachable(this.node) || !sc) return void socket.resetAndDestroy();
    if (kind === 'tailnet') {
      // Only tailnet nodes can send into the tailnet: WireGuard drops anything else, and a node
      // that is offline or has no daemon sends nothing.
      const caller = this.state.byAddress(srcIp);
      if (!caller || !DeviceIngress.reachable(caller)) return void socket.resetAndDestroy();
      this.state.noteTraffic(caller, this.node);
      // A port not in the serve config is not intercepted: the OS stack resets it.
      handler = findTCP(sc, SERVE_PORT);
    } else {
      // Without the "funnel" node attribute control sends this node no Funnel traffic; without
      // AllowFunnel for the target, or a handler for the port, HandleIngressTCPConn sends RST.
      if (!this.node.funnel || !hasFunnelForTarget(sc, `${this.sni()}:${SERVE_PORT}`)) return void socket.resetAndDestroy();
      handler = findTCP(sc, SERVE_PORT);
    }
    if (!handler) return void socket.resetAndDestroy();
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    if (!handler.HTTPS && !handler.HTTP) return this.forward(handler, socket);
    this.conns.set(socket, { funnel: kind === 'funnel', srcIp, tls: handler.HTTPS });
    this.http.emit('connection', socket);
  }

  /** TCPForward: bytes both ways to the backend (a PROXY protocol header is not emulated). */
  private forward(handler: TCPPortHandler, socket: Socket): void {
    const dst = handler.TCPForward;
    if (dst === '' || handler.ProxyProtocol !== 0n) return void socket.resetAndDestroy();
    const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(dst);
    const back = dst.startsWith('unix:') ? connect(dst.slice(5)) : m ? connect(Number(m[3]), m[1] ?? m[2] ?? '') : undefined;
    if (!back) return void socket.destroy();
    back.on('error', () => socket.destroy());
    socket.on('error', () => back.destroy());
    socket.pipe(back).pipe(socket);
  }

  /** getServeHandler: the handler and the mount point it was found at. */
  private lookup(req: IncomingMessage, conn: Conn, path: string): { h: HTTPHandler; mount: string } | undefined {
    const sc = this.config();
    if (!sc) return undefined;
    let hostname = this.sni();
    if (!conn.tls) {
      // No TLS: the Host header, with the MagicDNS suffix added when it is a bare name.
      hostname = (req.headers.host ?? '').replace(/:\d*$/, '');
      if (!hostname.endsWith(`.${this.state.magicDnsSuffix}`)) hostname += `.${this.state.magicDnsSuffix}`;
    }
    const handlers = findWeb(sc, `${hostname}:${SERVE_PORT}`)?.Handlers;
    if (!handlers) return undefined;
    const at = (mount: string) => {
      const h = handlers.get(mount);
      return h ? { h, mount } : undefined;
    };
    const exact = at(path);
    if (exact) return exact;
    let p = pathClean(path);
    // "*" and "" clean to fixed points of path.Dir that match no mount.
    if (!p.startsWith('/')) return undefined;
    for (;;) {
      const found = at(`${p}/`) ?? at(p);
      if (found) return found;
      if (p === '/') return undefined;
      const parent = pathDir(p);
      if (parent === p) return undefined;
      p = parent;
    }
  }

  private request(req: IncomingMessage, res: ServerResponse): void {
    const conn = this.conns.get(req.socket);
    if (!conn) return void req.socket.destroy();
    this.serveWeb(req, res, conn);
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const conn = this.conns.get(socket);
    if (!conn) return void socket.destroy();
    // net/http hands such a request to the same handler; here it gets a response bound to the socket.
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket as Socket);
    res.on('finish', () => socket.end());
    this.serveWeb(req, res, conn, { socket, head });
  }

  /** serveWebHandler. */
  private serveWeb(req: IncomingMessage, res: ServerResponse, conn: Conn, upgrade?: { socket: Duplex; head: Buffer }): void {
    const target = req.url ?? '/';
    const rawPath = target.startsWith('/') ? (target.split('?')[0] ?? '') : target === '*' ? '*' : (/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*([^?#]*)/.exec(target)?.[1] ?? '');
    const rawQuery = target.includes('?') ? target.slice(target.indexOf('?') + 1) : '';
    const path = pathUnescape(rawPath);
    if (path === undefined) return plainError(res, 400, '400 Bad Request'); // url.ParseRequestURI fails
    const found = this.lookup(req, conn, path);
    if (!found) return notFound(res);
    const { h, mount } = found;
    if (h.Text !== '') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      return void res.end(h.Text);
    }
    if (h.Redirect !== '') return redirect(req, res, h.Redirect, path);
    if (h.Path !== '') return plainError(res, 500, 'dev-tailnet emulator: Path handlers (file serving) are not emulated');
    if (h.Proxy === '') return plainError(res, 500, 'empty handler');
    const backend = proxyTarget(h.Proxy, this.tailscaledSocket);
    if (!backend) return plainError(res, 500, 'unknown proxy destination');
    // http.StripPrefix(strings.TrimSuffix(mountPoint, "/")), skipped for a request of "/".
    let stripped = rawPath;
    const prefix = mount.endsWith('/') ? mount.slice(0, -1) : mount;
    if (path !== '/' && prefix !== '') {
      if (!path.startsWith(prefix)) return notFound(res);
      if (pathEscape(path) === rawPath) stripped = pathEscape(path.slice(prefix.length));
      else if (rawPath.startsWith(prefix)) stripped = rawPath.slice(prefix.length);
      else return notFound(res);
    }
    const uri = outboundUri(backend, stripped, rawQuery);
    const caller: ProxyCaller = { funnel: conn.funnel, srcIp: conn.srcIp, tls: conn.tls };
    const whois = conn.funnel ? undefined : this.state.byAddress(conn.srcIp);
    if (whois) caller.whois = { tagged: whois.tags.length > 0, loginName: whois.user.loginName, displayName: whois.user.displayName, profilePicUrl: '' };
    if (upgrade) proxyUpgrade(req, res, upgrade.socket, upgrade.head, backend, uri, caller);
    else proxyHttp(req, res, backend, uri, caller);
  }
}

/** parseRedirectWithCode, the ${HOST}/${REQUEST_URI} expansion, then http.Redirect. */
function redirect(req: IncomingMessage, res: ServerResponse, spec: string, path: string): void {
  let code = 302;
  let url = spec;
  const m = /^(\d{3}):/.exec(spec);
  if (m && Number(m[1]) >= 300 && Number(m[1]) <= 399) {
    code = Number(m[1]);
    url = spec.slice(4);
  }
  url = url.replaceAll('${HOST}', req.headers.host ?? '').replaceAll('${REQUEST_URI}', req.url ?? '');
  if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(url) && !url.startsWith('//')) {
    // A relative target is made absolute against the request path, cleaned, trailing slash kept.
    if (!url.startsWith('/')) url = (path === '' ? '/' : path).slice(0, (path === '' ? '/' : path).lastIndexOf('/') + 1) + url;
    const q = url.indexOf('?');
    const query = q >= 0 ? url.slice(q) : '';
    const base = q >= 0 ? url.slice(0, q) : url;
    let cleaned = pathClean(base);
    if (base.endsWith('/') && !cleaned.endsWith('/')) cleaned += '/';
    url = cleaned + query;
  }
  const location = [...Buffer.from(url, 'utf8')].map((b) => (b >= 0x80 ? `%${b.toString(16)}` : String.fromCharCode(b))).join('');
  const headers: Record<string, string> = { Location: location };
  const getOrHead = req.method === 'GET' || req.method === 'HEAD';
  if (getOrHead) headers['Content-Type'] = 'text/html; charset=utf-8';
  res.writeHead(code, headers);
  const html = url.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' })[c] ?? c);
  res.end(req.method === 'GET' ? `<a href="${html}">${STATUS_CODES[code] ?? ''}</a>.\n\n` : undefined);
}
