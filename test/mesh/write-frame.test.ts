// A store's frame leaves as pieces: the CBOR around the envelopes and the envelopes themselves,
// not copied. What the peer reads must be exactly the frame encodeFrame writes in one buffer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { encodeFrame, encodeFramePieces, piecesLength, FrameDecoder, type Message } from '../../src/wire/index.js';
import { writeFrame } from '../../src/mesh/write-frame.js';

const objectId = new Uint8Array(randomBytes(32));
const symbols = Array.from({ length: 40 }, (_, i) => ({ sbn: i % 3, esi: i * 997, env: new Uint8Array(randomBytes(64 + i * 50)) }));
const store = { v: 1, t: 'store', id: 77, zone: 'z:private', objectId, symbols } as Message;

test('the pieces of a store frame are the caller\'s envelopes, and together the one-buffer frame', () => {
  const pieces = encodeFramePieces(store);
  assert.equal(pieces.length, 2 * symbols.length + 1);
  symbols.forEach((s, i) => assert.equal(pieces[2 * i + 1], s.env, `envelope ${i} is passed through, not copied`));
  const joined = Buffer.concat(pieces);
  assert.equal(piecesLength(pieces), joined.length);
  assert.deepEqual(joined, Buffer.from(encodeFrame(store)));
  // Any other message is one piece.
  assert.equal(encodeFramePieces({ v: 1, t: 'ok', id: 3 } as Message).length, 1);
});

test('writeFrame delivers the frame intact over TCP, and its callback runs once it is written', async () => {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const client = connect((server.address() as { port: number }).port, '127.0.0.1');
  await once(client, 'connect');
  const [peer] = await accepted;
  try {
    const decoder = new FrameDecoder();
    const got: Message[] = [];
    const two = new Promise<void>((resolve) => peer.on('data', (c: Buffer) => {
      got.push(...decoder.push(c));
      if (got.length === 2) resolve();
    }));
    let written = 0;
    writeFrame(client, encodeFramePieces(store), () => written++);
    writeFrame(client, encodeFramePieces({ v: 1, t: 'ok', id: 4 } as Message), () => written++);
    await two;
    assert.equal(written, 2);
    const m = got[0] as Message & { symbols: typeof symbols };
    assert.equal(m.t, 'store');
    assert.deepEqual(m.symbols.map((s) => Buffer.from(s.env)), symbols.map((s) => Buffer.from(s.env)));
    assert.deepEqual(m.symbols.map((s) => [s.sbn, s.esi]), symbols.map((s) => [s.sbn, s.esi]));
    assert.equal(got[1]!.t, 'ok');
  } finally {
    client.destroy();
    peer.destroy();
    server.close();
  }
});
