import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { FileLayout } from '../src/layout/file-layout.js';
import { TorrentStorage } from '../src/storage/torrent-storage.js';
import { nativeAddonExpected } from './helpers/native-status.js';

function setup(sizes: number[], pieceLength: number) {
  let offset = 0;
  const files = sizes.map((length, i) => {
    const f = { path: [`dir${i % 3}`, `f${i}.bin`], length, pad: false, offset };
    offset += length;
    return f;
  });
  return { files, layout: new FileLayout(files, pieceLength), data: randomBytes(offset) };
}

// Regression guard: with more files than descriptors, an fd closed under an in-flight IO could be
// reused by another file and the IO land in the wrong file.
test('many files through 2 descriptors: concurrent writes and reads land in the right files', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'ct-storage-'));
  try {
    const { files, layout, data } = setup(Array.from({ length: 40 }, (_, i) => 1000 + i * 337), 4096);
    const storage = new TorrentStorage(layout, files, dir, { maxOpenFiles: 2 });
    const pieces = [...Array(layout.pieceCount).keys()].reverse();
    await Promise.all(pieces.map((i) => storage.writePiece(i, data.subarray(i * 4096, i * 4096 + layout.pieceSize(i)))));
    const back = await Promise.all(pieces.map((i) => storage.readPiece(i)));
    pieces.forEach((i, k) => assert.ok(back[k].equals(data.subarray(i * 4096, i * 4096 + layout.pieceSize(i))), `piece ${i}`));
    for (const f of files) {
      assert.ok((await readFile(path.join(dir, ...f.path))).equals(data.subarray(f.offset, f.offset + f.length)), f.path.join('/'));
    }
    await storage.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('files are created sparse at full size on first write; untouched files do not exist and read as zeros', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'ct-storage-'));
  try {
    const { files, layout, data } = setup([50_000, 50_000], 16384);
    const storage = new TorrentStorage(layout, files, dir);
    await storage.writePiece(0, data.subarray(0, 16384));
    assert.equal((await stat(path.join(dir, ...files[0].path))).size, 50_000);
    await assert.rejects(stat(path.join(dir, ...files[1].path)));
    const tail = await storage.read(60_000, 1000);
    assert.ok(tail.every((b) => b === 0));
    await storage.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a path that would leave the root is refused', () => {
  const layout = new FileLayout([{ offset: 0, length: 1, pad: false }], 16384);
  assert.throws(() => new TorrentStorage(layout, [{ path: ['..', 'x'], length: 1, pad: false }], '/tmp/root'), /outside download dir/);
});

test('the mapped-write addon, when built, is the path in use and writes exact bytes at unaligned offsets', async (t) => {
  if (!nativeAddonExpected('CT_NO_MAPPED_WRITE')) {
    // Forced off, or a machine with no C compiler / Node headers: the fallback must be in use.
    assert.equal(TorrentStorage.writePath, 'pwrite');
    return;
  }
  assert.equal(TorrentStorage.writePath, 'mapped');
  const { mappedWriter } = await import('../src/storage/mapped-write.js');
  const dir = await mkdtemp(path.join(tmpdir(), 'ct-mapped-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const { open } = await import('node:fs/promises');
  const fh = await open(path.join(dir, 'f'), 'w+');
  const a = randomBytes(10_000);
  const b = randomBytes(5_000);
  // With read-around (the kernel may fault zero-filled folios beyond the window) and without.
  await Promise.all([mappedWriter!.write(fh.fd, 4097, a, true), mappedWriter!.write(fh.fd, 20_000, b, false)]);
  // Into the range the first write's read-around may have brought in as zeros, both ways.
  const c = randomBytes(3_000);
  const d = randomBytes(2_000);
  await mappedWriter!.write(fh.fd, 14_097, c, false);
  await mappedWriter!.write(fh.fd, 25_000, d, true);
  await fh.close();
  const back = await readFile(path.join(dir, 'f'));
  assert.equal(back.length, 27_000);
  assert.ok(back.subarray(4097, 14_097).equals(a));
  assert.ok(back.subarray(14_097, 17_097).equals(c));
  assert.ok(back.subarray(17_097, 20_000).every((x) => x === 0));
  assert.ok(back.subarray(20_000, 25_000).equals(b));
  assert.ok(back.subarray(25_000).equals(d));
  assert.ok(back.subarray(0, 4097).every((x) => x === 0));
});

// Streaming through a mount halved when the kernel read around the mapped writes of a file being
// read; a plain download spends ~0.8 s less CPU per GiB with it. The switch is per file, on its first read.
test('mapped writes read around only in files nobody has read in this run', async (t) => {
  const { mappedWriter } = await import('../src/storage/mapped-write.js');
  const dir = await mkdtemp(path.join(tmpdir(), 'ct-read-around-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const pieceLength = 1 << 20;
  const { files, layout, data } = setup([2 * pieceLength, 2 * pieceLength], pieceLength);
  const storage = new TorrentStorage(layout, files, dir);
  if (!mappedWriter) {
    // The fallback (no addon, or CT_NO_MAPPED_WRITE=1): pwrite, where there is no read-around.
    assert.equal(TorrentStorage.writePath, 'pwrite');
    for (let i = 0; i < 4; i++) await storage.writePiece(i, data.subarray(i * pieceLength, (i + 1) * pieceLength));
    assert.ok((await storage.read(0, data.length)).equals(data), 'every byte exact');
    return storage.close();
  }
  const seen: { position: number; readAround: boolean }[] = [];
  const real = mappedWriter.write;
  const writer = mappedWriter as { write: typeof real };
  writer.write = (fd, position, bytes, readAround) => {
    seen.push({ position, readAround });
    return real.call(mappedWriter, fd, position, bytes, readAround);
  };
  t.after(() => { writer.write = real; });
  const piece = (i: number) => data.subarray(i * pieceLength, (i + 1) * pieceLength);
  await storage.writePiece(0, piece(0));
  await storage.writePiece(2, piece(2));
  assert.deepEqual(seen.splice(0).map((w) => w.readAround), [true, true], 'nothing read yet: both files read around');
  assert.ok((await storage.read(0, 1000)).equals(data.subarray(0, 1000)));
  await storage.writePiece(1, piece(1));
  await storage.writePiece(3, piece(3));
  assert.deepEqual(seen.map((w) => w.readAround), [false, true], 'the file that was read no longer reads around; the other still does');
  assert.ok((await storage.read(0, data.length)).equals(data), 'every byte exact');
  await storage.close();
});

test('a deselected file is never created: its share of a boundary piece goes to the part file, and moves in when the file is selected', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'ct-storage-'));
  try {
    // f0 [0, 50000) and f1 [50000, 100000) share piece 3 (49152..65535).
    const { files, layout, data } = setup([50_000, 50_000], 16384);
    const partFile = path.join(dir, '.parts');
    const piece = (i: number) => data.subarray(i * 16384, i * 16384 + layout.pieceSize(i));
    const storage = new TorrentStorage(layout, files, dir, { partFile });
    await storage.initAllocation();
    assert.equal(storage.isAllocated(0) || storage.isAllocated(1), false, 'nothing exists yet');
    await storage.allocate(1, () => false);
    await Promise.all([3, 4, 5, 6].map((i) => storage.writePiece(i, piece(i))));
    await assert.rejects(stat(path.join(dir, ...files[0].path)), 'the deselected file does not exist');
    assert.ok((await stat(partFile)).blocks * 512 <= 16384 + 4096, 'the part file holds about its share of one piece');
    assert.ok((await storage.readPiece(3)).equals(piece(3)), 'a boundary piece reads back whole (seeding, resume)');
    assert.equal((await storage.storedPieces())(3), true);
    await storage.close();

    // Next run: f1 exists (allocated), f0 does not; the resume check finds piece 3 whole.
    const again = new TorrentStorage(layout, files, dir, { partFile });
    await again.initAllocation();
    assert.deepEqual([again.isAllocated(0), again.isAllocated(1)], [false, true]);
    assert.ok((await again.readPiece(3)).equals(piece(3)));
    await again.allocate(0, (i) => i === 3);
    const f0 = await readFile(path.join(dir, ...files[0].path));
    assert.ok(f0.subarray(49152).equals(data.subarray(49152, 50_000)), 'its share moved into the selected file');
    await assert.rejects(stat(partFile), 'the part file is removed once every file is allocated');
    assert.ok((await again.readPiece(3)).equals(piece(3)));
    await again.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
