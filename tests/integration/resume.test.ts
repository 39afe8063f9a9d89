/**
 * Fast resume (issue 14): `ct download` killed with SIGKILL at three moments resumes each time
 * from the snapshot in its state dir (trusting files that did not change since, hashing the
 * rest), ends byte-exact, and a run after completion hashes nothing. A rate-capped libtorrent
 * seeder on loopback keeps the download slow enough to be interrupted.
 */
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { parseMetainfo, type Metainfo } from '@ct/engine';
import { makeTree, removeDir, sameTree, tempDir } from '../helpers/fixtures.js';
import { ct, ctRun, libtorrentSeeder, stopAll } from '../helpers/procs.js';
import { waitUntil } from '../helpers/wait.js';

let work: string;
let torrentPath: string;
let meta: Metainfo;
let seedAddr: string;

before(async () => {
  work = await tempDir('ct-resume-');
  const files: [string, number][] = [];
  for (let i = 0; i < 40; i++) files.push([`part${i % 4}/f${i}.bin`, 150_000 + ((i * 7919) % 100_000)]);
  await makeTree(path.join(work, 'src', 'set'), files);
  torrentPath = path.join(work, 'set.torrent');
  assert.equal((await ctRun(['create', path.join(work, 'src', 'set'), '-o', torrentPath, '--piece-length', String(64 * 1024)])).code, 0);
  meta = parseMetainfo(await readFile(torrentPath));
  // ~8 MB at 1.5 MB/s: a few seconds to interrupt.
  seedAddr = `127.0.0.1:${(await libtorrentSeeder(torrentPath, path.join(work, 'src'), { rate: 1_500_000 })).port}`;
});
after(async () => {
  await stopAll();
  await removeDir(work);
});

/** Pieces in the snapshot the state dir holds now (0 when there is none yet). */
async function snapshotPieces(stateDir: string): Promise<number> {
  const dir = path.join(stateDir, 'resume');
  const names = await readdir(dir).catch(() => [] as string[]);
  const file = names.find((n) => n.startsWith(meta.infoHashHex) && n.endsWith('.json'));
  if (!file) return 0;
  const data = JSON.parse(await readFile(path.join(dir, file), 'utf8').catch(() => '{}')) as { pieces?: string };
  let count = 0;
  for (const byte of Buffer.from(data.pieces ?? '', 'base64')) for (let b = byte; b; b &= b - 1) count++;
  return count;
}

interface Started { alreadyHave: number; trusted: number; hashed: number }

function download(out: string, stateDir: string) {
  const proc = ct(['download', torrentPath, '--seeds', seedAddr, '--download-dir', out, '--state-dir', stateDir, '--no-dht', '--json', '--resume-every', '0.2', '--listen', '127.0.0.1:0']);
  const started = proc.waitFor(/^\{"type":"started".*$/m, 30_000).then((m) => JSON.parse(m[0]) as Started);
  return { proc, started };
}

test('SIGKILL at three moments of a download: each restart trusts what was saved and unchanged, the end is byte-exact, a rerun hashes nothing', async () => {
  const out = path.join(work, 'out');
  const stateDir = path.join(work, 'state');
  let saved = 0;
  for (const fraction of [0.25, 0.5, 0.75]) {
    const { proc, started } = download(out, stateDir);
    const s = await started;
    if (saved > 0) assert.ok(s.trusted > 0, `a snapshot of ${saved} pieces was there, yet nothing was trusted: ${JSON.stringify(s)}`);
    assert.ok(s.trusted + s.hashed <= meta.pieceCount);
    // Interrupt once the snapshot on disk holds this much of the torrent.
    await waitUntil(async () => (await snapshotPieces(stateDir)) >= fraction * meta.pieceCount, `a snapshot of ${fraction * 100} %`, 60_000);
    saved = await snapshotPieces(stateDir);
    proc.kill('SIGKILL');
    await proc.waitExit(10_000);
  }
  const last = download(out, stateDir);
  assert.ok((await last.started).trusted > 0);
  assert.equal(await last.proc.waitExit(120_000), 0, last.proc.stderr);
  assert.ok((await sameTree(path.join(work, 'src', 'set'), path.join(out, 'set'))).same, 'byte-exact after three kills');
  // Complete and stopped cleanly: the next start trusts every piece and hashes none.
  const again = download(out, stateDir);
  const s = await again.started;
  assert.deepEqual([s.alreadyHave, s.trusted, s.hashed], [meta.pieceCount, meta.pieceCount, 0]);
  assert.equal(await again.proc.waitExit(30_000), 0);
});
