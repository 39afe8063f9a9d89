import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requestShare } from '../src/torrent/request-share.js';

test('an equal share of the open-piece budget, never under one piece, unbounded without a budget', () => {
  assert.equal(requestShare(32, 64, 1), 2048, 'alone: the whole budget');
  assert.equal(requestShare(32, 64, 6), 341, 'six peers: a sixth each');
  assert.equal(requestShare(32, 64, 0), 2048, 'nobody counted yet: as if alone');
  assert.equal(requestShare(4, 64, 100), 64, 'many peers: still one piece each');
  assert.equal(requestShare(Infinity, 64, 6), Infinity);
});
