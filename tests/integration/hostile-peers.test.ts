/**
 * ct among hostile peers. Each misbehaves in one way; the good seeder (libtorrent) is started only
 * after ct has dealt with all of them, so ct must (1) survive and judge every hostile peer, and
 * (2) keep retrying the good seeder that refused connections at first, then complete byte-exactly.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { parseMetainfo } from '@ct/engine';
import { HostilePeer, type HostileMode } from '../helpers/hostile-peer.js';
import { makeTree, removeDir, sameTree, tempDir } from '../helpers/fixtures.js';
import { ct, ctRun, freePort, libtorrentSeeder, stopAll } from '../helpers/procs.js';

let work: string;
const hostiles: HostilePeer[] = [];

before(async () => { work = await tempDir(); });
after(async () => {
  await stopAll();
  await Promise.all(hostiles.map((h) => h.close()));
  await removeDir(work);
});

async function until(cond: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

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
  await until(() => leech.jsonLines().some((j) => j.type === 'peer-banned' && j.peer === corrupt.address), 'the corrupt peer to be banned');
  assert.ok(corrupt.blocksSent > 0);
  await until(() => huge.closedByClient > 0 && garbage.closedByClient > 0 && badBitfield.closedByClient > 0, 'protocol violators to be dropped');
  await until(() => silent.requestsReceived > 0, 'the silent peer to be asked for blocks');

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
