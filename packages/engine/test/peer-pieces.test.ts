import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PeerPieces } from '../src/peer/peer-pieces.js';
import { Bitfield } from '../src/util/bitfield.js';

const bits = (n: number, set: number[]) => {
  const b = new Bitfield(n);
  for (const i of set) b.set(i);
  return b;
};

test('a later piece set replaces the earlier one and hands it back to take out of availability (aria2: have-none, then a bitfield)', () => {
  const p = new PeerPieces(10);
  assert.equal(p.replace('none'), undefined, 'have-none first: nothing to take back');
  const first = bits(10, [1, 2]);
  assert.equal(p.replace(first), undefined, 'an empty set announced nothing');
  assert.equal(p.has(2), true);
  assert.equal(p.replace('all'), first, 'the bitfield is taken back when have-all replaces it');
  assert.equal(p.isSeed, true);
  assert.equal(p.fraction, 1);
  assert.equal(p.replace(bits(10, [3])), 'all');
  assert.equal(p.has(1), false);
  assert.equal(p.hasAll, false);
});

test('haves add to the set; a known piece is not new; a full set is a seed', () => {
  const p = new PeerPieces(3);
  assert.equal(p.add(0), true);
  assert.equal(p.add(0), false);
  const cur = p.current();
  assert.ok(cur instanceof Bitfield && cur.get(0) && !cur.get(1) && cur.count === 1);
  p.add(1); p.add(2);
  assert.equal(p.isSeed, true);
  assert.equal(p.replace('none') instanceof Bitfield, true, 'what haves announced is taken back too');
  assert.equal(p.current(), undefined);
});
