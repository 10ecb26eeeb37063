// `fcp owner init|status` against real fcpd processes (LMDB, FCP over TCP): the devnet harness
// makes the key once the mesh has formed; the CLI reports it, in text and JSON, and typed errors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { decodeSign1, sigStructure1 } from '../../src/crypto/index.js';
import { DevMesh } from '../../src/devnet/index.js';
import type { TailnetDescription } from '../../src/tailscale/emulator/index.js';

const DEVICES: TailnetDescription = {
  tailnet: 'cli-owner.example',
  users: [{ loginName: 'alice@example.com', displayName: 'Alice' }],
  nodes: [
    { name: 'laptop', tags: ['tag:fcp-owner'], os: 'macOS', path: 'direct', latencyMs: 1, address: '127.77.143.1' },
    { name: 'server', tags: ['tag:fcp-owner'], os: 'linux', path: 'direct', latencyMs: 2, address: '127.77.143.2' },
    { name: 'desktop', tags: ['tag:fcp-private'], os: 'windows', path: 'direct', latencyMs: 3, address: '127.77.143.3' },
  ],
};

describe('fcp owner init and fcp owner status', () => {
  let mesh: DevMesh;

  function fcp(device: string, args: string[]): Promise<{ code: number | null; out: string; err: string }> {
    const d = mesh.device(device);
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['bin/fcp.js', '--data-dir', d.dataDir, '--tailscale-socket', d.socketPath, ...args], { env: { ...process.env, FCP_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, out, err });
      });
    });
  }

  before(async () => {
    mesh = await DevMesh.start({ description: DEVICES, env: { FCP_SCRUB_INTERVAL_MS: '0' }, ownerInit: { on: 'laptop', threshold: 2 } });
  });
  after(async () => mesh?.stop());

  test('status shows the key, k-of-n, who holds shares and the grant; the grant verifies with plain Ed25519', async () => {
    const text = await fcp('server', ['owner', 'status']);
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, /2-of-2; 2 online now: can sign/);
    assert.match(text.out, /laptop +share +\d +online/);
    const json = await fcp('desktop', ['owner', 'status', '--json']);
    assert.equal(json.code, 0, json.err);
    const s = JSON.parse(json.out) as { exists: boolean; publicKey: string; holdsShare: boolean; participants: unknown[] };
    assert.equal(s.exists, true);
    assert.equal(s.holdsShare, false);
    assert.equal(s.participants.length, 2);
    const grant = decodeSign1(readFileSync(join(mesh.device('server').dataDir, 'owner', 'grant.cose')));
    assert.equal(ed25519.verify(grant.signature, sigStructure1(grant.protectedBytes, grant.payload), Buffer.from(s.publicKey, 'hex')), true);
  });

  test('typed errors: the key exists, a bad threshold', async () => {
    const again = await fcp('server', ['owner', 'init', '--json']);
    assert.equal(again.code, 5);
    assert.equal((JSON.parse(again.err) as { error: { code: string } }).error.code, 'OWNER_EXISTS');
    const bad = await fcp('laptop', ['owner', 'init', '--threshold', 'two']);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /\[OWNER_BAD_THRESHOLD\]/);
  });
});
