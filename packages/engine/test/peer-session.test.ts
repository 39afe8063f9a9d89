/**
 * PeerSession on a fake connection and a fake torrent: the download pipeline (preemption for a
 * read, snubbing, endgame withdrawals, lost requests), the upload side's limits (size, bounds, what
 * we have, the queue cap, choke) and its backpressure. No sockets, no processes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PeerSession, type PeerHost } from '../src/peer/peer-session.js';
import { DEFAULT_PEER_OPTIONS } from '../src/peer/peer-options.js';
import type { BlockRequest } from '../src/picker/piece-picker.js';
import type { BorrowedBytes } from '../src/storage/piece-cache.js';
import { Bitfield } from '../src/util/bitfield.js';
import { BLOCK_SIZE, type BlockRef } from '../src/wire/messages.js';
import { FakeConnection, handshake } from './helpers/fake-connection.js';
import { SessionBandwidth } from '../src/limits/bandwidth.js';

/** Pieces of 1 MiB, so a request over 128 KiB fits inside one and only the size limit refuses it. */
const PIECE = 1024 * 1024;
const PIECES = 64;

class FakeTorrent implements PeerHost {
  readonly pieceCount = PIECES;
  readonly infoHash = Buffer.alloc(20, 1);
  readonly infoBytes = Buffer.from('d4:name1:xe');
  bandwidth = new SessionBandwidth().forTorrent();
  have = new Bitfield(PIECES);
  /** Blocks the picker hands out, in order. */
  queue: BlockRequest[] = [];
  readonly abandoned: BlockRef[] = [];
  readonly blocks: string[] = [];
  reads = 0;
  pendingReads: (() => void)[] = [];
  holdReads = false;

  constructor() {
    for (let i = 0; i < PIECES; i++) for (let b = 0; b < 4; b++) this.queue.push({ index: i, begin: b * BLOCK_SIZE, length: BLOCK_SIZE });
  }
  pieceSize(): number { return PIECE; }
  havePiece(i: number): boolean { return this.have.get(i); }
  ownBitfield(): Bitfield { return this.have; }
  wants(): boolean { return true; }
  isInteresting(): boolean { return this.queue.length > 0; }
  pick(_p: PeerSession, count: number): BlockRequest[] { return this.queue.splice(0, count); }
  requestShare(): number { return Infinity; }
  onBlock(_p: PeerSession, index: number, begin: number): void { this.blocks.push(`${index}:${begin}`); }
  abandon(_p: PeerSession, refs: BlockRef[]): void { this.abandoned.push(...refs); }
  /** Blocks that may land, and where (none unless a test says so). */
  landing = new Map<string, Buffer>();
  landingTarget(_p: PeerSession, index: number, begin: number): Buffer | undefined { return this.landing.get(`${index}:${begin}`); }
  readBlock(_i: number, _b: number, length: number): Promise<BorrowedBytes> {
    this.reads++;
    const lent = (): BorrowedBytes => ({ data: Buffer.alloc(length), release: () => { this.released++; } });
    if (!this.holdReads) return Promise.resolve(lent());
    return new Promise((resolve) => this.pendingReads.push(() => resolve(lent())));
  }
  /** Borrowed blocks given back. */
  released = 0;
  onPeerPieces(): void {}
  onPeerPiecesGone(): void {}
  onPeerInterest(): void {}
  onPeerClosed(): void {}
  extensionOffer() { return { pex: true, metadataSize: this.infoBytes.length }; }
  onPex(): void {}
}

function connected(opts: { fast?: boolean; peer?: Partial<typeof DEFAULT_PEER_OPTIONS> } = {}) {
  const wire = new FakeConnection();
  const host = new FakeTorrent();
  const peer = new PeerSession(wire, '127.0.0.1:6881', true, handshake(7, host.infoHash, opts.fast ?? true), host, { ...DEFAULT_PEER_OPTIONS, ...opts.peer });
  peer.start();
  return { wire, host, peer };
}

/** The peer has everything and unchokes us: the pipeline fills. */
function downloading(opts: Parameters<typeof connected>[0] = {}) {
  const c = connected(opts);
  c.wire.receive({ type: 'have-all' });
  c.wire.receive({ type: 'unchoke' });
  return c;
}

function allPieces(): Bitfield {
  const b = new Bitfield(PIECES);
  for (let i = 0; i < PIECES; i++) b.set(i);
  return b;
}

const piece = (r: BlockRef) => ({ type: 'piece' as const, index: r.index, begin: r.begin, block: Buffer.alloc(r.length) });

test('a fast peer that unchokes us gets a full first pipeline of requests, in the picker\'s order', () => {
  const { wire } = downloading();
  const reqs = wire.of('request').map((m) => m.ref);
  assert.equal(reqs.length, 16, 'the initial pipeline depth');
  assert.deepEqual(reqs.slice(0, 2).map((r) => `${r.index}:${r.begin}`), ['0:0', `0:${BLOCK_SIZE}`]);
  assert.deepEqual(wire.of('interested').length, 1);
});

test('preemption for a read: queued requests for other pieces are cancelled except the oldest; a cancelled block that still arrives is taken', () => {
  const { wire, host, peer } = downloading();
  const sent = wire.of('request').map((m) => m.ref); // pieces 0..3
  wire.clear();
  const underRead = (i: number) => i === 3;
  const cancelled = peer.preempt(underRead, Date.now());
  // Kept: the 2 oldest (no rate yet) and the 4 blocks of piece 3; cancelled: the other 10.
  assert.equal(cancelled, 10);
  const cancels = wire.of('cancel').map((m) => m.ref);
  assert.deepEqual(cancels, sent.filter((r, i) => i >= 2 && r.index !== 3));
  assert.equal(peer.requestsInFlight, 6);
  assert.equal(peer.hasRequested(1, 0), true, 'a cancelled request still counts as requested (the block may come)');
  assert.equal(host.abandoned.length, 0, 'nothing goes back to the picker yet');
  // Libtorrent sends such a block anyway when it sat in its send buffer: welcome, not a protocol error.
  wire.receive(piece(cancels[0]));
  assert.deepEqual(host.blocks, [`${cancels[0].index}:${cancels[0].begin}`]);
  assert.equal(peer.preempt(underRead, Date.now()), 0, 'at most once a second');
  // A fast peer answers the rest of the cancels with rejects: those go back to the picker.
  for (const r of cancels.slice(1)) wire.receive({ type: 'reject', ...r });
  assert.deepEqual(host.abandoned, cancels.slice(1));
  assert.equal(peer.hasRequested(1, 0), false);
});

test('preemption: cancels a peer without the fast extension never confirms expire after 3 s, back to the picker', () => {
  const { wire, host, peer } = connected({ fast: false });
  wire.receive({ type: 'bitfield', bytes: Buffer.from(allPieces().bytes) });
  wire.receive({ type: 'unchoke' });
  const now = Date.now();
  assert.equal(peer.preempt(() => false, now), 14);
  peer.tick(now + 2000);
  assert.equal(host.abandoned.length, 0, 'still waiting');
  peer.tick(now + 3100);
  assert.equal(host.abandoned.length, 14, 'given up after 3 s');
});

test('have-all from a peer without the fast extension ends the connection', () => {
  const { wire } = connected({ fast: false });
  wire.receive({ type: 'have-all' });
  assert.ok(wire.closedWith, 'closed');
});

test('snubbing: no block within the request timeout gives every request back and leaves one at a time', () => {
  const { wire, host, peer } = downloading({ peer: { requestTimeoutMs: 1000 } });
  const first = wire.of('request').length;
  wire.clear();
  peer.tick(Date.now() + 500);
  assert.equal(peer.snubbed, false, 'not before the timeout');
  peer.tick(Date.now() + 1500);
  assert.equal(peer.snubbed, true);
  assert.equal(host.abandoned.length, first, 'all its requests went back to the picker');
  assert.equal(wire.of('request').length, 1, 'one request while snubbed');
  assert.equal(peer.room, 0);
  // A block ends the snub: the pipeline opens again.
  wire.receive(piece(wire.of('request')[0].ref));
  assert.equal(peer.snubbed, false);
  assert.ok(wire.of('request').length > 2, 'requests flow again');
});

test('endgame: a request another peer answered is withdrawn with a cancel, and its late block is ignored', () => {
  const { wire, host, peer } = downloading();
  const r = wire.of('request')[5].ref;
  peer.cancel(r.index, r.begin);
  assert.deepEqual(wire.of('cancel').map((m) => m.ref), [r]);
  assert.equal(peer.hasRequested(r.index, r.begin), false);
  wire.receive(piece(r));
  assert.deepEqual(host.blocks, [], 'the duplicate never reaches the torrent');
});

test('a request overtaken by answered ones for 2 s is sent again (a peer dropped it)', () => {
  const realNow = Date.now;
  let clock = realNow();
  Date.now = () => clock;
  try {
    const { wire, peer } = downloading();
    const dropped = wire.of('request')[0].ref;
    clock += 100;
    // The peer answers everything but the first request, including requests sent after it.
    for (let round = 0; round < 3; round++) {
      const open = wire.of('request').map((m) => m.ref).filter((r) => r !== dropped && peer.hasRequested(r.index, r.begin));
      for (const r of open) wire.receive(piece(r));
      clock += 100;
    }
    wire.clear();
    peer.tick(clock + 1000);
    assert.equal(wire.of('request').length, 0, 'not within 2 s of the last block');
    peer.tick(clock + 2500);
    assert.deepEqual(wire.of('request').map((m) => m.ref), [dropped], 'exactly the dropped one is sent again');
  } finally {
    Date.now = realNow;
  }
});

test('a choke without the fast extension drops every request; with it they wait for rejects', () => {
  const fast = downloading();
  fast.wire.receive({ type: 'choke' });
  assert.equal(fast.host.abandoned.length, 0);
  assert.equal(fast.peer.requestsInFlight, 16);
  const slow = connected({ fast: false });
  slow.wire.receive({ type: 'bitfield', bytes: Buffer.from(allPieces().bytes) });
  slow.wire.receive({ type: 'unchoke' });
  slow.wire.receive({ type: 'choke' });
  assert.equal(slow.host.abandoned.length, 16);
  assert.equal(slow.peer.requestsInFlight, 0);
});

test('upload limits: oversized, out-of-bounds, unknown-piece, not-had and choked requests are rejected, valid ones served', async () => {
  const { wire, host, peer } = connected();
  host.have.set(0);
  wire.receive({ type: 'interested' });
  const ask = (index: number, begin: number, length: number) => wire.receive({ type: 'request', index, begin, length });
  ask(0, 0, BLOCK_SIZE); // choked: we never unchoked it
  assert.equal(wire.of('reject').length, 1, 'a choked peer\'s request is rejected');
  wire.clear();
  peer.unchoke(); // as the choker would

  ask(0, 0, 128 * 1024 + 1); // over 128 KiB
  ask(0, PIECE - 100, 200); // past the piece's end
  ask(PIECES, 0, BLOCK_SIZE); // no such piece
  ask(1, 0, BLOCK_SIZE); // a piece we do not have
  ask(0, 0, 0); // empty
  assert.equal(wire.of('reject').length, 5);
  assert.equal(host.reads, 0, 'nothing was read for them');
  ask(0, BLOCK_SIZE, BLOCK_SIZE);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(wire.of('piece').map((p) => `${p.index}:${p.begin}:${p.length}`), [`0:${BLOCK_SIZE}:${BLOCK_SIZE}`]);
});

test('upload limits: past the queue cap (reqq) requests are rejected; a choke rejects what is queued', () => {
  const { wire, host, peer } = connected({ peer: { maxUploadQueue: 500 } });
  for (let i = 0; i < PIECES; i++) host.have.set(i);
  host.holdReads = true;
  wire.writeBacklog = 10 * 1024 * 1024; // the socket does not drain: nothing leaves the queue
  peer.unchoke();
  for (let n = 0; n < 501; n++) wire.receive({ type: 'request', index: n % PIECES, begin: (Math.floor(n / PIECES) % 4) * BLOCK_SIZE, length: n < 256 ? BLOCK_SIZE : 1000 });
  assert.equal(host.reads, 0, 'no reads while the socket is backed up');
  assert.equal(wire.of('reject').length, 1, 'the 501st request is rejected');
  peer.choke();
  assert.equal(wire.of('reject').length, 501, 'the 500 queued ones are rejected on choke (BEP 6)');
});

test('upload backpressure: blocks are read only while the socket keeps up, and resume when it drains', async () => {
  const { wire, host, peer } = connected({ peer: { maxUploadBacklog: 64 * 1024 } });
  for (let i = 0; i < PIECES; i++) host.have.set(i);
  peer.unchoke();
  wire.writeBacklog = 64 * 1024;
  for (let i = 0; i < 20; i++) wire.receive({ type: 'request', index: i, begin: 0, length: BLOCK_SIZE });
  await new Promise((r) => setImmediate(r));
  assert.equal(host.reads, 0, 'backed up: nothing read');
  wire.drain();
  await new Promise((r) => setImmediate(r));
  assert.equal(wire.of('piece').length, 20, 'all served once it drained');
  assert.equal(host.released, 20, 'every block lent to the socket was given back');
});

test('upload rate limit: once the limit is in debt no new block is read or sent; lifting it sends the rest', async () => {
  const { wire, host, peer } = connected();
  const session = new SessionBandwidth();
  host.bandwidth = session.forTorrent({ upload: 16 * 1024 });
  for (let i = 0; i < PIECES; i++) host.have.set(i);
  peer.unchoke();
  for (let i = 0; i < 20; i++) wire.receive({ type: 'request', index: i, begin: 0, length: BLOCK_SIZE });
  await new Promise((r) => setImmediate(r));
  // The reads already under way when the first block put the bucket in debt still go out (8 at
  // once); nothing after them until the debt (seconds at 16 KiB/s) is paid.
  assert.ok(wire.of('piece').length <= 8, `${wire.of('piece').length} blocks sent`);
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(wire.of('piece').length <= 8, 'still held');
  host.bandwidth.set({ upload: 0 });
  await new Promise((r) => setImmediate(r));
  assert.equal(wire.of('piece').length, 20, 'unlimited again: the queue is served');
  session.close();
});

test('download rate limit: reads that put the torrent or the session in debt pause the socket until lifted', () => {
  const { wire, host } = connected();
  const session = new SessionBandwidth({ download: 1024 * 1024 });
  host.bandwidth = session.forTorrent();
  // The session's host.bandwidth was read when the peer connected: connect a new peer on it.
  const peer = new PeerSession(wire, '127.0.0.1:6882', true, handshake(8, host.infoHash, true), host, DEFAULT_PEER_OPTIONS);
  peer.start();
  wire.readMeter?.(64 * 1024);
  assert.equal(wire.readsPaused, false, 'within the burst');
  wire.readMeter?.(4 * 1024 * 1024);
  assert.equal(wire.readsPaused, true, '4 MiB at 1 MiB/s: paused');
  session.set({ download: 0 });
  assert.equal(wire.readsPaused, false, 'limit lifted: reading again');
  session.close();
});

test('a block read for a peer that was choked meanwhile is given back to the cache, not leaked', async () => {
  const { wire, host, peer } = connected();
  host.have.set(0);
  host.holdReads = true;
  peer.unchoke();
  wire.receive({ type: 'request', index: 0, begin: 0, length: BLOCK_SIZE });
  assert.equal(host.pendingReads.length, 1);
  peer.choke();
  host.pendingReads.shift()?.();
  await new Promise((r) => setImmediate(r));
  assert.equal(wire.of('piece').length, 0, 'not sent after the choke');
  assert.equal(host.released, 1);
});

test('a peer without the fast extension gets no rejects: its bad requests are dropped silently', () => {
  const { wire } = connected({ fast: false });
  wire.receive({ type: 'request', index: 0, begin: 0, length: BLOCK_SIZE });
  assert.equal(wire.of('reject').length, 0);
  assert.equal(wire.closedWith, undefined);
});

test('landing in place: only an open request of this peer may land; a snub while it lands diverts its bytes; preemption keeps it', () => {
  const { wire, host, peer } = downloading({ peer: { requestTimeoutMs: 1000 } });
  const [first, , third] = wire.of('request').map((m) => m.ref);
  const target = Buffer.alloc(BLOCK_SIZE);
  host.landing.set(`${third.index}:${third.begin}`, target);
  assert.equal(wire.pieceTarget?.(99, 0, BLOCK_SIZE), undefined, 'not a request of ours');
  assert.equal(wire.pieceTarget?.(third.index, third.begin, 100), undefined, 'not the requested length');
  assert.equal(wire.pieceTarget?.(third.index, third.begin, BLOCK_SIZE), target, 'our open request lands');
  // Preemption keeps the landing block's piece (it is arriving right now).
  peer.preempt(() => false, Date.now());
  assert.ok(!wire.of('cancel').some((m) => m.ref.index === third.index), 'the landing piece is not cancelled');
  assert.ok(wire.of('cancel').some((m) => m.ref.index !== first.index || m.ref.begin !== first.begin), 'others are');
  assert.equal(wire.landingsAborted, 0);
  peer.tick(Date.now() + 1500); // snubbed: every request goes back, so the landing must stop
  assert.equal(peer.snubbed, true);
  assert.equal(wire.landingsAborted, 1, 'the rest of the landing block is diverted');
});
