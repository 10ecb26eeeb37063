import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  SecretBadParamsError,
  SecretBadShareError,
  SecretConflictError,
  SecretError,
  SecretNotFoundError,
  SecretPutFailedError,
  SecretTooFewDevicesError,
  SecretTooFewSharesError,
} from '../../src/secrets/index.js';
import { countHolderOps, meshOf, TestNetwork } from './network.js';
import { corruptStoredShare } from './tamper.js';

const te = new TextEncoder();
const td = new TextDecoder();

function fiveDevices(): TestNetwork {
  return meshOf(['a', 'b', 'c', 'd', 'e']);
}

async function read(net: TestNetwork, from: string, name: string): Promise<string> {
  return net.get(from).secrets.use(name, (buf) => td.decode(buf));
}

test('put splits across n devices, use rebuilds it from any device of the zone', async () => {
  const net = fiveDevices();
  await net.get('a').secrets.put('openai', te.encode('sk-test-123'), { k: 3, n: 5, zone: 'z:owner' });
  for (const d of net.devices) {
    assert.equal(d.holder.size, 1, `${d.name} holds exactly one share`);
  }
  for (const d of ['a', 'c', 'e']) assert.equal(await read(net, d, 'openai'), 'sk-test-123');
});

test('each share goes to a different device and no device keeps the value', async () => {
  const net = fiveDevices();
  const value = te.encode('sk-distinctive-value-0123456789');
  await net.get('a').secrets.put('k1', value, { k: 2, n: 5, zone: 'z:owner' });
  const indexes = net.devices.map((d) => d.holder.summary()[0]!.index).sort();
  assert.deepEqual(indexes, [0, 1, 2, 3, 4]);
  const audit = JSON.stringify(net.devices.flatMap((d) => d.audit));
  assert.ok(!audit.includes('sk-distinctive'), 'audit events carry no secret bytes');
});

test('use asks only k devices when all answer, in rank order', async () => {
  const net = fiveDevices();
  await net.get('a').secrets.put('tok', te.encode('v'), { k: 3, n: 5, zone: 'z:owner' });
  const before = net.devices.map((d) => countHolderOps(d, 'get'));
  await read(net, 'e', 'tok');
  const asked = net.devices.map((d, i) => countHolderOps(d, 'get') - before[i]!);
  assert.deepEqual(asked, [1, 1, 1, 0, 0]);
});

test('use zeroes the buffer it handed out, also when the callback throws', async () => {
  const net = fiveDevices();
  const value = new Uint8Array(randomBytes(64));
  await net.get('a').secrets.put('key', value, { k: 3, n: 5, zone: 'z:owner' });
  let seen: Uint8Array | undefined;
  const result = await net.get('b').secrets.use('key', (buf) => {
    seen = buf;
    assert.deepEqual(buf, value);
    return buf.length;
  });
  assert.equal(result, 64);
  assert.ok(seen && seen.length === 64 && seen.every((x) => x === 0));
  let thrown: Uint8Array | undefined;
  await assert.rejects(
    net.get('c').secrets.use('key', async (buf) => {
      thrown = buf;
      throw new Error('callback failed');
    }),
    /callback failed/,
  );
  assert.ok(thrown && thrown.every((x) => x === 0));
  assert.deepEqual(value.length, 64, 'the value given to put is left to its owner');
});

test('rotate makes a new version with other shares and discards the old ones everywhere', async () => {
  const net = fiveDevices();
  await net.get('a').secrets.put('db', te.encode('pw-1'), { k: 2, n: 3, zone: 'z:owner' });
  const before = (await net.get('a').secrets.list())[0]!;
  assert.equal(before.version, 1);
  await net.get('d').secrets.rotate('db');
  const after = (await net.get('a').secrets.list())[0]!;
  assert.equal(after.version, 2);
  assert.equal(after.available, 3);
  for (const d of net.devices) for (const s of d.holder.summary()) assert.equal(s.version, 2, `${d.name} dropped v1`);
  assert.equal(net.devices.reduce((sum, d) => sum + d.holder.size, 0), 3);
  assert.equal(await read(net, 'e', 'db'), 'pw-1');
  assert.equal(await read(net, 'a', 'db'), 'pw-1', 'a device with a stale cached version finds the new one');
});

test('put over an existing name replaces it with the next version', async () => {
  const net = fiveDevices();
  await net.get('a').secrets.put('x', te.encode('one'), { k: 2, n: 4, zone: 'z:owner' });
  await net.get('b').secrets.put('x', te.encode('two'), { k: 3, n: 5, zone: 'z:owner' });
  const [entry] = await net.get('c').secrets.list();
  assert.deepEqual({ v: entry!.version, k: entry!.k, n: entry!.n }, { v: 2, k: 3, n: 5 });
  assert.equal(await read(net, 'a', 'x'), 'two');
  assert.equal(net.devices.reduce((sum, d) => sum + d.holder.size, 0), 5);
  await assert.rejects(net.get('a').secrets.put('x', te.encode('3'), { k: 2, n: 2, zone: 'z:work' }), SecretConflictError);
});

test('list reports name, zone, k, n, version, holders and live shares', async () => {
  const net = fiveDevices();
  await net.get('a').secrets.put('gh', te.encode('ghp_x'), { k: 2, n: 3, zone: 'z:owner' });
  await net.get('a').secrets.put('aws', te.encode('AKIA'), { k: 3, n: 5, zone: 'z:owner' });
  net.setOnline('a', false);
  const list = await net.get('e').secrets.list();
  assert.deepEqual(
    list.map((s) => [s.name, s.zone, s.k, s.n, s.version, s.holders.length, s.available]),
    [
      ['aws', 'z:owner', 3, 5, 1, 5, 4],
      ['gh', 'z:owner', 2, 3, 1, 3, 2],
    ],
  );
  assert.deepEqual(list[1]!.holders, ['node-a', 'node-b', 'node-c']);
});

test('remove discards every share; use then reports not found', async () => {
  const net = fiveDevices();
  await net.get('a').secrets.put('gone', te.encode('v'), { k: 2, n: 5, zone: 'z:owner' });
  await net.get('b').secrets.remove('gone');
  assert.equal(net.devices.reduce((sum, d) => sum + d.holder.size, 0), 0);
  await assert.rejects(read(net, 'a', 'gone'), SecretNotFoundError);
  await assert.rejects(net.get('a').secrets.remove('gone'), SecretNotFoundError);
  assert.deepEqual(await net.get('a').secrets.list(), []);
});

test('a tampered share is detected and recovery succeeds from k+1 holders', async () => {
  const net = fiveDevices();
  net.hookRequestsTo('b', corruptStoredShare);
  await net.get('a').secrets.put('t', te.encode('tamper-proof'), { k: 3, n: 5, zone: 'z:owner' });
  net.hookRequestsTo('b', null);
  const e = net.get('e');
  assert.equal(await read(net, 'e', 't'), 'tamper-proof');
  const flagged = e.audit.filter((x) => x.op === 'bad-share');
  assert.deepEqual(flagged.map((x) => x.peer), ['node-b']);
  assert.equal(countHolderOps(net.get('d'), 'get'), 1, 'a fourth holder was asked');
  assert.equal(countHolderOps(net.get('e'), 'get'), 0);
});

test('with exactly k shares and one tampered, use fails typed instead of returning wrong bytes', async () => {
  const net = fiveDevices();
  net.hookRequestsTo('c', corruptStoredShare);
  await net.get('a').secrets.put('t', te.encode('v'), { k: 3, n: 5, zone: 'z:owner' });
  net.hookRequestsTo('c', null);
  net.setOnline('d', false);
  net.setOnline('e', false);
  let called = false;
  await assert.rejects(
    net.get('a').secrets.use('t', () => {
      called = true;
    }),
    SecretBadShareError,
  );
  assert.equal(called, false);
});

test('fewer than k devices online: typed error, and the secret returns with its devices', async () => {
  const net = fiveDevices();
  await net.get('a').secrets.put('s', te.encode('back'), { k: 3, n: 5, zone: 'z:owner' });
  for (const n of ['b', 'c', 'd']) net.setOnline(n, false);
  await assert.rejects(read(net, 'a', 's'), SecretTooFewSharesError);
  net.setOnline('c', true);
  assert.equal(await read(net, 'a', 's'), 'back');
});

test('put needs n eligible devices online', async () => {
  const net = fiveDevices();
  net.setOnline('e', false);
  await assert.rejects(
    net.get('a').secrets.put('s', te.encode('v'), { k: 2, n: 5, zone: 'z:owner' }),
    SecretTooFewDevicesError,
  );
  assert.equal(net.devices.reduce((sum, d) => sum + d.holder.size, 0), 0);
});

test('bad parameters are refused before anything is sent', async () => {
  const net = fiveDevices();
  const s = net.get('a').secrets;
  const v = te.encode('v');
  const bad: Array<[string, Uint8Array, { k: number; n: number; zone: string }]> = [
    ['x', v, { k: 1, n: 3, zone: 'z:owner' }],
    ['x', v, { k: 4, n: 3, zone: 'z:owner' }],
    ['x', v, { k: 2, n: 256, zone: 'z:owner' }],
    ['x', v, { k: 2.5, n: 3, zone: 'z:owner' }],
    ['x', new Uint8Array(0), { k: 2, n: 3, zone: 'z:owner' }],
    ['x', new Uint8Array(64 * 1024 + 1), { k: 2, n: 3, zone: 'z:owner' }],
    ['', v, { k: 2, n: 3, zone: 'z:owner' }],
    ['has space', v, { k: 2, n: 3, zone: 'z:owner' }],
    ['x', v, { k: 2, n: 3, zone: '' }],
  ];
  for (const [name, value, opts] of bad) {
    await assert.rejects(s.put(name, value, opts), SecretBadParamsError, `${name} ${JSON.stringify(opts)}`);
  }
  await assert.rejects(s.put('x', 'text' as unknown as Uint8Array, { k: 2, n: 3, zone: 'z:owner' }), SecretBadParamsError);
  assert.equal(net.devices.reduce((sum, d) => sum + d.holder.size, 0), 0);
  assert.equal(net.devices.reduce((sum, d) => sum + countHolderOps(d, 'store'), 0), 0);
});

test('only devices of the zone hold shares; outsiders cannot read, plant or drop them', async () => {
  const net = new TestNetwork();
  for (const n of ['a', 'b', 'c']) net.add(n, ['z:owner']);
  net.add('w', ['z:work']);
  await net.get('a').secrets.put('own', te.encode('owner-only'), { k: 2, n: 3, zone: 'z:owner' });
  assert.equal(net.get('w').holder.size, 0, 'the work device received no share');
  const w = net.get('w');
  await assert.rejects(w.secrets.use('own', () => undefined), SecretNotFoundError);
  await assert.rejects(w.secrets.remove('own'), SecretNotFoundError);
  assert.deepEqual(await w.secrets.list(), []);
  // A work device cannot plant work-zone shares on owner devices either: they refuse.
  await assert.rejects(w.secrets.put('w1', te.encode('v'), { k: 2, n: 2, zone: 'z:owner' }), (err: unknown) => {
    assert.ok(err instanceof SecretPutFailedError);
    assert.match(err.message, /SECRET_REFUSED/);
    return true;
  });
  assert.equal(await read(net, 'b', 'own'), 'owner-only');
  assert.equal(net.devices.reduce((sum, d) => sum + d.holder.size, 0), 3);
  const refusals = net.devices.flatMap((d) => d.audit).filter((e) => e.reason === 'SECRET_REFUSED');
  assert.ok(refusals.length >= 2 && refusals.every((e) => e.peer === 'node-w' || e.op === 'store'));
});

test('every request is audited on both sides with op, name, peer and outcome', async () => {
  const net = fiveDevices();
  await net.get('a').secrets.put('aud', te.encode('v'), { k: 2, n: 2, zone: 'z:owner' });
  await read(net, 'c', 'aud');
  const c = net.get('c').audit;
  assert.ok(c.some((e) => e.op === 'use' && e.name === 'aud' && e.ok));
  assert.equal(c.filter((e) => e.op === 'get' && e.ok).length, 2);
  const a = net.get('a').audit;
  assert.ok(a.some((e) => e.op === 'holder.get' && e.peer === 'node-c' && e.name === 'aud' && e.ok));
  assert.ok(a.some((e) => e.op === 'put' && e.ok));
  for (const e of [...a, ...c]) assert.ok(typeof e.op === 'string' && typeof e.ok === 'boolean');
});

test('errors are typed with stable codes and say what to do', async () => {
  const net = fiveDevices();
  try {
    await read(net, 'a', 'missing');
    assert.fail('expected an error');
  } catch (err) {
    assert.ok(err instanceof SecretError);
    assert.equal(err.code, 'SECRET_NOT_FOUND');
    assert.match(err.message, /list\(\)/);
  }
});

test('uses running while the secret rotates all get the value', async () => {
  const net = fiveDevices();
  await net.get('a').secrets.put('hot', te.encode('always'), { k: 3, n: 5, zone: 'z:owner' });
  for (const d of ['b', 'c', 'd', 'e']) assert.equal(await read(net, d, 'hot'), 'always');
  for (let round = 0; round < 5; round++) {
    const reads = ['b', 'c', 'd', 'e'].map((d) => read(net, d, 'hot'));
    await net.get('a').secrets.rotate('hot');
    assert.deepEqual(await Promise.all(reads), ['always', 'always', 'always', 'always']);
  }
  assert.equal((await net.get('b').secrets.list())[0]!.version, 6);
});
