// One framed, multiplexed FCP connection over TCP: request ids let several requests share it,
// and a request may be answered by one reply or by a stream of replies ended by a terminal one.
import type { Socket } from 'node:net';
import { encodeFrame, FrameDecoder, type Message } from '../wire/index.js';
import { MeshError } from './errors.js';

type Pending = {
  onMessage: (msg: Message) => boolean; // returns true when msg ends the request
  reject: (err: Error) => void;
  timer: NodeJS.Timeout | undefined;
};

/** Frames travel as individual messages; callers build them without `v` and `id`. */
export type Outgoing = { t: string; [field: string]: unknown };

export interface RpcOptions {
  maxFrameBytes?: number;
  /** Time without any reply before a request fails (ms). */
  requestTimeoutMs?: number;
}

export class RpcConnection {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly decoder: FrameDecoder;
  private closedError: Error | null = null;
  private readonly timeoutMs: number;

  constructor(readonly socket: Socket, opts: RpcOptions = {}) {
    this.decoder = new FrameDecoder(opts.maxFrameBytes !== undefined ? { maxFrameBytes: opts.maxFrameBytes } : {});
    this.timeoutMs = opts.requestTimeoutMs ?? 15_000;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(new MeshError('MESH_UNAVAILABLE', `connection error: ${err.message}`)));
    socket.on('close', () => this.fail(new MeshError('MESH_CLOSED', 'connection closed by peer')));
  }

  get closed(): boolean {
    return this.closedError !== null;
  }

  /** Send a request and resolve with its single reply (an `error` reply rejects). */
  request(msg: Outgoing, timeoutMs = this.timeoutMs): Promise<Message> {
    return new Promise((resolve, reject) => {
      this.start(msg, timeoutMs, reject, (reply) => {
        if (reply.t === 'error') reject(peerError(reply));
        else resolve(reply);
        return true;
      });
    });
  }

  /**
   * Send a request whose replies stream in; `onItem` sees every non-terminal reply.
   * Resolves with the terminal reply whose type is `endType`.
   */
  stream(msg: Outgoing, endType: string, onItem: (m: Message) => void, timeoutMs = this.timeoutMs): { id: number; done: Promise<Message> } {
    let id = 0;
    const done = new Promise<Message>((resolve, reject) => {
      id = this.start(msg, timeoutMs, reject, (reply) => {
        if (reply.t === 'error') {
          reject(peerError(reply));
          return true;
        }
        if (reply.t === endType) {
          resolve(reply);
          return true;
        }
        onItem(reply);
        return false;
      });
    });
    return { id, done };
  }

  /** Fire-and-forget message (for example `stop`). */
  send(msg: Outgoing): void {
    if (this.closedError) return;
    this.socket.write(encodeFrame({ ...msg, v: 1, id: this.nextId++ } as Message));
  }

  close(): void {
    this.fail(new MeshError('MESH_CLOSED', 'connection closed'));
    this.socket.destroy();
  }

  private start(msg: Outgoing, timeoutMs: number, reject: (e: Error) => void, onMessage: Pending['onMessage']): number {
    if (this.closedError) {
      reject(this.closedError);
      return 0;
    }
    const id = this.nextId++;
    const entry: Pending = { onMessage, reject, timer: undefined };
    entry.timer = this.armTimer(id, timeoutMs);
    this.pending.set(id, entry);
    let frame: Uint8Array;
    try {
      frame = encodeFrame({ ...msg, v: 1, id } as Message);
    } catch (err) {
      this.finish(id);
      reject(err as Error);
      return id;
    }
    this.socket.write(frame);
    return id;
  }

  private armTimer(id: number, ms: number): NodeJS.Timeout {
    const t = setTimeout(() => {
      const p = this.pending.get(id);
      if (!p) return;
      this.finish(id);
      p.reject(new MeshError('MESH_TIMEOUT', `no reply within ${ms} ms`));
    }, ms);
    t.unref();
    return t;
  }

  private finish(id: number): void {
    const p = this.pending.get(id);
    if (p?.timer) clearTimeout(p.timer);
    this.pending.delete(id);
  }

  private onData(chunk: Buffer): void {
    let messages: Message[];
    try {
      messages = this.decoder.push(chunk);
    } catch (err) {
      this.fail(new MeshError('MESH_PEER_ERROR', `peer sent a bad frame: ${(err as Error).message}`));
      this.socket.destroy();
      return;
    }
    for (const msg of messages) {
      if (msg.id === 0 && msg.t === 'error') {
        // Request id 0 is the connection itself: the peer refused or is closing it.
        this.fail(peerError(msg));
        this.socket.destroy();
        return;
      }
      const p = this.pending.get(msg.id);
      if (!p) continue; // reply to a request we already gave up on
      // Any reply re-arms the idle timer: a long stream stays alive while it makes progress.
      if (p.timer) clearTimeout(p.timer);
      p.timer = this.armTimer(msg.id, this.timeoutMs);
      let ended = true;
      try {
        ended = p.onMessage(msg);
      } catch (err) {
        p.reject(err as Error);
      }
      if (ended) this.finish(msg.id);
    }
  }

  private fail(err: Error): void {
    if (this.closedError) return;
    this.closedError = err;
    for (const [id, p] of this.pending) {
      this.finish(id);
      p.reject(err);
    }
  }
}

const PASSED_THROUGH = new Set(['MESH_REFUSED', 'MESH_NOT_FOUND', 'MESH_TOO_FEW_DEVICES', 'MESH_BUSY', 'MESH_CONFLICT', 'MESH_KEY_MISMATCH', 'MESH_NO_ZONE_KEY', 'MESH_BAD_SYMBOL', 'AUTHZ_DENIED', 'STORE_CONFLICT', 'STORE_QUOTA']);

/** An `error` reply as a MeshError: refusals and not-found keep their code, the rest are peer errors. */
function peerError(reply: Message): MeshError {
  const r = reply as unknown as { code?: string; message?: string };
  const code = r.code && PASSED_THROUGH.has(r.code) ? (r.code as 'MESH_REFUSED') : 'MESH_PEER_ERROR';
  return new MeshError(code, code === 'MESH_PEER_ERROR' ? `${r.code ?? 'ERROR'}: ${r.message ?? 'peer refused the request'}` : r.message ?? code, { peerCode: r.code });
}
