/**
 * Magnet links end to end on loopback: metadata over ut_metadata from a libtorrent seeder named
 * by `x.pe`, liars dropped in favour of an honest peer, a magnet found through a local DHT of
 * bittorrent-dht nodes with a ct seeder announcing, and PEX passing a peer on.
 */
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import DHT from 'bittorrent-dht';
import { parseMetainfo, type Metainfo } from '@ct/engine';
import { exists, makeTree, removeDir, sameTree, tempDir } from '../helpers/fixtures.js';
import { MetadataLiar } from '../helpers/metadata-liar.js';
import { ct, ctRun, freePort, libtorrentSeeder, stopAll } from '../helpers/procs.js';
import { addressOf, closeSessions, loopbackSession, seedingSession } from '../helpers/sessions.js';
import { waitFor, waitUntil } from '../helpers/wait.js';

let work: string;
let src: string;
let torrent: string;
let meta: Metainfo;

before(async () => {
  work = await tempDir();
  src = path.join(work, 'src');
  // Enough files that the info dictionary spans several 16 KiB metadata pieces.
  const files: [string, number][] = [];
  for (let i = 0; i < 700; i++) files.push([`part ${String(i).padStart(3, '0')} of a rather long file name.bin`, 1000 + i]);
  await makeTree(path.join(src, 'set'), files);
  torrent = path.join(work, 'set.torrent');
  assert.equal((await ctRun(['create', path.join(src, 'set'), '-o', torrent, '--piece-length', '16384'])).code, 0);
  meta = parseMetainfo(await readFile(torrent));
  assert.ok(meta.infoBytes.length > 2 * 16384, 'metadata of several pieces');
});
after(async () => {
  await stopAll();
  await removeDir(work);
});

const magnetOf = (extra = '') => `magnet:?xt=urn:btih:${meta.infoHashHex}&dn=set${extra}`;

test('a magnet with x.pe: metadata from a libtorrent seeder, then the download, byte-exact; a restart needs no peer for the metadata', { timeout: 120_000 }, async () => {
  const seeder = await libtorrentSeeder(torrent, src);
  const dest = path.join(work, 'xpe');
  const state = path.join(work, 'state-xpe');
  const r = await ctRun(['download', magnetOf(`&x.pe=127.0.0.1:${seeder.port}`), '--download-dir', dest, '--state-dir', state, '--listen', '127.0.0.1:0'], 90_000);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /metadata for set arrived/);
  assert.ok((await sameTree(path.join(src, 'set'), path.join(dest, 'set'))).same);
  const saved = parseMetainfo(await readFile(path.join(state, 'torrents', `${meta.infoHashHex}.torrent`)));
  assert.equal(saved.infoHashHex, meta.infoHashHex, 'the saved .torrent is the torrent');
  seeder.proc.kill();
  // No seeder now, and no x.pe: the metadata comes from the state dir, the data is all there.
  // --no-dht alone (no CT_NO_DHT from the test harness) keeps the DHT off.
  const again = ct(['download', magnetOf(), '--download-dir', dest, '--state-dir', state, '--listen', '127.0.0.1:0', '--timeout', '5', '--json', '--no-dht'],
    'ct download (restart)', { CT_NO_DHT: '' });
  assert.equal(await again.waitExit(30_000), 0, again.stderr);
  assert.doesNotMatch(again.stderr, /fetching metadata/);
  const done = again.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).find((j) => j.type === 'done');
  assert.equal(done.discovery.dht.enabled, false);
});

test('peers that lie about the metadata (wrong hash, oversized) are dropped and an honest peer\'s metadata is used', { timeout: 120_000 }, async () => {
  const wrong = new MetadataLiar('wrong-hash', meta.infoHash, meta.infoBytes.length, '127.0.0.2');
  const huge = new MetadataLiar('oversized', meta.infoHash, meta.infoBytes.length, '127.0.0.3');
  await wrong.listen();
  await huge.listen();
  const honestPort = await freePort();
  const dest = path.join(work, 'liars');
  const dl = ct(['download', magnetOf(`&x.pe=${wrong.address}&x.pe=${huge.address}&x.pe=127.0.0.1:${honestPort}`),
    '--download-dir', dest, '--state-dir', path.join(work, 'state-liars'), '--listen', '127.0.0.1:0', '--timeout', '60'], 'ct download magnet');
  // The honest peer starts only once both liars were caught, so they cannot be skipped by luck.
  await waitUntil(() => /dropped 127\.0\.0\.2:\d+: peer sent metadata that does not match the infohash/.test(dl.stderr) &&
    /dropped 127\.0\.0\.3:\d+: peer claims 67108864 bytes of metadata/.test(dl.stderr), `both liars reported (stderr: ${dl.stderr})`, 30_000);
  assert.ok(wrong.requests >= 1, 'the wrong-hash liar was asked for its pieces');
  assert.equal(huge.requests, 0, 'nothing was requested from the oversized one');
  const honest = ct(['seed', '--metainfo', torrent, '--download-dir', src, '--listen', `127.0.0.1:${honestPort}`, '--quiet'], 'ct seed');
  assert.equal(await dl.waitExit(60_000), 0, dl.stderr);
  assert.ok((await sameTree(path.join(src, 'set'), path.join(dest, 'set'))).same);
  honest.child.kill();
  await wrong.close();
  await huge.close();
});

test('DHT: a ct seeder announces to a local DHT; a ct leecher given only the magnet and a bootstrap node finds it and completes', { timeout: 120_000 }, async (t) => {
  // Three bittorrent-dht nodes on loopback: the first is everyone's bootstrap.
  const nodes: InstanceType<typeof DHT>[] = [];
  t.after(() => { for (const n of nodes) n.destroy(); });
  const first = new DHT({ bootstrap: false });
  nodes.push(first);
  await new Promise<void>((resolve) => first.listen(0, '127.0.0.1', () => resolve()));
  const bootstrap = `127.0.0.1:${first.address().port}`;
  for (let i = 0; i < 2; i++) {
    const n = new DHT({ bootstrap: [bootstrap] });
    nodes.push(n);
    await new Promise<void>((resolve) => n.listen(0, '127.0.0.1', () => resolve()));
  }
  const announced = Promise.race(nodes.map((n) => waitFor(n, 'announce_peer', { timeoutMs: 60_000, what: 'the seeder to announce to the DHT' })));
  const dhtEnv = { CT_NO_DHT: '' };
  const seedPort = await freePort();
  const seeder = ct(['seed', '--metainfo', torrent, '--download-dir', src, '--listen', `127.0.0.1:${seedPort}`, '--quiet',
    '--dht-bootstrap', bootstrap, '--state-dir', path.join(work, 'state-dht-seed')], 'ct seed (DHT)', dhtEnv);
  await announced;
  const dest = path.join(work, 'dht');
  const state = path.join(work, 'state-dht-leech');
  const r = ct(['download', magnetOf(), '--download-dir', dest, '--state-dir', state, '--listen', '127.0.0.1:0',
    '--dht-bootstrap', bootstrap, '--timeout', '60'], 'ct download (DHT)', dhtEnv);
  assert.equal(await r.waitExit(90_000), 0, r.stderr);
  assert.ok((await sameTree(path.join(src, 'set'), path.join(dest, 'set'))).same);
  assert.ok(await exists(path.join(state, 'dht.json')), 'the routing table is saved for the next run');
  const table = JSON.parse(await readFile(path.join(state, 'dht.json'), 'utf8'));
  assert.ok(table.nodes.length >= 1);
  seeder.child.kill();
});

test('ct mount takes a magnet: the torrent folder appears once the metadata arrives, and reads are byte-exact', { timeout: 120_000 }, async (t) => {
  const seedPort = await freePort();
  const seeder = ct(['seed', '--metainfo', torrent, '--download-dir', src, '--listen', `127.0.0.1:${seedPort}`, '--quiet'], 'ct seed');
  const mnt = path.join(work, 'mnt-magnet');
  const proc = ct(['mount', mnt, '--mkdir', magnetOf(`&x.pe=127.0.0.1:${seedPort}`), '--download-dir', path.join(work, 'mnt-data'),
    '--state-dir', path.join(work, 'state-mount'), '--listen', '127.0.0.1:0'], 'ct mount magnet');
  t.after(async () => { await ctRun(['umount', mnt]); seeder.child.kill(); });
  await waitUntil(() => {
    assert.ok(proc.exitCode === null, `ct mount exited: ${proc.stderr}`);
    return /ct: set is at /.test(proc.stderr);
  }, 'the torrent folder to appear', 60_000);
  // Read through the mount from this process (ct mount serves it from its own process).
  const names = await readdir(path.join(mnt, 'set'));
  assert.equal(names.length, meta.files.length);
  for (const name of [names[0], names[names.length - 1]]) {
    assert.deepEqual(await readFile(path.join(mnt, 'set', name)), await readFile(path.join(src, 'set', name)), name);
  }
  assert.equal((await ctRun(['umount', mnt])).code, 0);
  assert.equal(await proc.waitExit(30_000), 0);
});

test('PEX: a leecher connected to one ct peer learns a second peer from it (ut_pex) and connects to it', { timeout: 60_000 }, async (t) => {
  t.after(() => closeSessions());
  const pexIntervalMs = 200;
  const { address: aAddr } = await seedingSession(meta, src, { pexIntervalMs });
  // B wants nothing (on demand) but stays connected to A, which knows B's listen port from B's
  // extension handshake.
  const b = await loopbackSession();
  const bTorrent = await b.addTorrent(meta, { downloadDir: path.join(work, 'pex-b'), peers: [aAddr], onDemand: true, pexIntervalMs });
  if (bTorrent.stats().peers === 0) await waitFor(bTorrent, 'peer-connected', { what: 'B to connect to A' });
  const bAddr = addressOf(b);
  // C is a leecher too (a seed would neither stay connected to seed A nor dial anyone), given A only.
  const c = await loopbackSession();
  const cTorrent = await c.addTorrent(meta, { downloadDir: path.join(work, 'pex-c'), peers: [aAddr], onDemand: true, pexIntervalMs });
  // B's address can only come from A over ut_pex.
  await waitFor<[string, string[]]>(cTorrent, 'peers-found', { what: "B's address over ut_pex", until: (source, found) => source === 'pex' && found.includes(bAddr) });
  // Then C dials B, or B (told about C the same way) dials C; one of the two connections stays.
  await waitUntil(() => cTorrent.stats().peers >= 2, 'C to be connected to A and B');
  // And what C reads still comes through: one file, through the peers it has.
  const file = cTorrent.files[0];
  const bytes = await file.createReader().read(0, file.length);
  assert.deepEqual(bytes, await readFile(path.join(src, 'set', ...file.path.split('/'))));
});
