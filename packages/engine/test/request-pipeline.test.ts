/** How many requests to keep in flight with a peer. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestPipeline } from '../src/peer/request-pipeline.js';
import { BLOCK_SIZE } from '../src/wire/messages.js';

test('request pipeline: slow start, then bandwidth-delay product, capped by reqq', () => {
  const p = new RequestPipeline({ initial: 4, min: 2, max: 1000, queueTimeSec: 2 });
  for (let i = 0; i < 10; i++) p.onBlock();
  assert.equal(p.depth, 14);
  p.onRateSample(1e6);
  p.onRateSample(1.05e6); // growth below 10%: slow start ends
  assert.ok(!p.inSlowStart);
  assert.equal(p.depth, Math.ceil((1.05e6 * 2) / BLOCK_SIZE));
  p.peerLimit = 50;
  p.onRateSample(100e6);
  assert.equal(p.depth, 50);
  p.onSnubbed();
  assert.equal(p.depth, 2, 'floor');
});
