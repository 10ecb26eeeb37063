// One authenticated connection of the FCP server. Requests run concurrently, keyed by request
// id. Everything a peer can make this side hold is bounded: bytes of the frame being received and
// of requests not yet answered (reading pauses above the per-connection or daemon budget), reply
// bytes queued for the peer (a streaming send waits), and time (a started frame, an idle
// connection, replies that stop draining). Replies to a connection that has gone are dropped.
import { setMaxListeners } from 'node:events';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { encodeFrame, encodeFramePieces, piecesLength, FrameDecoder, type Message } from '../wire/index.js';
import { writeFrame } from './write-frame.js';
import { ByteBudget } from './budget.js';
import { MeshError } from './errors.js';
import type { Gate } from './gate.js';
import type { ServerLimits } from './limits.js';
import type { Outgoing } from './rpc.js';
import type { Caller, Handle, RequestContext } from './server-types.js';

/** What all sessions of one server share. */
export interface SessionShared {
  limits: Readonly<ServerLimits>;
  handle: Handle;
  log: Logger;
  maxFrameBytes: number | undefined;
  replyBudget: ByteBudget;
  inboundBudget: ByteBudget;
  fetchGate: Gate;
  onBadFrame: ((caller: Caller, reason: string) => void) | undefined;
}

/** Message types whose serving is gated per daemon (they stream and read the disk). */
const GATED = 'fetch';

export class Session {
  private readonly decoder: FrameDecoder;
  private readonly running = new Map<number, AbortController>();
  /** Aborted when the connection closes: wakes every wait of this session. */
  private readonly life = new AbortController();
  private closed = false;
  private readonly inbound: ByteBudget;
  private readonly replies: ByteBudget;
  /** A budget of one: the turn to encode and queue the next reply frame. */
  private readonly writeTurn = new ByteBudget(1);
  /** Inbound bytes reserved for the frame being received (its announced size), 0 if none. */
  private frameReserved = 0;
  private waitingForBudget = false;
  /** Reply bytes handed to the socket and not yet flushed to the kernel. */
  private unflushed = 0;
  private lastFlush = 0;
  private frameTimer: NodeJS.Timeout | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private writeTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly socket: Socket,
    private readonly caller: Caller,
    private readonly shared: SessionShared,
  ) {
    const limits = shared.limits;
    this.decoder = new FrameDecoder({ maxArrayLength: limits.maxArrayItems, ...(shared.maxFrameBytes !== undefined ? { maxFrameBytes: shared.maxFrameBytes } : {}) });
    this.inbound = new ByteBudget(limits.maxInboundBytesPerConnection);
    this.replies = new ByteBudget(limits.maxReplyBytesPerConnection);
    // Every send waiting for its turn listens on this signal; that many is expected.
    setMaxListeners(0, this.life.signal);
  }

  start(): void {
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('close', () => this.onClose());
    // A peer that half-closes can send no more requests; FCP peers never do it while waiting
    // for replies, so its requests are abandoned and the socket goes at once.
    this.socket.on('end', () => {
      this.onClose();
      this.socket.destroy();
    });
    this.armIdle();
    this.socket.resume();
  }

  // ------------------------------------------------------------------ reading

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    const carried = this.frameReserved;
    let frames: ReturnType<FrameDecoder['pushSized']>;
    try {
      frames = this.decoder.pushSized(chunk);
    } catch (err) {
      const e = err as Error & { code?: string };
      this.shared.onBadFrame?.(this.caller, e.message);
      this.shared.log.warn({ peer: this.caller.hostName, code: e.code, reason: e.message }, 'bad frame; closing connection');
      this.closeWith(e.code ?? 'PROTO_BAD_MESSAGE', e.message);
      return;
    }
    this.clearIdle();
    // Each completed frame restarts the frame clock: it bounds one frame, not a busy connection.
    if (frames.length > 0) this.clearFrameTimer();
    // The frame that was in progress (if one completed) already holds its reservation; frames
    // that arrived whole within this chunk are counted now (a chunk is at most a socket read).
    frames.forEach((f, i) => {
      if (i === 0 && carried > 0) this.frameReserved = 0;
      else {
        this.inbound.force(f.bytes);
        this.shared.inboundBudget.force(f.bytes);
      }
      this.dispatch(f.msg, f.bytes);
    });
    if (this.closed) return;
    this.updateFrameTimer();
    this.admitNext();
    this.armIdle();
  }

  /** Reserves the announced size of a newly started frame, or pauses reading until it fits. */
  private admitNext(): void {
    const pending = this.decoder.pendingFrameBytes;
    const need = pending > 0 && this.frameReserved === 0 ? pending : 0;
    const within = this.inbound.withinLimit && this.shared.inboundBudget.withinLimit;
    if (need === 0 && within) return;
    if (need > 0 && within && this.inbound.tryTake(need)) {
      if (this.shared.inboundBudget.tryTake(need)) {
        this.frameReserved = need;
        return;
      }
      this.inbound.release(need);
    }
    // Over budget: stop reading (TCP pushes back on the peer) until the bytes are free. The
    // frame clock keeps running: a frame that cannot be taken in time is refused like a slow one.
    this.socket.pause();
    this.waitingForBudget = true;
    void this.reserve(need).then(
      () => {
        this.waitingForBudget = false;
        if (this.closed) return;
        this.frameReserved += need;
        this.updateFrameTimer();
        this.socket.resume();
      },
      () => undefined, // closed while waiting; onClose has released everything
    );
  }

  private async reserve(n: number): Promise<void> {
    await this.inbound.acquire(n, this.life.signal);
    try {
      await this.shared.inboundBudget.acquire(n, this.life.signal);
    } catch (err) {
      this.inbound.release(n);
      throw err;
    }
    if (this.closed) {
      this.inbound.release(n);
      this.shared.inboundBudget.release(n);
      throw new MeshError('MESH_CLOSED', 'connection closed');
    }
  }

  private releaseInbound(n: number): void {
    if (this.closed) return; // onClose released the session's whole share
    this.inbound.release(n);
    this.shared.inboundBudget.release(n);
  }

  // ------------------------------------------------------------------ requests

  private dispatch(msg: Message, bytes: number): void {
    if (msg.t === 'stop') {
      const target = msg.target;
      this.running.get(target)?.abort();
      this.releaseInbound(bytes);
      return;
    }
    if (this.running.has(msg.id)) {
      void this.refuse(msg.id, bytes, 'PROTO_BAD_MESSAGE', `request id ${msg.id} is already in use on this connection`);
      return;
    }
    if (this.running.size >= this.shared.limits.maxInFlight) {
      void this.refuse(msg.id, bytes, 'MESH_BUSY', 'too many requests in flight on this connection');
      return;
    }
    const ac = new AbortController();
    this.running.set(msg.id, ac);
    void this.run(msg, ac, bytes);
  }

  private async refuse(id: number, bytes: number, code: string, message: string): Promise<void> {
    await this.reply({ t: 'error', code, message }, id);
    this.releaseInbound(bytes);
    this.afterRequest();
  }

  private async run(msg: Message, ac: AbortController, bytes: number): Promise<void> {
    let leave: (() => void) | undefined;
    try {
      let reply: Outgoing;
      try {
        if (msg.t === GATED) leave = await this.shared.fetchGate.enter(ac.signal);
        reply = await this.shared.handle(this.contextFor(msg.id, ac.signal), msg);
      } catch (err) {
        reply = this.errorReply(msg, ac, err as Error & { code?: unknown });
      }
      await this.reply(reply, msg.id);
    } catch (err) {
      this.shared.log.error({ err: (err as Error).message }, 'request failed after its reply');
    } finally {
      leave?.();
      this.running.delete(msg.id);
      this.releaseInbound(bytes);
      this.afterRequest();
    }
  }

  private errorReply(msg: Message, ac: AbortController, err: Error & { code?: unknown }): Outgoing {
    // A fetch stopped while it waited for a slot ends like one stopped while it ran.
    if (msg.t === GATED && ac.signal.aborted && err instanceof MeshError && err.code === 'MESH_CLOSED') return { t: 'fetch_end', count: 0 };
    const code = typeof err.code === 'string' ? err.code : 'MESH_INTERNAL';
    if (code === 'MESH_INTERNAL') this.shared.log.error({ err: err.message, stack: err.stack }, 'request handler failed');
    return { t: 'error', code, message: String(err.message).slice(0, 4000) };
  }

  private contextFor(id: number, signal: AbortSignal): RequestContext {
    return { caller: this.caller, id, signal, limits: this.shared.limits, send: (m) => this.write(m, id) };
  }

  /** A terminal reply: dropped if the connection is gone; an unsendable one becomes an error. */
  private async reply(msg: Outgoing, id: number): Promise<void> {
    try {
      await this.write(msg, id);
    } catch (err) {
      if (this.closed) return;
      const e = err as Error & { code?: unknown };
      await this.write({ t: 'error', code: typeof e.code === 'string' ? e.code : 'MESH_INTERNAL', message: e.message.slice(0, 4000) }, id).catch(() => undefined);
    }
  }

  // ------------------------------------------------------------------ writing

  /**
   * Queues one frame for the peer, waiting while this connection's or the daemon's reply
   * budget is used up. Rejects with MESH_CLOSED once the connection is gone.
   */
  private async write(msg: Outgoing, id: number): Promise<void> {
    // 'close' comes a turn after the socket is destroyed; a destroyed socket counts as closed now.
    if (this.socket.destroyed) this.onClose();
    if (this.closed) throw new MeshError('MESH_CLOSED', 'connection closed');
    // One writer at a time encodes and waits for budget, so waiting sends hold no encoded copies.
    await this.writeTurn.acquire(1, this.life.signal);
    try {
      const frame = encodeFramePieces({ ...msg, v: 1, id } as Message);
      const n = piecesLength(frame);
      await this.replies.acquire(n, this.life.signal);
      try {
        await this.shared.replyBudget.acquire(n, this.life.signal);
      } catch (err) {
        this.replies.release(n);
        throw err;
      }
      if (this.socket.destroyed) this.onClose();
      if (this.closed) {
        this.replies.release(n);
        this.shared.replyBudget.release(n);
        throw new MeshError('MESH_CLOSED', 'connection closed');
      }
      if (this.unflushed === 0) this.lastFlush = performance.now();
      this.unflushed += n;
      this.armWriteDeadline();
      writeFrame(this.socket, frame, () => this.flushed(n));
    } finally {
      this.writeTurn.release(1);
    }
  }

  private flushed(n: number): void {
    if (this.closed) return; // onClose released what was outstanding
    this.unflushed -= n;
    this.lastFlush = performance.now();
    this.replies.release(n);
    this.shared.replyBudget.release(n);
    if (this.unflushed === 0) {
      this.clearWriteTimer();
      this.armIdle();
    }
  }

  private armWriteDeadline(): void {
    if (this.writeTimer) return;
    const deadline = this.shared.limits.writeDeadlineMs;
    const check = () => {
      this.writeTimer = null;
      if (this.closed || this.unflushed === 0) return;
      const stalled = performance.now() - this.lastFlush;
      if (stalled >= deadline) {
        this.shared.log.warn({ peer: this.caller.hostName, queued: this.unflushed, ms: Math.round(stalled) }, 'peer stopped reading its replies; closing connection');
        this.socket.destroy();
        return;
      }
      this.writeTimer = setTimeout(check, deadline - stalled);
      this.writeTimer.unref();
    };
    this.writeTimer = setTimeout(check, deadline);
    this.writeTimer.unref();
  }

  // ------------------------------------------------------------------ timers and closing

  private updateFrameTimer(): void {
    if (this.decoder.bufferedBytes === 0 && this.decoder.pendingFrameBytes === 0) {
      this.clearFrameTimer();
      return;
    }
    if (this.frameTimer) return;
    const ms = this.shared.limits.frameTimeoutMs;
    this.frameTimer = setTimeout(() => {
      this.frameTimer = null;
      this.shared.log.warn({ peer: this.caller.hostName, ms }, 'frame not completed in time; closing connection');
      this.closeWith('MESH_TIMEOUT', `a frame must arrive whole within ${ms} ms`);
    }, ms);
    this.frameTimer.unref();
  }

  private afterRequest(): void {
    if (this.closed) return;
    this.armIdle();
  }

  private get idle(): boolean {
    return this.running.size === 0 && this.unflushed === 0 && this.decoder.bufferedBytes === 0 && !this.waitingForBudget;
  }

  private armIdle(): void {
    if (this.idleTimer || this.closed || !this.idle) return;
    const ms = this.shared.limits.idleTimeoutMs;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.closed) return;
      if (!this.idle) return this.armIdle();
      this.closeWith('MESH_TIMEOUT', `connection idle for ${ms} ms`);
    }, ms);
    this.idleTimer.unref();
  }

  private clearIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private clearFrameTimer(): void {
    if (this.frameTimer) clearTimeout(this.frameTimer);
    this.frameTimer = null;
  }

  private clearWriteTimer(): void {
    if (this.writeTimer) clearTimeout(this.writeTimer);
    this.writeTimer = null;
  }

  /** Sends a connection-level error (request id 0), stops reading, destroys the socket soon after. */
  private closeWith(code: string, message: string): void {
    if (this.closed) return;
    this.onClose();
    this.socket.end(encodeFrame({ v: 1, t: 'error', id: 0, code, message } as Message));
    setTimeout(() => this.socket.destroy(), this.shared.limits.closeLingerMs).unref();
  }

  /** Releases everything the session holds; runs once, on close or when closing on purpose. */
  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.clearIdle();
    this.clearFrameTimer();
    this.clearWriteTimer();
    this.life.abort();
    for (const ac of this.running.values()) ac.abort();
    // Requests still running keep no reservation: the session gives back its whole share now.
    this.shared.inboundBudget.release(this.inbound.inUse);
    this.shared.replyBudget.release(this.unflushed);
    this.unflushed = 0;
  }
}
