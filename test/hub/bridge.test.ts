// The bridge: an existing stdio MCP server (written for the test) becomes a connector; its tools
// are operations with risk from their annotations, an env value comes from a k-of-n secret, and
// its tools are called through the hub and through MCP.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LOCAL_CONTROL, LOCAL_MCP } from '../../src/authz/index.js';
import { bridgeManifest, discoverBridgeTools } from '../../src/hub/connectors/bridge-manifest.js';
import { createHubMcpServer, serviceToolSource } from '../../src/hub/mcp.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { TailnetDescription } from '../../src/tailscale/emulator/index.js';
import { InProcessMesh } from '../mesh/in-process.js';

const SERVER = fileURLToPath(new URL('./fixtures/mcp-server.js', import.meta.url));
const NET: TailnetDescription = {
  tailnet: 'bridge.example',
  users: [{ loginName: 'alice@example.com', displayName: 'Alice' }],
  nodes: [
    { name: 'laptop', tags: ['tag:fcp-owner'], os: 'linux', path: 'direct', latencyMs: 1, address: '127.77.83.1' },
    { name: 'server', tags: ['tag:fcp-owner'], os: 'linux', path: 'direct', latencyMs: 1, address: '127.77.83.2' },
  ],
};
const KEY = 'bridge-key-' + 'k'.repeat(20);
const P = LOCAL_CONTROL;
const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;

describe('bridge connector', () => {
  let mesh: InProcessMesh;
  before(async () => {
    mesh = await InProcessMesh.start(NET);
    await mesh.node('laptop').secrets.put('mcp-key', new TextEncoder().encode(KEY), { k: 2, n: 2, zone: 'z:owner' });
  });
  after(async () => mesh?.stop());

  test('discovered tools become operations; calls go through; the env secret reaches the server only', async () => {
    const tools = await discoverBridgeTools(process.execPath, [SERVER]);
    assert.deepEqual(tools.map((t) => [t.name, t.risk]), [['add', 'safe'], ['key.check', 'risky'], ['wipe', 'dangerous'], ['fail', 'safe']]);
    const hub = mesh.node('laptop').services.hub;
    const info = await hub.install(P, bridgeManifest({ id: 'calc', zone: 'z:private', command: process.execPath, args: [SERVER], envSecrets: { API_KEY: 'mcp-key' }, tools }));
    assert.deepEqual(info.operations.map((o) => o.name), ['add', 'key_check', 'wipe', 'fail']);
    const sum = (await hub.invoke(P, 'calc', 'add', { a: 2, b: 40 })) as { structuredContent: { sum: number } };
    assert.equal(sum.structuredContent.sum, 42);
    await assert.rejects(hub.invoke(P, 'calc', 'add', { a: 'two' }), code('HUB_BAD_INPUT'));
    await assert.rejects(hub.invoke(P, 'calc', 'fail', {}), (e: unknown) => code('CONNECTOR_TOOL_FAILED')(e) && /always fails/.test((e as Error).message));
    await assert.rejects(hub.invoke(P, 'calc', 'wipe', {}), code('HUB_IDEMPOTENCY_REQUIRED'));
    const check = (await hub.invoke(P, 'calc', 'key_check', {}, { idempotencyKey: 'c1' })) as { structuredContent: { length: number; inArgv: boolean; pid: number } };
    assert.equal(check.structuredContent.length, KEY.length);
    assert.equal(check.structuredContent.inArgv, false);
    // The bridge process itself holds the key in memory only; the MCP server has it in its env by design.
    const bridgePid = mesh.node('laptop').connectors.status().find((s) => s.id === 'calc')!.pid!;
    assert.ok(!readFileSync(`/proc/${bridgePid}/environ`).includes(KEY));
    assert.ok(!readFileSync(`/proc/${bridgePid}/cmdline`).includes(KEY));
    assert.ok(readFileSync(`/proc/${check.structuredContent.pid}/environ`).includes(KEY));

    // Its tools through the MCP front door, dangerous ones only with an explicit key.
    const server = createHubMcpServer(serviceToolSource(hub, LOCAL_MCP), { name: 'fcp', version: 't' });
    const [a, b] = InMemoryTransport.createLinkedPair();
    await server.connect(a);
    const client = new Client({ name: 't', version: '1' });
    await client.connect(b);
    const listed = (await client.listTools()).tools.find((t) => t.name === 'calc__wipe')!;
    assert.equal(listed.annotations?.destructiveHint, true);
    const refused = await client.callTool({ name: 'calc__wipe', arguments: {} });
    assert.equal(refused.isError, true);
    assert.match((refused.content as Array<{ text: string }>)[0]!.text, /HUB_IDEMPOTENCY_REQUIRED/);
    const ok = await client.callTool({ name: 'calc__wipe', arguments: {}, _meta: { 'fcp/idempotency-key': 'wipe-1' } });
    assert.equal(ok.isError, undefined);
    await client.close();
  });
});
