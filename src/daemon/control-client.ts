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
}

export class ControlClient {
  constructor(readonly socketPath: string) {}

  request(path: string, opts: RequestOptions = {}): Promise<ControlResponse> {
    if (!existsSync(this.socketPath)) {
      return Promise.reject(new ControlError('FCPD_NOT_RUNNING', `fcpd is not running (no control socket at ${this.socketPath}); start it with \`fcpd\` or \`fcp daemon start\``));
    }
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          socketPath: this.socketPath,
          path,
          method: opts.method ?? 'GET',
          headers: opts.contentLength !== undefined ? { 'content-length': opts.contentLength } : {},
        },
        (res) => {
          const chunks: Buffer[] = [];
          let got = 0;
          const total = res.headers['content-length'] ? Number(res.headers['content-length']) : null;
          res.on('data', (c: Buffer) => {
            chunks.push(c);
            got += c.length;
            opts.onDownload?.(got, total);
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') {
          reject(new ControlError('FCPD_NOT_RUNNING', `fcpd is not running (control socket ${this.socketPath} refused the connection)`));
        } else reject(new ControlError('FCPD_CONTROL_FAILED', `control socket error: ${err.message}`));
      });
      const body = opts.body;
      if (body instanceof Uint8Array) {
        req.end(body);
      } else if (body) {
        let sent = 0;
        body.on('data', (c: Buffer) => {
          sent += c.length;
          opts.onUpload?.(sent);
        });
        body.pipe(req);
      } else req.end();
    });
  }

  /** A JSON request; a non-2xx answer becomes a ControlError with the daemon's code and message. */
  async json<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.request(path, opts);
    return parseJsonReply<T>(res);
  }
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
