// The hub service on an in-process mesh with the built-in connectors as real child processes:
// files (escapes refused), memory (mesh objects and state), idempotency keys, authorization on
// the home zone, connector principals confined to their zone, secrets kept out of connectors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCAL_CONTROL, type DevicePrincipal } from '../../src/authz/index.js';
import { filesManifest, memoryManifest } from '../../src/hub/connectors/builtin.js';
import type { TailnetDescription } from '../../src/tailscale/emulator/index.js';
import { InProcessMesh } from '../mesh/in-process.js';
import { testManifest } from './helpers.js';

const NET: TailnetDescription = {
  tailnet: 'hub.example',
  users: [{ loginName: 'alice@example.com', displayName: 'Alice' }],
  nodes: [
    { name: 'laptop', tags: ['tag:fcp-owner'], os: 'linux', path: 'direct', latencyMs: 1, address: '127.77.80.1' },
    { name: 'server', tags: ['tag:fcp-owner'], os: 'linux', path: 'direct', latencyMs: 1, address: '127.77.80.2' },
    { name: 'guest', tags: ['tag:fcp-public'], os: 'linux', path: 'direct', latencyMs: 1, address: '127.77.80.3' },
  ],
};

const P = LOCAL_CONTROL;
const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;

describe('hub service with built-in connectors', () => {
  let mesh: InProcessMesh;
  let root: string;
  let outside: string;
  before(async () => {
    mesh = await InProcessMesh.start(NET);
    root = mkdtempSync(join(tmpdir(), 'fcp-files-root-'));
    outside = mkdtempSync(join(tmpdir(), 'fcp-files-outside-'));
    writeFileSync(join(root, 'notes.txt'), 'alpha\nthe quick brown fox\nomega\n');
    mkdirSync(join(root, 'sub'));
    writeFileSync(join(root, 'sub', 'deep.txt'), 'a fox in a box\n');
    writeFileSync(join(outside, 'secret.txt'), 'not yours\n');
    symlinkSync(join(outside, 'secret.txt'), join(root, 'link-out.txt'));
    symlinkSync(outside, join(root, 'dir-out'));
  });
  after(async () => {
    await mesh?.stop();
    rmSync(root, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  test('files: list, read, write, search; traversal and symlink escapes refused', async () => {
    const hub = mesh.node('laptop').services.hub;
    const info = await hub.install(P, filesManifest({ root, zone: 'z:private' }));
    assert.equal(info.status?.state, 'ready');
    const names = ((await hub.invoke(P, 'files', 'list', {})) as { entries: Array<{ name: string }> }).entries.map((e) => e.name).sort();
    assert.deepEqual(names, ['dir-out', 'link-out.txt', 'notes.txt', 'sub']);
    assert.equal(((await hub.invoke(P, 'files', 'read', { path: 'sub/deep.txt' })) as { text: string }).text, 'a fox in a box\n');
    const hits = ((await hub.invoke(P, 'files', 'search', { query: 'FOX' })) as { hits: Array<{ path: string; line: number }> }).hits;
    assert.deepEqual(hits.map((h) => `${h.path}:${h.line}`).sort(), ['notes.txt:2', 'sub/deep.txt:1']);

    for (const path of ['../' + outside.split('/').pop() + '/secret.txt', '/etc/passwd', 'sub/../../x', 'link-out.txt', 'dir-out/secret.txt']) {
      await assert.rejects(hub.invoke(P, 'files', 'read', { path }), code('CONNECTOR_REFUSED'), path);
    }
    await assert.rejects(hub.invoke(P, 'files', 'list', { path: 'dir-out' }), code('CONNECTOR_REFUSED'));
    await assert.rejects(hub.invoke(P, 'files', 'write', { path: 'link-out.txt', text: 'x' }, { idempotencyKey: 'w0' }), code('CONNECTOR_REFUSED'));
    await assert.rejects(hub.invoke(P, 'files', 'write', { path: 'dir-out/new.txt', text: 'x' }, { idempotencyKey: 'w00' }), code('CONNECTOR_REFUSED'));
    assert.equal(readFileSync(join(outside, 'secret.txt'), 'utf8'), 'not yours\n');
    assert.deepEqual(readdirSync(outside), ['secret.txt']);
    await assert.rejects(hub.invoke(P, 'files', 'read', { path: 'missing.txt' }), code('CONNECTOR_NOT_FOUND'));
    await assert.rejects(hub.invoke(P, 'files', 'read', { path: 'notes.txt', extra: 1 }), code('HUB_BAD_INPUT'));

    // Writes are risky: an idempotency key is required, and a retry with it does not act twice.
    await assert.rejects(hub.invoke(P, 'files', 'write', { path: 'out.txt', text: 'one' }), (e: unknown) => code('HUB_IDEMPOTENCY_REQUIRED')(e) && (e as { exitCode: number }).exitCode === 2);
    const first = await hub.invoke(P, 'files', 'write', { path: 'out.txt', text: 'one' }, { idempotencyKey: 'k1' });
    writeFileSync(join(root, 'out.txt'), 'changed since');
    assert.deepEqual(await hub.invoke(P, 'files', 'write', { path: 'out.txt', text: 'one' }, { idempotencyKey: 'k1' }), first);
    assert.equal(readFileSync(join(root, 'out.txt'), 'utf8'), 'changed since');
    await hub.invoke(P, 'files', 'write', { path: 'out.txt', text: 'two' }, { idempotencyKey: 'k2' });
    assert.equal(readFileSync(join(root, 'out.txt'), 'utf8'), 'two');
    assert.equal(statSync(join(root, 'out.txt')).mode & 0o777, 0o600);
  });

  test('authorization on the home zone; tools only for who may call them', async () => {
    const hub = mesh.node('laptop').services.hub;
    const guest: DevicePrincipal = { kind: 'device', stableId: 'g', hostName: 'guest', address: '127.77.80.3', tags: ['tag:fcp-public'], zones: [mesh.node('laptop').node.zones.get('z:public')], path: 'direct' };
    await assert.rejects(hub.invoke(guest, 'files', 'read', { path: 'notes.txt' }), (e: unknown) => code('AUTHZ_DENIED')(e) && (e as { reason: string }).reason === 'caller-zone');
    assert.deepEqual(hub.callable(guest).map((c) => c.id), []);
    assert.ok(hub.callable(P).some((c) => c.id === 'files'));
    assert.throws(() => hub.list(guest), code('AUTHZ_DENIED'));
    await assert.rejects(hub.install(guest, memoryManifest({ zone: 'z:public', id: 'm2' })), code('AUTHZ_DENIED'));
    await assert.rejects(hub.install(P, { ...memoryManifest({ zone: 'z:nowhere' }) }), code('HUB_BAD_MANIFEST'));
    await assert.rejects(hub.invoke(P, 'nope', 'x', {}), code('HUB_CONNECTOR_NOT_FOUND'));
    await assert.rejects(hub.invoke(P, 'files', 'nope', {}), code('HUB_UNKNOWN_OPERATION'));
  });

  test('memory: notes are mesh objects of its zone, the index is its state, it survives a restart', async () => {
    const laptop = mesh.node('laptop');
    const hub = laptop.services.hub;
    await hub.install(P, memoryManifest({ zone: 'z:private' }));
    const a = (await hub.invoke(P, 'memory', 'remember', { text: 'Buy oat milk', tags: ['shopping'] })) as { id: string };
    await hub.invoke(P, 'memory', 'remember', { text: 'Dentist on Tuesday at 10', kind: 'event' });
    assert.match(a.id, /^[0-9a-f]{64}$/);
    const stored = JSON.parse(new TextDecoder().decode(await laptop.retrieve(a.id))) as { text: string };
    assert.equal(stored.text, 'Buy oat milk');
    assert.equal((await laptop.services.objects.manifest(P, a.id)).zone, 'z:private');
    assert.equal(((await hub.invoke(P, 'memory', 'recall', { id: a.id })) as { text: string }).text, 'Buy oat milk');
    await laptop.connectors.stop('memory');
    await laptop.connectors.start(hub.manifest('memory')!);
    const found = ((await hub.invoke(P, 'memory', 'search', { query: 'dentist tuesday' })) as { hits: Array<{ kind: string }> }).hits;
    assert.deepEqual(found.map((h) => h.kind), ['event']);
    assert.equal(((await hub.invoke(P, 'memory', 'search', { query: 'shopping' })) as { hits: unknown[] }).hits.length, 1);

    // The connector acts in its own zone only.
    const ownerObject = await laptop.store(new TextEncoder().encode('owner data'), 'z:owner');
    await assert.rejects(hub.hostMethod('memory', 'host/object.get', { id: ownerObject }), (e: unknown) => code('AUTHZ_DENIED')(e) && (e as { reason: string }).reason === 'connector-zone');
  });

  test('a secret a connector must hold comes over stdin only: not in argv, environment, files or logs', async () => {
    const laptop = mesh.node('laptop');
    const secret = 'sk-test-' + 'Z'.repeat(24) + '-unique';
    await laptop.secrets.put('token', new TextEncoder().encode(secret), { k: 2, n: 2, zone: 'z:owner' });
    let logged!: (line: string) => void;
    const secretLine = new Promise<string>((resolve) => (logged = resolve));
    laptop.connectors.on('log', (l) => l.line.includes('the secret is') && logged(l.line));
    await laptop.services.hub.install(P, { ...testManifest('holder'), secrets: [{ name: 'token', deliver: 'configure' }] });
    const pid = laptop.connectors.status().find((s) => s.id === 'holder')!.pid!;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`);
    const environ = readFileSync(`/proc/${pid}/environ`);
    assert.ok(!cmdline.includes(secret) && !environ.includes(secret));
    assert.ok(environ.length > 0, 'environ readable');
    const files: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.isFile()) files.push(p);
      }
    };
    walk(mesh.dir);
    assert.ok(files.length > 3);
    for (const f of files) assert.ok(!readFileSync(f).includes(secret), `secret found in ${f}`);
    await laptop.services.hub.invoke(P, 'holder', 'logsecret', {});
    const line = await withTimeout(secretLine, 5_000);
    assert.ok(!line.includes(secret) && line.includes('[redacted]'), line);
  });
});

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (t = setTimeout(() => reject(new Error(`not within ${ms} ms`)), ms)))]).finally(() => clearTimeout(t));
}
