/** The choker: who we upload to. Each rule is checked so that breaking it fails a test. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideUnchokes, type ChokeCandidate } from '../src/peer/choker.js';

const peer = (key: string, over: Partial<ChokeCandidate> = {}): ChokeCandidate =>
  ({ key, interested: true, downloadRate: 0, uploadedTotal: 0, lastOptimistic: 0, ...over });

test('leeching: the fastest uploaders to us get the regular slots; uninterested peers never', () => {
  const peers = [peer('slow', { downloadRate: 10 }), peer('fast', { downloadRate: 300 }), peer('mid', { downloadRate: 200 }),
    peer('idle', { interested: false, downloadRate: 1000 })];
  const d = decideUnchokes(peers, { slots: 3, seeding: false, rotateOptimistic: true, currentOptimistic: undefined });
  assert.ok(d.unchoke.has('fast') && d.unchoke.has('mid'));
  assert.equal(d.optimistic, 'slow', 'the one left gets the optimistic slot');
  assert.ok(!d.unchoke.has('idle'), 'not interested: choked whatever its rate');
  assert.equal(d.unchoke.size, 3);
});

test('seeding: least served first, not fastest', () => {
  const peers = [peer('greedy', { uploadedTotal: 9e9, downloadRate: 999 }), peer('new', { uploadedTotal: 0 }), peer('some', { uploadedTotal: 5e6 })];
  const d = decideUnchokes(peers, { slots: 2, seeding: true, rotateOptimistic: false, currentOptimistic: undefined });
  assert.ok(d.unchoke.has('new'), 'the least served gets the regular slot');
  assert.ok(!d.unchoke.has('greedy') || d.optimistic === 'greedy');
});

test('the optimistic slot stays put between rotations and moves to the longest waiting on rotation', () => {
  const peers = [peer('fast', { downloadRate: 500 }), peer('recent', { lastOptimistic: 9000 }), peer('waiting', { lastOptimistic: 1000 })];
  const keep = decideUnchokes(peers, { slots: 2, seeding: false, rotateOptimistic: false, currentOptimistic: 'recent' });
  assert.equal(keep.optimistic, 'recent', 'no rotation: the current optimistic peer keeps its slot');
  const rotate = decideUnchokes(peers, { slots: 2, seeding: false, rotateOptimistic: true, currentOptimistic: 'recent' });
  assert.equal(rotate.optimistic, 'waiting', 'rotation: the peer that waited longest since its last turn');
  // The current optimistic peer lost interest: replaced even between rotations.
  const gone = decideUnchokes([peers[0], { ...peers[1], interested: false }, peers[2]], { slots: 2, seeding: false, rotateOptimistic: false, currentOptimistic: 'recent' });
  assert.equal(gone.optimistic, 'waiting');
  assert.ok(!gone.unchoke.has('recent'));
});
