// The file object and chunk-list page formats: canonical CBOR round trips, and every kind of
// malformed input is FILES_BAD_OBJECT.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode } from 'cborg';
import { decodeFileObject, decodePage, encodeFileObject, encodePage, type FileObject } from '../../src/files/index.js';

const id = (b: number) => new Uint8Array(32).fill(b);
const bad = (f: () => unknown, re: RegExp) =>
  assert.throws(f, (e: { code?: string; message: string }) => {
    assert.equal(e.code, 'FILES_BAD_OBJECT');
    assert.match(e.message, re);
    return true;
  });

test('file objects and pages round-trip through canonical CBOR', () => {
  const inline: FileObject = { v: 1, size: 300, chunks: [[id(1), 100], [id(2), 200]] };
  assert.deepEqual(decodeFileObject(encodeFileObject(inline)), inline);
  const empty: FileObject = { v: 1, size: 0, chunks: [] };
  assert.deepEqual(decodeFileObject(encodeFileObject(empty)), empty);
  const paged: FileObject = { v: 1, size: 5000, pages: [[id(3), 2, 3000], [id(4), 1, 2000]] };
  assert.deepEqual(decodeFileObject(encodeFileObject(paged)), paged);
  const page = { v: 1 as const, chunks: [[id(5), 7]] as Array<[Uint8Array, number]> };
  assert.deepEqual(decodePage(encodePage(page)), page);
  // The encoding is fixed: keys in canonical order (length first), definite lengths.
  assert.equal(Buffer.from(encodeFileObject(empty)).toString('hex'), 'a36176016473697a6500666368756e6b7380');
});

test('malformed file objects are FILES_BAD_OBJECT', () => {
  bad(() => decodeFileObject(Uint8Array.of(0xff)), /not valid CBOR/);
  bad(() => decodeFileObject(encode([1, 2])), /not a CBOR map/);
  bad(() => decodeFileObject(encode({ v: 2, size: 0, chunks: [] })), /version 2/);
  bad(() => decodeFileObject(encode({ v: 1, size: 0, chunks: [], extra: 1 })), /fields/);
  bad(() => decodeFileObject(encode({ v: 1, size: 10, chunks: [[id(1), 5]] })), /add up/);
  bad(() => decodeFileObject(encode({ v: 1, size: 5, chunks: [[new Uint8Array(31), 5]] })), /32-byte/);
  bad(() => decodeFileObject(encode({ v: 1, size: 0, chunks: [[id(1), 0]] })), /length/);
  bad(() => decodeFileObject(encode({ v: 1, size: -1, chunks: [] })), /file size/);
  bad(() => decodeFileObject(encode({ v: 1, size: 5, chunks: [[id(1), 5, 9]] })), /\[id, length\]/);
  bad(() => decodeFileObject(encode({ v: 1, size: 9, chunks: Array.from({ length: 8193 }, () => [id(1), 1]) })), /chunk count/);
  bad(() => decodeFileObject(encode({ v: 1, size: 3, pages: [[id(1), 1, 3]] })), /page count/);
  bad(() => decodeFileObject(encode({ v: 1, size: 3, pages: [[id(1), 1, 1], [id(2), 1, 1]] })), /add up/);
  bad(() => decodePage(encode({ v: 1, chunks: [] })), /chunk count/);
  // Not canonical: a map with keys out of canonical order encodes the same value differently.
  const noncanonical = Uint8Array.from(Buffer.from('a36473697a6500617601666368756e6b7380', 'hex'));
  bad(() => decodeFileObject(noncanonical), /canonical/);
});
