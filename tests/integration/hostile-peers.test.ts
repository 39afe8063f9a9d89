/**
 * ct among hostile peers. Each misbehaves in one way; the good seeder (libtorrent) is started only
 * after ct has dealt with all of them, so ct must (1) survive and judge every hostile peer, and
 * (2) keep retrying the good seeder that refused connections at first, then complete byte-exactly.
 * And smart ban: a liar whose bad block sits in a piece with an honest peer's blocks.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { createTorrent, parseMetainfo } from '@ct/engine';
import { HostilePeer, type HostileMode } from '../helpers/hostile-peer.js';
import { makeTree, removeDir, sameTree, tempDir } from '../helpers/fixtures.js';
import { ct, ctRun, freePort, libtorrentSeeder, stopAll } from '../helpers/procs.js';
import { PacedPeer, type QueuedRequest } from '../helpers/paced-peer.js';
import { closeSessions, loopbackSession } from '../helpers/sessions.js';
import { waitUntil, whenDone } from '../helpers/wait.js';

let work: string;
const hostiles: HostilePeer[] = [];

before(async () => { work = await tempDir(); });
after(async () => {
  await stopAll();
  await Promise.all(hostiles.map((h) => h.close()));
  await removeDir(work);
});

test('corrupt data, a 2 GiB length prefix, garbage, a bad bitfield and a silent peer: ct bans or drops them and completes from a good peer', async () => {
  const src = path.join(work, 'src');
  await makeTree(path.join(src, 'payload'), [['movie.bin', 3 * 1024 * 1024 + 123], ['notes.txt', 5000]]);
  const torrent = path.join(work, 'p.torrent');
  assert.equal((await ctRun(['create', path.join(src, 'payload'), '-o', torrent, '--piece-length', '65536'])).code, 0);
  const meta = parseMetainfo(await readFile(torrent));

  const modes: HostileMode[] = ['corrupt', 'huge-length', 'garbage', 'bad-bitfield', 'silent'];
  // Each on its own loopback address, as libtorrent-style IP bans would require.
  modes.forEach((mode, i) => hostiles.push(new HostilePeer(mode, meta.infoHash, meta.pieceCount, `127.0.0.${i + 2}`)));
  await Promise.all(hostiles.map((h) => h.listen()));
  const goodPort = await freePort();
  const seeds = [...hostiles.map((h) => h.address), `127.0.0.1:${goodPort}`].join(',');
  const dest = path.join(work, 'dl');
  const leech = ct(['download', '--metainfo', torrent, '--seeds', seeds, '--download-dir', dest, '--json', '--listen', '127.0.0.1:0', '--timeout', '120'], 'ct download');

  const [corrupt, huge, garbage, badBitfield, silent] = hostiles;
  await waitUntil(() => leech.jsonLines().some((j) => j.type === 'peer-banned' && j.peer === corrupt.address), 'the corrupt peer to be banned');
  assert.ok(corrupt.blocksSent > 0);
  await waitUntil(() => huge.closedByClient > 0 && garbage.closedByClient > 0 && badBitfield.closedByClient > 0, 'protocol violators to be dropped');
  await waitUntil(() => silent.requestsReceived > 0, 'the silent peer to be asked for blocks');

  // Now the good seeder appears on the address ct has been retrying all along.
  await libtorrentSeeder(torrent, src, { port: goodPort });
  assert.equal(await leech.waitExit(120_000), 0, leech.stderr);
  const lines = leech.jsonLines();
  const done = lines.find((j) => j.type === 'done');
  assert.ok(done, 'completed');
  assert.ok((done.hashFailures as number) >= 1);
  const banned = lines.filter((j) => j.type === 'peer-banned').map((j) => j.peer);
  assert.deepEqual(banned, [corrupt.address], 'only the peer that sent bad data is banned');
  const cmp = await sameTree(path.join(src, 'payload'), path.join(dest, 'payload'));
  assert.ok(cmp.same, cmp.detail);
  const connectionsAfterBan = corrupt.connections;
  assert.equal(connectionsAfterBan, 1, 'a banned peer is never dialed again');
});

// Smart ban (libtorrent's smart_ban): a piece with blocks from two peers fails its hash, so
// neither can be blamed yet. When the piece later passes, the peer whose earlier block differs
// from the verified one is banned, and the honest co-contributor is not.
test('smart ban: a piece assembled from a liar and an honest peer fails; once it passes, only the liar is banned', { timeout: 60_000 }, async () => {
  const PIECE = 4 * 16384;
  const data = (await import('node:crypto')).randomBytes(32 * PIECE);
  const src = path.join(work, 'smart-src');
  await mkdir(src, { recursive: true });
  await writeFile(path.join(src, 'data.bin'), data);
  const meta = parseMetainfo(await createTorrent(path.join(src, 'data.bin'), { pieceLength: PIECE }));
  const first = { index: 0, begin: 0 };
  const isFirst = (r: QueuedRequest) => r.index === first.index && r.begin === first.begin;
  // The liar has piece 0 only and serves just its first block, wrong the first time; the honest
  // peer has everything but never serves that block. So piece 0 is always two-source.
  const liar = new PacedPeer(meta.infoHash, meta.pieceCount, PIECE, data, 5, '127.0.0.20', { has: (i) => i === 0, reject: (r) => !isFirst(r), corruptOnce: isFirst });
  const honest = new PacedPeer(meta.infoHash, meta.pieceCount, PIECE, data, 2, '127.0.0.21', { reject: isFirst });
  await liar.listen();
  await honest.listen();
  const session = await loopbackSession();
  try {
    const torrent = await session.addTorrent(meta, { downloadDir: path.join(work, 'smart-dl'), peers: [honest.address, liar.address] });
    const failed: [number, string[]][] = [];
    const banned: [string, string][] = [];
    torrent.on('hash-failed', (i, who) => failed.push([i, who]));
    torrent.on('peer-banned', (who, why) => banned.push([who, why]));
    await whenDone(torrent, 45_000);
    assert.ok(liar.corrupted.length >= 1, 'the liar sent its bad block');
    assert.deepEqual(failed.map(([i]) => i), [0], 'piece 0 failed once');
    assert.deepEqual(new Set(failed[0][1]), new Set([liar.address, honest.address]), 'with two contributors: nobody to blame yet');
    assert.deepEqual(banned, [[liar.address, 'sent a bad block of piece 0']], 'the liar, found by comparing blocks once the piece passed');
    assert.ok((await readFile(path.join(work, 'smart-dl', 'data.bin'))).equals(data));
  } finally {
    await closeSessions(session);
    await liar.close();
    await honest.close();
  }
});
