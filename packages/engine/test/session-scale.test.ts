/**
 * What lets one session hold many idle torrents: one descriptor budget for every torrent's files
 * (FdPool), one housekeeping timer (Ticker), and resume snapshots written only when verified
 * pieces changed (a restart of unchanged torrents writes nothing: before, every 30 s save wrote
 * every torrent's file again, 2 s of CPU for 1,000 torrents).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { createTorrent } from '../src/metainfo/create.js';
import { parseMetainfo } from '../src/metainfo/metainfo.js';
import { FileLayout } from '../src/layout/file-layout.js';
import { Session } from '../src/session/session.js';
import { FdPool } from '../src/storage/fd-pool.js';
import { TorrentStorage } from '../src/storage/torrent-storage.js';
import { Ticker } from '../src/util/ticker.js';

async function openFds(): Promise<number> {
  return (await readdir('/proc/self/fd')).length;
}

test('fd pool: storages sharing a budget close the least recently used idle descriptor of any of them', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'ct-fdpool-'));
  try {
    const pool = new FdPool(2);
    const files = [{ path: ['x.bin'], length: 4, offset: 0, pad: false }];
    const layout = new FileLayout(files, 16);
    const storages = ['a', 'b', 'c'].map((name) => new TorrentStorage(layout, files, path.join(dir, name), { fdPool: pool }));
    const before = await openFds();
    for (const s of storages) await s.writePiece(0, Buffer.from('abcd'));
    assert.equal(pool.size, 2, 'the third open closed the oldest');
    assert.ok((await openFds()) - before <= 2, 'never more than the budget once the IOs are over');
    // Reading the first again reopens it and closes the least recently used (b).
    assert.equal((await storages[0].read(0, 4)).toString(), 'abcd');
    assert.equal(pool.size, 2);
    for (const s of storages) await s.close();
    assert.equal(pool.size, 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('ticker: one timer for every subscriber, stopped when the last leaves', (ctx) => {
  ctx.mock.timers.enable({ apis: ['setInterval'] });
  const ticker = new Ticker(1000);
  const calls: string[] = [];
  const a = () => calls.push('a');
  const b = () => calls.push('b');
  ticker.add(a);
  ticker.add(b);
  ctx.mock.timers.tick(2000);
  assert.deepEqual(calls, ['a', 'b', 'a', 'b']);
  ticker.remove(a);
  ctx.mock.timers.tick(1000);
  assert.deepEqual(calls.slice(4), ['b']);
  ticker.remove(b);
  assert.equal(ticker.size, 0);
  ctx.mock.timers.tick(5000);
  assert.equal(calls.length, 5, 'no tick once nobody is subscribed');
});

test('resume store: a restart of torrents that did not change writes no snapshot, at its saves or at close', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'ct-resume-scale-'));
  try {
    const state = path.join(dir, 'state');
    const metas = [];
    for (const name of ['a.bin', 'b.bin', 'c.bin']) {
      await writeFile(path.join(dir, name), Buffer.alloc(40_000, name));
      metas.push(parseMetainfo(await createTorrent(path.join(dir, name), { pieceLength: 16384 })));
    }
    // First run: the torrents are checked (their data is where the download dir says) and saved at close.
    const first = await Session.create({ listen: false, stateDir: state, resumeEveryMs: 50 });
    for (const m of metas) await first.addTorrent(m, { downloadDir: dir, discovery: false });
    await first.close();
    const snapshots = (await readdir(path.join(state, 'resume'))).map((f) => path.join(state, 'resume', f));
    assert.equal(snapshots.length, 3);
    const mtimes = async () => Promise.all(snapshots.map(async (f) => (await stat(f)).mtimeMs));
    const saved = await mtimes();
    await new Promise((r) => setTimeout(r, 20));

    const second = await Session.create({ listen: false, stateDir: state, resumeEveryMs: 50 });
    const torrents = [];
    for (const m of metas) torrents.push(await second.addTorrent(m, { downloadDir: dir, discovery: false }));
    assert.deepEqual(torrents.map((t) => t.startupCheck.hashed), [0, 0, 0], 'trusted, not hashed');
    await new Promise((r) => setTimeout(r, 300)); // several save rounds
    await second.close();
    assert.deepEqual(await mtimes(), saved, 'no snapshot was written again');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('resume data vouches for pieces stored in the part file: a restart after a download with a deselected file hashes nothing', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'ct-resume-part-'));
  const sessions: Session[] = [];
  const open = async (opts: Parameters<typeof Session.create>[0]) => {
    const s = await Session.create(opts);
    sessions.push(s);
    return s;
  };
  try {
    const src = path.join(dir, 'src', 'set');
    await mkdir(src, { recursive: true });
    // Three files across 16 KiB pieces: the middle one shares a piece with each neighbour.
    for (const [name, size] of [['a.bin', 20_000], ['b.bin', 30_000], ['c.bin', 20_000]] as const) await writeFile(path.join(src, name), randomBytes(size));
    const meta = parseMetainfo(await createTorrent(src, { pieceLength: 16384 }));
    const seeder = await open({ listen: { host: '127.0.0.1', port: 0 } });
    await seeder.addTorrent(meta, { downloadDir: path.join(dir, 'src'), readOnly: true, discovery: false });
    const peer = `127.0.0.1:${seeder.listenAddress!.port}`;
    const state = path.join(dir, 'state');
    const out = path.join(dir, 'out');
    const opts = { downloadDir: out, discovery: false, peers: [peer], filePriority: (p: string) => (p === 'b.bin' ? 0 : undefined) };
    const first = await open({ listen: false, stateDir: state });
    const t1 = await first.addTorrent(meta, opts);
    await new Promise<void>((resolve) => (t1.isDone ? resolve() : t1.once('done', () => resolve())));
    const had = t1.stats().piecesHave;
    await first.close();
    assert.equal(await stat(path.join(out, 'set', 'b.bin')).then(() => true, () => false), false, 'the deselected file was never created');
    assert.ok((await readdir(out)).some((f) => f.endsWith('.parts')), 'its share of the boundary pieces is in the part file');

    const second = await open({ listen: false, stateDir: state });
    const t2 = await second.addTorrent(meta, { ...opts, peers: [] });
    assert.equal(t2.startupCheck.hashed, 0, 'nothing hashed, the boundary pieces included');
    assert.equal(t2.stats().piecesHave, had);
  } finally {
    // Closed on failure too: an open session keeps the test process alive.
    await Promise.all(sessions.map((s) => s.close()));
    await rm(dir, { recursive: true, force: true });
  }
});
