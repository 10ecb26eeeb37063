// The MCP front door with the SDK's own client: `fcp mcp` (a real child process on stdio that
// talks to the device's control socket) and fcpd's Streamable HTTP endpoint (bearer token,
// Host/Origin checks, protocol version negotiation, tools only for who may call them).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFile } from 'node:child_process';
import { TEST_CONNECTOR } from './helpers.js';
import type http from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LOCAL_CONTROL, LOCAL_MCP, type DevicePrincipal } from '../../src/authz/index.js';
import { startControlServer } from '../../src/daemon/control-server.js';
import { filesManifest, memoryManifest } from '../../src/hub/connectors/builtin.js';
import { serviceToolSource } from '../../src/hub/mcp.js';
import { startMcpHttp, type McpHttpServer } from '../../src/hub/mcp-http.js';
import type { TailnetDescription } from '../../src/tailscale/emulator/index.js';
import { InProcessMesh } from '../mesh/in-process.js';

const FCP_BIN = fileURLToPath(new URL('../../../bin/fcp.js', import.meta.url));
const NET: TailnetDescription = {
  tailnet: 'mcp.example',
  users: [{ loginName: 'alice@example.com', displayName: 'Alice' }],
  nodes: [
    { name: 'laptop', tags: ['tag:fcp-owner'], os: 'linux', path: 'direct', latencyMs: 1, address: '127.77.82.1' },
    { name: 'server', tags: ['tag:fcp-owner'], os: 'linux', path: 'direct', latencyMs: 1, address: '127.77.82.2' },
  ],
};

type Text = Array<{ type: string; text?: string }>;

describe('MCP front door', () => {
  let mesh: InProcessMesh;
  let control: http.Server;
  let root: string;
  let dataDir: string;
  before(async () => {
    mesh = await InProcessMesh.start(NET);
    dataDir = join(mesh.dir, 'laptop');
    control = await startControlServer(mesh.node('laptop').services, join(dataDir, 'fcpd.sock'));
    root = mkdtempSync(join(tmpdir(), 'fcp-mcp-root-'));
    writeFileSync(join(root, 'todo.txt'), 'water the plants\n');
    await mesh.node('laptop').services.hub.install(LOCAL_CONTROL, filesManifest({ root, zone: 'z:private' }));
    await mesh.node('laptop').services.hub.install(LOCAL_CONTROL, memoryManifest({ zone: 'z:private' }));
  });
  after(async () => {
    await new Promise<void>((r) => control?.close(() => r()));
    await mesh?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  test('fcp mcp on stdio: tools with annotations from risk, calls, errors, idempotent retries', async () => {
    const client = new Client({ name: 'test-assistant', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [FCP_BIN, 'mcp', '--data-dir', dataDir], stderr: 'pipe' }));
    try {
      const { tools } = await client.listTools();
      const byName = new Map(tools.map((t) => [t.name, t]));
      assert.deepEqual([...byName.keys()].sort(), ['files__list', 'files__read', 'files__search', 'files__write', 'memory__recall', 'memory__remember', 'memory__search']);
      assert.equal(byName.get('files__read')!.annotations?.readOnlyHint, true);
      assert.equal(byName.get('files__write')!.annotations?.readOnlyHint, false);
      assert.equal(byName.get('files__write')!.annotations?.destructiveHint, false);
      assert.deepEqual(byName.get('files__read')!.inputSchema.required, ['path']);

      const read = await client.callTool({ name: 'files__read', arguments: { path: 'todo.txt' } });
      assert.equal((read.structuredContent as { text: string }).text, 'water the plants\n');
      assert.equal(read.isError, undefined);

      // A risky call without a key gets one derived from its arguments: the same retry acts once.
      const w1 = await client.callTool({ name: 'files__write', arguments: { path: 'todo.txt', text: 'buy soil\n' } });
      assert.ok(!w1.isError);
      writeFileSync(join(root, 'todo.txt'), 'edited by hand\n');
      await client.callTool({ name: 'files__write', arguments: { text: 'buy soil\n', path: 'todo.txt' } });
      assert.equal(readFileSync(join(root, 'todo.txt'), 'utf8'), 'edited by hand\n');

      const bad = await client.callTool({ name: 'files__read', arguments: { path: '../../etc/passwd' } });
      assert.equal(bad.isError, true);
      assert.match((bad.content as Text)[0]!.text!, /CONNECTOR_REFUSED/);
      const invalid = await client.callTool({ name: 'files__read', arguments: { nope: 1 } });
      assert.equal(invalid.isError, true);
      assert.match((invalid.content as Text)[0]!.text!, /HUB_BAD_INPUT/);
      await assert.rejects(client.callTool({ name: 'nothing__here', arguments: {} }), /no tool nothing__here/);

      const mem = await client.callTool({ name: 'memory__remember', arguments: { text: 'the assistant was here' } });
      assert.ok(!mem.isError, JSON.stringify(mem.content));
      const id = (mem.structuredContent as { id: string }).id;
      const back = await client.callTool({ name: 'memory__recall', arguments: { id } });
      assert.equal((back.structuredContent as { text: string }).text, 'the assistant was here');
    } finally {
      await client.close();
    }
  });

  test('fcp hub install/ls/rm and fcp call: results, and typed errors with their exit codes', async () => {
    const fcp = (...args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, [FCP_BIN, ...args, '--data-dir', dataDir], { timeout: 20_000 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
      });
    const toml = join(root, 'tomlc.toml');
    writeFileSync(
      toml,
      [`id = "tomlc"`, `version = "1.0.0"`, `command = ${JSON.stringify(process.execPath)}`, `args = [${JSON.stringify(TEST_CONNECTOR)}]`, `zone = "z:private"`, '', '[[operations]]', 'name = "echo"', 'risk = "safe"', ''].join('\n'),
    );
    const badManifest = join(root, 'bad.json');
    writeFileSync(badManifest, JSON.stringify({ id: 'bad', version: '1', command: 'x', zone: 'z:private', operations: [{ name: 'a', risk: 'safe' }, { name: 'b', risk: 'maybe' }] }));
    const [read, usage, needsKey, missing, installed, tomlInstalled, bad] = await Promise.all([
      fcp('call', 'files.read', '--input', '{"path":"todo.txt"}'),
      fcp('call', 'files.read', '--input', '{not json'),
      fcp('call', 'files.write', '--input', '{"path":"x.txt","text":"y"}', '--json'),
      fcp('call', 'nope.op'),
      fcp('hub', 'install', '--builtin', 'memory', '--zone', 'z:private', '--id', 'mem2', '--json'),
      fcp('hub', 'install', toml, '--json'),
      fcp('hub', 'install', badManifest),
    ]);
    assert.equal(read.code, 0, read.stderr);
    assert.equal((JSON.parse(read.stdout) as { text: string }).text.length > 0, true);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /\[HUB_USAGE\]/);
    assert.equal(needsKey.code, 2);
    assert.equal((JSON.parse(needsKey.stderr) as { error: { code: string } }).error.code, 'HUB_IDEMPOTENCY_REQUIRED');
    assert.equal(missing.code, 4);
    assert.match(missing.stderr, /HUB_CONNECTOR_NOT_FOUND/);
    assert.equal(installed.code, 0, installed.stderr);
    assert.equal((JSON.parse(installed.stdout) as { status: { state: string } }).status.state, 'ready');
    assert.equal(tomlInstalled.code, 0, tomlInstalled.stderr);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /operations\[1\]\.risk must be one of safe, risky, dangerous \[HUB_BAD_MANIFEST\]/);
    const echo = await fcp('call', 'tomlc.echo', '--input', '{"hello":"toml"}');
    assert.deepEqual((JSON.parse(echo.stdout) as { echo: unknown }).echo, { hello: 'toml' });
    const ls = JSON.parse((await fcp('hub', 'ls', '--json')).stdout) as Array<{ id: string }>;
    assert.deepEqual(ls.map((c) => c.id).sort(), ['files', 'mem2', 'memory', 'tomlc']);
    assert.equal((await fcp('hub', 'rm', 'mem2')).code, 0);
    assert.equal((await fcp('hub', 'rm', 'tomlc')).code, 0);
    assert.equal((await fcp('hub', 'rm', 'mem2')).code, 4);
  });

  describe('Streamable HTTP in fcpd', () => {
    let server: McpHttpServer;
    const token = 'test-token-' + 'x'.repeat(20);
    before(async () => {
      server = await startMcpHttp({ source: serviceToolSource(mesh.node('laptop').services.hub, LOCAL_MCP), info: { name: 'fcp-mesh', version: 'test' }, port: 0, token });
    });
    after(async () => server?.close());

    const post = (body: unknown, headers: Record<string, string> = {}) =>
      fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}`, ...headers }, body: JSON.stringify(body) });
    const init = (v: string) => ({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: v, capabilities: {}, clientInfo: { name: 'raw', version: '0' } } });

    test('the SDK client lists and calls tools with the bearer token', async () => {
      const client = new Client({ name: 'http-assistant', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
      try {
        assert.ok((await client.listTools()).tools.some((t) => t.name === 'files__search'));
        writeFileSync(join(root, 'http.txt'), 'asked over http\n');
        const r = await client.callTool({ name: 'files__search', arguments: { query: 'over http' } });
        assert.deepEqual((r.structuredContent as { hits: Array<{ path: string }> }).hits.map((h) => h.path), ['http.txt']);
      } finally {
        await client.close();
      }
    });

    test('token, Host and Origin are checked first; protocol versions negotiated', async () => {
      assert.equal((await post(init('2025-11-25'), { authorization: 'Bearer wrong' })).status, 401);
      assert.equal((await post(init('2025-11-25'), { authorization: '' })).status, 401);
      assert.equal((await post(init('2025-11-25'), { origin: 'https://evil.example' })).status, 403);
      assert.equal((await post(init('2025-11-25'), { origin: `http://127.0.0.1:${server.port}` })).status, 200);
      const v1 = (await (await post(init('2025-11-25'))).json()) as { result: { protocolVersion: string } };
      assert.equal(v1.result.protocolVersion, '2025-11-25');
      // A newer revision than the SDK serves is answered with the newest it does.
      const v2 = (await (await post(init('2026-07-28'))).json()) as { result: { protocolVersion: string } };
      assert.equal(v2.result.protocolVersion, '2025-11-25');
    });

    test('tools/list shows only what the caller may call', async () => {
      const z = mesh.node('laptop').node.zones;
      const guest: DevicePrincipal = { kind: 'device', stableId: 'g', hostName: 'guest', address: '127.77.82.9', tags: ['tag:fcp-public'], zones: [z.get('z:public')], path: 'direct' };
      const guestServer = await startMcpHttp({ source: serviceToolSource(mesh.node('laptop').services.hub, guest), info: { name: 'fcp-mesh', version: 'test' }, port: 0, token });
      const client = new Client({ name: 'guest', version: '1.0.0' });
      try {
        await client.connect(new StreamableHTTPClientTransport(new URL(guestServer.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
        assert.deepEqual((await client.listTools()).tools, []);
        await assert.rejects(client.callTool({ name: 'files__read', arguments: { path: 'todo.txt' } }), /no tool/);
      } finally {
        await client.close();
        await guestServer.close();
      }
    });
  });
});
