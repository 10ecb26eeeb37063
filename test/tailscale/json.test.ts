import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseJsonLossless, stringifyJsonLossless, JsonSyntaxError } from '../../src/tailscale/index.js';

test('integers beyond 2^53 parse to exact bigint; safe ones stay numbers', () => {
  const v = parseJsonLossless('{"a":12345678901234567,"b":-9007199254740993,"c":42,"d":1.5,"e":1e3}') as Record<string, unknown>;
  assert.equal(v['a'], 12345678901234567n);
  assert.equal(v['b'], -9007199254740993n);
  assert.equal(v['c'], 42);
  assert.equal(v['d'], 1.5);
  assert.equal(v['e'], 1000);
});

test('stringify writes bigint bare and round-trips exactly', () => {
  const text = '{"ID":12345678901234567,"Tags":["tag:x"],"Nested":{"N":null,"B":true,"S":"\\u00e9\\n"}}';
  assert.equal(stringifyJsonLossless(parseJsonLossless(text)), text.replace('\\u00e9', 'é'));
});

// bigint only where a float64 cannot hold the integer; otherwise exactly JSON.parse.
function toNumbers(v: unknown): unknown {
  if (typeof v === 'bigint') {
    assert.ok(!Number.isSafeInteger(Number(v)), `${v} is safe and should have been a number`);
    return Number(v);
  }
  if (Array.isArray(v)) return v.map(toNumbers);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toNumbers(x)]));
  return v;
}

test('parse agrees with JSON.parse, except that unsafe integers are exact bigints', () => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
      const text = JSON.stringify(value);
      assert.deepEqual(toNumbers(parseJsonLossless(text)), JSON.parse(text));
    }),
    { numRuns: 300 },
  );
});

test('malformed JSON is a typed error with an offset', () => {
  for (const bad of ['', '{', '{"a":}', '[1,]', '{"a":1}x', '"unterminated', 'nul', '01', '{"a" 1}', '"\u0001"']) {
    assert.throws(() => parseJsonLossless(bad), (e: unknown) => e instanceof JsonSyntaxError && e.code === 'TS_JSON_SYNTAX', bad);
  }
});

test('a "__proto__" key stays an ordinary property', () => {
  const v = parseJsonLossless('{"__proto__":{"polluted":1}}') as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(v), Object.prototype);
  assert.deepEqual(Object.keys(v), ['__proto__']);
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
});

test('deep nesting is refused instead of overflowing the stack', () => {
  assert.throws(() => parseJsonLossless('['.repeat(10000) + ']'.repeat(10000)), JsonSyntaxError);
});
