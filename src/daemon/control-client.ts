// The `fcp` side of the daemon's control socket.
import { FcpError } from '../errors/index.js';
import http from 'node:http';
import { existsSync } from 'node:fs';

/** Errors of the control socket and of the CLI; `code` may also be one the daemon answered with. */
export class ControlError extends FcpError {}

export interface ControlResponse {
  status: number;
  body: Buffer;
}

export interface RequestOptions {
  method?: string;
  body?: Uint8Array | NodeJS.ReadableStream;
  contentLength?: number;
  onUpload?: (bytes: number) => void;
  onDownload?: (bytes: number, total: number | null) => void;
  /** Called when the whole body has been handed to the socket. */
  onUploadEnd?: () => void;
  /** Aborting destroys the request; the promise rejects with INTERRUPTED. */
  signal?: AbortSignal;
  /** Extra request headers (a capability token and its proof). */
  headers?: Record<string, string>;
}

export interface ControlStream {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body as it arrives; a body shorter than content-length ends with an error. */
  body: http.IncomingMessage;
}

export class ControlClient {
  constructor(readonly socketPath: string) {}

  request(path: string, opts: RequestOptions = {}): Promise<ControlResponse> {
    return this.open(path, opts).then(
      (r) =>
        new Promise<ControlResponse>((resolve, reject) => {
          const chunks: Buffer[] = [];
          let got = 0;
          const total = r.headers['content-length'] ? Number(r.headers['content-length']) : null;
          r.body.on('data', (c: Buffer) => {
            chunks.push(c);
            got += c.length;
            opts.onDownload?.(got, total);
          });
          r.body.on('end', () => resolve({ status: r.status, body: Buffer.concat(chunks) }));
          r.body.on('error', (err) => reject(opts.signal?.aborted ? interrupted() : new ControlError('FCPD_CONTROL_FAILED', `control socket error: ${err.message}`)));
        }),
    );
  }

  /**
   * Sends a request and resolves at the reply's headers with its body as a stream. A non-2xx
   * reply is read whole and becomes a ControlError with the daemon's code (see `stream`).
   */
  open(path: string, opts: RequestOptions = {}): Promise<ControlStream> {
    if (!existsSync(this.socketPath)) {
      return Promise.reject(new ControlError('FCPD_NOT_RUNNING', `fcpd is not running (no control socket at ${this.socketPath}); start it with \`fcpd\` or \`fcp daemon start\``));
    }
    if (opts.signal?.aborted) return Promise.reject(interrupted());
    return new Promise((resolve, reject) => {
      let answered = false;
      const req = http.request(
        {
          socketPath: this.socketPath,
          path,
          method: opts.method ?? 'GET',
          headers: { ...(opts.headers ?? {}), ...(opts.contentLength !== undefined && opts.contentLength >= 0 ? { 'content-length': opts.contentLength } : {}) },
        },
        (res) => {
          answered = true;
          // The daemon answered before the upload ended (an error): stop sending.
          if (body && !(body instanceof Uint8Array) && !uploadEnded) (body as NodeJS.ReadableStream).unpipe(req);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res });
        },
      );
      const onAbort = () => req.destroy();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      req.on('close', () => opts.signal?.removeEventListener('abort', onAbort));
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (answered) return;
        if (opts.signal?.aborted) reject(interrupted());
        else if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') {
          reject(new ControlError('FCPD_NOT_RUNNING', `fcpd is not running (control socket ${this.socketPath} refused the connection)`));
        } else reject(new ControlError('FCPD_CONTROL_FAILED', `control socket error: ${err.message}`));
      });
      const body = opts.body;
      let uploadEnded = false;
      if (body instanceof Uint8Array) {
        req.end(body);
      } else if (body) {
        let sent = 0;
        body.on('data', (c: Buffer) => {
          sent += c.length;
          opts.onUpload?.(sent);
        });
        body.on('end', () => {
          uploadEnded = true;
          opts.onUploadEnd?.();
        });
        body.on('error', (err: Error) => {
          req.destroy();
          if (!answered) reject(err);
        });
        body.pipe(req);
      } else req.end();
    });
  }

  /** A streamed reply body; a non-2xx reply becomes a ControlError with the daemon's code. */
  async stream(path: string, opts: RequestOptions = {}): Promise<ControlStream> {
    const r = await this.open(path, opts);
    if (r.status >= 200 && r.status < 300) return r;
    const chunks: Buffer[] = [];
    for await (const c of r.body) chunks.push(c as Buffer);
    parseJsonReply({ status: r.status, body: Buffer.concat(chunks) });
    throw new ControlError('FCPD_BAD_REPLY', `fcpd answered ${r.status}`);
  }

  /** A JSON request; a non-2xx answer becomes a ControlError with the daemon's code and message. */
  async json<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.request(path, opts);
    return parseJsonReply<T>(res);
  }
}

function interrupted(): ControlError {
  return new ControlError('INTERRUPTED', 'interrupted');
}

export function parseJsonReply<T>(res: ControlResponse): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.body.toString('utf8'));
  } catch {
    throw new ControlError('FCPD_BAD_REPLY', `fcpd answered ${res.status} with a body that is not JSON`);
  }
  if (res.status < 200 || res.status >= 300) {
    const e = (parsed as { error?: { code?: string; message?: string } }).error;
    throw new ControlError(e?.code ?? `HTTP_${res.status}`, e?.message ?? `fcpd answered ${res.status}`);
  }
  return parsed as T;
}
