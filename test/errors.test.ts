// One error base: every layer's errors carry a stable code whose kind gives the HTTP status
// and the exit code (docs/errors.md), and the CLI prints the code and exits with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ERROR_KINDS, FcpError, describeError, kindOf } from '../src/errors/index.js';
import { AuthzError } from '../src/authz/index.js';
import { CryptoError } from '../src/crypto/index.js';
import { MeshError } from '../src/mesh/index.js';
import { SecretError } from '../src/secrets/index.js';
import { StoreError } from '../src/store/index.js';
import { TailscaleError } from '../src/tailscale/index.js';
import { ProtocolError } from '../src/wire/index.js';
import { ZoneError } from '../src/zones/index.js';
import { ControlError } from '../src/daemon/control-client.js';
import { FilesError } from '../src/files/index.js';
import { LocalFileError } from '../src/cli/local-files.js';
import { HubMeshError } from '../src/hub/mesh-errors.js';

test('every family extends FcpError; the kind of its code gives status and exit code', () => {
  const cases: Array<[FcpError, number, number]> = [
    [new MeshError('MESH_NOT_FOUND', 'x'), 404, 4],
    [new MeshError('MESH_TOO_FEW_DEVICES', 'x'), 503, 6],
    [new MeshError('MESH_DECODE_FAILED', 'x'), 502, 7],
    [new MeshError('MESH_NO_ZONE_KEY', 'x'), 500, 8],
    [new MeshError('MESH_KEY_MISMATCH', 'x'), 409, 5],
    [new AuthzError('x', 'transport'), 403, 3],
    [new StoreError('STORE_CONFLICT', 'x'), 409, 5],
    [new StoreError('STORE_QUOTA', 'x'), 503, 6],
    [new SecretError('SECRET_NOT_FOUND', 'x'), 404, 4],
    [new CryptoError('CRYPTO_AEAD_FAIL', 'x'), 502, 7],
    [new ProtocolError('PROTO_BAD_MESSAGE', 'x'), 400, 2],
    [new ZoneError('ZONE_UNKNOWN', 'x'), 400, 2],
    [new TailscaleError('TS_NOT_RUNNING', 'x'), 503, 6],
    [new ControlError('CONTROL_BAD_REQUEST', 'x'), 400, 2],
    [new FilesError('FILES_BAD_OBJECT', 'x'), 502, 7],
    [new FilesError('FILES_CANCELLED', 'x'), 503, 6],
    [new LocalFileError('INPUT_IS_DIRECTORY', 'x'), 400, 2],
    [new LocalFileError('OUTPUT_DENIED', 'x'), 403, 3],
    [new LocalFileError('OUTPUT_FULL', 'x'), 503, 6],
    [new LocalFileError('OUTPUT_NOT_FOUND', 'x'), 404, 4],
    [new HubMeshError('HUB_BAD_SETTING', 'x'), 400, 2],
    [new HubMeshError('HUB_UNKNOWN_CONNECTOR', 'x'), 404, 4],
    [new HubMeshError('HUB_LEASE_STALE', 'x'), 409, 5],
    [new HubMeshError('HUB_NO_ELIGIBLE_DEVICE', 'x'), 503, 6],
    [new HubMeshError('HUB_NOT_HOLDER', 'x'), 503, 6],
    [new HubMeshError('HUB_DEADLINE_TIMEOUT', 'x'), 503, 6],
    [new HubMeshError('HUB_STATE_DAMAGED', 'x'), 502, 7],
  ];
  for (const [err, http, exit] of cases) {
    assert.ok(err instanceof FcpError, err.code);
    assert.ok(err instanceof Error);
    assert.equal(err.httpStatus, http, err.code);
    assert.equal(err.exitCode, exit, err.code);
    assert.equal(describeError(err).exit, exit);
  }
  assert.equal(new MeshError('MESH_REFUSED', 'x').name, 'MeshError');
});

test('unknown codes and foreign errors are internal; exit codes are distinct per kind', () => {
  assert.equal(kindOf('SOMETHING_ODD'), 'internal');
  assert.deepEqual(describeError(new TypeError('boom')), { code: 'INTERNAL', message: 'boom', kind: 'internal', http: 500, exit: 1 });
  assert.equal(describeError({ code: 'lower case is not a code', message: 'm' }).code, 'INTERNAL');
  const exits = Object.values(ERROR_KINDS).map((k) => k.exit);
  assert.equal(new Set(exits).size, exits.length);
  assert.ok(!exits.includes(0));
});

test('fcp exits with the kind of the error and names its code; --json prints it as JSON', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fcp-errors-'));
  try {
    const r = spawnSync(process.execPath, ['bin/fcp.js', '--data-dir', dir, 'status'], { encoding: 'utf8' });
    assert.equal(r.status, 6, r.stderr);
    assert.match(r.stderr, /fcpd is not running.*\[FCPD_NOT_RUNNING\]/);
    const j = spawnSync(process.execPath, ['bin/fcp.js', '--data-dir', dir, 'ls', '--json'], { encoding: 'utf8' });
    assert.equal(j.status, 6);
    assert.deepEqual(JSON.parse(j.stderr).error.code, 'FCPD_NOT_RUNNING');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
