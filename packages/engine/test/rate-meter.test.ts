/** The engine's windowed transfer rate. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateMeter } from '../src/util/rate-meter.js';

test('rate meter: rate over the window, old samples expire', () => {
  const m = new RateMeter(0);
  for (let t = 0; t < 1000; t += 250) m.add(250_000, t);
  assert.equal(Math.round(m.rate(1000)), 1_000_000, 'right from the first second (not over the whole 5 s window)');
  for (let t = 1000; t < 5000; t += 250) m.add(250_000, t);
  assert.ok(Math.abs(m.rate(4999) - 1_000_000) < 1000);
  assert.equal(m.rate(20_000), 0);
  assert.equal(m.total, 5_000_000);
});
