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
