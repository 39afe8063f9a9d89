/** BEP 12 tiers and announce intervals. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextAnnounceSec, MAX_ANNOUNCE_SEC, MIN_ANNOUNCE_SEC, DEFAULT_ANNOUNCE_SEC } from '../src/discovery/announce.js';
import { TrackerTiers, TIER_RETRY_MS } from '../src/discovery/tracker-tiers.js';

test('tracker tiers (BEP 12): shuffled within a tier, next tracker on failure, the one that answers moves to the front, back-off after a full round', () => {
  const tiers = new TrackerTiers([['http://a/announce', 'http://b/announce'], ['udp://c:1', 'ws://skipped'], []], () => 0);
  assert.equal(tiers.count, 2, 'empty tiers and unsupported schemes are dropped');
  const first = tiers.active(0);
  assert.equal(tiers.failed(0), 0, 'the second tracker of the tier is tried at once');
  const second = tiers.active(0);
  assert.notEqual(first, second);
  tiers.succeeded(0);
  assert.equal(tiers.all()[0].url, second, 'the working tracker leads its tier now');
  assert.equal(tiers.active(0), second);
  assert.equal(tiers.failed(0), 0);
  assert.equal(tiers.failed(0), TIER_RETRY_MS, 'every tracker failed: wait');
  assert.equal(tiers.failed(0), 0);
  assert.equal(tiers.failed(0), TIER_RETRY_MS * 2, 'and wait longer each round');
  assert.equal(tiers.active(1), 'udp://c:1');
});
test('announce intervals are clamped: a tracker cannot make us announce every second or never again', () => {
  assert.equal(nextAnnounceSec(1), MIN_ANNOUNCE_SEC);
  assert.equal(nextAnnounceSec(4294967295), MAX_ANNOUNCE_SEC);
  assert.equal(nextAnnounceSec(undefined), DEFAULT_ANNOUNCE_SEC);
  assert.equal(nextAnnounceSec('1800'), DEFAULT_ANNOUNCE_SEC);
  assert.equal(nextAnnounceSec(900, 1200), 1200, 'min interval wins over a shorter interval');
});
