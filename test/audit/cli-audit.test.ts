// `fcp audit log` and `fcp audit verify` against a real fcpd: the daemon's decisions are in its
// log, verify passes, and after one byte of the log is changed on disk verify fails naming the entry.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevTailnet, type DevTailnet } from '../../src/tailscale/emulator/index.js';
import { readRecords } from '../../src/audit/index.js';

const dir = mkdtempSync(join(tmpdir(), 'fcp-audit-cli-'));
let tailnet: DevTailnet;
let socket: string;
let fcpd: ChildProcess | undefined;

function fcp(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/fcp.js', '--data-dir', join(dir, 'laptop'), '--tailscale-socket', socket, ...args], { env: { ...process.env, FCP_LOG_LEVEL: 'warn' } });
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
  tailnet = await startDevTailnet({ tailnet: 'audit.example', nodes: [{ name: 'laptop', tags: ['tag:fcp-owner'], address: '127.77.42.1' }] }, { dir: join(dir, 'ts') });
  socket = tailnet.device('laptop').socketPath;
  assert.equal((await fcp(['init', '--first'])).code, 0);
  fcpd = spawn(process.execPath, ['bin/fcpd.js', '--data-dir', join(dir, 'laptop'), '--tailscale-socket', socket, '--metrics-port', '0'], { env: { ...process.env, FCP_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('fcpd did not start')), 15_000);
    fcpd!.stdout!.on('data', (c: Buffer) => c.toString().includes('fcpd ready') && (clearTimeout(timer), resolve()));
    fcpd!.once('exit', (code) => reject(new Error(`fcpd exited with ${code}`)));
  });
});

after(async () => {
  if (fcpd && fcpd.exitCode === null) await new Promise<void>((r) => (fcpd!.once('exit', () => r()), fcpd!.kill('SIGTERM')));
  await tailnet?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the daemon\'s decisions are in its audit log, and verify passes', async () => {
  assert.equal((await fcp(['status'])).code, 0);
  assert.equal((await fcp(['secret', 'ls'])).code, 0);
  const log = await fcp(['audit', 'log', '--json']);
  assert.equal(log.code, 0, log.err);
  const entries = JSON.parse(log.out) as Array<{ zone: string; event: { action: string; allow: boolean; principal: string } }>;
  assert.ok(entries.some((e) => e.zone === 'device' && e.event.action === 'admin.status' && e.event.allow), log.out);
  assert.ok(entries.some((e) => e.event.action === 'secret.list'));
  const human = await fcp(['audit', 'log', '--since', '1h']);
  assert.match(human.out, /device#\d+\s+authz\.decision\s+admin\.status\s+allowed/);
  const verify = await fcp(['audit', 'verify']);
  assert.equal(verify.code, 0, verify.out + verify.err);
  assert.match(verify.out, /^ok +fcp-mesh\/[^/]+\/device: \d+ entries, [1-9]\d* checkpoints/m);
});

test('fcp audit proof prints an entry\'s inclusion proof; verify-proof checks it offline and refuses a tampered one', async () => {
  const human = await fcp(['audit', 'proof', 'device#0']);
  assert.equal(human.code, 0, human.err);
  assert.match(human.out, /^event device#0 of fcp-mesh\/[^/]+\/device/m);
  assert.match(human.out, /^inclusion proof to size \d+/m);
  const json = await fcp(['audit', 'proof', 'device#0', '--json']);
  assert.equal(json.code, 0, json.err);
  const file = join(dir, 'proof.json');
  writeFileSync(file, json.out);
  const ok = await fcp(['audit', 'verify-proof', file]);
  assert.equal(ok.code, 0, ok.err);
  assert.match(ok.out, /^ok: entry 0 of fcp-mesh\/[^/]+\/device is in its checkpoint of size \d+/);
  const proof = JSON.parse(json.out) as { leaf: string };
  writeFileSync(file, JSON.stringify({ ...proof, leaf: proof.leaf.replace(/^./, (c) => (c === '0' ? '1' : '0')) }));
  const bad = await fcp(['audit', 'verify', '--proof', file]);
  assert.equal(bad.code, 7, bad.out + bad.err);
  assert.match(bad.err, /AUDIT_BAD_PROOF/);
  const arg = await fcp(['audit', 'proof', 'nonsense']);
  assert.equal(arg.code, 2);
  assert.match(arg.err, /CLI_BAD_ARGUMENT/);
  const missing = await fcp(['audit', 'proof', 'device#999999']);
  assert.equal(missing.code, 2, missing.err);
  assert.match(missing.err, /AUDIT_BAD_INDEX/);
});

test('one changed byte of the log on disk makes verify fail, naming the log and the entry', async () => {
  const file = join(dir, 'laptop', 'audit', 'device', 'entries.bin');
  const { records } = readRecords(new Uint8Array(readFileSync(file)));
  assert.ok(records.length >= 3);
  // The 'authz.decision' kind of entry 1: change a letter so the CBOR stays readable.
  let offset = 0;
  for (let i = 0; i < 1; i++) offset += 4 + records[i]!.length;
  const inEntry = Buffer.from(records[1]!).indexOf('authz');
  assert.ok(inEntry > 0);
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.from('A'), 0, 1, offset + 4 + inEntry);
  closeSync(fd);
  const verify = await fcp(['audit', 'verify']);
  assert.equal(verify.code, 7, verify.out + verify.err);
  assert.match(verify.out, /FAIL fcp-mesh\/[^/]+\/device/);
  assert.match(verify.out, /entry 1: entry-changed/);
  assert.match(verify.err, /AUDIT_VERIFY_DAMAGED/);
});
