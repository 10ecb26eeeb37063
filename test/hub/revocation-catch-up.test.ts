// The revocation head's freshness before a risky invoke: a stale head is synced with the members
// (bounded in time) before the freshness rule reads it, and stays refused when no member answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Authorizer } from '../../src/authz/index.js';
import { generateNodeKeys } from '../../src/crypto/index.js';
import { RevocationService, type RevocationPeers } from '../../src/services/index.js';
import type { Message } from '../../src/wire/index.js';

const owner = generateNodeKeys();
const stale = (e: Error & { code?: string }) => e.code === 'FCP_ERR_CHECKPOINT_STALE';

type Answer = (m: Message | Error) => void;

/** A member whose answers the test gives by hand: `asked()` resolves at the next request. */
function members() {
  let calls = 0;
  const waiting: Answer[] = [];
  let onCall: (() => void) | null = null;
  const peers: RevocationPeers = {
    online: () => [{ stableId: 'nDESK', hostName: 'desktop' }],
    call: () =>
      new Promise<Message>((resolve, reject) => {
        calls++;
        waiting.push((m) => (m instanceof Error ? reject(m) : resolve(m)));
        onCall?.();
      }),
  };
  const asked = async (): Promise<Answer> => {
    if (waiting.length === 0) await new Promise<void>((r) => (onCall = r));
    onCall = null;
    return waiting.shift()!;
  };
  return { peers, asked, calls: () => calls };
}

async function service(peers: RevocationPeers, dir: string, key: () => Uint8Array | undefined = () => owner.signingPublicKey) {
  // Only sync and the freshness rule are exercised: nothing here is authorized.
  const authz = { authorize: () => assert.fail('no request is authorized in this test') } as unknown as Authorizer;
  return new RevocationService({ authz, owner: { publicKey: key, sign: async () => assert.fail('nothing is signed') }, peers, dataDir: dir, log: pino({ level: 'silent' }), maxAgeMs: 60_000 });
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'fcp-rev-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('a never-confirmed head is refused for risky calls until a member answers a sync; safe calls pass degraded', () =>
  withDir(async (dir) => {
    const m = members();
    const s = await service(m.peers, dir);
    assert.throws(() => s.requireFresh('risky'), stale);
    assert.deepEqual(s.requireFresh('safe'), { degraded: true });
    // Nobody answers within the bound: the call returns and the rule still refuses.
    await s.catchUpFor('dangerous', 20);
    assert.throws(() => s.requireFresh('dangerous'), stale);
    // The member's answer arrives: the head is confirmed, so risky calls pass.
    const caughtUp = s.catchUpFor('risky', 10_000);
    (await m.asked())({ v: 1, id: 1, t: 'revocation_events', events: [], seq: 0 });
    await caughtUp;
    assert.deepEqual(s.requireFresh('risky'), { degraded: false });
    assert.ok((s.head().ageMs ?? Infinity) < 60_000);
  }));

test('a member that refuses the sync does not confirm the head', () =>
  withDir(async (dir) => {
    const m = members();
    const s = await service(m.peers, dir);
    const attempt = s.catchUpFor('risky', 10_000);
    (await m.asked())(new Error('connection refused'));
    await attempt;
    assert.throws(() => s.requireFresh('risky'), stale);
  }));

test('before the owner key exists nothing waits and nothing is refused', () =>
  withDir(async (dir) => {
    const m = members();
    const s = await service(m.peers, dir, () => undefined);
    await s.catchUpFor('dangerous', 10_000);
    assert.equal(m.calls(), 0, 'no member was asked');
    assert.deepEqual(s.requireFresh('dangerous'), { degraded: false });
  }));
