// The FCP server: TCP on the device's tailnet address. Every connection is mapped to a tailnet
// node (LocalAPI whois on the remote address) before a single frame is read; a peer outside the
// tailnet or without an fcp zone is refused. Requests on a connection run concurrently, keyed
// by request id; `stop` cancels a running stream. A bad frame closes only its own connection.
import net, { type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { encodeFrame, FrameDecoder, type Message } from '../wire/index.js';
import { MeshError } from './errors.js';
import type { Outgoing } from './rpc.js';

export interface Caller {
  /** Tailscale stable node id of the caller. */
  stableId: string;
  hostName: string;
  address: string;
  tags: string[];
  zoneIds: string[];
}

export interface RequestContext {
  caller: Caller;
  id: number;
  /** Aborted when the caller sends `stop` for this request or the connection closes. */
  signal: AbortSignal;
  /** Sends a non-terminal reply (part of a stream); waits while the socket is congested. */
  send(msg: Outgoing): Promise<void>;
}

export type Authenticate = (remoteIp: string, remotePort: number) => Promise<Caller>;
export type Handle = (ctx: RequestContext, msg: Message) => Promise<Outgoing>;

export interface FcpServerOptions {
  host: string;
  port: number;
  authenticate: Authenticate;
  handle: Handle;
  log: Logger;
  maxFrameBytes?: number;
  /** Requests in flight per connection before new ones are refused. */
  maxInFlight?: number;
  onRefused?: (reason: string) => void;
  onBadFrame?: (caller: Caller, reason: string) => void;
}

export class FcpServer {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly opts: FcpServerOptions) {}

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = net.createServer({ pauseOnConnect: true }, (socket) => void this.accept(socket));
      server.once('error', reject);
      server.listen({ host: this.opts.host, port: this.opts.port, exclusive: true }, () => {
        server.off('error', reject);
        this.server = server;
        resolve();
      });
    });
  }

  get port(): number {
    const addr = this.server?.address();
    return addr && typeof addr === 'object' ? addr.port : this.opts.port;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async accept(socket: Socket): Promise<void> {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    const ip = normaliseIp(socket.remoteAddress ?? '');
    let caller: Caller;
    try {
      caller = await this.opts.authenticate(ip, socket.remotePort ?? 0);
    } catch (err) {
      const reason = err instanceof MeshError ? err.message : `authentication failed: ${(err as Error).message}`;
      this.opts.onRefused?.(reason);
      this.opts.log.warn({ remote: `${ip}:${socket.remotePort}`, reason }, 'connection refused');
      socket.end(encodeFrame({ v: 1, t: 'error', id: 0, code: err instanceof MeshError ? err.code : 'MESH_REFUSED', message: reason } as Message));
      return;
    }
    if (socket.destroyed) return;
    new Session(socket, caller, this.opts).start();
  }
}

class Session {
  private readonly decoder: FrameDecoder;
  private readonly running = new Map<number, AbortController>();
  private dead = false;

  constructor(
    private readonly socket: Socket,
    private readonly caller: Caller,
    private readonly opts: FcpServerOptions,
  ) {
    this.decoder = new FrameDecoder(opts.maxFrameBytes !== undefined ? { maxFrameBytes: opts.maxFrameBytes } : {});
  }

  start(): void {
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('close', () => {
      this.dead = true;
      for (const ac of this.running.values()) ac.abort();
      this.running.clear();
    });
    this.socket.resume();
  }

  private onData(chunk: Buffer): void {
    if (this.dead) return;
    let messages: Message[];
    try {
      messages = this.decoder.push(chunk);
    } catch (err) {
      const e = err as Error & { code?: string };
      this.opts.onBadFrame?.(this.caller, e.message);
      this.opts.log.warn({ peer: this.caller.hostName, code: e.code, reason: e.message }, 'bad frame; closing connection');
      this.dead = true;
      this.socket.end(encodeFrame({ v: 1, t: 'error', id: 0, code: e.code ?? 'PROTO_BAD_MESSAGE', message: e.message } as Message));
      setTimeout(() => this.socket.destroy(), 1000).unref();
      return;
    }
    for (const msg of messages) this.dispatch(msg);
  }

  private dispatch(msg: Message): void {
    if (msg.t === 'stop') {
      const target = (msg as unknown as { target: number }).target;
      this.running.get(target)?.abort();
      return;
    }
    if (this.running.has(msg.id)) {
      void this.write({ t: 'error', code: 'PROTO_BAD_MESSAGE', message: `request id ${msg.id} is already in use on this connection` }, msg.id);
      return;
    }
    if (this.running.size >= (this.opts.maxInFlight ?? 256)) {
      void this.write({ t: 'error', code: 'MESH_BUSY', message: 'too many requests in flight on this connection' }, msg.id);
      return;
    }
    const ac = new AbortController();
    this.running.set(msg.id, ac);
    const ctx: RequestContext = {
      caller: this.caller,
      id: msg.id,
      signal: ac.signal,
      send: (reply) => this.write(reply, msg.id),
    };
    this.opts
      .handle(ctx, msg)
      .then((reply) => this.write(reply, msg.id))
      .catch((err: Error & { code?: string }) => {
        const code = typeof err.code === 'string' ? err.code : 'MESH_INTERNAL';
        if (code === 'MESH_INTERNAL') this.opts.log.error({ err: err.message, stack: err.stack }, 'request handler failed');
        return this.write({ t: 'error', code, message: err.message }, msg.id);
      })
      .finally(() => this.running.delete(msg.id));
  }

  private async write(msg: Outgoing, id: number): Promise<void> {
    if (this.dead || this.socket.destroyed) throw new MeshError('MESH_CLOSED', 'connection closed');
    const ok = this.socket.write(encodeFrame({ ...msg, v: 1, id } as Message));
    if (!ok) await waitDrain(this.socket);
  }
}

function waitDrain(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.once('drain', done);
    socket.once('close', done);
  });
}

/** Node reports IPv4 peers on dual-stack sockets as ::ffff:a.b.c.d. */
export function normaliseIp(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}
