// resolveConfig: settings from the environment and config.json, and typed errors naming the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../src/daemon/config.js';

test('names.syncWaitMs comes from FCP_NAMES_SYNC_WAIT_MS or config.json; a bad value is CONFIG_INVALID', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fcp-config-'));
  try {
    assert.equal(resolveConfig({ dataDir: dir }, {}).names.syncWaitMs, undefined, 'unset keeps the default');
    assert.equal(resolveConfig({ dataDir: dir }, { FCP_NAMES_SYNC_WAIT_MS: '1500' }).names.syncWaitMs, 1500);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ names: { syncWaitMs: 250 } }));
    assert.equal(resolveConfig({ dataDir: dir }, {}).names.syncWaitMs, 250);
    assert.equal(resolveConfig({ dataDir: dir }, { FCP_NAMES_SYNC_WAIT_MS: '0' }).names.syncWaitMs, 0, 'the environment wins');
    for (const bad of ['soon', '-1']) {
      assert.throws(() => resolveConfig({ dataDir: dir }, { FCP_NAMES_SYNC_WAIT_MS: bad }), (err: Error & { code?: string }) => err.code === 'CONFIG_INVALID' && /FCP_NAMES_SYNC_WAIT_MS/.test(err.message));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
