/** The peer list: back-off, bounds, dedupe, best candidates first. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PeerDialer } from '../src/discovery/peer-dialer.js';

test('dialer: back-off grows on failures, persistent peers are never forgotten', () => {
  const d = new PeerDialer({ baseDelayMs: 1000, maxDelayMs: 8000, maxFailures: 2, maxCandidates: 100 });
  d.add('a:1', true, 0);
  d.add('b:1', false, 0);
  assert.deepEqual(d.due(0, 10), ['a:1', 'b:1']);
  assert.deepEqual(d.due(0, 10), [], 'not twice while connecting');
  d.disconnected('a:1', 0, true);
  d.disconnected('b:1', 0, true);
  assert.deepEqual(d.due(999, 10), []);
  assert.deepEqual(d.due(1000, 10), ['a:1', 'b:1']);
  d.disconnected('a:1', 1000, true);
  d.disconnected('b:1', 1000, true);
  assert.ok(!d.isKnown('b:1'), 'discovered peer dropped after 2 failures');
  assert.deepEqual(d.due(2999, 10), []);
  assert.deepEqual(d.due(3000, 10), ['a:1'], 'second failure waits 2 s');
  for (let i = 0; i < 10; i++) d.disconnected('a:1', 0, true);
  assert.deepEqual(d.due(7999, 10), []);
  assert.deepEqual(d.due(8000, 10), ['a:1'], 'capped at maxDelay');
});
test('the peer list is bounded, keeps user-given peers, dedupes, and dials the best candidates first', () => {
  const dialer = new PeerDialer({ baseDelayMs: 10, maxDelayMs: 100, maxFailures: 3, maxCandidates: 3 });
  assert.equal(dialer.add('dht:1', false, 0, 'dht'), true);
  assert.equal(dialer.add('tracker:1', false, 0, 'tracker'), true);
  assert.equal(dialer.add('tracker:1', false, 0, 'pex'), false, 'known already');
  assert.equal(dialer.add('pex:1', false, 0, 'pex'), true);
  assert.equal(dialer.add('pex:2', false, 0, 'pex'), false, 'full, and nobody failed yet');
  assert.equal(dialer.add('user:1', true, 0), true, 'user-given peers always fit');
  assert.deepEqual(dialer.due(0, 2), ['user:1', 'tracker:1']);
  dialer.disconnected('tracker:1', 0, true);
  assert.equal(dialer.add('pex:2', false, 0, 'pex'), true, 'a failed discovered peer makes room');
  assert.equal(dialer.isKnown('tracker:1'), false);
  assert.deepEqual(dialer.due(0, 5), ['pex:1', 'pex:2', 'dht:1'], 'PEX before DHT');
});
