// The `http` connector: fetches URLs through the host's egress proxy. It holds no credential:
// it names one (a secret of its manifest), and the proxy adds it for the hosts it is for.
import { ConnectorError, runConnector } from '../connector-sdk.js';

let proxy = '';
const MAX_TEXT = 256 * 1024;

interface FetchInput {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  credential?: string;
}

async function viaProxy(i: FetchInput): Promise<unknown> {
  if (!proxy) throw new ConnectorError('CONNECTOR_BAD_CONFIG', 'http has no egress proxy (its manifest has no egress.allow)');
  const res = await fetch(proxy, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(i) });
  const out = (await res.json()) as { status: number; headers: Record<string, string>; body_base64: string; error?: { code: string; message: string } };
  if (out.error) {
    const code = out.error.code === 'HUB_EGRESS_DENIED' ? 'CONNECTOR_EGRESS_REFUSED' : 'CONNECTOR_EGRESS_UNAVAILABLE';
    throw new ConnectorError(code, out.error.message);
  }
  const text = Buffer.from(out.body_base64, 'base64').toString('utf8');
  return { status: out.status, headers: out.headers, body: text.slice(0, MAX_TEXT), truncated: text.length > MAX_TEXT };
}

runConnector({
  id: 'http',
  version: '1.0.0',
  description: 'HTTP requests through the egress proxy, with credentials added by the host',
  configure: ({ egress_proxy }) => {
    proxy = egress_proxy ?? '';
  },
  operations: {
    get: { description: 'GET a URL', handler: (input) => viaProxy({ ...(input as FetchInput), method: 'GET' }) },
    request: { description: 'Any HTTP request (may change things)', handler: (input) => viaProxy(input as FetchInput) },
  },
});
