/** Bitfield: the wire form of a piece set. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Bitfield } from '../src/util/bitfield.js';

test('bitfield: wire validation rejects wrong length and spare bits', () => {
  assert.ok(Bitfield.isValidWire(Buffer.from([0xff, 0xe0]), 11));
  assert.ok(!Bitfield.isValidWire(Buffer.from([0xff, 0xf0]), 11), 'spare bit set');
  assert.ok(!Bitfield.isValidWire(Buffer.from([0xff]), 11), 'too short');
  assert.ok(!Bitfield.isValidWire(Buffer.from([0xff, 0xe0, 0]), 11), 'too long');
  const b = new Bitfield(11, Buffer.from([0x80, 0xff]));
  assert.equal(b.count, 4, 'spare bits cleared on construction');
  b.set(1); b.set(1); b.set(50);
  assert.equal(b.count, 5);
  assert.ok(Bitfield.full(11).complete);
});
