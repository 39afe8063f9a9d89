/** The bounded cache's recency order (cache/piece-lru.ts) against a simple model, and DiskCache's room-making. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PieceLru } from '../src/cache/piece-lru.js';
import { DiskCache } from '../src/cache/disk-cache.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

test('piece LRU: random adds, touches, removes and evictions match a model (oldest unpinned first, never over the limit unless pinned)', () => {
  for (let seed = 1; seed <= 30; seed++) {
    const r = rng(seed);
    const lru = new PieceLru();
    const model: { key: string; bytes: number }[] = []; // oldest first
    const pinned = new Set<string>();
    const max = 10_000;
    for (let step = 0; step < 400; step++) {
      const owner = r() < 0.5 ? 'a' : 'b';
      const piece = Math.floor(r() * 20);
      const k = `${owner}:${piece}`;
      const op = r();
      if (op < 0.4) {
        const bytes = 500 + Math.floor(r() * 1500);
        const at = model.findIndex((m) => m.key === k);
        // evictFor, then add, as DiskCache.reserve does.
        const victims = lru.evictFor(bytes, max, (o, p) => pinned.has(`${o}:${p}`)).map((v) => `${v.owner}:${v.piece}`);
        const expected: string[] = [];
        let used = model.reduce((s, m) => s + m.bytes, 0);
        for (const m of [...model]) {
          if (used + bytes <= max) break;
          if (pinned.has(m.key)) continue;
          expected.push(m.key);
          used -= m.bytes;
          model.splice(model.indexOf(m), 1);
        }
        assert.deepEqual(victims, expected, `seed ${seed} step ${step}`);
        lru.add(owner, piece, bytes);
        const still = model.findIndex((m) => m.key === k);
        if (at >= 0 && still >= 0) model.push(...model.splice(still, 1));
        else if (still < 0) model.push({ key: k, bytes });
      } else if (op < 0.7) {
        const had = lru.touch(owner, piece);
        const at = model.findIndex((m) => m.key === k);
        assert.equal(had, at >= 0);
        if (at >= 0) model.push(...model.splice(at, 1));
      } else if (op < 0.8) {
        const at = model.findIndex((m) => m.key === k);
        assert.equal(lru.remove(owner, piece), at >= 0);
        if (at >= 0) model.splice(at, 1);
      } else if (pinned.has(k)) pinned.delete(k);
      else pinned.add(k);
      assert.equal(lru.used, model.reduce((s, m) => s + m.bytes, 0));
      assert.deepEqual(lru.piecesOf('a'), model.filter((m) => m.key.startsWith('a:')).map((m) => Number(m.key.slice(2))));
    }
  }
});

test('disk cache: a reserve evicts the least recently read unpinned pieces first and waits for their release; pieces being written are never victims', async () => {
  const cache = new DiskCache(3000);
  const evicted: number[] = [];
  const pins = new Set<number>();
  cache.join('t', { isPinned: (i) => pins.has(i), evict: async (i) => { evicted.push(i); } });
  for (const i of [0, 1, 2]) {
    await cache.reserve('t', i, 1000);
    cache.written('t', i);
  }
  cache.touch('t', 0); // 1 is now the oldest
  pins.add(1);
  const reserving = cache.reserve('t', 3, 1000); // evicts 2 (1 pinned)
  assert.ok(reserving instanceof Promise);
  await reserving;
  assert.deepEqual(evicted, [2]);
  // 3 is still being written: a further reserve passes it over (0 goes).
  await cache.reserve('t', 4, 1000);
  assert.deepEqual(evicted, [2, 0]);
  assert.equal(cache.stats().used, 3000);
  assert.equal(cache.stats().evictions, 2);
  // Only pinned or writing pieces left: the cache goes over its limit rather than fail a read.
  await cache.reserve('t', 5, 1000);
  assert.deepEqual(evicted, [2, 0], '1 pinned, 3 and 4 being written');
  assert.equal(cache.stats().used, 4000);
  cache.forget('t', 5);
  cache.countRead(true);
  cache.countRead(false);
  assert.deepEqual({ hits: cache.stats().hits, misses: cache.stats().misses }, { hits: 1, misses: 1 });
  cache.leave('t');
  assert.equal(cache.stats().used, 0);
  assert.throws(() => new DiskCache(0), RangeError);
});
