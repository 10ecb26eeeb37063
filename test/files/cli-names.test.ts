// Named files through the real `fcp` command and real fcpd processes: a directory tree put by
// name, listed, restored byte-identical (modes too) on another device, moved, removed, read at
// an older snapshot, forgotten and collected; wrong uses exit non-zero with the code.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DevMesh } from '../../src/devnet/index.js';

const work = mkdtempSync(join(tmpdir(), 'fcp-names-cli-'));

describe('fcp put/ls/get/mv/rm/log/forget/gc by name', () => {
  let mesh: DevMesh;
  const fcp = (device: string, args: string[]): Promise<{ code: number | null; out: Buffer; err: string }> =>
    new Promise((resolve) => {
      const d = mesh.device(device);
      const child = spawn(process.execPath, ['bin/fcp.js', '--data-dir', d.dataDir, '--tailscale-socket', d.socketPath, ...args], { env: { ...process.env, FCP_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      let err = '';
      child.stdout.on('data', (c: Buffer) => out.push(c));
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, out: Buffer.concat(out), err });
      });
    });
  const json = async <T>(device: string, args: string[]): Promise<T> => {
    const r = await fcp(device, [...args, '--json']);
    assert.equal(r.code, 0, `fcp ${args.join(' ')}: ${r.err}`);
    return JSON.parse(r.out.toString()) as T;
  };

  const src = join(work, 'photos');
  before(async () => {
    mesh = await DevMesh.start({
      description: {
        tailnet: 'names.example',
        nodes: [
          { name: 'laptop', tags: ['tag:fcp-owner'], address: '127.77.58.1' },
          { name: 'server', tags: ['tag:fcp-owner'], address: '127.77.58.2' },
          { name: 'desktop', tags: ['tag:fcp-private'], address: '127.77.58.3' },
        ],
      },
      env: { FCP_REPAIR_INTERVAL_MS: '0', FCP_SCRUB_INTERVAL_MS: '0', FCP_GC_INTERVAL_MS: '0' },
    });
    mkdirSync(join(src, 'sub'), { recursive: true });
    mkdirSync(join(src, 'empty'));
    writeFileSync(join(src, 'a.jpg'), randomBytes(300_000));
    writeFileSync(join(src, 'sub', 'b.txt'), 'bee\n');
    writeFileSync(join(src, 'sub', 'secret.txt'), 'only me\n');
    chmodSync(join(src, 'sub', 'secret.txt'), 0o600);
  });
  after(async () => {
    await mesh?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const tree = (root: string): string[] =>
    readdirSync(root, { recursive: true, withFileTypes: true })
      .map((d) => join(d.parentPath, d.name))
      .sort()
      .map((p) => `${relative(root, p)} ${statSync(p).isDirectory() ? 'dir' : `${(statSync(p).mode & 0o777).toString(8)} ${readFileSync(p).toString('hex').slice(0, 16)}${readFileSync(p).length}`}`);

  test('a tree put on one device restores byte-identical on another', async () => {
    const put = await fcp('laptop', ['put', src, 'photos/2026/']);
    assert.equal(put.code, 0, put.err);
    assert.match(put.out.toString(), /named 3 files and \d+ director(y|ies).* in z:private/);
    const ls = await json<{ zone: string; entries: Array<{ path: string; kind: string }> }>('desktop', ['ls', 'photos/2026/', '-R']);
    assert.equal(ls.zone, 'z:private');
    assert.deepEqual(ls.entries.map((e) => e.path), ['photos/2026/a.jpg', 'photos/2026/empty', 'photos/2026/sub', 'photos/2026/sub/b.txt', 'photos/2026/sub/secret.txt']);
    const human = await fcp('desktop', ['ls', '/']);
    assert.match(human.out.toString(), /^drwx.*photos\/$/m);
    const restore = join(work, 'restore');
    const get = await fcp('server', ['get', 'photos/2026', '-o', restore]);
    assert.equal(get.code, 0, get.err);
    assert.deepEqual(tree(restore), tree(src), 'same names, bytes and modes');
    const one = await fcp('desktop', ['get', 'photos/2026/a.jpg', '-o', '-']);
    assert.equal(one.code, 0, one.err);
    assert.ok(one.out.equals(readFileSync(join(src, 'a.jpg'))));
  });

  test('mv, rm (-r), log and PATH@N; forget and gc free the space', async () => {
    assert.equal((await fcp('desktop', ['mv', 'photos/2026/sub/b.txt', 'photos/'])).code, 0);
    const rmDir = await fcp('desktop', ['rm', 'photos/2026']);
    assert.equal(rmDir.code, 5, 'a directory without -r is a conflict (exit 5)');
    assert.match(rmDir.err, /use rm -r.*\[FILES_IS_A_DIRECTORY\]/);
    assert.equal((await fcp('desktop', ['rm', '-r', 'photos/2026'])).code, 0);
    const gone = await fcp('laptop', ['get', 'photos/2026/a.jpg', '-o', join(work, 'x.jpg')]);
    assert.equal(gone.code, 4, 'not found (exit 4)');
    const log = await json<Array<{ snapshot: number; entry: unknown }>>('laptop', ['log']);
    assert.equal(log.length, 3, 'put, mv, rm: three snapshots');
    const old = await fcp('laptop', ['get', `photos/2026/a.jpg@${log[log.length - 1]!.snapshot}`, '-o', join(work, 'old.jpg')]);
    assert.equal(old.code, 0, old.err);
    assert.ok(readFileSync(join(work, 'old.jpg')).equals(readFileSync(join(src, 'a.jpg'))), 'the first snapshot still has it');
    assert.equal(readFileSync(join(work, 'restore', 'sub', 'b.txt'), 'utf8'), 'bee\n');
    const forget = await json<{ kept: number; forgotten: number }>('laptop', ['forget', '--keep-last', '1']);
    assert.deepEqual([forget.kept, forget.forgotten], [1, 2]);
    const gc = await json<{ collected: number; bytes: number }>('server', ['gc', '--grace', '0']);
    assert.ok(gc.collected >= 4 && gc.bytes > 0, `trees, commits and the removed files' content are collected (${gc.collected})`);
    const left = await json<{ entries: Array<{ path: string }> }>('laptop', ['ls', '/', '-R']);
    assert.deepEqual(left.entries.map((e) => e.path), ['photos', 'photos/b.txt']);
    assert.equal((await fcp('laptop', ['get', 'photos/b.txt', '-o', '-'])).out.toString(), 'bee\n');
  });

  test('wrong uses: unknown zone with a suggestion, bad paths, a directory to stdout', async () => {
    const zone = await fcp('laptop', ['ls', '/', '--zone', 'z:privte']);
    assert.equal(zone.code, 2);
    assert.match(zone.err, /did you mean z:private\?.*\[ZONE_UNKNOWN\]/);
    const objects = await fcp('laptop', ['ls', '--zone', 'z:privte']);
    assert.equal(objects.code, 2, 'the object listing refuses it too');
    const bad = await fcp('laptop', ['ls', 'a//b', '--json']);
    assert.equal(bad.code, 2);
    assert.equal((JSON.parse(bad.err) as { error: { code: string } }).error.code, 'FILES_BAD_PATH');
    const toStdout = await fcp('laptop', ['get', 'photos', '-o', '-']);
    assert.equal(toStdout.code, 2);
    assert.match(toStdout.err, /give -o DIR/);
    const noSrc = await fcp('laptop', ['put', join(work, 'missing'), 'x/']);
    assert.equal(noSrc.code, 4);
    const noZone = await fcp('laptop', ['put', join(src, 'a.jpg')]);
    assert.equal(noZone.code, 2, 'a put by id needs --zone');
  });
});
