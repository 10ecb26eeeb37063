// An assistant on one device, a bridged MCP server placed on another: the SDK client talks to
// `fcp mcp` on the laptop, which does not run the connector; its calls are routed over FCP to the
// server, where the bridge runs the existing MCP server. Real fcpd processes on both devices.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { DevMesh } from '../../src/devnet/index.js';
import { bridgeManifest, discoverBridgeTools } from '../../src/hub/connectors/bridge-manifest.js';

const SERVER = fileURLToPath(new URL('./fixtures/mcp-server.js', import.meta.url));
const FCP = fileURLToPath(new URL('../../../bin/fcp.js', import.meta.url));
type Placement = { id: string; runningOn?: string };

let mesh: DevMesh;
before(async () => {
  mesh = await DevMesh.start({
    description: {
      tailnet: 'mcp-cross.example',
      nodes: [
        { name: 'laptop', tags: ['tag:fcp-owner'], address: '127.77.43.1' },
        { name: 'server', tags: ['tag:fcp-owner'], address: '127.77.43.2' },
      ],
    },
    env: { FCP_HUB_LEASE_MS: '2000', FCP_HUB_POLL_MS: '200' },
  });
});
after(async () => mesh?.stop());

async function until<T>(what: string, ms: number, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('an MCP client on the laptop lists and calls the tools of an MCP server bridged on the server', async () => {
  const tools = await discoverBridgeTools(process.execPath, [SERVER]);
  const manifest = bridgeManifest({ id: 'calc', zone: 'z:private', command: process.execPath, args: [SERVER], device: 'server', tools: tools.filter((t) => t.name === 'add') });
  const body = new TextEncoder().encode(JSON.stringify(manifest));
  await mesh.device('laptop').control.json('/v1/hub/connectors', { method: 'POST', body, contentLength: body.length });
  await until('the server runs the bridge', 20_000, async () =>
    (await mesh.device('server').control.json<Placement[]>('/v1/hub/placements')).some((p) => p.id === 'calc' && p.runningOn === 'server') ? true : undefined,
  );
  const client = new Client({ name: 'test-assistant', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [FCP, 'mcp', '--data-dir', mesh.device('laptop').dataDir], stderr: 'ignore' }));
  try {
    const listed = await client.listTools();
    const add = listed.tools.find((t) => t.name === 'calc__add');
    assert.ok(add, `tools: ${listed.tools.map((t) => t.name).join(', ')}`);
    assert.equal(add.annotations?.readOnlyHint, true);
    const r = await client.callTool({ name: 'calc__add', arguments: { a: 2, b: 40 } });
    assert.equal(r.isError ?? false, false, JSON.stringify(r.content));
    assert.match(JSON.stringify(r), /42/);
    const bad = await client.callTool({ name: 'calc__add', arguments: { a: 'two' } });
    assert.equal(bad.isError, true);
  } finally {
    await client.close();
  }
  // The laptop routed the calls: it never ran the connector itself.
  const onLaptop = await mesh.device('laptop').control.json<Placement[]>('/v1/hub/placements');
  assert.equal(onLaptop.find((p) => p.id === 'calc')?.runningOn, 'server');
});
