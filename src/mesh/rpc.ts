// One framed, multiplexed FCP connection over TCP: request ids let several requests share it,
// and a request may be answered by one reply or by a stream of replies ended by a terminal one.
// This side never has more requests running than the server allows per connection (the rest
// wait here, in order), and a MESH_BUSY refusal is retried under the same id with bounded backoff.
import type { Socket } from 'node:net';
import { encodeFramePieces, FrameDecoder, type Message } from '../wire/index.js';
import { writeFrame } from './write-frame.js';
import { MeshError, type MeshErrorCode } from './errors.js';
import { resolveClientLimits, type ClientLimits } from './limits.js';

type Pending = {
  msg: Outgoing;
  onMessage: (msg: Message) => boolean; // returns true when msg ends the request
  reject: (err: Error) => void;
  timeoutMs: number;
  timer: NodeJS.Timeout | undefined;
  /** Sent and counted against the in-flight limit (also while waiting to retry a busy reply). */
  sent: boolean;
  replies: number;
  busyRetries: number;
};

/** Frames travel as individual messages; callers build them without `v` and `id`. */
export type Outgoing = { t: string; [field: string]: unknown };

export interface RpcOptions {
  maxFrameBytes?: number;
  /** Time without any reply before a request fails (ms). */
  requestTimeoutMs?: number;
  /** In-flight, busy-retry and idle limits (limits.ts has the defaults). */
  limits?: Partial<ClientLimits>;
  /** Called once per request made (by message type): the round trips a metric counts. */
  onRequest?: (type: string) => void;
}

export class RpcConnection {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Ids of requests waiting for an in-flight slot, oldest first. */
  private readonly queued: number[] = [];
  private inFlight = 0;
  private readonly decoder: FrameDecoder;
  private closedError: Error | null = null;
  private readonly timeoutMs: number;
  private readonly limits: Readonly<ClientLimits>;
  private idleTimer: NodeJS.Timeout | null = null;
  private readonly onRequest: (type: string) => void;

  constructor(readonly socket: Socket, opts: RpcOptions = {}) {
    this.decoder = new FrameDecoder(opts.maxFrameBytes !== undefined ? { maxFrameBytes: opts.maxFrameBytes } : {});
    this.timeoutMs = opts.requestTimeoutMs ?? 15_000;
    this.limits = resolveClientLimits(opts.limits);
    this.onRequest = opts.onRequest ?? (() => undefined);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(new MeshError('MESH_UNAVAILABLE', `connection error: ${err.message}`)));
    socket.on('close', () => this.fail(new MeshError('MESH_CLOSED', 'connection closed by peer')));
    this.armIdle();
  }

  get closed(): boolean {
    return this.closedError !== null;
  }

  /** Requests sent and not yet answered, and requests waiting to be sent. */
  get load(): { inFlight: number; queued: number } {
    return { inFlight: this.inFlight, queued: this.queued.length };
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

  /**
   * Fire-and-forget message (for example `stop`). A `stop` for a request still waiting here
   * (never sent, or between busy retries) ends it locally instead.
   */
  send(msg: Outgoing): void {
    if (this.closedError) return;
    if (msg.t === 'stop' && typeof msg.target === 'number' && this.cancelLocal(msg.target)) return;
    writeFrame(this.socket, encodeFramePieces({ ...msg, v: 1, id: this.nextId++ } as Message));
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
    this.clearIdle();
    this.onRequest(msg.t);
    const id = this.nextId++;
    const entry: Pending = { msg, onMessage, reject, timeoutMs, timer: undefined, sent: false, replies: 0, busyRetries: 0 };
    this.pending.set(id, entry);
    if (this.inFlight < this.limits.maxInFlight) this.transmit(id, entry);
    else this.queued.push(id);
    return id;
  }

  /** Writes a request (first time or a busy retry) and arms its reply timer. */
  private transmit(id: number, p: Pending): void {
    if (!p.sent) {
      p.sent = true;
      this.inFlight++;
    }
    let frame: Uint8Array[];
    try {
      frame = encodeFramePieces({ ...p.msg, v: 1, id } as Message);
    } catch (err) {
      this.finish(id);
      p.reject(err as Error);
      return;
    }
    p.timer = this.armTimer(id, p.timeoutMs);
    writeFrame(this.socket, frame);
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

  /** Forgets a request; its in-flight slot goes to the oldest waiting one. */
  private finish(id: number): void {
    const p = this.pending.get(id);
    if (!p) return;
    if (p.timer) clearTimeout(p.timer);
    this.pending.delete(id);
    if (p.sent) this.inFlight--;
    else {
      const at = this.queued.indexOf(id);
      if (at >= 0) this.queued.splice(at, 1);
    }
    while (this.inFlight < this.limits.maxInFlight && this.queued.length > 0 && !this.closedError) {
      const next = this.queued.shift()!;
      const q = this.pending.get(next);
      if (q) this.transmit(next, q);
    }
    this.armIdle();
  }

  /** Ends a request that is not running on the server; false when it is (or is unknown). */
  private cancelLocal(id: number): boolean {
    const p = this.pending.get(id);
    if (!p) return false;
    if (p.sent && !this.retrying.has(id)) return false;
    this.retrying.delete(id);
    this.finish(id);
    p.reject(new MeshError('MESH_CLOSED', 'request stopped before the peer ran it'));
    return true;
  }

  /** Requests waiting out a busy backoff (their timer is the backoff). */
  private readonly retrying = new Set<number>();

  /** A MESH_BUSY refusal before any reply: send the same request again later, a few times. */
  private retryBusy(id: number, p: Pending): boolean {
    if (p.replies > 0 || p.busyRetries >= this.limits.busyRetries) return false;
    p.busyRetries++;
    if (p.timer) clearTimeout(p.timer);
    const base = Math.min(this.limits.maxBusyBackoffMs, this.limits.busyBackoffMs * 2 ** (p.busyRetries - 1));
    const wait = Math.round(base / 2 + Math.random() * (base / 2));
    this.retrying.add(id);
    p.timer = setTimeout(() => {
      this.retrying.delete(id);
      if (this.pending.get(id) !== p || this.closedError) return;
      this.transmit(id, p);
    }, wait);
    p.timer.unref();
    return true;
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
      if (!p || this.retrying.has(msg.id)) continue; // reply to a request we already gave up on
      if (msg.t === 'error' && msg.code === 'MESH_BUSY' && this.retryBusy(msg.id, p)) continue;
      p.replies++;
      // Any reply re-arms the idle timer: a long stream stays alive while it makes progress.
      if (p.timer) clearTimeout(p.timer);
      p.timer = this.armTimer(msg.id, p.timeoutMs);
      let ended = true;
      try {
        ended = p.onMessage(msg);
      } catch (err) {
        p.reject(err as Error);
      }
      if (ended) this.finish(msg.id);
    }
  }

  /** With nothing pending for a while the connection closes itself, before the server would. */
  private armIdle(): void {
    if (this.idleTimer || this.closedError || this.pending.size > 0) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.pending.size === 0) this.close();
    }, this.limits.idleCloseMs);
    this.idleTimer.unref();
  }

  private clearIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private fail(err: Error): void {
    if (this.closedError) return;
    this.closedError = err;
    this.clearIdle();
    this.queued.length = 0;
    this.retrying.clear();
    for (const [id, p] of [...this.pending]) {
      if (p.timer) clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(err);
    }
    this.inFlight = 0;
  }
}

const PASSED_THROUGH = new Set(['MESH_REFUSED', 'MESH_NOT_FOUND', 'MESH_TOO_FEW_DEVICES', 'MESH_BUSY', 'MESH_TIMEOUT', 'MESH_CLOSED', 'MESH_CONFLICT', 'MESH_KEY_MISMATCH', 'MESH_NO_ZONE_KEY', 'MESH_BAD_SYMBOL', 'AUTHZ_DENIED', 'STORE_CONFLICT', 'STORE_QUOTA', 'STORE_FULL', 'STORE_GONE', 'STORE_IO', 'STORE_CORRUPT']);

/** An `error` reply as a MeshError: refusals and not-found keep their code, the rest are peer errors. */
function peerError(reply: Message): MeshError {
  const r: { code?: string; message?: string } = reply.t === 'error' ? reply : {};
  // Passed-through codes of other layers (AUTHZ_, STORE_) ride in a MeshError so callers match one class.
  const code = r.code && PASSED_THROUGH.has(r.code) ? (r.code as MeshErrorCode) : 'MESH_PEER_ERROR';
  return new MeshError(code, code === 'MESH_PEER_ERROR' ? `${r.code ?? 'ERROR'}: ${r.message ?? 'peer refused the request'}` : r.message ?? code, { peerCode: r.code });
}
