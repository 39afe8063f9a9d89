/**
 * The bounded cache in a session (cache/disk-cache.ts through Torrent): a read larger than the
 * whole cache completes byte-exact (its pieces are pinned while it needs them), the cache comes
 * back under its limit afterwards, and an evicted piece is no longer had (a peer asking for it is
 * refused) until a read fetches it again. Two sessions on loopback.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { createTorrent } from '../src/metainfo/create.js';
import { parseMetainfo } from '../src/metainfo/metainfo.js';
import { Session } from '../src/session/session.js';

const PIECE = 64 * 1024;

test('bounded cache: a read of 2 MiB through a 256 KiB cache completes byte-exact; afterwards the cache is back under its limit and evicted pieces are not had; evictSelected ends a full download instead of churning', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'ct-bounded-'));
  const sessions: Session[] = [];
  try {
    const src = path.join(dir, 'src');
    await mkdir(src);
    const data = randomBytes(2 * 1024 * 1024);
    await writeFile(path.join(src, 'f.bin'), data);
    const meta = parseMetainfo(await createTorrent(path.join(src, 'f.bin'), { pieceLength: PIECE }));
    const seeder = await Session.create({ listen: { host: '127.0.0.1', port: 0 } });
    sessions.push(seeder);
    await seeder.addTorrent(meta, { downloadDir: src, readOnly: true, discovery: false });
    const leecher = await Session.create({ listen: false, cache: { maxBytes: 4 * PIECE } });
    sessions.push(leecher);
    const t = await leecher.addTorrent(meta, { downloadDir: path.join(dir, 'out'), onDemand: true, discovery: false, peers: [`127.0.0.1:${seeder.listenAddress!.port}`] });
    const evicted: number[] = [];
    t.on('piece-evicted', (i) => evicted.push(i));
    const reader = t.files[0].createReader();
    const got = await reader.read(0, data.length);
    assert.ok(got.equals(data), 'the whole 2 MiB, byte-exact, through a cache of 4 pieces');
    reader.close();
    // The next piece written makes room: everything unpinned beyond the limit goes.
    const second = t.files[0].createReader();
    assert.ok((await second.read(0, 1000)).equals(data.subarray(0, 1000)));
    second.close();
    const stats = leecher.cacheStats()!;
    assert.ok(stats.used <= 4 * PIECE, `${stats.used} bytes held after the big read`);
    assert.ok(evicted.length >= 32 - 4, `${evicted.length} pieces evicted`);
    assert.ok(t.stats().piecesHave <= 5, `${t.stats().piecesHave} pieces still had`);
    // Pieces far from what the second read touched stay evicted: not had, so never uploaded or advertised.
    const far = evicted.filter((i) => i >= 8 && i < 24);
    assert.ok(far.length > 0);
    for (const i of far) assert.equal(t.havePiece(i), false, `evicted piece ${i} is not had`);
    // The piece map (the web page's) tells evicted pieces from those never fetched, and shows what is had.
    const map = t.pieceMap();
    assert.equal(map.length, 32);
    for (const i of far) assert.equal(map[i], 'e', `piece ${i} in ${map}`);
    for (let i = 0; i < 32; i++) if (t.havePiece(i)) assert.equal(map[i], 'v', `piece ${i} in ${map}`);
    // evictSelected: a torrent fetched in full under a cache of 4 pieces ends, holding 4, instead
    // of fetching and evicting in turn forever.
    const full = await Session.create({ listen: false, cache: { maxBytes: 4 * PIECE, evictSelected: true } });
    sessions.push(full);
    const t2 = await full.addTorrent(meta, { downloadDir: path.join(dir, 'full'), discovery: false, peers: [`127.0.0.1:${seeder.listenAddress!.port}`] });
    await new Promise<void>((resolve) => (t2.isDone ? resolve() : t2.once('done', () => resolve())));
    assert.ok(full.cacheStats()!.used <= 4 * PIECE + PIECE, `${full.cacheStats()!.used} bytes held`);
    assert.ok(full.cacheStats()!.evictions >= 32 - 5, 'the rest came and went');
  } finally {
    await Promise.all(sessions.map((s) => s.close()));
    await rm(dir, { recursive: true, force: true });
  }
});
