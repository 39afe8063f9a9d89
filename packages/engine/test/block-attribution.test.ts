import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BLOCK_SIZE } from '../src/wire/messages.js';
import { BlockAttribution } from '../src/torrent/block-attribution.js';

const piece = (fill: (block: number) => number, blocks = 4) => {
  const b = Buffer.alloc(blocks * BLOCK_SIZE);
  for (let i = 0; i < blocks; i++) b.fill(fill(i), i * BLOCK_SIZE, (i + 1) * BLOCK_SIZE);
  return b;
};

test('a sole contributor of a failed piece is the culprit at once', () => {
  const a = new BlockAttribution();
  assert.equal(a.pieceFailed(3, piece(() => 1), ['x', 'x', 'x', 'x']), 'x');
  assert.equal(a.pending, 0);
});

// Regression: an honest fast seeder shared several failed pieces with a liar, collected three
// "strikes" and was banned; the download then hung on a piece pinned to a silent peer.
test('an honest peer that shared failed pieces with a liar is never blamed', () => {
  const a = new BlockAttribution();
  const good = piece((i) => i + 1);
  for (let index = 0; index < 10; index++) {
    const received = Buffer.from(good);
    received.fill(0xee, 2 * BLOCK_SIZE, 3 * BLOCK_SIZE); // the liar's block
    assert.equal(a.pieceFailed(index, received, ['honest', 'honest', 'liar', 'honest']), undefined);
  }
  for (let index = 0; index < 10; index++) assert.deepEqual(a.pieceVerified(index, good), ['liar']);
  assert.equal(a.pending, 0);
});

test('a piece that passes with no record blames nobody', () => {
  assert.deepEqual(new BlockAttribution().pieceVerified(1, piece(() => 0)), []);
});
