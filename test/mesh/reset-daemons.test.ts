// A device reinstalled (data dir wiped, `fcp join` again: a new node key), with real fcpd processes:
// once the owner trusts its new key, its audit logs are witnessed again as new logs (its old ones
// still verify with the old key), it runs a connector whose state it signed with its old key, and
// before its first pull reaches a peer its names listing says it is not synced instead of
// looking empty.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DevMesh } from '../../src/devnet/index.js';
import type { Placement } from '../../src/hub/mesh-hub.js';
import { Keyring, requestJoin } from '../../src/mesh/index.js';
import { LocalApiClient } from '../../src/tailscale/index.js';
import type { TailnetDescription } from '../../src/tailscale/emulator/index.js';
import { testManifest } from '../hub/helpers.js';

const DEVICES: TailnetDescription = {
  tailnet: 'reset.example',
  users: [{ loginName: 'alice@example.com', displayName: 'Alice' }],
  nodes: [
    { name: 'laptop', tags: ['tag:fcp-owner'], os: 'macOS', path: 'direct', latencyMs: 1, address: '127.77.161.1' },
    { name: 'server', tags: ['tag:fcp-owner'], os: 'linux', path: 'direct', latencyMs: 2, address: '127.77.161.2' },
    { name: 'desktop', tags: ['tag:fcp-private'], os: 'windows', path: 'direct', latencyMs: 3, address: '127.77.161.3' },
  ],
};
const FCP = fileURLToPath(new URL('../../../bin/fcp.js', import.meta.url));
const body = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

interface Report {
  origin: string;
  problems: Array<{ kind: string; detail: string }>;
  retired?: boolean;
  checkpoints: number;
}

describe('a reset device with real daemons', () => {
  let mesh: DevMesh;
  const fcp = (device: string, ...args: string[]) => spawnSync(process.execPath, [FCP, '--data-dir', mesh.device(device).dataDir, ...args], { encoding: 'utf8', timeout: 30_000 });
  const until = async <T>(what: string, fn: () => Promise<T | undefined>, ms = 30_000): Promise<T> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = await fn().catch(() => undefined);
      if (v !== undefined) return v;
      assert.ok(Date.now() < deadline, `timed out waiting until ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const invoke = (device: string, input: unknown) => mesh.device(device).control.json<{ result: { n: number } }>('/v1/hub/invoke', { method: 'POST', body: body({ connector: 'testc', operation: 'state', input, timeoutMs: 5000 }) });
  const runsOn = async (device: string) => (await mesh.device(device).control.json<Placement[]>('/v1/hub/placements')).find((p) => p.id === 'testc')?.runningOn;
  const verify = (device: string) => mesh.device(device).control.json<Report[]>('/v1/audit/verify', { method: 'POST' });
  const serverLogs = (reports: Report[]) => reports.filter((r) => r.origin.startsWith(`fcp-mesh/${mesh.tailnet.device('server').stableId}/`));

  before(async () => {
    mesh = await DevMesh.start({ description: DEVICES, env: { FCP_HUB_LEASE_MS: '1500', FCP_HUB_POLL_MS: '250', FCP_REPAIR_INTERVAL_MS: '0', FCP_SCRUB_INTERVAL_MS: '0', FCP_NAMES_SYNC_WAIT_MS: '1500' } });
  });
  after(async () => {
    await mesh?.stop();
  });

  test('before the reset: the server runs the connector and its state, and its logs are witnessed', async () => {
    assert.equal(fcp('server', 'device', 'set', 'always-on=true').status, 0);
    await until('the laptop sees the server always on', async () => ((await mesh.device('laptop').control.json<Array<{ hostName: string; profile?: { alwaysOn: boolean } }>>('/v1/devices')).find((d) => d.hostName === 'server')?.profile?.alwaysOn ? true : undefined));
    await mesh.device('laptop').control.json('/v1/hub/connectors', { method: 'POST', body: body(testManifest('testc')) });
    await until('the server runs it', async () => ((await runsOn('server')) === 'server' ? true : undefined));
    assert.equal((await invoke('laptop', {})).result.n, 1);
    assert.equal((await invoke('desktop', {})).result.n, 2, 'state written by the server, signed with its node key');
    const witnessed = await until('the laptop witnesses the server\'s logs', async () => {
      const logs = serverLogs(await verify('laptop'));
      return logs.length > 0 && logs.every((r) => r.problems.length === 0) ? logs : undefined;
    });
    assert.ok(witnessed.some((r) => r.origin.endsWith('/device')));
  });

  test('right after the reset, with no peer reachable, the names listing says it is not synced (and get says so too)', async () => {
    const server = mesh.device('server');
    // A name the server wrote: after the reset it must not look gone.
    const data = new TextEncoder().encode('# notes\n');
    const c = await server.control.json<{ id: string; size: number }>('/v1/content?zone=z%3Aprivate', { method: 'POST', body: data, contentLength: data.length });
    await server.control.json('/v1/files', { method: 'POST', body: body({ entries: [{ path: 'server/notes.md', kind: 'file', ref: c.id, size: c.size }] }) });
    await until('the laptop has the server\'s name', async () => ((await mesh.device('laptop').control.json<{ entries: Array<{ path: string }> }>('/v1/files?path=server')).entries.length === 1 ? true : undefined));
    // Reset by hand, as DevMesh.reset does, but the others are down when the new daemon starts.
    await mesh.stopDaemon('server');
    rmSync(server.dataDir, { recursive: true, force: true });
    await Keyring.init(server.dataDir);
    const invite = await mesh.device('laptop').control.json<{ code: string }>('/v1/invites', { method: 'POST' });
    await requestJoin({ dataDir: server.dataDir, client: new LocalApiClient({ socketPath: server.socketPath }), peer: mesh.device('laptop').address, code: invite.code });
    await mesh.stopDaemon('laptop');
    await mesh.stopDaemon('desktop');
    await mesh.startDaemon('server');
    const listed = await server.control.json<{ entries: unknown[]; synced: boolean }>('/v1/files?path=&recursive=1');
    assert.deepEqual([listed.entries.length, listed.synced], [0, false], 'an empty listing says it is not synced');
    const ls = fcp('server', 'ls', '/', '--json');
    assert.equal(ls.status, 0, ls.stderr);
    assert.equal((JSON.parse(ls.stdout) as { synced: boolean }).synced, false);
    assert.match(ls.stderr, /not yet synced/);
    const get = fcp('server', 'get', 'server/notes.md', '-o', '-');
    assert.match(get.stderr, /\[FILES_NOT_SYNCED\]/, 'a name not known yet is not reported missing');
    assert.equal(get.status, 6);

    await mesh.startDaemon('laptop');
    await mesh.startDaemon('desktop');
    const back = await until('the server syncs with a peer', async () => {
      const r = await server.control.json<{ entries: Array<{ path: string }>; synced: boolean }>('/v1/files?path=&recursive=1');
      return r.synced ? r : undefined;
    });
    assert.ok(back.entries.some((e) => e.path === 'server/notes.md'), 'its old names are back once synced');
  });

  test('once trusted: its logs are witnessed as new logs, the old ones verify with the old key, and it runs its connector again with its state', async () => {
    // The laptop's user trusts it (the desktop may not: the server holds z:owner, which the desktop does not).
    const t = fcp('laptop', 'device', 'trust', 'server', '--yes', '--json');
    assert.equal(t.status, 0, t.stderr);
    assert.equal((JSON.parse(t.stdout) as { changed: boolean }).changed, true);
    // Each verify records events: new checkpoints, new witnessing rounds.
    const own = await until('the server\'s new logs are witnessed', async () => {
      const reports = await verify('server');
      const mine = reports.filter((r) => !r.retired && r.origin.startsWith(`fcp-mesh/${mesh.tailnet.device('server').stableId}/`));
      return mine.length > 0 && mine.every((r) => r.problems.length === 0) ? mine : undefined;
    });
    assert.ok(own.some((r) => r.origin.endsWith('/device')));
    const seen = serverLogs(await verify('laptop'));
    const retired = seen.filter((r) => r.retired);
    assert.ok(retired.length > 0, 'the laptop still holds the server\'s old logs');
    assert.deepEqual(seen.flatMap((r) => r.problems), [], 'old logs (old key) and new logs (new key) verify, no fork reported');

    // Its profile went with its data dir; the connector moves back to it by hand.
    assert.equal(fcp('server', 'device', 'set', 'always-on=true').status, 0);
    const moved = fcp('laptop', 'hub', 'move', 'testc', 'server', '--json');
    assert.equal(moved.status, 0, moved.stderr);
    await until('the reset server runs the connector', async () => ((await runsOn('server')) === 'server' && (await runsOn('laptop')) === 'server' ? true : undefined));
    assert.equal((await invoke('laptop', {})).result.n, 3, 'its state carried on from the record it signed with its old key');
  });
});
