// Outgoing connections to peers, one per peer, reused by every request. Connections leave
// from this device's tailnet address so the peer's whois identifies us.
import net from 'node:net';
import { MeshError } from './errors.js';
import type { ClientLimits } from './limits.js';
import { RpcConnection } from './rpc.js';

export interface PoolOptions {
  localAddress: string;
  port: number;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  maxFrameBytes?: number;
  /** Per-connection client limits (limits.ts has the defaults). */
  limits?: Partial<ClientLimits>;
  /** Counts each request made on any pooled connection, by message type. */
  onRequest?: (type: string) => void;
}

export class ConnectionPool {
  private readonly conns = new Map<string, Promise<RpcConnection>>();

  constructor(private readonly opts: PoolOptions) {}

  /** A live connection to `address`, opened if needed. */
  get(address: string): Promise<RpcConnection> {
    const existing = this.conns.get(address);
    if (existing) {
      return existing.then(
        (c) => (c.closed ? this.replace(address, existing) : c),
        () => this.replace(address, existing),
      );
    }
    return this.open(address);
  }

  /**
   * A new connection in place of a closed or failed one. Many callers find the same one dead
   * at once (a fan-out of requests); only the first opens, the rest share its connection.
   */
  private replace(address: string, stale: Promise<RpcConnection>): Promise<RpcConnection> {
    const current = this.conns.get(address);
    if (current && current !== stale) return this.get(address);
    return this.open(address);
  }

  /** Drops a connection (after an error) so the next request reconnects. */
  drop(address: string): void {
    const p = this.conns.get(address);
    this.conns.delete(address);
    p?.then((c) => c.close()).catch(() => undefined);
  }

  closeAll(): void {
    for (const address of [...this.conns.keys()]) this.drop(address);
  }

  private open(address: string): Promise<RpcConnection> {
    const p = new Promise<RpcConnection>((resolve, reject) => {
      const socket = net.connect({ host: address, port: this.opts.port, localAddress: this.opts.localAddress });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new MeshError('MESH_UNAVAILABLE', `could not connect to ${address}:${this.opts.port} within ${this.opts.connectTimeoutMs ?? 3000} ms`));
      }, this.opts.connectTimeoutMs ?? 3000);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new RpcConnection(socket, { requestTimeoutMs: this.opts.requestTimeoutMs, maxFrameBytes: this.opts.maxFrameBytes, limits: this.opts.limits, ...(this.opts.onRequest ? { onRequest: this.opts.onRequest } : {}) }));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new MeshError('MESH_UNAVAILABLE', `could not connect to ${address}:${this.opts.port}: ${err.message}`));
      });
    });
    this.conns.set(address, p);
    p.catch(() => {
      if (this.conns.get(address) === p) this.conns.delete(address);
    });
    return p;
  }
}
