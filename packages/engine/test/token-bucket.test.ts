/** Rate limits: the token bucket's arithmetic (pure, on a test clock) and the session's throttle on real timers. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TokenBucket } from '../src/limits/token-bucket.js';
import { SessionBandwidth, type Throttled } from '../src/limits/bandwidth.js';

test('token bucket: unlimited never waits; a limited one averages its rate and holds at most 100 ms of burst', () => {
  const free = new TokenBucket(0, 0);
  free.take(1e12, 0);
  assert.equal(free.waitMs(0), 0);

  const b = new TokenBucket(1_000_000, 0); // 1 MB/s
  b.take(600_000, 0);
  assert.equal(b.waitMs(0), 500, 'a full burst (100 kB) to start with, then half a second of debt');
  assert.equal(b.waitMs(250), 250);
  assert.equal(b.waitMs(500), 0);
  // Idle for 10 s: only 100 ms worth (100 kB) saved up, not 10 MB.
  b.take(100_000, 10_500);
  assert.equal(b.waitMs(10_500), 0);
  b.take(1, 10_500);
  assert.ok(b.waitMs(10_500) > 0);
  // Sending as fast as allowed for 10 s lets through rate x 10 s (+ the burst).
  const c = new TokenBucket(20_000_000, 0);
  let sent = 0;
  for (let t = 0; t < 10_000;) {
    c.take(1 << 20, t);
    sent += 1 << 20;
    t += Math.max(1, c.waitMs(t));
  }
  assert.ok(Math.abs(sent - 200_000_000) <= 2_000_000 + (1 << 20), `${sent} bytes in 10 s at 20 MB/s`);
});

test('token bucket: a new rate applies at once, debt capped at a second of it; bad rates are refused', () => {
  const b = new TokenBucket(1000, 0);
  b.take(1_016_384, 0);
  b.setRate(10_000, 0);
  assert.equal(b.waitMs(0), 1000, 'debt capped at one second of the new rate');
  b.setRate(0, 0);
  assert.equal(b.waitMs(0), 0, 'unlimited: no debt');
  assert.throws(() => b.setRate(-1), RangeError);
  assert.throws(() => b.setRate(Number.NaN), RangeError);
});

function recorder(): Throttled & { paused: number; resumed: number } {
  const r = { paused: 0, resumed: 0, pause: () => { r.paused++; }, resume: () => { r.resumed++; } };
  return r;
}

test('session bandwidth: the torrent limit and the session limit both pause; the timer resumes once both are paid', async () => {
  const session = new SessionBandwidth({ download: 10_000_000 });
  const torrent = session.forTorrent({ download: 1_000_000 });
  const other = session.forTorrent();
  const a = recorder();
  const b = recorder();
  torrent.received(300_000, a); // past its 100 kB burst: 0.2 s of debt at the torrent's 1 MB/s
  assert.equal(a.paused, 1);
  other.received(800_000, b); // the session's 1 MB burst, less a's 300 kB: 0.01 s of debt
  assert.equal(b.paused, 1, 'the session bucket is shared: b pays for a');
  const start = Date.now();
  while (a.resumed === 0 && Date.now() - start < 5000) await new Promise((r) => setTimeout(r, 10));
  assert.equal(a.resumed, 1, 'resumed by the timer');
  assert.equal(b.resumed, 1);
  assert.ok(Date.now() - start >= 150, 'not before the torrent\'s debt was paid');
  session.close();
});

test('session bandwidth: unlimited costs nothing (no pause, no timer); forget() drops a waiter; lifting a limit resumes at once', () => {
  const session = new SessionBandwidth();
  const t = session.forTorrent();
  const a = recorder();
  t.received(1e9, a);
  t.sent(1e9, a);
  assert.equal(a.paused, 0);
  t.set({ upload: 1000 });
  t.sent(100_000, a);
  assert.equal(a.paused, 1);
  t.forget(a);
  t.set({ upload: 0 });
  assert.equal(a.resumed, 0, 'forgotten: not resumed');
  const b = recorder();
  t.set({ upload: 1000 });
  t.sent(100_000, b);
  t.set({ upload: 0 });
  assert.equal(b.resumed, 1, 'resumed as soon as the limit went');
  assert.deepEqual(t.limits, { download: 0, upload: 0 });
  session.close();
});
