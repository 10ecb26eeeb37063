import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { encode, decode } from 'cborg';
import fc from 'fast-check';
import { MAX_BODY_BYTES } from '../../src/secrets/limits.js';
import { decodeReply, encodeRequest, shareBoxAad, type HeldMeta } from '../../src/secrets/protocol.js';
import { generateBoxKeyPair, sealTo } from '../../src/secrets/seal.js';
import { meshOf } from './network.js';

const te = new TextEncoder();
const td = new TextDecoder();
const owner = { nodeId: 'node-b', zones: ['z:owner'] };

function replyCode(raw: Uint8Array): string {
  const reply = decode(raw) as { ok: boolean; code?: string };
  return reply.ok ? 'OK' : String(reply.code);
}

async function networkWithSecret() {
  const net = meshOf(['a', 'b', 'c']);
  await net.get('a').secrets.put('keep', te.encode('still-here'), { k: 2, n: 3, zone: 'z:owner' });
  return net;
}

test('hostile and malformed bodies get typed errors and disturb no share', async () => {
  const net = await networkWithSecret();
  const holder = net.get('c').holder;
  const meta = holder.summary()[0]!;
  const goodMeta: Record<string, unknown> = {
    name: 'x', zone: 'z:owner', k: 2, n: 2, version: 1, splitId: new Uint8Array(32), holders: ['node-c', 'node-d'], index: 0,
  };
  const bodies: Array<[string, unknown]> = [
    ['empty', new Uint8Array(0)],
    ['random bytes', new Uint8Array(randomBytes(300))],
    ['truncated CBOR', encode({ v: 1, op: 'list' }).subarray(0, 5)],
    ['not a map', encode([1, 2, 3])],
    ['wrong version', encode({ v: 2, op: 'list' })],
    ['unknown op', encode({ v: 1, op: 'format-disk' })],
    ['extra field', encode({ v: 1, op: 'list', evil: true })],
    ['name wrong type', encode({ v: 1, op: 'get', name: 5, version: 1, replyKey: new Uint8Array(32) })],
    ['name too long', encode({ v: 1, op: 'get', name: 'n'.repeat(500), version: 1, replyKey: new Uint8Array(32) })],
    ['negative version', encode({ v: 1, op: 'get', name: 'keep', version: -1, replyKey: new Uint8Array(32) })],
    ['short reply key', encode({ v: 1, op: 'get', name: 'keep', version: 1, replyKey: new Uint8Array(5) })],
    ['low-order reply key', encode({ v: 1, op: 'get', name: 'keep', version: 1, replyKey: new Uint8Array(32) })],
    ['drop version and below', encode({ v: 1, op: 'drop', name: 'keep', version: 1, below: 2 })],
    ['store k > n', encode({ v: 1, op: 'store', meta: { ...goodMeta, k: 3 }, sealed: new Uint8Array(100) })],
    ['store k = 1', encode({ v: 1, op: 'store', meta: { ...goodMeta, k: 1 }, sealed: new Uint8Array(100) })],
    ['store holders not n', encode({ v: 1, op: 'store', meta: { ...goodMeta, holders: ['node-c'] }, sealed: new Uint8Array(100) })],
    ['store duplicate holders', encode({ v: 1, op: 'store', meta: { ...goodMeta, holders: ['node-c', 'node-c'] }, sealed: new Uint8Array(100) })],
    ['store garbage box', encode({ v: 1, op: 'store', meta: goodMeta, sealed: new Uint8Array(randomBytes(200)) })],
    ['store for another device', encode({ v: 1, op: 'store', meta: { ...goodMeta, index: 1 }, sealed: new Uint8Array(100) })],
    ['deep nesting', new Uint8Array(20000).fill(0x81)],
    ['oversized', new Uint8Array(MAX_BODY_BYTES + 1)],
    ['not bytes', 'hello'],
  ];
  for (const [what, body] of bodies) {
    const raw = await holder.handle(owner, body as Uint8Array);
    const reply = decode(raw) as { ok: boolean; code: string; message: string };
    assert.equal(reply.ok, false, what);
    assert.equal(reply.code, 'SECRET_BAD_REQUEST', `${what}: ${reply.message}`);
    assert.ok(reply.message.length > 0);
  }
  assert.deepEqual(holder.summary(), [meta], 'the held share is untouched');
  assert.equal(await net.get('b').secrets.use('keep', (buf) => td.decode(buf)), 'still-here');
  assert.ok(net.get('c').audit.filter((e) => e.op.startsWith('holder.') && !e.ok).length >= bodies.length);
});

test('a holder refuses callers whose zones do not allow the secret, typed', async () => {
  const net = await networkWithSecret();
  const holder = net.get('c').holder;
  const v = holder.summary()[0]!.version;
  const outsider = { nodeId: 'node-w', zones: ['z:work'] };
  const replyKey = generateBoxKeyPair().publicKey;
  const get = await holder.handle(outsider, encodeRequest({ op: 'get', name: 'keep', version: v, replyKey }));
  assert.equal(replyCode(get), 'SECRET_REFUSED');
  const drop = await holder.handle(outsider, encodeRequest({ op: 'drop', name: 'keep' }));
  assert.equal(replyCode(drop), 'SECRET_REFUSED');
  const list = decodeReply(await holder.handle(outsider, encodeRequest({ op: 'list' })), 'list');
  assert.ok(list.ok && list.op === 'list' && list.entries.length === 0, 'list shows an outsider nothing');
  const noZones = await holder.handle({ nodeId: 'node-x', zones: [] }, encodeRequest({ op: 'get', name: 'keep', version: v, replyKey }));
  assert.equal(replyCode(noZones), 'SECRET_REFUSED');
  assert.equal(holder.size, 1);
  const audited = net.get('c').audit.filter((e) => e.peer === 'node-w');
  assert.ok(audited.some((e) => e.op === 'holder.get' && !e.ok && e.reason === 'SECRET_REFUSED'));
});

test('a holder outside the zone refuses to keep its shares', async () => {
  const net = meshOf(['a']);
  const w = net.add('w', ['z:work']);
  const meta: HeldMeta = {
    name: 's', zone: 'z:owner', k: 2, n: 2, version: 1, splitId: new Uint8Array(32).fill(1), holders: ['node-w', 'node-a'], index: 0,
  };
  const sealed = sealTo(w.publicKey, new Uint8Array(120), shareBoxAad(meta, 'store'));
  const raw = await w.holder.handle({ nodeId: 'node-a', zones: ['z:owner'] }, encodeRequest({ op: 'store', meta, sealed }));
  assert.equal(replyCode(raw), 'SECRET_REFUSED');
  assert.equal(w.holder.size, 0);
});

test('a store sealed to another device or with altered metadata does not open', async () => {
  const net = meshOf(['a', 'b']);
  const b = net.get('b');
  const meta: HeldMeta = {
    name: 's', zone: 'z:owner', k: 2, n: 2, version: 1, splitId: new Uint8Array(32).fill(1), holders: ['node-a', 'node-b'], index: 1,
  };
  const wrongKey = sealTo(net.get('a').publicKey, new Uint8Array(120), shareBoxAad(meta, 'store'));
  assert.equal(replyCode(await b.holder.handle(owner, encodeRequest({ op: 'store', meta, sealed: wrongKey }))), 'SECRET_BAD_REQUEST');
  const sealed = sealTo(b.publicKey, new Uint8Array(120), shareBoxAad(meta, 'store'));
  const altered = { ...meta, version: 9 };
  assert.equal(replyCode(await b.holder.handle(owner, encodeRequest({ op: 'store', meta: altered, sealed }))), 'SECRET_BAD_REQUEST');
  assert.equal(replyCode(await b.holder.handle(owner, encodeRequest({ op: 'store', meta, sealed }))), 'OK');
  assert.equal(b.holder.size, 1);
  const other = { ...meta, splitId: new Uint8Array(32).fill(2) };
  const conflicting = sealTo(b.publicKey, new Uint8Array(120), shareBoxAad(other, 'store'));
  assert.equal(replyCode(await b.holder.handle(owner, encodeRequest({ op: 'store', meta: other, sealed: conflicting }))), 'SECRET_CONFLICT');
});

test('a holder bounds the versions it keeps of one secret', async () => {
  const net = meshOf(['a', 'b']);
  const b = net.get('b');
  const codes: string[] = [];
  for (let version = 1; version <= 6; version++) {
    const meta: HeldMeta = {
      name: 's', zone: 'z:owner', k: 2, n: 2, version, splitId: new Uint8Array(32).fill(version), holders: ['node-a', 'node-b'], index: 1,
    };
    const sealed = sealTo(b.publicKey, new Uint8Array(120), shareBoxAad(meta, 'store'));
    codes.push(replyCode(await b.holder.handle(owner, encodeRequest({ op: 'store', meta, sealed }))));
  }
  assert.deepEqual(codes, ['OK', 'OK', 'OK', 'OK', 'SECRET_HOLDER_FULL', 'SECRET_HOLDER_FULL']);
  const dropped = decodeReply(await b.holder.handle(owner, encodeRequest({ op: 'drop', name: 's', below: 4 })), 'drop');
  assert.ok(dropped.ok && dropped.op === 'drop' && dropped.dropped === 3);
  assert.deepEqual(b.holder.summary().map((s) => s.version), [4]);
});

test('wipe forgets every share', async () => {
  const net = await networkWithSecret();
  const c = net.get('c');
  c.holder.wipe();
  assert.equal(c.holder.size, 0);
  const list = decodeReply(await c.holder.handle(owner, encodeRequest({ op: 'list' })), 'list');
  assert.ok(list.ok && list.op === 'list' && list.entries.length === 0);
  assert.equal(await net.get('a').secrets.use('keep', (buf) => td.decode(buf)), 'still-here', 'k of the others still rebuild it');
});

test('fuzzed request bodies never throw and never change what is held', async () => {
  const net = await networkWithSecret();
  const holder = net.get('b').holder;
  const before = JSON.stringify(holder.summary());
  const cbor = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.integer(),
      fc.double(),
      fc.string(),
      fc.boolean(),
      fc.constant(null),
      fc.uint8Array({ maxLength: 64 }),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(fc.constantFrom('v', 'op', 'name', 'version', 'meta', 'sealed', 'replyKey', 'below', 'splitId', 'x'), tie('value'), { maxKeys: 6 }),
    ),
  }));
  const request = fc.record({
    v: fc.constantFrom(1, 2),
    op: fc.constantFrom('store', 'get', 'drop', 'list', 'nope'),
    // Never the held name: a well-formed drop of it from an owner device is legitimate.
    name: fc.oneof(fc.constant('other'), fc.string()).filter((n) => n !== 'keep'),
    version: fc.oneof(fc.integer(), fc.constant(1)),
    extra: cbor.value,
  }, { requiredKeys: ['v', 'op'] });
  await fc.assert(
    fc.asyncProperty(fc.oneof(request.map((r) => encode(r)), cbor.value.map((v) => encode(v)), fc.uint8Array({ maxLength: 256 })), async (body) => {
      const raw = await holder.handle(owner, body);
      const reply = decode(raw) as { ok: boolean; code?: string };
      if (!reply.ok) assert.match(String(reply.code), /^SECRET_[A-Z_]+$/);
    }),
    { numRuns: 300 },
  );
  assert.equal(JSON.stringify(holder.summary()), before);
  assert.equal(await net.get('c').secrets.use('keep', (buf) => td.decode(buf)), 'still-here');
});

test('wipe and drop zero the share bytes they release', async () => {
  const net = meshOf(['a', 'b', 'c']);
  await net.get('a').secrets.put('one', te.encode('v1'), { k: 2, n: 3, zone: 'z:owner' });
  await net.get('a').secrets.put('two', te.encode('v2'), { k: 2, n: 3, zone: 'z:owner' });
  type Table = Map<string, Map<number, { share: Uint8Array }>>;
  const heldBuffers = (holder: unknown): Uint8Array[] =>
    [...(holder as { table: Table }).table.values()].flatMap((versions) => [...versions.values()].map((h) => h.share));
  const b = net.get('b');
  const [first] = heldBuffers(b.holder);
  assert.ok(first && first.some((x) => x !== 0));
  await net.get('c').secrets.remove('one');
  assert.ok(first.every((x) => x === 0), 'dropped share zeroed');
  const rest = heldBuffers(b.holder);
  assert.equal(rest.length, 1);
  b.holder.wipe();
  assert.ok(rest[0]!.every((x) => x === 0), 'wiped share zeroed');
});
