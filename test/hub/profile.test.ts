// `fcp device set` words become declared settings; bad ones are typed errors naming the word;
// the profile file merges and survives a reload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProfile, parseSettings, ProfileFile } from '../../src/hub/profile.js';

const code = (c: string) => (e: Error & { code?: string; exitCode?: number }) => e.code === c && e.exitCode === 2;

test('settings parse; unknown keys, bad values and bad names are HUB_BAD_SETTING', () => {
  assert.deepEqual(parseSettings(['always-on=true', 'gpu=false', 'interactive=true', 'name=nas-1']), { alwaysOn: true, gpu: false, interactive: true, name: 'nas-1' });
  assert.throws(() => parseSettings(['always-on=yes']), code('HUB_BAD_SETTING'));
  assert.throws(() => parseSettings(['colour=red']), /unknown setting "colour"/);
  assert.throws(() => parseSettings(['gpu']), /not key=value/);
  assert.throws(() => parseSettings(['name=../etc']), code('HUB_BAD_SETTING'));
  assert.throws(() => parseSettings([]), code('HUB_BAD_SETTING'));
});

test('the profile file merges settings and a bad file is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fcp-profile-'));
  try {
    const f = new ProfileFile(dir);
    assert.deepEqual(f.load(), {});
    await f.update({ alwaysOn: true });
    await f.update({ gpu: true });
    assert.deepEqual(new ProfileFile(dir).load(), { alwaysOn: true, gpu: true });
    const p = buildProfile(f.load(), { os: 'linux', freeMemoryMb: 100, cpuCores: 2, onBattery: false }, 'server');
    assert.equal(p.name, 'server');
    assert.equal(p.alwaysOn, true);
    assert.equal(p.interactive, false);
    writeFileSync(f.path, '{"alwaysOn": "yes"}');
    assert.throws(() => f.load(), code('HUB_BAD_SETTING'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fcp device set refuses a bad setting with its code and exit code 2, before asking the daemon', async () => {
  const { spawnSync } = await import('node:child_process');
  const dir = mkdtempSync(join(tmpdir(), 'fcp-device-cli-'));
  try {
    const r = spawnSync(process.execPath, ['bin/fcp.js', '--data-dir', dir, 'device', 'set', 'always-on=maybe'], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /always-on must be true or false.*\[HUB_BAD_SETTING\]/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
