// The user's path through the `fcp` command, as real processes: init, daemon, invite, join,
// put, get, ls, status, secrets, errors. The tailscaled emulator stands in for Tailscale.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startDevTailnet, type DevTailnet } from '../../src/tailscale/emulator/index.js';

const dir = mkdtempSync(join(tmpdir(), 'fcp-cli-'));

/** Runs `fcp` asynchronously: the emulator answering its LocalAPI calls lives in this process. */
function fcp(device: string, socket: string, args: string[], input?: string | Buffer): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/fcp.js', '--data-dir', join(dir, device), '--tailscale-socket', socket, ...args], {
      env: { ...process.env, FCP_LOG_LEVEL: 'warn' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
    child.stdin.end(input ?? '');
  });
}

async function startFcpd(device: string, socket: string): Promise<ChildProcess> {
  const proc = spawn(process.execPath, ['bin/fcpd.js', '--data-dir', join(dir, device), '--tailscale-socket', socket, '--metrics-port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FCP_LOG_LEVEL: 'warn' },
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fcpd on ${device} did not start`)), 15_000);
    proc.stdout!.on('data', (c: Buffer) => {
      if (c.toString().includes('fcpd ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.once('exit', (code) => reject(new Error(`fcpd on ${device} exited with ${code}`)));
  });
  return proc;
}

describe('fcp command, end to end', () => {
  let tailnet: DevTailnet;
  const daemons: ChildProcess[] = [];
  let laptop: string;
  let server: string;

  before(async () => {
    tailnet = await startDevTailnet(
      {
        tailnet: 'cli.example',
        nodes: [
          { name: 'laptop', tags: ['tag:fcp-owner'], address: '127.77.4.1' },
          { name: 'server', tags: ['tag:fcp-owner'], address: '127.77.4.2' },
          { name: 'kiosk', tags: ['tag:fcp-work'], address: '127.77.4.3' },
        ],
      },
      { dir: join(dir, 'ts') },
    );
    laptop = tailnet.device('laptop').socketPath;
    server = tailnet.device('server').socketPath;
  });
  after(async () => {
    await Promise.all(daemons.map((d) => new Promise<void>((r) => (d.exitCode !== null ? r() : (d.once('exit', () => r()), d.kill('SIGTERM'))))));
    await tailnet?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a command that needs the daemon says it is not running', async () => {
    const r = await fcp('laptop', laptop, ['status']);
    assert.notEqual(r.code, 0);
    assert.match(r.err, /fcpd is not running/);
  });

  test('init --first, daemon, invite, join: the second device gets exactly its zone keys', async () => {
    const init = await fcp('laptop', laptop, ['init', '--first']);
    assert.equal(init.code, 0, init.err);
    assert.match(init.out, /zone key created: z:owner/);
    for (const f of ['node.key', 'zones/z_owner.key']) assert.equal(statSync(join(dir, 'laptop', f)).mode & 0o777, 0o600, `${f} is 0600`);
    daemons.push(await startFcpd('laptop', laptop));
    assert.equal((await fcp('server', server, ['init'])).code, 0);
    const invite = await fcp('laptop', laptop, ['invite', '--json']);
    assert.equal(invite.code, 0, invite.err);
    const { code, address } = JSON.parse(invite.out) as { code: string; address: string };
    const badJoin = await fcp('server', server, ['join', address, '--code', 'WRONG-CODE-0000']);
    assert.notEqual(badJoin.code, 0);
    assert.match(badJoin.err, /join code is unknown/);
    const join_ = await fcp('server', server, ['join', 'laptop', '--code', code]);
    assert.equal(join_.code, 0, join_.err);
    assert.match(join_.out, /z:owner/);
    const reuse = await fcp('server', server, ['join', 'laptop', '--code', code]);
    assert.notEqual(reuse.code, 0, 'a join code works once');
    daemons.push(await startFcpd('server', server));
  });

  test('put prints an ObjectId; get on the other device rebuilds the file; ls and status show it', async () => {
    const file = join(dir, 'notes.md');
    const content = Buffer.concat([Buffer.from('# notes\n'), randomBytes(200_000)]);
    writeFileSync(file, content);
    const put = await fcp('laptop', laptop, ['put', file, '--zone', 'z:owner']);
    assert.equal(put.code, 0, put.err);
    const id = put.out.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const out = join(dir, 'back.md');
    const get = await fcp('server', server, ['get', id, '--out', out, '--verify']);
    assert.equal(get.code, 0, get.err);
    assert.deepEqual(readFileSync(out), content);
    const ls = await fcp('server', server, ['ls', '--json']);
    const listed = JSON.parse(ls.out) as Array<{ objectId: string; ok: boolean; devices: number }>;
    // The file object and its one chunk, each on both devices.
    const entry = listed.find((o) => o.objectId === id);
    assert.deepEqual(entry && [entry.ok, entry.devices], [true, 2]);
    assert.equal(listed.length, 2);
    assert.ok(listed.every((o) => o.ok && o.devices === 2));
    const status = await fcp('laptop', laptop, ['status']);
    assert.equal(status.code, 0, status.err);
    assert.match(status.out, /this device: laptop 127\.77\.4\.1:9473 zones z:owner/);
    assert.match(status.out, /server\s+127\.77\.4\.2\s+direct.*\bmember\b/);
    assert.match(status.out, /storage:\s+\d+ symbols, [\d.]+ (bytes|KiB|MiB)/);
    assert.match(status.out, /health:\s+2 of 2 objects meet their placement policy/);
  });

  test('bad input gets clear errors: unknown zone, unknown object, missing file', async () => {
    const file = join(dir, 'x.txt');
    writeFileSync(file, 'x');
    const zone = await fcp('laptop', laptop, ['put', file, '--zone', 'z:nonexistent']);
    assert.notEqual(zone.code, 0);
    assert.match(zone.err, /unknown zone "?z:nonexistent/);
    const missing = await fcp('laptop', laptop, ['get', 'ab'.repeat(32), '--out', join(dir, 'none')]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.err, /not known/);
    const badId = await fcp('laptop', laptop, ['get', 'not-an-id', '--out', join(dir, 'none')]);
    assert.notEqual(badId.code, 0);
    const nofile = await fcp('laptop', laptop, ['put', join(dir, 'does-not-exist'), '--zone', 'z:owner']);
    assert.notEqual(nofile.code, 0);
    assert.match(nofile.err, /ENOENT|no such file/);
  });

  test('secrets: put from stdin, exec with the value in the environment, ls, rm', async () => {
    const value = 'sk-cli-test-0123456789abcdef';
    const put = await fcp('laptop', laptop, ['secret', 'put', 'openai', '--k', '2', '--n', '2', '--zone', 'z:owner'], `${value}\n`);
    assert.equal(put.code, 0, put.err);
    const exec = await fcp('server', server, ['secret', 'exec', 'openai', '--env', 'OPENAI_API_KEY', '--', process.execPath, '-e', 'process.stdout.write(process.env.OPENAI_API_KEY)']);
    assert.equal(exec.code, 0, exec.err);
    assert.equal(exec.out, value, 'the child saw the secret (without the trailing newline)');
    const ls = await fcp('server', server, ['secret', 'ls']);
    assert.match(ls.out, /openai\s+z:owner\s+2-of-2/);
    const tooMany = await fcp('laptop', laptop, ['secret', 'put', 'x', '--k', '2', '--n', '3', '--zone', 'z:owner'], 'v');
    assert.notEqual(tooMany.code, 0);
    const rm = await fcp('laptop', laptop, ['secret', 'rm', 'openai']);
    assert.equal(rm.code, 0, rm.err);
    const gone = await fcp('server', server, ['secret', 'exec', 'openai', '--', 'true']);
    assert.notEqual(gone.code, 0);
    assert.match(gone.err, /no reachable device holds a share of openai/);
  });
});
