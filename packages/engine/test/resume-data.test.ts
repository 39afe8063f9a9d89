/**
 * Fast resume (torrent/resume-data.ts): a restart trusts what the snapshot says for files whose
 * stamp (inode, size, mtime) is unchanged and hashes only the pieces of files that changed; a
 * snapshot that is not valid for this torrent is ignored and everything is checked.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { FileLayout } from '../src/layout/file-layout.js';
import { createTorrent } from '../src/metainfo/create.js';
import { parseMetainfo, type Metainfo } from '../src/metainfo/metainfo.js';
import { Session } from '../src/session/session.js';
import { planResume, savedRecency, snapshot, type ResumeData } from '../src/torrent/resume-data.js';
import { Bitfield } from '../src/util/bitfield.js';

const layout = new FileLayout([
  { offset: 0, length: 100_000, pad: false },
  { offset: 100_000, length: 28_000, pad: true },
  { offset: 128_000, length: 200_000, pad: false },
], 32768);
const HASH = 'ab'.repeat(20);

test('a snapshot is trusted piece by piece where every file under the piece kept its stamp', () => {
  const have = new Bitfield(layout.pieceCount);
  for (const i of [0, 1, 5, 9]) have.set(i);
  const data = snapshot(HASH, have, new Map([[0, 'a'], [2, 'c']]), 3);
  assert.deepEqual(data.files, ['a', null, 'c']);
  const same = planResume(JSON.parse(JSON.stringify(data)), HASH, layout, new Map([[0, 'a'], [2, 'c']]))!;
  assert.deepEqual([...Array(layout.pieceCount).keys()].filter((i) => same.trusted.get(i)), [0, 1, 5, 9]);
  assert.equal([...Array(layout.pieceCount).keys()].filter((i) => same.recheck(i)).length, 0);
  assert.deepEqual(same.changedFiles, []);
  // File 2 changed: its pieces (3 onwards; piece 3 also holds the pad) are checked, file 0's trusted.
  const changed = planResume(data, HASH, layout, new Map([[0, 'a'], [2, 'c2']]))!;
  assert.deepEqual(changed.changedFiles, [2]);
  assert.deepEqual([...Array(layout.pieceCount).keys()].filter((i) => changed.recheck(i)), [3, 4, 5, 6, 7, 8, 9, 10]);
  assert.deepEqual([...Array(layout.pieceCount).keys()].filter((i) => changed.trusted.get(i)), [0, 1]);
  // A file gone (no stamp now) is a changed file too.
  assert.deepEqual(planResume(data, HASH, layout, new Map([[2, 'c']]))!.changedFiles, [0]);
});

test('anything but a valid snapshot of this torrent is ignored', () => {
  const good = snapshot(HASH, new Bitfield(layout.pieceCount), new Map(), 3);
  const bad: unknown[] = [
    undefined, null, 'x', 42, {},
    { ...good, version: 2 },
    { ...good, infoHash: 'cd'.repeat(20) },
    { ...good, files: ['a'] },
    { ...good, files: [1, null, null] },
    { ...good, pieces: '!!!' },
    { ...good, pieces: Buffer.alloc(3).toString('base64') },
    { ...good, pieces: Buffer.from([0, 0x01]).toString('base64') }, // a spare bit set: 10 pieces, 16 bits
  ];
  for (const b of bad) assert.equal(planResume(b, HASH, layout, new Map()), undefined, JSON.stringify(b));
  assert.ok(planResume(good, HASH, layout, new Map()));
});

async function startOnce(meta: Metainfo, dir: string, resume?: unknown): Promise<{ ready: { have: number; trusted: number; hashed: number }; data: ResumeData; have: boolean[] }> {
  const session = await Session.create({ dht: false });
  try {
    let ready: { have: number; trusted: number; hashed: number } | undefined;
    session.on('torrent', (t) => t.on('ready', (r) => { ready = r; }));
    const torrent = await session.addTorrent(meta, { downloadDir: dir, discovery: false, resume });
    const data = await torrent.resumeData();
    const have = Array.from({ length: meta.pieceCount }, (_, i) => torrent.havePiece(i));
    return { ready: ready!, data, have };
  } finally {
    await session.close();
  }
}

test('a restart with the snapshot hashes nothing; after one file is written, only its pieces', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'ct-resume-data-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const root = path.join(dir, 'album');
  await mkdir(root);
  const sizes = [300_000, 150_000, 420_000];
  for (const [i, size] of sizes.entries()) await writeFile(path.join(root, `f${i}.bin`), randomBytes(size));
  const meta = parseMetainfo(await createTorrent(root, { pieceLength: 65536 }));
  const first = await startOnce(meta, dir);
  assert.deepEqual(first.ready, { have: meta.pieceCount, trusted: 0, hashed: meta.pieceCount });
  const second = await startOnce(meta, dir, JSON.parse(JSON.stringify(first.data)));
  assert.deepEqual(second.ready, { have: meta.pieceCount, trusted: meta.pieceCount, hashed: 0 });
  // Flip one byte of f1.bin (bytes 300,000-450,000 of the torrent: pieces 4-6), same size.
  const fh = await open(path.join(root, 'f1.bin'), 'r+');
  const one = Buffer.alloc(1);
  await fh.read(one, 0, 1, 100_000);
  await fh.write(Buffer.from([one[0] ^ 0xff]), 0, 1, 100_000);
  await fh.close();
  const third = await startOnce(meta, dir, second.data);
  const layoutOf = new FileLayout(meta.files, meta.pieceLength);
  const touching = [...Array(meta.pieceCount).keys()].filter((i) => layoutOf.pieceSegments(i).some((s) => meta.files[s.fileIndex].path.at(-1) === 'f1.bin'));
  const flipped = Math.floor((300_000 + 100_000) / 65536);
  assert.equal(third.ready.hashed, touching.length);
  assert.equal(third.ready.trusted, meta.pieceCount - touching.length);
  assert.deepEqual(third.have.flatMap((h, i) => (h ? [] : [i])), [flipped]);
  // A snapshot of another torrent (or garbage) is a full check, never trusted.
  const other = await startOnce(meta, dir, { ...second.data, infoHash: 'cd'.repeat(20) });
  assert.deepEqual(other.ready, { have: meta.pieceCount - 1, trusted: 0, hashed: meta.pieceCount });
});

test('the bounded cache\'s recency order rides in the snapshot: kept as given, and read back only as valid piece indexes, each once', () => {
  const have = new Bitfield(8);
  const snap = snapshot('ab'.repeat(20), have, new Map(), 1, [5, 2, 7]);
  assert.deepEqual(snap.recency, [5, 2, 7]);
  assert.equal('recency' in snapshot('ab'.repeat(20), have, new Map(), 1, []), false, 'no empty field');
  assert.deepEqual(savedRecency(JSON.parse(JSON.stringify(snap)), 8), [5, 2, 7]);
  assert.deepEqual(savedRecency({ recency: [1, 1, -1, 8, 2.5, '3', 3] }, 8), [1, 3]);
  assert.deepEqual(savedRecency({ recency: 'x' }, 8), []);
  assert.deepEqual(savedRecency(null, 8), []);
});
