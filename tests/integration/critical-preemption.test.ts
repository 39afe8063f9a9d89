/**
 * A read must not wait behind a peer's whole request queue. A peer serves requests in order, so
 * a reader's blocks requested after a deep queue of bulk requests arrive last; ct cancels the
 * queued bulk requests (keeping the few the peer is likely sending already) and asks for the
 * reader's blocks first. The paced peer's queue is visible, so this is asserted in blocks served,
 * not in time.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { createTorrent, parseMetainfo, type Metainfo } from '@ct/engine';
import { removeDir, tempDir } from '../helpers/fixtures.js';
import { PacedPeer } from '../helpers/paced-peer.js';
import { waitUntil, whenDone } from '../helpers/wait.js';
import { loopbackSession } from '../helpers/sessions.js';

const PIECE = 64 * 1024;
let work: string;
let data: Buffer;
let meta: Metainfo;

before(async () => {
  work = await tempDir();
  data = randomBytes(8 * 1024 * 1024);
  await mkdir(path.join(work, 'src'));
  await writeFile(path.join(work, 'src', 'video.bin'), data);
  const torrent = await createTorrent(path.join(work, 'src', 'video.bin'), { pieceLength: PIECE });
  meta = parseMetainfo(torrent);
});
after(async () => removeDir(work));

test('a read jumps a deep request queue: queued bulk requests are cancelled, nothing is lost', async () => {
  // 100 blocks/s: the 512 blocks take ~5 s, and ct's queue at this peer grows to ~2 s of blocks.
  const peer = new PacedPeer(meta.infoHash, meta.pieceCount, PIECE, data, 10);
  await peer.listen();
  const session = await loopbackSession();
  try {
    const torrent = await session.addTorrent(meta, { downloadDir: path.join(work, 'dl'), peers: [peer.address] });
    const done = new Promise<void>((resolve) => torrent.once('done', () => resolve()));
    await waitUntil(() => peer.queue.length >= 120, 'a deep request queue at the peer', 30_000);
    // Frozen while the read is issued, so what is measured is the order ct leaves in the queue,
    // not how fast this process reacted.
    peer.paused = true;
    // A piece nobody asked for yet: without preemption its blocks would queue behind all 120+.
    const asked = new Set([...peer.served, ...peer.queue].map((r) => r.index));
    let target = meta.pieceCount - 1;
    while (asked.has(target)) target--;
    const queued = peer.queue.length;
    const servedBefore = peer.served.length;
    const reader = torrent.files[0].createReader();
    const reading = reader.read(target * PIECE, PIECE, { signal: AbortSignal.timeout(30_000) });
    reading.catch(() => undefined); // awaited below; a failure before then must not surface as unhandled
    await waitUntil(() => peer.queue.some((r) => r.index === target) && peer.cancelsReceived > 0, 'the read\'s requests and the cancels to reach the peer', 10_000, 5)
      .catch((err: Error) => { throw new Error(`${err.message} (target ${target}, queued ${peer.queue.length}, cancels ${peer.cancelsReceived}, requests ${peer.requestsReceived}, served ${peer.served.length})`); });
    peer.paused = false;
    const bytes = await reading;
    const servedForRead = peer.served.length - servedBefore;
    assert.ok(bytes.equals(data.subarray(target * PIECE, (target + 1) * PIECE)), 'exact bytes');
    assert.ok(peer.cancelsReceived > 0, 'queued requests were cancelled');
    // Kept: ~0.25 s of blocks at the peer's rate (25) plus the 4 blocks of the piece.
    assert.ok(servedForRead < queued / 2, `the read waited for ${servedForRead} blocks with ${queued} queued ahead of it`);
    reader.close();
    await done;
    assert.ok((await readFile(path.join(work, 'dl', 'video.bin'))).equals(data), 'cancelled blocks were fetched again');
  } finally {
    await session.close();
    await peer.close();
  }
});

// Regression (issue 10): transmission 3.00 drops a request now and then and rejects it ~10 s later;
// the last piece of every download from it waited for that. A request still open while later ones
// were answered is sent again (peers serve in order), long before any request timeout.
test('a request the peer silently dropped is sent again once later ones were answered', { timeout: 60_000 }, async () => {
  const peer = new PacedPeer(meta.infoHash, meta.pieceCount, PIECE, data, 1);
  peer.drop.add(5);
  await peer.listen();
  const session = await loopbackSession();
  try {
    // No snubbing to fall back on: only the lost-request rule can finish this download.
    const torrent = await session.addTorrent(meta, { downloadDir: path.join(work, 'dl-dropped'), peers: [peer.address], peer: { requestTimeoutMs: 600_000 } });
    await whenDone(torrent);
    assert.equal(peer.dropped.length, 1);
    const [lost] = peer.dropped;
    assert.ok(peer.served.some((r) => r.index === lost.index && r.begin === lost.begin), 'the dropped block was asked for again and served');
    assert.ok((await readFile(path.join(work, 'dl-dropped', 'video.bin'))).equals(data));
  } finally {
    await session.close();
    await peer.close();
  }
});
