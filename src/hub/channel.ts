// One JSON-RPC 2.0 peer over a pair of byte streams, used by both ends of the connector protocol:
// the host (towards a child) and the connector SDK (towards the host). Requests are matched to
// responses by id; a response to an id never sent is a protocol violation (the pipe has
// desynchronised), while a late response to a request that already timed out is dropped.
import {
  LineSplitter,
  ProtocolViolation,
  RPC_APP_ERROR,
  RPC_INTERNAL,
  RPC_METHOD_NOT_FOUND,
  encodeMessage,
  isNotification,
  isRequest,
  parseMessage,
  type JsonRpcErrorBody,
  type JsonRpcId,
  type JsonRpcMessage,
} from './protocol.js';

/** An error the other side returned, with its JSON-RPC code and optional stable fcp code. */
export class RemoteError extends Error {
  constructor(
    readonly rpcCode: number,
    message: string,
    readonly fcpCode: string | undefined,
  ) {
    super(message);
    this.name = 'RemoteError';
  }
}

/** Thrown by a request handler to answer with a chosen JSON-RPC error. */
export class RpcFault extends Error {
  constructor(
    readonly rpcCode: number,
    message: string,
    readonly fcpCode?: string,
  ) {
    super(message);
  }
}

export interface ChannelHandlers {
  onRequest(method: string, params: unknown): Promise<unknown>;
  onNotification(method: string, params: unknown): void;
  /** The other side broke the protocol; the channel is closed already. */
  onViolation(reason: string): void;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout | undefined;
}

/** Ids given up on (timed out) whose late replies are dropped; bounded. */
const MAX_ABANDONED = 1024;

export class RpcChannel {
  private readonly splitter: LineSplitter;
  private readonly pending = new Map<JsonRpcId, Pending>();
  private readonly abandoned = new Set<JsonRpcId>();
  private nextId = 1;
  private closed: Error | null = null;

  constructor(
    private readonly write: (line: string) => void,
    private readonly handlers: ChannelHandlers,
    maxLineBytes?: number,
  ) {
    this.splitter = new LineSplitter(maxLineBytes);
  }

  get isClosed(): boolean {
    return this.closed !== null;
  }

  /** Feeds bytes read from the other side. */
  feed(chunk: Buffer): void {
    if (this.closed) return;
    let lines: string[];
    try {
      lines = this.splitter.push(chunk);
    } catch (err) {
      return this.violate((err as Error).message);
    }
    for (const line of lines) {
      if (this.closed) return;
      if (line.trim() === '') continue;
      let msg: JsonRpcMessage;
      try {
        msg = parseMessage(line);
      } catch (err) {
        return this.violate(err instanceof ProtocolViolation ? err.message : String(err));
      }
      this.dispatch(msg);
    }
  }

  private dispatch(msg: JsonRpcMessage): void {
    if (isRequest(msg)) {
      const id = msg.id;
      this.handlers.onRequest(msg.method, msg.params).then(
        (result) => this.send({ jsonrpc: '2.0', id, result: result ?? null }),
        (err: unknown) => this.send({ jsonrpc: '2.0', id, error: toErrorBody(err) }),
      );
      return;
    }
    if (isNotification(msg)) {
      this.handlers.onNotification(msg.method, msg.params);
      return;
    }
    const id = msg.id;
    const p = id === null ? undefined : this.pending.get(id);
    if (!p) {
      if (id !== null && this.abandoned.delete(id)) return;
      return this.violate(`a response to id ${JSON.stringify(id)}, which was never asked`);
    }
    this.pending.delete(id!);
    if (p.timer) clearTimeout(p.timer);
    if ('error' in msg) p.reject(new RemoteError(msg.error.code, msg.error.message, typeof msg.error.data?.code === 'string' ? msg.error.data.code : undefined));
    else p.resolve(msg.result);
  }

  private send(m: JsonRpcMessage): void {
    if (this.closed) return;
    this.write(encodeMessage(m));
  }

  /**
   * Calls a method on the other side. `timeoutMs` bounds the wait; on timeout `onTimeout` makes
   * the error and the id is remembered so its late reply is dropped, not taken as a violation.
   */
  request(method: string, params: unknown, timeoutMs: number, onTimeout: () => Error): Promise<unknown> {
    if (this.closed) return Promise.reject(this.closed);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer =
        timeoutMs > 0 && Number.isFinite(timeoutMs)
          ? setTimeout(() => {
              this.pending.delete(id);
              this.abandoned.add(id);
              if (this.abandoned.size > MAX_ABANDONED) this.abandoned.delete(this.abandoned.values().next().value!);
              this.notify('cancel', { id });
              reject(onTimeout());
            }, timeoutMs)
          : undefined;
      this.pending.set(id, { resolve, reject, timer });
      this.send({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
    });
  }

  notify(method: string, params?: unknown): void {
    this.send({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }) });
  }

  /** Fails every pending request with `err` and refuses new ones. */
  close(err: Error): void {
    if (this.closed) return;
    this.closed = err;
    for (const p of this.pending.values()) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  private violate(reason: string): void {
    this.close(new ProtocolViolation(reason));
    this.handlers.onViolation(reason);
  }
}

function toErrorBody(err: unknown): JsonRpcErrorBody {
  if (err instanceof RpcFault) return { code: err.rpcCode, message: err.message, ...(err.fcpCode ? { data: { code: err.fcpCode } } : {}) };
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(e.code) ? e.code : undefined;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  return { code: code ? RPC_APP_ERROR : RPC_INTERNAL, message, ...(code ? { data: { code } } : {}) };
}

export { RPC_METHOD_NOT_FOUND };
