// Fuzzing the decoder: random bytes, random CBOR values, truncations and bit flips of valid
// frames, in random chunkings. The only error ever allowed is ProtocolError; nothing hangs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encode } from 'cborg';
import { FrameDecoder, ProtocolError, encodeFrame, type Message } from '../../src/wire/index.js';
import { sampleMessages } from './samples.js';

const samples = Object.values(sampleMessages());
const validFrames = samples.map((m) => encodeFrame(m));

/** Pushes bytes in the given chunk sizes; returns decoded messages or the ProtocolError thrown. */
function feed(bytes: Uint8Array, cuts: number[]): Message[] | ProtocolError {
  const dec = new FrameDecoder({ maxFrameBytes: 256 * 1024 });
  const out: Message[] = [];
  let at = 0;
  let i = 0;
  try {
    while (at < bytes.length) {
      const step = Math.max(1, cuts.length ? cuts[i++ % cuts.length]! : bytes.length);
      out.push(...dec.push(bytes.subarray(at, at + step)));
      at += step;
    }
    return out;
  } catch (err) {
    if (err instanceof ProtocolError) return err;
    throw err;
  }
}

function withLength(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

const cuts = fc.array(fc.integer({ min: 1, max: 700 }), { maxLength: 8 });

test('random bytes never throw anything but ProtocolError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2048 }), cuts, (bytes, c) => {
      feed(bytes, c);
    }),
    { numRuns: 400 },
  );
});

test('random bytes behind a plausible length prefix never throw anything but ProtocolError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 2048 }), cuts, (body, c) => {
      feed(withLength(body), c);
    }),
    { numRuns: 400 },
  );
});

test('arbitrary CBOR values are either valid messages or a ProtocolError', () => {
  fc.assert(
    fc.property(fc.anything({ maxDepth: 4, withTypedArray: true, withNullPrototype: true }), cuts, (value, c) => {
      let body: Uint8Array;
      try {
        body = encode(value);
      } catch {
        return; // not representable in CBOR (e.g. symbols); nothing to send
      }
      const r = feed(withLength(body), c);
      assert.ok(r instanceof ProtocolError || r.length === 1);
    }),
    { numRuns: 300 },
  );
});

test('truncated and bit-flipped valid frames decode to a valid message or a ProtocolError', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: validFrames.length - 1 }),
      fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
      fc.nat(),
      cuts,
      (which, flips, cutAt, c) => {
        const frame = validFrames[which]!.slice();
        for (const f of flips) frame[f % frame.length]! ^= 1 << (f % 8);
        const r1 = feed(frame, c);
        if (!(r1 instanceof ProtocolError)) assert.ok(r1.length <= 1);
        // Truncated: never yields a message and never throws anything else.
        const r2 = feed(validFrames[which]!.subarray(0, cutAt % validFrames[which]!.length), c);
        assert.ok(r2 instanceof ProtocolError || r2.length === 0);
      },
    ),
    { numRuns: 500 },
  );
});

test('a valid stream with garbage appended yields the valid messages, then a ProtocolError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 4, maxLength: 64 }), (garbage) => {
      const dec = new FrameDecoder();
      const got = dec.push(Buffer.concat([validFrames[0]!, validFrames[1]!]));
      assert.equal(got.length, 2);
      try {
        const more = dec.push(garbage);
        // Garbage that happens to be an incomplete frame simply waits for more bytes.
        assert.equal(more.length, 0);
      } catch (err) {
        assert.ok(err instanceof ProtocolError);
      }
    }),
    { numRuns: 200 },
  );
});
