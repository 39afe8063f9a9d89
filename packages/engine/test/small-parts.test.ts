import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestPipeline } from '../src/peer/request-pipeline.js';
import { PeerDialer } from '../src/discovery/peer-dialer.js';
import { parseHostPort, formatHostPort } from '../src/util/address.js';
import { Bitfield } from '../src/util/bitfield.js';
import { RateMeter } from '../src/util/rate-meter.js';
import { BLOCK_SIZE } from '../src/wire/messages.js';

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

test('addresses: IPv4, IPv6 and names; bad ones are refused', () => {
  assert.deepEqual(parseHostPort('127.0.0.1:6881'), { host: '127.0.0.1', port: 6881 });
  assert.deepEqual(parseHostPort('[::1]:51413'), { host: '::1', port: 51413 });
  assert.deepEqual(parseHostPort('example.org:80'), { host: 'example.org', port: 80 });
  assert.equal(formatHostPort({ host: '::1', port: 1 }), '[::1]:1');
  for (const bad of ['127.0.0.1', '::1:6881', '[::1]', 'host:0', 'host:70000', 'host:x', ':80', '[zz]:1']) {
    assert.throws(() => parseHostPort(bad), /invalid/, bad);
  }
  assert.deepEqual(parseHostPort('0.0.0.0:0', { listen: true }), { host: '0.0.0.0', port: 0 });
});

test('rate meter: rate over the window, old samples expire', () => {
  const m = new RateMeter(0);
  for (let t = 0; t < 1000; t += 250) m.add(250_000, t);
  assert.equal(Math.round(m.rate(1000)), 1_000_000, 'right from the first second (not over the whole 5 s window)');
  for (let t = 1000; t < 5000; t += 250) m.add(250_000, t);
  assert.ok(Math.abs(m.rate(4999) - 1_000_000) < 1000);
  assert.equal(m.rate(20_000), 0);
  assert.equal(m.total, 5_000_000);
});

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
