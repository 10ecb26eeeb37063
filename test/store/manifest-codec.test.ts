// The manifest decoder's fast path must answer exactly as cborg's strict decode (which it falls
// back to): same values for what it reads, and for everything else cborg's own answer or error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { decode, encode } from 'cborg';
import { decodeManifest, encodeManifest, fastDecode } from '../../src/store/manifest-codec.js';
import type { Manifest } from '../../src/store/index.js';

const bytes = (n: number) => new Uint8Array(randomBytes(n));

function manifest(over: Partial<Manifest> = {}): Manifest {
  return {
    objectId: bytes(32),
    zone: 'z:private',
    schema: 'fcp.chunk.v1',
    oti: bytes(12),
    length: 512,
    keyId: bytes(8),
    epoch: 0,
    created: 1_790_000_000_000 + Math.floor(Math.random() * 1e9),
    writer: 'nodeid-' + Buffer.from(bytes(6)).toString('hex'),
    placement: { target: 1.5, minDevices: 2, maxShare: 0.5, tolerate: 1 },
    ...over,
  };
}

const reference = (b: Uint8Array): { ok: true; value: unknown } | { ok: false } => {
  try {
    return { ok: true, value: decode(b, { strict: true, allowUndefined: false }) };
  } catch {
    return { ok: false };
  }
};

/** decodeManifest answers as cborg does: the same value (same types, key order) or an error. */
function sameAsCborg(b: Uint8Array): void {
  const want = reference(b);
  let got: { ok: true; value: unknown } | { ok: false };
  try {
    got = { ok: true, value: decodeManifest(b) };
  } catch (err) {
    assert.equal((err as { code?: string }).code, 'STORE_CORRUPT');
    got = { ok: false };
  }
  assert.equal(got.ok, want.ok, `fast path and cborg disagree on ${Buffer.from(b).toString('hex')}`);
  if (got.ok && want.ok) {
    assert.deepStrictEqual(got.value, want.value);
    assert.deepEqual(Object.keys(got.value as object), Object.keys(want.value as object));
  }
}

test('manifests as the store writes them decode on the fast path to what cborg gives', () => {
  const samples = [
    manifest(),
    manifest({ epoch: 3, length: 0, zone: 'z:owner', schema: 'fcp.file.v1' }),
    manifest({ length: 2 ** 40 + 7, created: 0, placement: { target: 2.25, minDevices: 1, maxShare: 1, tolerate: 0 } }),
    manifest({ placement: { target: 1.1, minDevices: 3, maxShare: 1 / 3, tolerate: 2 } }), // float64 values
    manifest({ length: 23 }),
    manifest({ length: 24 }),
    manifest({ length: 255 }),
    manifest({ length: 256 }),
    manifest({ length: 65535 }),
    manifest({ length: 65536 }),
    manifest({ length: 2 ** 32 - 1 }),
    manifest({ length: 2 ** 32 }),
    manifest({ length: Number.MAX_SAFE_INTEGER }),
  ];
  for (const m of samples) {
    const b = encodeManifest(m);
    const fast = fastDecode(b);
    assert.notEqual(fast, undefined, 'a manifest as written takes the fast path');
    assert.deepStrictEqual(fast, decode(b, { strict: true, allowUndefined: false }));
    assert.deepStrictEqual(decodeManifest(b), m);
    const back = decodeManifest(b);
    assert.ok(back.objectId instanceof Uint8Array && !Buffer.isBuffer(back.objectId), 'byte strings are plain Uint8Array copies, as cborg makes them');
    b[5] ^= 0xff; // a copy: changing the input afterwards changes nothing decoded
    assert.deepStrictEqual(back, m);
  }
});

test('values outside the fast path give cborg\'s answer, and cborg\'s refusals stay refusals', () => {
  const odd: unknown[] = [
    { ...manifest(), zone: 'z:privé' }, // non-ASCII text
    { ...manifest(), extra: [1, -2, -300, true, false, null, 'x', new Uint8Array(3), { a: 1 }] },
    { ...manifest(), length: -1 },
    { ...manifest(), length: -(2 ** 40) },
    { ...manifest(), placement: { target: Infinity, minDevices: -Infinity, maxShare: -0, tolerate: NaN } },
    { ...manifest(), created: 2n ** 60n }, // beyond 2^53: cborg gives a BigInt
    { ...manifest(), deep: [[[[[[[[[[1]]]]]]]]]] },
    { ...manifest(), placement: { target: 1.5, minDevices: 2 } }, // other placement fields
    { ...manifest(), placement: { target: 1.5, maxShare: 0.5, tolerate: 1, other: 2 } },
    { ...manifest(), placement: [1, 2] },
    { ...manifest(), zone: 'z:' + 'x'.repeat(100) }, // longer text
    [],
    {},
    'text',
    0,
  ];
  for (const v of odd) sameAsCborg(encode(v));
  const good = encodeManifest(manifest());
  const hexes = [
    '', // nothing
    'a1', // a map with its entry missing
    'a2616101616101', // duplicate key: cborg keeps the last
    'a1695f5f70726f746f5f5f01', // __proto__ as a key
    'a10101', // a non-text key
    'a16161f7', // undefined (allowUndefined: false)
    'a16161c001', // a tag
    'a16161bf6162ff01', // indefinite length
    'a161611801', // non-minimal integer (strict)
    'a161611900ff', // non-minimal 16-bit
    'a16161390000', // non-minimal negative
    'a161611b00000000ffffffff', // non-minimal 64-bit
    'a1626161f97e00', // float16 NaN
    'a16161f8ff', // a simple value
    'a1781b' + '61'.repeat(27) + '01', // non-minimal text length
  ];
  for (const h of hexes) sameAsCborg(Uint8Array.from(Buffer.from(h, 'hex')));
  sameAsCborg(Uint8Array.from([...good, 0x00])); // trailing bytes
  for (let cut = 0; cut < good.length; cut++) sameAsCborg(good.subarray(0, cut));
});

test('random damage to a stored manifest is decoded or refused exactly as cborg would', () => {
  for (let i = 0; i < 3000; i++) {
    const b = Uint8Array.from(encodeManifest(manifest()));
    const flips = 1 + (i % 3);
    for (let f = 0; f < flips; f++) b[Math.floor(Math.random() * b.length)] = Math.floor(Math.random() * 256);
    sameAsCborg(b);
  }
});

test('a manifest inside a larger buffer (as LMDB hands them out) decodes from its own bytes only', () => {
  const m = manifest();
  const enc = encodeManifest(m);
  const big = Buffer.alloc(enc.length + 20, 0xee);
  big.set(enc, 10);
  const view = big.subarray(10, 10 + enc.length);
  assert.deepStrictEqual(decodeManifest(view), m);
  assert.deepStrictEqual(decodeManifest(new Uint8Array(big.buffer, big.byteOffset + 10, enc.length)), m);
});
