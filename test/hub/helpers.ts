// Shared bits of the hub tests: a log that keeps lines, manifests for the test connector, and
// bounded waits for host events.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ed25519 } from '@noble/curves/ed25519.js';
import { mintRoot, type OwnerAuthority } from '../../src/authz/index.js';
import type { ConnectorHost, ConnectorManifest, ConnectorStatus } from '../../src/hub/index.js';

const FCP_BIN = fileURLToPath(new URL('../../../bin/fcp.js', import.meta.url));

/** Runs the fcp CLI (asynchronously: an emulated tailscaled in this process keeps answering). */
export const fcp = (args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(process.execPath, [FCP_BIN, ...args], { timeout: 20_000 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr })),
  );

/**
 * A test owner key: a real Ed25519 key (the mesh's is a FROST key; verification is the same). The
 * authority a device gets mints its grant on first ask, every zone it may hold, unless grantless.
 */
export function testOwnerAuthority(ownerSeed: Uint8Array, ownerKey: Uint8Array, grantless = false) {
  return (self: { signingPublicKey: Uint8Array; hostName: string; stableId?: string; zones: string[] }): OwnerAuthority => {
    let grant: Uint8Array | undefined;
    return {
      publicKey: () => ownerKey,
      sign: async (message) => ed25519.sign(message, ownerSeed),
      deviceGrant: () => {
        if (grantless) return undefined;
        grant ??= mintRoot({ sub: self.hostName, ...(self.stableId ? { dev: self.stableId } : {}), aud: '*', ops: ['*'], zones: self.zones, holderKey: self.signingPublicKey, ttlSeconds: 3600 }, ownerSeed, ownerKey);
        return grant;
      },
    };
  };
}

export const TEST_CONNECTOR = fileURLToPath(new URL('./fixtures/test-connector.js', import.meta.url));

export function memoryLog(): { lines: string[]; info: (o: object, m: string) => void; warn: (o: object, m: string) => void; debug: (o: object, m: string) => void } {
  const lines: string[] = [];
  const put = (o: object, m: string) => void lines.push(`${m} ${JSON.stringify(o)}`);
  return { lines, info: put, warn: put, debug: put };
}

export function testManifest(id = 'testc', extra: Partial<ConnectorManifest> = {}): ConnectorManifest {
  const ops = ['echo', 'sleep', 'crash', 'garbage', 'wrongid', 'huge', 'fail', 'logsecret', 'state', 'provenance'];
  return {
    id,
    version: '1.0.0',
    command: process.execPath,
    args: [TEST_CONNECTOR],
    zone: 'z:private',
    operations: ops.map((name) => ({ name, risk: 'safe' as const, ...(name === 'echo' ? { input_schema: { type: 'object', required: ['msg'], properties: { msg: { type: 'string' } } } } : {}) })),
    ...extra,
  };
}

/** Resolves with the first state event matching `pred`, or rejects after `ms`. */
export function waitForState(host: ConnectorHost, pred: (s: ConnectorStatus) => boolean, ms = 10_000): Promise<ConnectorStatus> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no matching state event within ${ms} ms`)), ms);
    const fn = (s: ConnectorStatus) => {
      if (!pred(s)) return;
      clearTimeout(t);
      host.off('state', fn as (x: never) => void);
      resolve(s);
    };
    host.on('state', fn);
  });
}

export const ctx = (ms = 5_000) => ({ traceId: 't-' + Math.random().toString(16).slice(2), deadline: Date.now() + ms, caller: 'test' });
