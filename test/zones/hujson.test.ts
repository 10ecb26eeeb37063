import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHuJson, HuJsonSyntaxError } from '../../src/zones/index.js';

test('HuJSON: comments and trailing commas; positions of every field', () => {
  const text = '// head\n{\n\t"a": [1, 2,], /* mid */\n\t"b": {"c": "x",},\n}\n';
  const doc = parseHuJson(text);
  assert.deepEqual(doc.value, { a: [1, 2], b: { c: 'x' } });
  assert.deepEqual(doc.positionOf('a'), { line: 3, column: 7 });
  assert.deepEqual(doc.positionOf('a[1]'), { line: 3, column: 11 });
  assert.deepEqual(doc.positionOf('b.c'), { line: 4, column: 13 });
  assert.deepEqual(doc.positionOf('b.nope'), { line: 4, column: 7 }, 'unknown paths fall back to the parent');
});

test('HuJSON syntax errors carry line and column', () => {
  const cases: Array<[string, number, number, RegExp]> = [
    ['{\n  "a": 1\n  "b": 2\n}', 3, 3, /expected "," or "}"/],
    ['{"a": [1,,2]}', 1, 10, /unexpected character/],
    ['{"a": 1, "a": 2}', 1, 10, /duplicate field "a"/],
    ['{"a": "x\ny"}', 1, 9, /line break/],
    ['/* open', 1, 1, /unterminated/],
    ['{"a": tru}', 1, 7, /unexpected character/],
    ['{} {}', 1, 4, /after the end/],
    ['', 1, 1, /end of file/],
  ];
  for (const [text, line, column, pattern] of cases) {
    assert.throws(
      () => parseHuJson(text),
      (e: unknown) => e instanceof HuJsonSyntaxError && e.line === line && e.column === column && pattern.test(e.message) && e.code === 'POLICY_SYNTAX',
      JSON.stringify(text),
    );
  }
});
