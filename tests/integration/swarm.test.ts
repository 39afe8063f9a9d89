/**
 * ct with ct: a download assembled from three ct seeders that each hold a third of the pieces,
 * and a restart that finds half the data already on disk and fetches only the rest.
 */
import assert from 'node:assert/strict';
import { cp, open, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { FileLayout, createTorrent, parseMetainfo, type Metainfo } from '@ct/engine';
import { makeTree, removeDir, sameTree, tempDir } from '../helpers/fixtures.js';
import { ct, ctRun, freePort, stopAll } from '../helpers/procs.js';
import { HostilePeer } from '../helpers/hostile-peer.js';
import { closeSessions, loopbackSession, seedingSession } from '../helpers/sessions.js';
import { waitUntil, whenDone } from '../helpers/wait.js';

const PIECE = 65536;
let work: string;
let src: string;
let torrent: string;
let meta: Metainfo;

before(async () => {
  work = await tempDir();
  src = path.join(work, 'src');
  await makeTree(path.join(src, 'set'), [['one.bin', 900_000], ['two/two.bin', 650_001], ['three.bin', 10], ['empty', 0]]);
  torrent = path.join(work, 'set.torrent');
  assert.equal((await ctRun(['create', path.join(src, 'set'), '-o', torrent, '--piece-length', String(PIECE)])).code, 0);
  meta = parseMetainfo(await readFile(torrent));
});
after(async () => {
  await stopAll();
  await removeDir(work);
});

/** Overwrites with zeros every piece for which keep(index) is false, so it fails verification. */
async function damagePieces(root: string, keep: (index: number) => boolean): Promise<void> {
  const layout = new FileLayout(meta.files, meta.pieceLength);
  for (let i = 0; i < meta.pieceCount; i++) {
    if (keep(i)) continue;
    for (const s of layout.pieceSegments(i)) {
      const fh = await open(path.join(root, meta.name, ...meta.files[s.fileIndex].path), 'r+');
      await fh.write(Buffer.alloc(s.length), 0, s.length, s.fileOffset);
      await fh.close();
    }
  }
}

test('downloads from three ct seeders that each hold only a third of the pieces', async () => {
  const seeds: string[] = [];
  for (let k = 0; k < 3; k++) {
    const dir = path.join(work, `seeder${k}`);
    await cp(src, dir, { recursive: true });
    await damagePieces(dir, (i) => i % 3 === k);
    const port = await freePort();
    const seeder = ct(['seed', '--metainfo', torrent, '--download-dir', dir, '--listen', `127.0.0.1:${port}`, '--json'], `ct seed ${k}`);
    const ready = JSON.parse((await seeder.waitFor(/^\{"type":"ready".*$/m))[0]);
    assert.equal(ready.piecesHave, [...Array(meta.pieceCount).keys()].filter((i) => i % 3 === k).length, `seeder ${k} holds only its third`);
    seeds.push(`127.0.0.1:${port}`);
  }
  const dest = path.join(work, 'from-three');
  const r = await ctRun(['download', '--metainfo', torrent, '--seeds', seeds.join(','), '--download-dir', dest, '--json', '--listen', '127.0.0.1:0'], 60_000);
  assert.equal(r.code, 0, r.stderr);
  const connected = new Set(r.stdout.split('\n').filter((l) => l.includes('"peer-connected"')).map((l) => JSON.parse(l).peer));
  assert.equal(connected.size, 3, 'fetched from all three');
  const cmp = await sameTree(path.join(src, 'set'), path.join(dest, 'set'));
  assert.ok(cmp.same, cmp.detail);
});

test('a restart with half the data present fetches only the rest', async () => {
  const full = path.join(work, 'full');
  await cp(src, full, { recursive: true });
  const port = await freePort();
  const seeder = ct(['seed', '--metainfo', torrent, '--download-dir', full, '--listen', `127.0.0.1:${port}`, '--json'], 'ct seed full');
  await seeder.waitFor(/"type":"ready"/);
  const dest = path.join(work, 'half');
  await cp(src, dest, { recursive: true });
  const half = Math.floor(meta.pieceCount / 2);
  await damagePieces(dest, (i) => i < half);
  const r = await ctRun(['download', '--metainfo', torrent, '--seeds', `127.0.0.1:${port}`, '--download-dir', dest, '--json', '--listen', '127.0.0.1:0'], 60_000);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  assert.equal(lines.find((j) => j.type === 'started').alreadyHave, half);
  const done = lines.find((j) => j.type === 'done');
  const missingBytes = meta.totalLength - half * meta.pieceLength;
  assert.equal(done.downloaded, missingBytes, 'exactly the missing pieces were fetched');
  const cmp = await sameTree(path.join(src, 'set'), path.join(dest, 'set'));
  assert.ok(cmp.same, cmp.detail);
});

test('IPv6: ct seeds on [::1] and ct downloads from it', async () => {
  const port = await freePort('::1');
  const seeder = ct(['seed', '--metainfo', torrent, '--download-dir', src, '--listen', `[::1]:${port}`, '--json'], 'ct seed v6');
  await seeder.waitFor(/"type":"ready"/);
  const dest = path.join(work, 'v6');
  const r = await ctRun(['download', '--metainfo', torrent, '--seeds', `[::1]:${port}`, '--download-dir', dest, '--quiet', '--listen', '[::1]:0'], 60_000);
  assert.equal(r.code, 0, r.stderr);
  const cmp = await sameTree(path.join(src, 'set'), path.join(dest, 'set'));
  assert.ok(cmp.same, cmp.detail);
  seeder.kill();
});

test('one session seeds two torrents on one port, another session downloads both at once', async () => {
  const other = path.join(work, 'other-src');
  await makeTree(path.join(other, 'second'), [['b.bin', 400_000]]);
  const second = parseMetainfo(Buffer.from(await createTorrent(path.join(other, 'second'), { pieceLength: 32768 })));
  const { session: seeder, address: addr } = await seedingSession(meta, src);
  const leecher = await loopbackSession();
  try {
    await seeder.addTorrent(second, { downloadDir: other, readOnly: true });
    const dest = path.join(work, 'both');
    const torrents = await Promise.all([meta, second].map((m) => leecher.addTorrent(m, { downloadDir: dest, peers: [addr] })));
    await Promise.all(torrents.map((t) => whenDone(t)));
    assert.ok((await sameTree(path.join(src, 'set'), path.join(dest, 'set'))).same);
    assert.ok((await sameTree(path.join(other, 'second'), path.join(dest, 'second'))).same);
  } finally {
    await closeSessions(seeder, leecher);
  }
});

test('a peer that sits on our requests is snubbed: its requests go back, it gets one at a time', async () => {
  const silent = new HostilePeer('silent', meta.infoHash, meta.pieceCount, '127.0.0.7');
  await silent.listen();
  const session = await loopbackSession();
  try {
    const t = await session.addTorrent(meta, { downloadDir: path.join(work, 'snub'), peers: [silent.address], peer: { requestTimeoutMs: 500 } });
    await waitUntil(() => t.peerList()[0]?.snubbed === true, 'the silent peer to be snubbed', 20_000);
    const info = t.peerList()[0];
    assert.ok(info.requests <= 1, `at most one request while snubbed, had ${info.requests}`);
    assert.ok(silent.requestsReceived > 1, 'it had been given a full pipeline before');
  } finally {
    await closeSessions(session);
    await silent.close();
  }
});

test('a peer that requests without reading gets only what its socket drains (upload backpressure)', async () => {
  const big = path.join(work, 'bp-src');
  await makeTree(path.join(big, 'bp'), [['big.bin', 64 * 1024 * 1024]]);
  const bp = parseMetainfo(Buffer.from(await createTorrent(path.join(big, 'bp'), { pieceLength: 1 << 20 })));
  const session = await loopbackSession();
  const socket = new (await import('node:net')).Socket();
  try {
    // A queue large enough to hold every request, so only backpressure can hold the uploads back.
    const t = await session.addTorrent(bp, { downloadDir: big, readOnly: true, peer: { maxUploadQueue: 5000 } });
    await new Promise<void>((resolve) => socket.connect(session.listenAddress?.port ?? 0, '127.0.0.1', resolve));
    const hs = Buffer.alloc(68);
    hs[0] = 19; hs.write('BitTorrent protocol', 1, 'latin1'); bp.infoHash.copy(hs, 28); Buffer.alloc(20, 9).copy(hs, 48);
    // Handshake + interested; read until ct unchokes us (a free slot, at once), then never read again.
    let seen = Buffer.alloc(0);
    const unchoked = new Promise<void>((resolve) => socket.on('data', (b: Buffer) => {
      seen = Buffer.concat([seen, b]);
      if (seen.subarray(68).includes(Buffer.from([0, 0, 0, 1, 1]))) { socket.pause(); resolve(); }
    }));
    socket.write(Buffer.concat([hs, Buffer.from([0, 0, 0, 1, 2])]));
    await Promise.race([unchoked, new Promise((_, reject) => setTimeout(() => reject(new Error('never unchoked')), 10_000))]);
    const requests: Buffer[] = [];
    for (let i = 0; i < bp.pieceCount; i++) {
      for (let b = 0; b < 64; b++) {
        const m = Buffer.alloc(17);
        m.writeUInt32BE(13, 0); m[4] = 6; m.writeUInt32BE(i, 5); m.writeUInt32BE(b * 16384, 9); m.writeUInt32BE(16384, 13);
        requests.push(m);
      }
    }
    socket.write(Buffer.concat(requests)); // 4096 requests: 64 MiB
    // Wait until the uploads stop (they do at once when backpressure is missing too: 64 MiB).
    let last = -1;
    await waitUntil(async () => {
      const now = t.stats().uploaded;
      const stable = now > 0 && now === last;
      last = now;
      if (!stable) await new Promise((r) => setTimeout(r, 500));
      return stable;
    }, 'the uploads to stop', 30_000);
    const served = t.stats().uploaded;
    assert.ok(served > 0, 'it did upload');
    assert.ok(served < 24 * 1024 * 1024, `served ${served} bytes to a peer that reads nothing`);
  } finally {
    socket.destroy();
    await closeSessions(session);
  }
});
