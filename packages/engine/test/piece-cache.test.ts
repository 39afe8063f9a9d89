/**
 * The upload cache reuses its piece buffers: a borrowed block must keep its bytes until released
 * (a socket may still be sending them), and the cache must stay within its budget once blocks
 * come back. A randomized run against a model checks both.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PieceCache, type BorrowedBytes } from '../src/storage/piece-cache.js';

const PIECE = 64;
const fill = (index: number, into: Buffer, length = PIECE) => {
  const view = into.subarray(0, length);
  view.fill(index & 0xff);
  return view;
};

function cache(slots: number, opts: { fail?: (i: number) => boolean; lengthOf?: (i: number) => number } = {}) {
  const stats = { loads: 0, allocs: 0 };
  const c = new PieceCache(slots * PIECE, PIECE, (n) => { stats.allocs++; return Buffer.alloc(n); }, async (i, into) => {
    stats.loads++;
    await new Promise((r) => setImmediate(r));
    if (opts.fail?.(i)) throw new Error(`piece ${i} is bad`);
    return fill(i, into, opts.lengthOf?.(i) ?? PIECE);
  });
  return { c, stats };
}

test('concurrent borrows of one piece share one load, and a released piece is served from memory', async () => {
  const { c, stats } = cache(4);
  const [a, b] = await Promise.all([c.borrow(3, 0, 16), c.borrow(3, 16, 16)]);
  assert.equal(stats.loads, 1);
  assert.deepEqual([...a.data], Array(16).fill(3));
  a.release();
  b.release();
  (await c.borrow(3, 0, 8)).release();
  assert.equal(stats.loads, 1);
});

test('a borrowed piece is never refilled while lent out, even when the cache is full', async () => {
  const { c, stats } = cache(1);
  const held = await c.borrow(1, 0, PIECE);
  const other = await c.borrow(2, 0, PIECE);
  assert.deepEqual([...held.data], Array(PIECE).fill(1), 'piece 1 kept its bytes');
  assert.deepEqual([...other.data], Array(PIECE).fill(2));
  assert.equal(stats.allocs, 2, 'one buffer over budget while everything is lent');
  held.release();
  other.release();
  assert.equal(c.bytesHeld, PIECE, 'back within budget once returned');
});

test('a failed load rejects every borrower and is not cached', async () => {
  let bad = true;
  const { c, stats } = cache(2, { fail: () => bad });
  await Promise.all([assert.rejects(c.borrow(5, 0, 4), /bad/), assert.rejects(c.borrow(5, 4, 4), /bad/)]);
  bad = false;
  const ok = await c.borrow(5, 0, 4);
  assert.deepEqual([...ok.data], [5, 5, 5, 5]);
  ok.release();
  assert.equal(stats.loads, 2);
});

test('the last, shorter piece is served from a full-size buffer without its tail', async () => {
  const { c } = cache(2, { lengthOf: (i) => (i === 9 ? 10 : PIECE) });
  const last = await c.borrow(9, 0, 10);
  assert.equal(last.data.length, 10);
  last.release();
});

test('randomized: borrowed bytes stay right until released, and the budget holds when nothing is lent', async () => {
  for (let seed = 1; seed <= 20; seed++) {
    let s = seed;
    const random = (n: number) => { s = (s * 16807) % 2147483647; return s % n; };
    const slots = 1 + random(4);
    const { c } = cache(slots, { fail: (i) => i === 13 });
    const lent: { index: number; block: BorrowedBytes }[] = [];
    for (let step = 0; step < 300; step++) {
      const op = random(10);
      if (op < 5) {
        const index = random(16);
        const begin = random(PIECE);
        const length = 1 + random(PIECE - begin);
        try {
          lent.push({ index, block: await c.borrow(index, begin, length) });
        } catch {
          assert.equal(index, 13);
        }
      } else if (op < 9 && lent.length) {
        const [{ block }] = lent.splice(random(lent.length), 1);
        block.release();
      } else {
        c.invalidate(random(16));
      }
      for (const { index, block } of lent) assert.ok(block.data.every((b) => b === index), `seed ${seed} step ${step}: piece ${index} changed while lent`);
    }
    for (const { block } of lent) block.release();
    assert.ok(c.bytesHeld <= slots * PIECE, `seed ${seed}: ${c.bytesHeld} bytes held after everything came back (budget ${slots * PIECE})`);
  }
});
