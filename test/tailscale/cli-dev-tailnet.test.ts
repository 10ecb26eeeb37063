import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalApiClient, peersFromStatus, selfFromStatus } from '../../src/tailscale/index.js';

const fcp = (args: string[]) => spawnSync(process.execPath, ['bin/fcp.js', ...args], { encoding: 'utf8', timeout: 20_000 });

test('fcp dev-tailnet up (foreground) runs a 5-device tailnet the client can query, until SIGINT', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fcp-cli-'));
  const child = spawn(process.execPath, ['bin/fcp.js', 'dev-tailnet', 'up', 'examples/tailnet.json', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (c: string) => (out += c));
    const deadline = Date.now() + 10_000;
    while (!out.includes('ready') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
    assert.match(out, /ready \(pid \d+\)/, out);
    for (const [i, name] of ['laptop', 'desktop', 'server', 'phone', 'work-laptop'].entries()) {
      const socket = join(dir, `${name}.sock`);
      assert.ok(out.includes(socket) && out.includes(`127.77.0.${i + 1}`), `${name} printed with its socket and address`);
      const st = await new LocalApiClient({ socketPath: socket }).status();
      assert.equal(selfFromStatus(st).hostName, name);
      assert.equal(peersFromStatus(st).length, 4);
    }
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGINT');
    assert.equal(await exited, 0);
    assert.equal(existsSync(join(dir, 'laptop.sock')), false, 'sockets removed');
    assert.equal(existsSync(join(dir, 'state.json')), false, 'state removed');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fcp dev-tailnet up --detach, set, status, down', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fcp-cli-'));
  try {
    const up = fcp(['dev-tailnet', 'up', 'examples/tailnet.json', '--detach', '--dir', dir]);
    assert.equal(up.status, 0, up.stderr);
    assert.match(up.stdout, /running in the background \(pid \d+\)/);
    const again = fcp(['dev-tailnet', 'up', 'examples/tailnet.json', '--detach', '--dir', dir]);
    assert.notEqual(again.status, 0);
    assert.match(again.stderr, /already running/);

    const set = fcp(['dev-tailnet', 'set', 'desktop', '--path', 'derp', '--latency', '40', '--dir', dir]);
    assert.equal(set.status, 0, set.stderr);
    const peers = peersFromStatus(await new LocalApiClient({ socketPath: join(dir, 'laptop.sock') }).status());
    assert.equal(peers.find((p) => p.hostName === 'desktop')?.path, 'derp');

    assert.equal(fcp(['dev-tailnet', 'set', 'laptop', '--fault', 'stopped', '--dir', dir]).status, 0);
    await assert.rejects(new LocalApiClient({ socketPath: join(dir, 'laptop.sock') }).status(), { code: 'TS_NOT_RUNNING' });

    const status = fcp(['dev-tailnet', 'status', '--json', '--dir', dir]);
    const list = JSON.parse(status.stdout) as { devices: Array<{ name: string; path: string; latencyMs: number; fault: string }> };
    assert.deepEqual(list.devices.find((d) => d.name === 'desktop'), { ...list.devices.find((d) => d.name === 'desktop'), path: 'derp', latencyMs: 40 });
    assert.equal(list.devices.find((d) => d.name === 'laptop')?.fault, 'stopped');

    const bad = fcp(['dev-tailnet', 'set', 'desktop', '--path', 'wifi', '--dir', dir]);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /path must be one of direct, derp, peer-relay/);
    const unknown = fcp(['dev-tailnet', 'set', 'toaster', '--offline', '--dir', dir]);
    assert.notEqual(unknown.status, 0);
    assert.match(unknown.stderr, /no device named "toaster"/);

    const down = fcp(['dev-tailnet', 'down', '--dir', dir]);
    assert.equal(down.status, 0, down.stderr);
    assert.match(down.stdout, /stopped/);
    assert.equal(existsSync(join(dir, 'desktop.sock')), false);
    assert.match(fcp(['dev-tailnet', 'down', '--dir', dir]).stdout, /no dev tailnet is running/);
  } finally {
    fcp(['dev-tailnet', 'down', '--dir', dir]);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fcp dev-tailnet up with a bad description fails with the field named', () => {
  const r = fcp(['dev-tailnet', 'up', 'test/fixtures/tailscale/status-running.json', '--dir', join(tmpdir(), 'fcp-never')]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /tailnet description: "tailnet" must be a non-empty string/);
  const missing = fcp(['dev-tailnet', 'up', 'no-such-file.json', '--detach', '--dir', join(tmpdir(), 'fcp-never')]);
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /cannot read tailnet description/);
});
