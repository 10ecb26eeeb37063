// The `symbols` fast path must write exactly the canonical CBOR the general encoder writes,
// and read back exactly what the general decoder reads, or defer to it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encode, decode } from 'cborg';
import { FrameDecoder, encodeFrame, type Message } from '../../src/wire/index.js';
import { decodeSymbolsBody, encodeSymbolsFrame } from '../../src/wire/symbols-frame.js';

const entry = fc.record({
  sbn: fc.integer({ min: 0, max: 255 }),
  esi: fc.oneof(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 0xffffff })),
  env: fc.uint8Array({ minLength: 64, maxLength: 400 }),
});

test('fast encoding is byte-identical to canonical CBOR, and both decoders agree', () => {
  fc.assert(
    fc.property(fc.oneof(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })), fc.array(entry, { maxLength: 12 }), (id, symbols) => {
      const frame = encodeSymbolsFrame(id, symbols)!;
      const body = frame.subarray(4);
      assert.equal(new DataView(frame.buffer).getUint32(0), body.length);
      assert.deepEqual(Buffer.from(body), Buffer.from(encode({ v: 1, t: 'symbols', id, symbols })));
      const fast = decodeSymbolsBody(body, 1 << 20)!;
      assert.ok(fast);
      const general = decode(body, { useMaps: false }) as Message;
      assert.deepStrictEqual(fast, general);
      // Through the framing layer too, in odd-sized chunks.
      const dec = new FrameDecoder();
      const out: Message[] = [];
      for (let at = 0; at < frame.length; at += 7) out.push(...dec.push(frame.subarray(at, at + 7)));
      assert.equal(out.length, 1);
      assert.equal(out[0]!.t, 'symbols');
    }),
    { numRuns: 300 },
  );
});

test('encodeFrame takes the fast path for symbols and still refuses bad entries', () => {
  const env = new Uint8Array(100);
  const frame = encodeFrame({ v: 1, t: 'symbols', id: 9, symbols: [{ sbn: 1, esi: 2, env }] } as Message);
  assert.deepEqual(Buffer.from(frame.subarray(4)), Buffer.from(encode({ v: 1, t: 'symbols', id: 9, symbols: [{ sbn: 1, esi: 2, env }] })));
  assert.throws(() => encodeFrame({ v: 1, t: 'symbols', id: 9, symbols: [{ sbn: 256, esi: 2, env }] } as Message), (err: Error & { code?: string }) => err.code === 'PROTO_BAD_MESSAGE');
  assert.throws(() => encodeFrame({ v: 1, t: 'symbols', id: 9, symbols: [{ sbn: 1, esi: 2, env: new Uint8Array(10) }] } as Message), (err: Error & { code?: string }) => err.code === 'PROTO_BAD_MESSAGE');
});

test('anything but a well-formed symbols body is left to the general decoder', () => {
  const good = encodeSymbolsFrame(5, [{ sbn: 0, esi: 1, env: new Uint8Array(64) }])!.subarray(4);
  assert.ok(decodeSymbolsBody(good, 10));
  assert.equal(decodeSymbolsBody(good.subarray(0, good.length - 1), 10), null, 'truncated');
  assert.equal(decodeSymbolsBody(Uint8Array.from([...good, 0]), 10), null, 'trailing byte');
  assert.equal(decodeSymbolsBody(good, 0), null, 'over the array cap');
  const nonShortest = Buffer.from(good);
  // id 5 written as 0x18 0x05 is not canonical.
  const widened = Buffer.concat([nonShortest.subarray(0, 15), Buffer.from([0x18, 0x05]), nonShortest.subarray(16)]);
  assert.equal(decodeSymbolsBody(widened, 10), null);
  const shortEnv = encode({ v: 1, t: 'symbols', id: 1, symbols: [{ sbn: 0, esi: 0, env: new Uint8Array(10) }] });
  assert.equal(decodeSymbolsBody(shortEnv, 10), null, 'envelope too short: the general path refuses it with a typed error');
});

const zoneArb = fc.stringMatching(/^[a-z0-9:_-]{1,64}$/);

test('store: the fast encoding is byte-identical to canonical CBOR, and both decoders agree', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), zoneArb, fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.array(entry, { maxLength: 12 }), (id, zone, objectId, symbols) => {
      const frame = encodeSymbolsFrame(id, symbols, { zone, objectId })!;
      const body = frame.subarray(4);
      assert.deepEqual(Buffer.from(body), Buffer.from(encode({ v: 1, t: 'store', id, zone, objectId, symbols })));
      const fast = decodeSymbolsBody(body, 1 << 20)!;
      assert.ok(fast);
      assert.deepStrictEqual(fast, decode(body, { useMaps: false }) as Message);
      const dec = new FrameDecoder();
      const out: Message[] = [];
      for (let at = 0; at < frame.length; at += 11) out.push(...dec.push(frame.subarray(at, at + 11)));
      assert.equal(out.length, 1);
      assert.equal(out[0]!.t, 'store');
      assert.equal((out[0] as { zone: string }).zone, zone);
    }),
    { numRuns: 200 },
  );
});

test('store: encodeFrame takes the fast path, and a bad zone or object id is the general path\'s typed error both ways', () => {
  const env = new Uint8Array(100);
  const objectId = new Uint8Array(32).fill(3);
  const msg = { v: 1, t: 'store', id: 4, zone: 'z:private', objectId, symbols: [{ sbn: 0, esi: 5, env }] };
  assert.deepEqual(Buffer.from(encodeFrame(msg as Message).subarray(4)), Buffer.from(encode(msg)));
  const badZone = (err: Error & { code?: string }) => err.code === 'PROTO_BAD_MESSAGE';
  assert.throws(() => encodeFrame({ ...msg, zone: 'Z PRIVATE' } as Message), badZone);
  assert.throws(() => encodeFrame({ ...msg, objectId: new Uint8Array(31) } as Message), badZone);
  // A frame with a zone the rules refuse, written by hand: decoded fast, refused as the general path refuses it.
  const hostile = encodeSymbolsFrame(4, msg.symbols, { zone: 'Z PRIVATE', objectId })!;
  const dec = new FrameDecoder();
  assert.throws(() => dec.push(hostile), badZone);
  // Non-ASCII zone bytes are left to the general decoder.
  const nonAscii = encode({ ...msg, zone: 'zé' });
  assert.equal(decodeSymbolsBody(nonAscii, 10), null);
  const good = encodeSymbolsFrame(4, msg.symbols, { zone: 'z:private', objectId })!.subarray(4);
  assert.equal(decodeSymbolsBody(good.subarray(0, good.length - 1), 10), null, 'truncated object id');
  assert.equal(decodeSymbolsBody(Uint8Array.from([...good, 0]), 10), null, 'trailing byte');
});
