/**
 * Right bytes or an error, never zeros (issue 10, part 1). A torrent of a few hundred tiny files
 * in 32 KiB pieces, so most pieces span several files, read on demand in random order by several
 * readers at once: through the engine, and through a real FUSE mount on both write paths. Every
 * byte is compared with the seeder's copy. And a seeder whose data changed on disk after it was
 * verified never uploads the changed piece.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, open, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { getEventListeners } from 'node:events';
import { HasherError, HasherPool, parseMetainfo, type Metainfo } from '@ct/engine';
import { makeTree, removeDir, tempDir } from '../helpers/fixtures.js';
import { Proc, ROOT, ct, ctRun, libtorrentSeeder, stopAll } from '../helpers/procs.js';
import { addressOf, closeSessions, loopbackSession } from '../helpers/sessions.js';
import { waitFor, waitUntil, whenDone } from '../helpers/wait.js';

const READ_FILES = path.join(ROOT, 'tests', 'helpers', 'read-files.mjs');
let work: string;
let src: string;
let torrentPath: string;
let meta: Metainfo;
let seedAddr: string;
const sha1 = new Map<string, string>();

/** Deterministic shuffle, so a failing order can be replayed from the seed in the test name. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  let a = seed >>> 0;
  const rnd = () => { a = (Math.imul(a, 1103515245) + 12345) >>> 0; return a / 4294967296; };
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

before(async () => {
  work = await tempDir('ct-integrity-');
  src = path.join(work, 'src');
  const files: [string, number][] = [];
  // 0 B to 100 KiB, a third of them under 100 bytes: many files share each 32 KiB piece.
  for (let i = 0; i < 300; i++) files.push([`d${i % 7}/f${i}.bin`, i % 3 === 0 ? (i * 37) % 100 : (i * 7919) % 100_000]);
  await makeTree(path.join(src, 'tiny'), files);
  for (const [name] of files) sha1.set(name, createHash('sha1').update(await readFile(path.join(src, 'tiny', name))).digest('hex'));
  torrentPath = path.join(work, 'tiny.torrent');
  assert.equal((await ctRun(['create', path.join(src, 'tiny'), '-o', torrentPath, '--piece-length', String(32 * 1024)])).code, 0);
  meta = parseMetainfo(await readFile(torrentPath));
  seedAddr = `127.0.0.1:${(await libtorrentSeeder(torrentPath, src)).port}`;
});
after(async () => {
  await stopAll();
  await removeDir(work);
});

// Regression: a piece verified while a file's bytes were being moved out of the part file was
// "moved" too, copying zeros over the good bytes just written to the file.
test('part file move: a piece verified during the move is not overwritten with zeros (engine, 3 readers)', async () => {
  for (const seed of [1, 2, 3]) {
    const session = await loopbackSession();
    try {
      const torrent = await session.addTorrent(meta, { downloadDir: path.join(work, `engine-${seed}`), peers: [seedAddr], onDemand: true });
      const order = shuffled(torrent.files, seed);
      const wrong: string[] = [];
      await Promise.all([0, 1, 2].map(async (k) => {
        for (let j = k; j < order.length; j += 3) {
          const f = order[j];
          const reader = f.createReader();
          const got = await reader.read(0, f.length + 1);
          reader.close();
          if (createHash('sha1').update(got).digest('hex') !== sha1.get(f.path)) wrong.push(f.path);
        }
      }));
      assert.deepEqual(wrong, [], `seed ${seed}: wrong bytes`);
      // And on disk: what the reads returned is what the download dir holds.
      for (const f of torrent.files) {
        const disk = await readFile(path.join(work, `engine-${seed}`, 'tiny', f.path));
        assert.equal(createHash('sha1').update(disk).digest('hex'), sha1.get(f.path), `seed ${seed}: ${f.path} on disk`);
      }
    } finally {
      await closeSessions(session);
    }
  }
});

/** A reader process (tracked by PID, so stopAll() ends it if the test fails). */
const readerProc = (files: string[]) => new Proc(spawn(process.execPath, [READ_FILES, ...files], { stdio: 'pipe' }), 'reader');

for (const writePath of ['mapped', 'pwrite'] as const) {
  test(`through the mount (${writePath} writes): 3 reader processes in random order, every byte right, 2 seeds`, async () => {
    for (const seed of [11, 12]) {
      const mnt = path.join(work, `mnt-${writePath}-${seed}`);
      const proc = ct(['mount', mnt, '--mkdir', '--metainfo', torrentPath, '--seeds', seedAddr, '--download-dir', path.join(work, `dl-${writePath}-${seed}`)],
        'ct mount', writePath === 'pwrite' ? { CT_NO_MAPPED_WRITE: '1' } : {});
      try {
        await waitUntil(() => {
          assert.equal(proc.exitCode, null, `ct mount exited: ${proc.stderr}`);
          return proc.stderr.includes('mounted');
        }, 'ct mount to come up', 30_000);
        const order = shuffled([...sha1.keys()], seed);
        const readers = [0, 1, 2].map((k) => readerProc(order.filter((_, j) => j % 3 === k).map((f) => path.join(mnt, 'tiny', f))));
        await Promise.all(readers.map((r) => r.waitExit(120_000)));
        const wrong: string[] = [];
        for (const r of readers) {
          for (const line of r.stdout.trim().split('\n')) {
            const [sum, file] = [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)];
            if (sum !== sha1.get(path.relative(path.join(mnt, 'tiny'), file))) wrong.push(`${path.relative(mnt, file)} (${sum.slice(0, 12)})`);
          }
        }
        assert.equal(readers.reduce((n, r) => n + r.stdout.trim().split('\n').length, 0), sha1.size, 'every file read once');
        assert.deepEqual(wrong, [], `seed ${seed}: wrong bytes through the mount`);
      } finally {
        proc.kill('SIGTERM');
        await proc.waitExit(30_000);
      }
    }
  });
}

test('a seeder never uploads a piece whose bytes changed on disk after verification; it fetches it again', async () => {
  // The seeder checks its data, then one byte of one file changes behind its back.
  const data = path.join(work, 'corrupt-src');
  await cp(path.join(src, 'tiny'), path.join(data, 'tiny'), { recursive: true });
  const seeder = await loopbackSession();
  const leecher = await loopbackSession();
  try {
    const seeding = await seeder.addTorrent(meta, { downloadDir: data });
    if (!seeding.isComplete) await waitFor(seeding, 'ready', { what: 'the seeder\'s check' });
    assert.ok(seeding.isComplete);
    const victim = seeding.files.find((f) => f.length > 50_000) ?? seeding.files[0];
    const fh = await open(path.join(data, 'tiny', victim.path), 'r+');
    await fh.write(Buffer.from([0x5a ^ (await readFile(path.join(data, 'tiny', victim.path)))[100]]), 0, 1, 100);
    await fh.close();
    const lost = waitFor<[number]>(seeding, 'piece-lost', { what: 'the changed piece to be found before an upload' });
    const leeching = await leecher.addTorrent(meta, { downloadDir: path.join(work, 'corrupt-dl'), peers: [addressOf(seeder)] });
    const [lostPiece] = await lost;
    // The seeder wants the piece again and gets it from a peer that has it.
    seeding.addPeers([seedAddr]);
    await whenDone(leeching);
    assert.equal(leeching.stats().hashFailures, 0, 'the leecher never received a bad piece');
    assert.ok(seeding.havePiece(lostPiece), 'the seeder fetched the lost piece again');
    const fixed = await readFile(path.join(data, 'tiny', victim.path));
    assert.equal(createHash('sha1').update(fixed).digest('hex'), sha1.get(victim.path), 'and the file on disk is right again');
  } finally {
    await closeSessions(leecher, seeder);
  }
});

test('a hasher failure (a worker died) is not a hash failure: nobody is banned, the piece is fetched again', async () => {
  const real = new HasherPool(1);
  let failures = 3;
  // A pool whose first hashes fail as a crashed worker's would.
  const flaky = Object.assign(Object.create(real) as HasherPool, {
    hash: (data: Uint8Array) => (failures-- > 0 ? Promise.reject(new HasherError('hash worker died: test')) : real.hash(data)),
    verify: async (data: Uint8Array, expected: Uint8Array) => (await flaky.hash(data)).equals(expected),
  });
  const session = await loopbackSession({ hasher: flaky });
  try {
    const torrent = await session.addTorrent(meta, { downloadDir: path.join(work, 'flaky-hasher'), peers: [seedAddr] });
    await whenDone(torrent);
    const stats = torrent.stats();
    assert.equal(failures < 0, true, 'the failing hashes happened');
    assert.equal(stats.bannedPeers, 0);
    assert.equal(stats.hashFailures, 0);
  } finally {
    await closeSessions(session);
    await real.close();
  }
});

test('a read with an aborted signal rejects at once, and a finished wait leaves no listener behind', async () => {
  const session = await loopbackSession();
  try {
    const torrent = await session.addTorrent(meta, { downloadDir: path.join(work, 'waits'), peers: [seedAddr], onDemand: true });
    const aborted = AbortSignal.abort(new Error('gone'));
    const early = (torrent.files.find((f) => f.length > 1000) ?? torrent.files[1]).createReader();
    await assert.rejects(early.read(0, 10, { signal: aborted }), /gone/);
    early.close();
    const signal = new AbortController().signal;
    const file = torrent.files[5];
    const reader = file.createReader();
    for (let i = 0; i < 20; i++) await reader.read(0, 10, { signal });
    reader.close();
    assert.equal(getEventListeners(signal, 'abort').length, 0, 'no abort listener left');
  } finally {
    await closeSessions(session);
  }
});
