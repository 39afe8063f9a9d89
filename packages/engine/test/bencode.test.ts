import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkBencode, decodeStrict, topLevelValueSpan } from '../src/metainfo/bencode.js';
import { BencodeError } from '../src/errors.js';

const b = (s: string) => Buffer.from(s, 'latin1');

test('accepts canonical values of every type', () => {
  for (const s of ['i0e', 'i-42e', 'i9007199254740991e', '0:', '4:spam', 'le', 'li1e4:spame', 'de', 'd3:bar4:spam3:fooi42ee', 'd1:ald1:bi1eeee']) {
    assert.doesNotThrow(() => checkBencode(b(s)), s);
  }
  assert.deepEqual(decodeStrict(b('d3:fooi42ee')), { foo: 42 });
});

test('rejects what the lenient decoder would accept', () => {
  const cases: [string, RegExp][] = [
    ['i03e', /leading zero/],
    ['i-0e', /negative zero/],
    ['ie', /without digits/],
    ['i-e', /without digits/],
    ['i42eXX', /trailing data/],
    ['i99999999999999999999e', /out of range/],
    ['03:abc', /leading zero/],
    ['5:abc', /past end/],
    ['d3:fooi42e', /unterminated dictionary/],
    ['li1e', /unterminated list/],
    ['di1ei2ee', /key is not a string/],
    ['x', /unexpected byte/],
    ['', /unexpected end/],
    ['4spam', /without ":"/],
  ];
  for (const [input, msg] of cases) {
    assert.throws(() => checkBencode(b(input)), (err: unknown) => err instanceof BencodeError && msg.test(err.message), input);
  }
});

test('rejects nesting deep enough to blow a recursive decoder', () => {
  assert.throws(() => checkBencode(b('l'.repeat(100) + 'e'.repeat(100))), /nesting too deep/);
  assert.throws(() => checkBencode(b('l'.repeat(100000))), BencodeError);
});

test('a string length far beyond the data fails fast without allocating', () => {
  assert.throws(() => checkBencode(b('99999999999999999999:x')), /exceeds data|past end/);
});

test('finds the raw byte span of a top-level key', () => {
  const data = b('d8:announce3:url4:infod4:name1:xe5:otheri1ee');
  const span = topLevelValueSpan(data, 'info');
  assert.ok(span);
  assert.equal(data.subarray(span.start, span.end).toString('latin1'), 'd4:name1:xe');
  assert.equal(topLevelValueSpan(data, 'missing'), undefined);
});
