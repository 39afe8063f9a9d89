import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BLOCK_SIZE } from '../src/wire/messages.js';
import { PiecePicker, type PickerPeer } from '../src/picker/piece-picker.js';
import { Bitfield } from '../src/util/bitfield.js';

const PL = BLOCK_SIZE * 4;
function picker(pieces: number, lastPieceBytes = PL, seed = 1): PiecePicker {
  let s = seed;
  const random = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  return new PiecePicker({ pieceCount: pieces, pieceLength: PL, totalLength: PL * (pieces - 1) + lastPieceBytes }, random);
}
function peer(key: string, has: (i: number) => boolean = () => true): PickerPeer & { requested: Set<string> } {
  const requested = new Set<string>();
  return { key, has, requested, hasRequested: (i, b) => requested.has(`${i}:${b}`) };
}
const take = (p: PickerPeer & { requested: Set<string> }, blocks: { index: number; begin: number }[]) => {
  for (const b of blocks) p.requested.add(`${b.index}:${b.begin}`);
  return blocks;
};

test('rarest piece first', () => {
  const pk = picker(4);
  const a = new Bitfield(4); [0, 1, 2, 3].forEach((i) => a.set(i));
  const b = new Bitfield(4); [0, 1, 3].forEach((i) => b.set(i));
  const c = new Bitfield(4); [0, 3].forEach((i) => c.set(i));
  pk.peerAdded(a); pk.peerAdded(b); pk.peerAdded(c);
  // availability: 0->3, 1->2, 2->1, 3->3
  const got = pk.pick(peer('x'), 4 * 4);
  assert.deepEqual(got.slice(0, 4).map((r) => r.index), [2, 2, 2, 2], 'rarest (1 copy) first');
  assert.deepEqual(got.slice(4, 8).map((r) => r.index), [1, 1, 1, 1], 'then 2 copies');
  assert.deepEqual(new Set(got.slice(8).map((r) => r.index)), new Set([0, 3]), 'then the common ones');
});

test('random tie-break differs between pickers but is stable for one; in file order within a 4 MiB extent', () => {
  // 64 KiB pieces: extents of 64 pieces; 16 extents.
  const orders = new Set<string>();
  for (const seed of [1, 1000, 99_999, 123_456, 7_777_777, 2_000_003, 31_337]) {
    const pk = picker(16 * 64, PL, seed);
    pk.peerAdded('all');
    const first = pk.pick(peer('x'), 4 * 3).filter((_, i) => i % 4 === 0).map((r) => r.index);
    assert.equal(first[0] % 64, 0, 'an extent starts at its first piece');
    assert.deepEqual(first, [first[0], first[0] + 1, first[0] + 2], 'and goes on in order');
    orders.add(first.join(','));
  }
  assert.ok(orders.size > 3, 'different seeds spread peers over different extents');
});

test('blocks of a piece are handed out in order, the short last piece has short blocks', () => {
  const pk = picker(2, BLOCK_SIZE + 100);
  pk.peerAdded('all');
  const got = pk.pick(peer('x', (i) => i === 1), 10);
  assert.deepEqual(got, /* endgame adds nothing: a peer never gets the same block twice */ [{ index: 1, begin: 0, length: BLOCK_SIZE }, { index: 1, begin: BLOCK_SIZE, length: 100 }]);
});

test('partial pieces are finished before new ones are started', () => {
  const pk = picker(8);
  pk.peerAdded('all');
  const a = peer('a');
  const first = take(a, pk.pick(a, 2));
  assert.equal(new Set(first.map((r) => r.index)).size, 1);
  const b = peer('b');
  const second = pk.pick(b, 2);
  assert.equal(second[0].index, first[0].index, 'b continues the piece a started');
  assert.equal(second[0].begin, 2 * BLOCK_SIZE);
});

test('priority 0 pieces are never picked; higher priority wins over rarity', () => {
  const pk = picker(4);
  pk.peerAdded('all');
  const rare = new Bitfield(4); rare.set(1);
  pk.peerAdded(rare); pk.peerAdded(rare);
  pk.setPriority(0, 0);
  pk.setPriority(3, 7);
  const got = pk.pick(peer('x'), 16);
  assert.equal(got[0].index, 3);
  assert.ok(!got.some((r) => r.index === 0));
  assert.equal(pk.bytesWantedRemaining, 3 * PL);
});

test('a received block is new once, then duplicate; unrequested blocks are unwanted', () => {
  const pk = picker(1);
  pk.peerAdded('all');
  const a = peer('a');
  const [r] = take(a, pk.pick(a, 1));
  assert.equal(pk.blockReceived(r.index, r.begin, 'a'), 'new');
  assert.equal(pk.blockReceived(r.index, r.begin, 'a'), 'duplicate');
  assert.equal(pk.blockReceived(0, 3 * BLOCK_SIZE, 'a'), 'unwanted');
  assert.equal(pk.blockReceived(0, 5, 'a'), 'unwanted');
});

test('abandoned requests become free again', () => {
  const pk = picker(1);
  pk.peerAdded('all');
  const got = pk.pick(peer('a'), 4);
  assert.equal(pk.partialState(0)?.free, 0);
  pk.requestAbandoned(got[1].index, got[1].begin);
  assert.equal(pk.partialState(0)?.free, 1);
  const next = pk.pick(peer('c'), 4);
  assert.deepEqual(next[0], got[1], 'the freed block first');
  assert.equal(next.filter((r) => r.begin === got[1].begin).length, 1, 'and never twice in one pick');
});

test('endgame: requested blocks go to a second peer, never twice to the same one, at most twice', () => {
  const pk = picker(1);
  pk.peerAdded('all');
  const a = peer('a');
  take(a, pk.pick(a, 4));
  const b = peer('b');
  const dup = take(b, pk.pick(b, 10));
  assert.equal(dup.length, 4, 'b duplicates all four outstanding blocks');
  assert.equal(pk.pick(b, 10).length, 0, 'b already asked for them');
  assert.equal(pk.pick(peer('c'), 10).length, 0, 'no third copy');
  assert.equal(pk.blockReceived(0, 0, 'b'), 'new');
  assert.equal(pk.blockReceived(0, 0, 'a'), 'duplicate');
});

test('endgame waits while free blocks remain', () => {
  const pk = picker(2);
  pk.peerAdded('all');
  const a = peer('a');
  take(a, pk.pick(a, 4));
  const got = pk.pick(peer('b'), 4);
  assert.equal(got.length, 4);
  assert.ok(!got.some((r) => a.requested.has(`${r.index}:${r.begin}`)), 'free blocks of the other piece first');
});

test('verification completes a piece; failure frees every block and tells who sent each', () => {
  const pk = picker(2);
  pk.peerAdded('all');
  const a = peer('a');
  const b = peer('b');
  const fromA = take(a, pk.pick(a, 2));
  const fromB = take(b, pk.pick(b, 2));
  assert.equal(fromA[0].index, fromB[0].index);
  const index = fromA[0].index;
  for (const r of fromA) pk.blockReceived(r.index, r.begin, 'a');
  for (const r of fromB) pk.blockReceived(r.index, r.begin, 'b');
  assert.ok(pk.isPieceComplete(index));
  assert.deepEqual(pk.pieceFailed(index), ['a', 'a', 'b', 'b']);
  assert.equal(pk.partialState(index)?.free, 4);
  const c = peer('c');
  const retry = take(c, pk.pick(c, 4));
  assert.ok(retry.every((r) => r.index === index), 'the failed piece is fetched again first');
  for (let blk = 0; blk < 4; blk++) pk.blockReceived(index, blk * BLOCK_SIZE, 'c');
  pk.pieceVerified(index);
  assert.ok(pk.have.get(index));
  assert.equal(pk.bytesWantedRemaining, PL);
});

test('interest and completion', () => {
  const pk = picker(3);
  const one = new Bitfield(3); one.set(1);
  assert.ok(pk.isInteresting({ has: (i) => one.get(i) }));
  pk.markHave(1);
  assert.ok(!pk.isInteresting({ has: (i) => one.get(i) }));
  pk.markHave(0); pk.markHave(2);
  assert.ok(pk.done);
});

test('a long random run: every block is requested, received once and the torrent completes', () => {
  const pieces = 40;
  const pk = picker(pieces, 1000, 3);
  const peers = [0, 1, 2].map((k) => peer(`p${k}`, (i) => (i + k) % 3 !== 0));
  peers.forEach((p) => { const bf = new Bitfield(pieces); for (let i = 0; i < pieces; i++) if (p.has(i)) bf.set(i); pk.peerAdded(bf); });
  let rounds = 0;
  while (!pk.done && rounds++ < 10000) {
    for (const p of peers) {
      for (const r of take(p, pk.pick(p, 3))) {
        p.requested.delete(`${r.index}:${r.begin}`);
        if (rounds % 7 === 0) { pk.requestAbandoned(r.index, r.begin); continue; }
        pk.blockReceived(r.index, r.begin, p.key);
        if (pk.isPieceComplete(r.index)) pk.pieceVerified(r.index);
      }
    }
  }
  assert.ok(pk.done, 'completed');
  assert.equal(pk.have.count, pieces);
});

test('deadline pieces come first, soonest first, over rarity and partial pieces', () => {
  const pk = picker(10);
  pk.peerAdded('all');
  const rare = new Bitfield(10); rare.set(3);
  pk.peerAdded(rare);
  const a = peer('a');
  take(a, pk.pick(a, 1)); // starts some partial piece
  pk.setDeadline(8, 200);
  pk.setDeadline(6, 100);
  assert.deepEqual(pk.criticalPieces, [6, 8]);
  const got = pk.pick(peer('b'), 8);
  assert.deepEqual(got.map((r) => r.index), [6, 6, 6, 6, 8, 8, 8, 8]);
  pk.setDeadline(8, 50); // moved earlier
  assert.deepEqual(pk.criticalPieces, [8, 6]);
  for (let blk = 0; blk < 4; blk++) pk.blockReceived(8, blk * BLOCK_SIZE, 'b');
  pk.pieceVerified(8);
  assert.deepEqual(pk.criticalPieces, [6], 'a verified piece leaves the critical list');
  pk.clearDeadline(6);
  assert.deepEqual(pk.criticalPieces, []);
});

test('a deadline on a piece of priority 0 does not fetch it', () => {
  const pk = picker(4);
  pk.peerAdded('all');
  for (let i = 0; i < 4; i++) pk.setPriority(i, 0);
  pk.setDeadline(2, 1);
  assert.deepEqual(pk.pick(peer('a'), 4), []);
  pk.setPriority(2, 7);
  assert.ok(pk.pick(peer('a'), 4).every((r) => r.index === 2));
});

test('an overdue critical block may be requested once more, from another peer, ahead of free blocks', () => {
  const pk = picker(4);
  pk.peerAdded('all');
  pk.setPriority(1, 7);
  pk.setDeadline(1, 1);
  const slow = peer('slow');
  const first = take(slow, pk.pick(slow, 4));
  assert.ok(first.every((r) => r.index === 1));
  pk.markOverdue(1, BLOCK_SIZE);
  pk.markOverdue(3, 0); // not critical: ignored
  const fast = peer('fast');
  const got = pk.pick(fast, 1);
  assert.deepEqual(got, [{ index: 1, begin: BLOCK_SIZE, length: BLOCK_SIZE }]);
  // A third peer never gets that block: one extra copy at most.
  const third = pk.pick(peer('third'), 64);
  assert.ok(third.length > 0, 'the third peer still gets other blocks');
  assert.ok(!third.some((r) => r.index === 1 && r.begin === BLOCK_SIZE), 'only one extra copy');
});

test('a block landing in place gets no second request (endgame, rescue) until it arrives or its request is given back', () => {
  const pk = picker(1);
  pk.peerAdded('all');
  const a = peer('a');
  const b = peer('b');
  const blocks = take(a, pk.pick(a, 4));
  assert.equal(blocks.length, 4);
  assert.equal(pk.startLanding(0, 0), true, 'one request out: it may land');
  assert.equal(pk.startLanding(0, 0), false, 'not twice');
  pk.setDeadline(0, 1);
  pk.markOverdue(0, 0);
  const dup = pk.pick(b, 4);
  assert.ok(!dup.some((r) => r.begin === 0), `no copy of the landing block: ${JSON.stringify(dup)}`);
  assert.ok(dup.some((r) => r.begin === BLOCK_SIZE), 'the others may be duplicated in endgame');
  assert.equal(pk.startLanding(0, BLOCK_SIZE), false, 'a block with two requests out may not land');
  pk.requestAbandoned(0, 0); // a's request given up: the block is free again, no longer landing
  assert.ok(pk.pick(b, 4).some((r) => r.begin === 0));
});

test('at its budget of open pieces the picker starts no new piece and doubles nothing (not the endgame); reads still start theirs', () => {
  const pk = picker(20);
  pk.peerAdded('all');
  pk.maxPiecesInFlight = 2;
  const a = peer('a');
  const first = take(a, pk.pick(a, 100));
  assert.equal(new Set(first.map((r) => r.index)).size, 2, 'two pieces open, all their blocks requested');
  assert.equal(first.length, 8);
  assert.deepEqual(pk.pick(peer('b'), 10), [], 'no third piece, and no endgame copies of the open ones');
  pk.setDeadline(15, 100);
  assert.deepEqual(pk.pick(peer('b'), 10).map((r) => r.index), [15, 15, 15, 15], 'a piece under a read is started anyway');
  // One open piece completes: room for exactly one more.
  const done = first[0].index;
  for (const r of first.filter((x) => x.index === done)) pk.blockReceived(r.index, r.begin, 'a');
  pk.pieceVerified(done);
  pk.clearDeadline(15);
  for (let b = 0; b < 4; b++) pk.blockReceived(15, b * BLOCK_SIZE, 'b');
  pk.pieceVerified(15);
  const next = pk.pick(peer('c'), 100);
  assert.equal(new Set(next.map((r) => r.index)).size, 1);
});

test('at the budget with no piece left to start, it is the endgame: open blocks go to a second peer', () => {
  const pk = picker(2);
  pk.peerAdded('all');
  pk.maxPiecesInFlight = 2;
  const a = peer('a');
  take(a, pk.pick(a, 100));
  assert.equal(pk.pick(peer('b'), 3).length, 3);
});

test('rarity follows have messages, re-sorted after a batch of them rather than per have', () => {
  const pk = picker(10);
  pk.peerAdded('all');
  const only5 = peer('x', (i) => i === 5);
  assert.deepEqual(new Set(pk.pick(only5, 4).map((r) => r.index)), new Set([5]), 'sorts once, takes 5');
  // Every piece but 9 becomes more common: 18 haves (more than the batch of 16 for 10 pieces).
  for (let round = 0; round < 2; round++) for (let i = 0; i < 9; i++) pk.peerHave(i);
  assert.equal(pk.pick(peer('y'), 1)[0].index, 9, 'the rarest piece first again');
});

// Regression: every `have` marked the order for a full re-sort, so a leecher swarm on a torrent of
// 65,536 pieces spent 13.7 ms per have (5,000 haves interleaved with picks: 68 s; now 0.1 s).
test('haves interleaved with picks cost a sort per batch of pieceCount / 64 haves, not one each', () => {
  const n = 4096;
  const pk = new PiecePicker({ pieceCount: n, pieceLength: PL, totalLength: n * PL });
  pk.peerAdded('all');
  const a = peer('a');
  for (let i = 0; i < 1000; i++) {
    pk.peerHave((i * 7919) % n);
    take(a, pk.pick(a, 1));
  }
  assert.ok(pk.sorts <= 1 + Math.ceil(1000 / 64), `${pk.sorts} sorts for 1,000 haves`);
});
