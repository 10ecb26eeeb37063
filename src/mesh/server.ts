// The FCP server: TCP on the device's tailnet address. Every connection is mapped to a tailnet
// node (LocalAPI whois on the remote address) before a single frame is read; a peer outside the
// tailnet or without an fcp zone is refused, and its socket is destroyed shortly after the
// refusal whether or not it reads. Connections are limited in number (in total and per source
// address); each authenticated one is a Session (session.ts) with its own bounds.
import net, { type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { encodeFrame, type Message } from '../wire/index.js';
import { ByteBudget } from './budget.js';
import { MeshError } from './errors.js';
import { Gate } from './gate.js';
import { resolveServerLimits, type ServerLimits } from './limits.js';
import type { Authenticate, Caller, Handle } from './server-types.js';
import { Session, type SessionShared } from './session.js';

export type { Caller, RequestContext, Authenticate, Handle } from './server-types.js';

export interface FcpServerOptions {
  host: string;
  port: number;
  authenticate: Authenticate;
  handle: Handle;
  log: Logger;
  maxFrameBytes?: number;
  /** Every bound the server keeps (limits.ts has the defaults). */
  limits?: Partial<ServerLimits>;
  onRefused?: (reason: string) => void;
  onBadFrame?: (caller: Caller, reason: string) => void;
}

export class FcpServer {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly perAddress = new Map<string, number>();
  /** Refused sockets waiting out their linger; not counted against the connection limits. */
  private readonly lingering = new Set<Socket>();
  readonly limits: Readonly<ServerLimits>;
  private readonly shared: SessionShared;

  constructor(private readonly opts: FcpServerOptions) {
    this.limits = resolveServerLimits(opts.limits, opts.maxFrameBytes);
    const l = this.limits;
    this.shared = {
      limits: l,
      handle: opts.handle,
      log: opts.log,
      maxFrameBytes: opts.maxFrameBytes,
      replyBudget: new ByteBudget(l.maxReplyBytes),
      inboundBudget: new ByteBudget(l.maxInboundBytes),
      fetchGate: new Gate(l.maxFetchesInFlight, l.maxFetchesQueued, 'fetches'),
      onBadFrame: opts.onBadFrame,
    };
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = net.createServer({ pauseOnConnect: true }, (socket) => void this.accept(socket));
      server.once('error', reject);
      server.listen({ host: this.opts.host, port: this.opts.port, exclusive: true }, () => {
        server.off('error', reject);
        server.on('error', (err) => this.opts.log.error({ err: err.message }, 'fcp server error'));
        this.server = server;
        resolve();
      });
    });
  }

  get port(): number {
    const addr = this.server?.address();
    return addr && typeof addr === 'object' ? addr.port : this.opts.port;
  }

  /** Sockets open now: counted connections plus refused ones lingering. */
  get connections(): number {
    return this.sockets.size + this.lingering.size;
  }

  /** Reply and request bytes the daemon holds for peers now, and fetches running and queued. */
  get load(): { replyBytes: number; inboundBytes: number; fetchesRunning: number; fetchesQueued: number } {
    const s = this.shared;
    return { replyBytes: s.replyBudget.inUse, inboundBytes: s.inboundBudget.inUse, fetchesRunning: s.fetchGate.running, fetchesQueued: s.fetchGate.waiting };
  }

  async close(): Promise<void> {
    for (const s of [...this.sockets, ...this.lingering]) s.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async accept(socket: Socket): Promise<void> {
    socket.on('error', () => undefined);
    const ip = normaliseIp(socket.remoteAddress ?? '');
    const fromIp = this.perAddress.get(ip) ?? 0;
    if (this.sockets.size >= this.limits.maxConnections || fromIp >= this.limits.maxConnectionsPerAddress) {
      const reason = this.sockets.size >= this.limits.maxConnections ? 'too many connections to this device' : `too many connections from ${ip}`;
      this.refuse(socket, ip, 'MESH_BUSY', reason);
      return;
    }
    this.sockets.add(socket);
    this.perAddress.set(ip, fromIp + 1);
    socket.once('close', () => {
      this.sockets.delete(socket);
      const n = (this.perAddress.get(ip) ?? 1) - 1;
      if (n <= 0) this.perAddress.delete(ip);
      else this.perAddress.set(ip, n);
    });
    let caller: Caller;
    try {
      caller = await withTimeout(this.opts.authenticate(ip, socket.remotePort ?? 0), this.limits.authTimeoutMs);
    } catch (err) {
      const reason = err instanceof MeshError ? err.message : `authentication failed: ${(err as Error).message}`;
      this.refuse(socket, ip, err instanceof MeshError ? err.code : 'MESH_REFUSED', reason);
      return;
    }
    if (socket.destroyed) return;
    new Session(socket, caller, this.shared).start();
  }

  /**
   * Sends one refusal frame and ends the socket; it is destroyed after the linger even if the
   * peer never reads or closes, so refusals cost no file descriptor for long.
   */
  private refuse(socket: Socket, ip: string, code: string, reason: string): void {
    this.opts.onRefused?.(reason);
    this.opts.log.warn({ remote: `${ip}:${socket.remotePort}`, reason }, 'connection refused');
    if (this.sockets.delete(socket)) {
      // It was counted: give its slot back now rather than at the end of the linger.
      const n = (this.perAddress.get(ip) ?? 1) - 1;
      if (n <= 0) this.perAddress.delete(ip);
      else this.perAddress.set(ip, n);
      socket.removeAllListeners('close');
    }
    if (socket.destroyed) return;
    if (this.lingering.size >= this.limits.maxConnections) {
      socket.destroy(); // a flood of refusals: no frame, no linger
      return;
    }
    this.lingering.add(socket);
    socket.once('close', () => this.lingering.delete(socket));
    socket.end(encodeFrame({ v: 1, t: 'error', id: 0, code, message: reason } as Message));
    // What the peer sends now is discarded, so its FIN (if it sends one) closes the socket at
    // once; a peer that keeps sending is cut off rather than read.
    let discarded = 0;
    socket.on('data', (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > REFUSED_READ_BYTES) socket.destroy();
    });
    socket.resume();
    setTimeout(() => socket.destroy(), this.limits.closeLingerMs).unref();
  }
}

/** Bytes read (and dropped) from a refused connection before it is destroyed outright. */
const REFUSED_READ_BYTES = 64 * 1024;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new MeshError('MESH_TIMEOUT', `the tailnet did not identify this connection within ${ms} ms`)), ms);
    timer.unref();
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** Node reports IPv4 peers on dual-stack sockets as ::ffff:a.b.c.d. */
export function normaliseIp(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}
