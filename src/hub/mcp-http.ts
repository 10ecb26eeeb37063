// MCP over Streamable HTTP in fcpd, on 127.0.0.1 only. Loopback is open to every local user, so
// each request must carry the bearer token kept in the data directory (mode 0600); the Host and
// Origin headers are checked before anything else (a web page cannot drive it through DNS
// rebinding). Stateless: each POST gets its own SDK server and transport.
import { listen } from '../net/listen.js';
import http from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createHubMcpServer, type McpServerInfo, type ToolSource } from './mcp.js';

export interface McpHttpOptions {
  source: ToolSource;
  info: McpServerInfo;
  port: number;
  token: string;
  /** Extra Origins allowed besides http://127.0.0.1:PORT and http://localhost:PORT. */
  allowedOrigins?: string[];
}

export interface McpHttpServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

const MAX_BODY = 4 * 1024 * 1024;

function refuse(res: http.ServerResponse, status: number, message: string): void {
  const body = JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message } });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...(status === 401 ? { 'www-authenticate': 'Bearer' } : {}) });
  res.end(body);
}

export async function startMcpHttp(opts: McpHttpOptions): Promise<McpHttpServer> {
  const token = Buffer.from(opts.token);
  let port = opts.port;
  const server = http.createServer((req, res) => {
    const hosts = [`127.0.0.1:${port}`, `localhost:${port}`];
    const origins = [...hosts.map((h) => `http://${h}`), ...(opts.allowedOrigins ?? [])];
    if (!hosts.includes(req.headers.host ?? '')) return refuse(res, 403, `host ${req.headers.host ?? '(none)'} refused`);
    const origin = req.headers.origin;
    if (origin !== undefined && !origins.includes(origin)) return refuse(res, 403, `origin ${origin} refused`);
    const given = Buffer.from(/^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '');
    if (given.length !== token.length || !timingSafeEqual(given, token)) return refuse(res, 401, 'a bearer token is required (the mcp-token file in the fcpd data directory)');
    if ((req.url ?? '').split('?')[0] !== '/mcp') return refuse(res, 404, 'the MCP endpoint is /mcp');
    if (req.method !== 'POST') return refuse(res, 405, 'this endpoint is stateless: POST only');
    void handle(req, res);
  });
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > MAX_BODY) return refuse(res, 413, `request over ${MAX_BODY} bytes`);
      chunks.push(c as Buffer);
    }
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return refuse(res, 400, 'the body is not JSON');
    }
    const mcp = createHubMcpServer(opts.source, opts.info);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void mcp.close();
    });
    await mcp.connect(transport);
    await transport.handleRequest(req, res, body);
  };
  const listening = await listen(server, opts.port, '127.0.0.1');
  port = listening.port;
  return { port, url: `http://127.0.0.1:${port}/mcp`, close: listening.close };
}
