import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReadaheadWindow } from '../src/stream/readahead.js';

test('the window doubles on contiguous reads up to the maximum', () => {
  const w = new ReadaheadWindow({ min: 1, max: 8 });
  assert.equal(w.onRead(0, 10), 1, 'first read: minimum');
  assert.equal(w.onRead(10, 10), 2);
  assert.equal(w.onRead(20, 10), 4);
  assert.equal(w.onRead(30, 10), 8);
  assert.equal(w.onRead(40, 10), 8, 'capped');
});

test('a seek collapses it; probing the end of a file and jumping back does not grow it', () => {
  const w = new ReadaheadWindow({ min: 1, max: 64 });
  w.onRead(0, 10); w.onRead(10, 10); w.onRead(20, 10);
  assert.equal(w.onRead(1000, 10), 1, 'seek');
  assert.equal(w.onRead(30, 10), 1, 'jump back is a seek too');
  assert.equal(w.onRead(40, 10), 2, 'then grows again');
});
