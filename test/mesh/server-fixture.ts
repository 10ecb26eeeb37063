// An in-process FCP server on 127.0.0.1 (ephemeral port, so no fixed address is taken) with a
// real authenticate function: 127.0.0.1-127.0.0.8 are members, any other address is a stranger.
import net from 'node:net';
import { readdirSync } from 'node:fs';
import pino from 'pino';
import { FcpServer, type Caller, type Handle } from '../../src/mesh/server.js';
import { MeshError } from '../../src/mesh/errors.js';
import type { ServerLimits } from '../../src/mesh/limits.js';
import { RpcConnection, type RpcOptions } from '../../src/mesh/rpc.js';

export const MEMBER = '127.0.0.1';
export const STRANGER = '127.0.0.9';

export async function startServer(handle: Handle, limits: Partial<ServerLimits> = {}, authenticate?: (ip: string) => Promise<Caller>): Promise<FcpServer> {
  const server = new FcpServer({
    host: '127.0.0.1',
    port: 0,
    log: pino({ level: 'silent' }),
    limits,
    handle,
    authenticate:
      authenticate ??
      (async (ip) => {
        const last = Number(ip.split('.').at(-1));
        if (!ip.startsWith('127.0.0.') || last < 1 || last > 8) throw new MeshError('MESH_REFUSED', `${ip} is not a node of this tailnet`);
        return { stableId: `n${last}`, hostName: `peer${last}`, address: ip, tags: ['tag:fcp-owner'], zoneIds: ['z:owner'] };
      }),
  });
  await server.listen();
  return server;
}

export function rawSocket(server: FcpServer, from = MEMBER, opts: { allowHalfOpen?: boolean } = {}): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port: server.port, localAddress: from, allowHalfOpen: opts.allowHalfOpen ?? false });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

export async function rpc(server: FcpServer, opts: RpcOptions = {}, from = MEMBER): Promise<RpcConnection> {
  return new RpcConnection(await rawSocket(server, from), opts);
}

/** Resolves when `socket` closes; rejects after `ms` (the bound of the wait, not a pause). */
export function closedWithin(socket: net.Socket, ms: number): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`socket still open after ${ms} ms`)), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Waits (bounded) for a condition that changes without an event this process can watch. */
export async function until(what: string, ok: () => boolean, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  while (!ok()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** A promise with its resolve function, for handlers that wait on the test. */
export function latch(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}
