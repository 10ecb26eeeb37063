import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SecretLostError, SecretTooFewSharesError } from '../../src/secrets/index.js';
import { countHolderOps, meshOf, type TestNetwork } from './network.js';

const te = new TextEncoder();
const td = new TextDecoder();

async function read(net: TestNetwork, from: string, name: string): Promise<string> {
  return net.get(from).secrets.use(name, (buf) => td.decode(buf));
}

function versionsHeld(net: TestNetwork): Record<string, number[]> {
  return Object.fromEntries(net.devices.map((d) => [d.name, d.holder.summary().map((s) => s.version)]));
}

test('restore leaves a healthy secret alone', async () => {
  const net = meshOf(['a', 'b', 'c']);
  await net.get('a').secrets.put('s', te.encode('v'), { k: 2, n: 3, zone: 'z:owner' });
  const stores = () => net.devices.reduce((sum, d) => sum + countHolderOps(d, 'store'), 0);
  const before = stores();
  const [outcome] = await net.get('b').secrets.restore();
  assert.equal(outcome!.status, 'healthy');
  assert.equal(outcome!.version, 1);
  assert.equal(stores(), before, 'nothing was re-split');
});

test('a holder that restarted empty gets a share again from a fresh split', async () => {
  const net = meshOf(['a', 'b', 'c', 'd', 'e']);
  await net.get('a').secrets.put('api', te.encode('sk-restore'), { k: 3, n: 5, zone: 'z:owner' });
  const c = net.restart('c');
  assert.equal(c.holder.size, 0);
  assert.equal((await c.secrets.list())[0]!.available, 4);
  const outcomes = await c.secrets.restore();
  assert.deepEqual(
    outcomes.map((o) => [o.name, o.status, o.alive, o.version]),
    [['api', 'restored', 4, 2]],
  );
  assert.deepEqual(versionsHeld(net), { a: [2], b: [2], c: [2], d: [2], e: [2] }, 'old shares discarded everywhere');
  assert.equal(await read(net, 'e', 'api'), 'sk-restore');
});

test('a share held by an offline device moves to a spare device and the stale one is dropped on return', async () => {
  const net = meshOf(['a', 'b', 'c', 'd']);
  await net.get('a').secrets.put('s', te.encode('moved'), { k: 2, n: 3, zone: 'z:owner' });
  net.setOnline('b', false);
  const [outcome] = await net.get('a').secrets.restore();
  assert.equal(outcome!.status, 'restored');
  assert.deepEqual(versionsHeld(net), { a: [2], b: [1], c: [2], d: [2] });
  net.setOnline('b', true);
  const [again] = await net.get('d').secrets.restore();
  assert.equal(again!.status, 'healthy');
  assert.deepEqual(versionsHeld(net), { a: [2], b: [], c: [2], d: [2] });
  assert.equal(await read(net, 'b', 's'), 'moved');
});

test('without n eligible devices online restore reports degraded and moves nothing', async () => {
  const net = meshOf(['a', 'b', 'c']);
  await net.get('a').secrets.put('s', te.encode('v'), { k: 2, n: 3, zone: 'z:owner' });
  net.setOnline('c', false);
  const [outcome] = await net.get('a').secrets.restore();
  assert.equal(outcome!.status, 'degraded');
  assert.equal(outcome!.error?.code, 'SECRET_TOO_FEW_DEVICES');
  assert.deepEqual(versionsHeld(net), { a: [1], b: [1], c: [1] });
});

test('fewer than k reachable while holders are offline: unavailable, and back when they return', async () => {
  const net = meshOf(['a', 'b', 'c', 'd', 'e']);
  await net.get('a').secrets.put('s', te.encode('patience'), { k: 3, n: 5, zone: 'z:owner' });
  for (const n of ['c', 'd', 'e']) net.setOnline(n, false);
  const [outcome] = await net.get('a').secrets.restore();
  assert.equal(outcome!.status, 'unavailable');
  assert.ok(outcome!.error instanceof SecretTooFewSharesError);
  await assert.rejects(read(net, 'a', 's'), SecretTooFewSharesError);
  for (const n of ['c', 'd', 'e']) net.setOnline(n, true);
  assert.equal(await read(net, 'a', 's'), 'patience');
});

test('when fewer than k shares survive, the secret is gone and errors say so', async () => {
  const net = meshOf(['a', 'b', 'c', 'd', 'e']);
  await net.get('a').secrets.put('s', te.encode('ephemeral'), { k: 3, n: 5, zone: 'z:owner' });
  for (const n of ['a', 'b', 'c']) net.restart(n);
  const [outcome] = await net.get('e').secrets.restore();
  assert.equal(outcome!.status, 'lost');
  assert.equal(outcome!.alive, 2);
  assert.ok(outcome!.error instanceof SecretLostError);
  assert.match(outcome!.error.message, /gone/);
  await assert.rejects(read(net, 'd', 's'), SecretLostError);
});

test('a secret removed while a holder was offline does not come back through it', async () => {
  const net = meshOf(['a', 'b', 'c']);
  await net.get('a').secrets.put('s', te.encode('v'), { k: 2, n: 3, zone: 'z:owner' });
  net.setOnline('c', false);
  await net.get('a').secrets.remove('s');
  net.setOnline('c', true);
  assert.equal(net.get('c').holder.size, 1, 'the offline holder still had its share');
  assert.deepEqual(await net.get('a').secrets.restore(), []);
  assert.equal(net.get('c').holder.size, 0);
});

test('restore handles several secrets independently', async () => {
  const net = meshOf(['a', 'b', 'c', 'd']);
  await net.get('a').secrets.put('low', te.encode('1'), { k: 2, n: 4, zone: 'z:owner' });
  await net.get('a').secrets.put('high', te.encode('2'), { k: 4, n: 4, zone: 'z:owner' });
  net.restart('d');
  const outcomes = await net.get('a').secrets.restore();
  assert.deepEqual(
    outcomes.map((o) => [o.name, o.status]),
    [
      ['high', 'lost'],
      ['low', 'restored'],
    ],
  );
  assert.equal(await read(net, 'd', 'low'), '1');
});
