// Frame codec: round trips, streaming across chunk boundaries, and typed rejection of bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode } from 'cborg';
import {
  FrameDecoder,
  MESSAGE_FIELDS,
  ProtocolError,
  decodeFrameBody,
  encodeFrame,
  makeMessage,
  type Message,
} from '../../src/wire/index.js';
import { sampleMessages } from './samples.js';

function frameOf(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

function rejects(bytes: Uint8Array, code: string, field?: string) {
  const dec = new FrameDecoder();
  assert.throws(
    () => dec.push(bytes),
    (e: unknown) => e instanceof ProtocolError && e.code === code && (field === undefined || e.field === field),
    `expected ${code}${field ? ` on ${field}` : ''}`,
  );
  assert.equal(dec.failed, true);
}

test('every message type round-trips through encodeFrame and FrameDecoder', () => {
  const samples = sampleMessages();
  assert.deepEqual(Object.keys(samples).sort(), Object.keys(MESSAGE_FIELDS).sort(), 'a sample exists for every type');
  const dec = new FrameDecoder();
  for (const [t, msg] of Object.entries(samples)) {
    const out = dec.push(encodeFrame(msg));
    assert.equal(out.length, 1, t);
    assert.deepEqual(out[0], msg, t);
  }
  assert.equal(dec.bufferedBytes, 0);
});

test('encoding is canonical: same message, same bytes, whatever the key order', () => {
  const a = makeMessage('fetch', 1, { objectId: new Uint8Array(32), zone: 'z:owner', max: 3 });
  const b = { max: 3, zone: 'z:owner', objectId: new Uint8Array(32), id: 1, t: 'fetch', v: 1 } as unknown as Message;
  assert.deepEqual(encodeFrame(a), encodeFrame(b));
  // Optional fields left undefined are omitted rather than encoded.
  const c = makeMessage('fetch', 1, { objectId: new Uint8Array(32), zone: 'z:owner', max: 3, want: undefined });
  assert.deepEqual(encodeFrame(c), encodeFrame(a));
});

test('frames split at every byte boundary, and many frames in one chunk, decode the same', () => {
  const msgs = Object.values(sampleMessages());
  const all = Buffer.concat(msgs.map((m) => encodeFrame(m)));
  assert.deepEqual(new FrameDecoder().push(all), msgs, 'all frames in one chunk');
  const byteWise = new FrameDecoder();
  const got: Message[] = [];
  for (let i = 0; i < all.length; i++) got.push(...byteWise.push(all.subarray(i, i + 1)));
  assert.deepEqual(got, msgs, 'one byte at a time');
  const uneven = new FrameDecoder();
  const got2: Message[] = [];
  for (let at = 0, step = 1; at < all.length; at += step, step = (step * 7 + 3) % 997 + 1) got2.push(...uneven.push(all.subarray(at, at + step)));
  assert.deepEqual(got2, msgs, 'uneven chunks');
});

test('a large frame trickled in one byte at a time decodes; pending bytes are what was received', () => {
  const msg = makeMessage('secret', 3, { body: Uint8Array.from({ length: 65536 }, (_, i) => i & 0xff) });
  const frame = encodeFrame(msg);
  const dec = new FrameDecoder();
  const got: Message[] = [];
  for (let i = 0; i < frame.length; i++) {
    got.push(...dec.push(frame.subarray(i, i + 1)));
    if (i === 99) assert.equal(dec.bufferedBytes, 100);
  }
  assert.deepEqual(got, [msg]);
  assert.equal(dec.bufferedBytes, 0);
});

test('an oversized length prefix is refused as soon as the 4 bytes arrive', () => {
  const dec = new FrameDecoder({ maxFrameBytes: 1024 });
  assert.throws(() => dec.push(new Uint8Array([0, 0, 4, 1])), { code: 'PROTO_FRAME_TOO_LARGE' });
  assert.equal(dec.bufferedBytes, 0, 'nothing of the body is buffered');
  const big = new FrameDecoder();
  assert.throws(() => big.push(new Uint8Array([0xff, 0xff, 0xff, 0xff])), { code: 'PROTO_FRAME_TOO_LARGE' });
  // The sender sees the same cap.
  const huge = makeMessage('secret', 1, { body: new Uint8Array(65536) });
  assert.throws(() => encodeFrame(huge, { maxFrameBytes: 1000 }), { code: 'PROTO_FRAME_TOO_LARGE' });
});

test('after an error the decoder refuses further input, even valid frames', () => {
  const dec = new FrameDecoder();
  assert.throws(() => dec.push(frameOf(new Uint8Array([0xff]))), ProtocolError);
  const valid = encodeFrame(makeMessage('ok', 1, {}));
  assert.throws(() => dec.push(valid), ProtocolError);
});

test('version, type and field errors are typed and name the field', () => {
  const body = (v: Record<string, unknown>) => frameOf(encode(v));
  rejects(body({ v: 2, t: 'ok', id: 1 }), 'PROTO_BAD_VERSION', 'v');
  rejects(body({ t: 'ok', id: 1 }), 'PROTO_BAD_VERSION', 'v');
  rejects(body({ v: 1, t: 'nope', id: 1 }), 'PROTO_UNKNOWN_TYPE', 't');
  rejects(body({ v: 1, t: 'toString', id: 1 }), 'PROTO_UNKNOWN_TYPE', 't');
  rejects(body({ v: 1, t: 'ok', id: -1 }), 'PROTO_BAD_MESSAGE', 'id');
  rejects(body({ v: 1, t: 'ok', id: 1.5 }), 'PROTO_BAD_MESSAGE', 'id');
  rejects(body({ v: 1, t: 'have', id: 1, objectId: new Uint8Array(31) }), 'PROTO_BAD_MESSAGE', 'objectId');
  rejects(body({ v: 1, t: 'have', id: 1 }), 'PROTO_BAD_MESSAGE', 'objectId');
  rejects(body({ v: 1, t: 'have', id: 1, objectId: 'ab'.repeat(16) }), 'PROTO_BAD_MESSAGE', 'objectId');
  const env = new Uint8Array(100);
  rejects(body({ v: 1, t: 'symbols', id: 1, symbols: [{ sbn: 0, esi: 1, env }, { sbn: 256, esi: 1, env }] }), 'PROTO_BAD_MESSAGE', 'symbols[1].sbn');
  rejects(body({ v: 1, t: 'symbols', id: 1, symbols: [{ sbn: 0, esi: 1 << 24, env }] }), 'PROTO_BAD_MESSAGE', 'symbols[0].esi');
  rejects(body({ v: 1, t: 'symbols', id: 1, symbols: [{ sbn: 0, esi: 1, env: new Uint8Array(10) }] }), 'PROTO_BAD_MESSAGE', 'symbols[0].env');
  rejects(body({ v: 1, t: 'fetch', id: 1, objectId: new Uint8Array(32), zone: 'Z:BAD' }), 'PROTO_BAD_MESSAGE', 'zone');
  rejects(body({ v: 1, t: 'fetch', id: 1, objectId: new Uint8Array(32), zone: 'z:a', want: [[1, 2, 3]] }), 'PROTO_BAD_MESSAGE', 'want[0]');
  rejects(body({ v: 1, t: 'error', id: 1, code: 'X', message: 'm'.repeat(5000) }), 'PROTO_BAD_MESSAGE', 'message');
  rejects(body({ v: 1, t: 'secret', id: 1, body: 'not bytes' }), 'PROTO_BAD_MESSAGE', 'body');
  const m = sampleMessages().manifest_put as unknown as { manifest: Record<string, unknown> };
  rejects(body({ v: 1, t: 'manifest_put', id: 1, manifest: { ...m.manifest, placement: { target: 1, minDevices: 1, maxShare: 0, tolerate: 0 } } }), 'PROTO_BAD_MESSAGE', 'manifest.placement.maxShare');
  rejects(body({ v: 1, t: 'manifest_put', id: 1, manifest: { ...m.manifest, placement: { target: 0.5, minDevices: 1, maxShare: 1, tolerate: 0 } } }), 'PROTO_BAD_MESSAGE', 'manifest.placement.target');
  rejects(body({ v: 1, t: 'manifest_put', id: 1, manifest: { ...m.manifest, oti: new Uint8Array(11) } }), 'PROTO_BAD_MESSAGE', 'manifest.oti');
  rejects(body([1, 2] as unknown as Record<string, unknown>), 'PROTO_BAD_MESSAGE', 'message');
});

test('non-canonical or hostile CBOR is refused with PROTO_BAD_CBOR', () => {
  const okBody = encode({ v: 1, t: 'ok', id: 1 });
  const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
  rejects(frameOf(hex('bf617601ff')), 'PROTO_BAD_CBOR'); // indefinite-length map
  rejects(frameOf(hex('a3617601617601617462') ), 'PROTO_BAD_CBOR'); // truncated
  rejects(frameOf(hex('a26176016176 02'.replace(/ /g, ''))), 'PROTO_BAD_CBOR'); // duplicate key "v"
  rejects(frameOf(Buffer.concat([okBody, hex('00')])), 'PROTO_BAD_CBOR'); // trailing bytes
  rejects(frameOf(hex('c11a5bd3c4f0')), 'PROTO_BAD_CBOR'); // a tag
  rejects(frameOf(hex('f7')), 'PROTO_BAD_CBOR'); // undefined
  rejects(frameOf(hex('a3617618016174626f6b62696401')), 'PROTO_BAD_CBOR'); // v: 1 encoded non-minimally (0x18 0x01)
  rejects(frameOf(hex('a3617601617462 6f6b 62696419 0001'.replace(/ /g, ''))), 'PROTO_BAD_CBOR'); // id: 1 in two bytes
  rejects(new Uint8Array([0, 0, 0, 0]), 'PROTO_BAD_CBOR'); // empty body
  // Nesting deeper than the cap: 100 nested one-element arrays.
  rejects(frameOf(Uint8Array.from([...new Array(100).fill(0x81), 0x01])), 'PROTO_BAD_CBOR');
  // An array announcing more items than the cap (or than the body holds) is refused without allocation.
  rejects(frameOf(hex('9b00000000ffffffff')), 'PROTO_BAD_CBOR');
  rejects(frameOf(hex('5a7fffffff00')), 'PROTO_BAD_CBOR'); // byte string longer than the body
  // A __proto__ key cannot smuggle fields through the prototype.
  const proto = Buffer.concat([hex('a3'), hex('6176'), hex('01'), hex('626964'), hex('01'), hex('695f5f70726f746f5f5f'), encode({ t: 'ok' })]);
  rejects(frameOf(proto), 'PROTO_BAD_MESSAGE');
  assert.throws(() => decodeFrameBody(hex('a1617601'), { maxFrameBytes: 2 }), { code: 'PROTO_FRAME_TOO_LARGE' });
});

test('invalid outgoing messages are refused before they are sent', () => {
  assert.throws(() => encodeFrame(makeMessage('have', 1, { objectId: new Uint8Array(3) })), { code: 'PROTO_BAD_MESSAGE' });
  assert.throws(() => encodeFrame({ v: 1, t: 'bogus', id: 1 } as unknown as Message), { code: 'PROTO_UNKNOWN_TYPE' });
  const missing = { v: 1, t: 'error', id: 1, code: 'X' } as unknown as Message;
  assert.throws(() => encodeFrame(missing), { code: 'PROTO_BAD_MESSAGE', field: 'message' });});

test('a received message with fields this version does not know is read without them (a newer peer); a sender never sends one', () => {
  const dec = new FrameDecoder();
  const [ok] = dec.push(frameOf(encode({ v: 1, t: 'ok', id: 1, extra: 1 })));
  assert.deepEqual(ok, { v: 1, t: 'ok', id: 1 });
  const m = sampleMessages().manifest_put as unknown as { manifest: Record<string, unknown> };
  const [put] = dec.push(frameOf(encode({ v: 1, t: 'manifest_put', id: 2, manifest: { ...m.manifest, later: 'x', placement: { ...(m.manifest.placement as object), spread: 3 } }, note: [1] })));
  const manifest = (put as unknown as { manifest: Record<string, unknown> }).manifest;
  assert.equal('later' in manifest, false, 'nested unknown field dropped');
  assert.equal('spread' in (manifest.placement as object), false, 'deeper unknown field dropped');
  assert.equal('note' in (put as object), false);
  assert.deepEqual(Object.keys(manifest).sort(), Object.keys(m.manifest).sort());
  // Known fields are still checked as strictly.
  rejects(frameOf(encode({ v: 1, t: 'have', id: 1, objectId: new Uint8Array(31), extra: 1 })), 'PROTO_BAD_MESSAGE', 'objectId');
  // Sending stays strict, and the strictness does not leak out of a receive.
  assert.throws(() => encodeFrame({ v: 1, t: 'ok', id: 1, extra: 1 } as unknown as Message), (e: unknown) => e instanceof ProtocolError && e.code === 'PROTO_BAD_MESSAGE' && e.field === 'extra');
});
