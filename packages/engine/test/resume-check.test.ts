/**
 * The check of what is on disk (storage/resume-check.ts), hashed in place from the page cache
 * (native/sha1_file.c) or read into buffers: both must find exactly the pieces whose bytes on
 * disk are right, whatever the files look like (several per piece, pad files, empty files,
 * corrupted, short or missing ones), and a file that shrinks under the mapping must end in an
 * error for that batch, never a SIGBUS that kills the process.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { HasherPool } from '../src/hash/hasher-pool.js';
import { FileLayout } from '../src/layout/file-layout.js';
import { mappedHasher } from '../src/storage/mapped-hash.js';
import { checkExistingPieces } from '../src/storage/resume-check.js';
import { TorrentStorage } from '../src/storage/torrent-storage.js';
import { nativeAddonExpected } from './helpers/native-status.js';

const hasher = new HasherPool(2);
test.after(() => hasher.close());

/** A seeded generator, so a failing trial can be replayed from its seed. */
function rng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x % n;
  };
}

interface Torrent {
  layout: FileLayout;
  files: { path: string[]; length: number; pad: boolean; offset: number }[];
  data: Buffer;
  hashes: Buffer[];
}

/** Random files (some empty, some pads), a piece length of 16-80 KiB, data with zeros in pads. */
function randomTorrent(rand: (n: number) => number): Torrent {
  const pieceLength = 16384 * (1 + rand(5));
  let offset = 0;
  const files = Array.from({ length: 1 + rand(7) }, (_, i) => {
    const pad = i > 0 && rand(5) === 0;
    const length = rand(6) === 0 ? 0 : 1 + rand(pieceLength * 3);
    const f = { path: [`d${i % 2}`, `f${i}`], length, pad, offset };
    offset += length;
    return f;
  }).filter((f, i, all) => f.length > 0 || i < all.length - 1);
  if (offset === 0) files.push({ path: ['last'], length: 1000, pad: false, offset: 0 });
  const layout = new FileLayout(files, pieceLength);
  const data = randomBytes(layout.totalLength);
  for (const f of files) if (f.pad) data.fill(0, f.offset, f.offset + f.length);
  const hashes = Array.from({ length: layout.pieceCount }, (_, i) =>
    createHash('sha1').update(data.subarray(i * pieceLength, i * pieceLength + layout.pieceSize(i))).digest());
  return { layout, files, data, hashes };
}

/** Which pieces have exactly the right bytes on disk, worked out from what we did to the files. */
function truth(t: Torrent, onDisk: (Buffer | undefined)[]): boolean[] {
  return Array.from({ length: t.layout.pieceCount }, (_, i) => t.layout.pieceSegments(i).every((s) => {
    if (t.files[s.fileIndex].pad) return true;
    const bytes = onDisk[s.fileIndex];
    const want = t.data.subarray(t.files[s.fileIndex].offset + s.fileOffset, t.files[s.fileIndex].offset + s.fileOffset + s.length);
    return bytes !== undefined && bytes.length >= s.fileOffset + s.length && bytes.subarray(s.fileOffset, s.fileOffset + s.length).equals(want);
  }));
}

test('hashed in place or read into buffers, the check finds exactly the right pieces (randomized)', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'ct-resume-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (let seed = 1; seed <= 25; seed++) {
    const rand = rng(seed * 7919);
    const tor = randomTorrent(rand);
    const root = path.join(dir, `t${seed}`);
    const storage = new TorrentStorage(tor.layout, tor.files, root);
    for (let i = 0; i < tor.layout.pieceCount; i++) {
      await storage.writePiece(i, tor.data.subarray(i * tor.layout.pieceLength, i * tor.layout.pieceLength + tor.layout.pieceSize(i)));
    }
    await storage.close();
    // What happens to each real file afterwards: kept, a byte flipped, cut short, or deleted.
    const onDisk: (Buffer | undefined)[] = [];
    for (const f of tor.files) {
      if (f.pad || f.length === 0) { onDisk.push(undefined); continue; }
      const file = path.join(root, ...f.path);
      let bytes: Buffer | undefined = Buffer.from(tor.data.subarray(f.offset, f.offset + f.length));
      const fate = rand(6);
      if (fate === 0) {
        bytes[rand(bytes.length)] ^= 0xff;
        await writeFile(file, bytes);
      } else if (fate === 1) {
        const size = rand(bytes.length);
        await truncate(file, size);
        bytes = bytes.subarray(0, size);
      } else if (fate === 2) {
        await unlink(file);
        bytes = undefined;
      }
      onDisk.push(bytes);
    }
    const expected = truth(tor, onDisk);
    for (const inPlace of [true, false]) {
      const reader = new TorrentStorage(tor.layout, tor.files, root, { readOnly: true });
      const found = await checkExistingPieces(tor.layout, reader, hasher, (i) => tor.hashes[i], { inPlace });
      await reader.close();
      const got = Array.from({ length: tor.layout.pieceCount }, (_, i) => found.get(i));
      assert.deepEqual(got, expected, `seed ${seed}, ${inPlace ? 'in place' : 'read into buffers'}`);
    }
  }
});

test('where the addon was built the check reads no piece into a buffer', async (t) => {
  const expected = nativeAddonExpected('CT_NO_MAPPED_HASH');
  const dir = await mkdtemp(path.join(tmpdir(), 'ct-resume-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const tor = randomTorrent(rng(4242));
  const storage = new TorrentStorage(tor.layout, tor.files, dir);
  assert.equal(storage.hashesInPlace, expected);
  for (let i = 0; i < tor.layout.pieceCount; i++) {
    await storage.writePiece(i, tor.data.subarray(i * tor.layout.pieceLength, i * tor.layout.pieceLength + tor.layout.pieceSize(i)));
  }
  let reads = 0;
  const readPiece = storage.readPiece.bind(storage);
  storage.readPiece = (index, into) => { reads++; return readPiece(index, into); };
  const found = await checkExistingPieces(tor.layout, storage, hasher, (i) => tor.hashes[i]);
  await storage.close();
  assert.equal(found.count, tor.layout.pieceCount);
  assert.equal(reads, expected ? 0 : tor.layout.pieceCount);
});

test('a file shorter than its ranges: EFAULT from the pre-fault and from the SIGBUS guard, and the process lives on', async (t) => {
  if (!nativeAddonExpected('CT_NO_MAPPED_HASH')) return assert.equal(mappedHasher, undefined);
  const hashFileRanges = mappedHasher!.hashFileRanges;
  const dir = await mkdtemp(path.join(tmpdir(), 'ct-resume-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'f');
  const data = randomBytes(3 * 4096 + 100);
  await writeFile(file, data);
  const fh = await open(file, 'r');
  t.after(() => fh.close());
  const whole = new Float64Array([fh.fd, 0, data.length + 3 * 4096]);
  for (const populate of [true, false]) {
    await assert.rejects(hashFileRanges(whole, new Uint32Array([1]), populate), (err: NodeJS.ErrnoException) => err.code === 'EFAULT');
  }
  // Still hashing: a piece of file bytes, zeros and file bytes again, as pad files make them.
  const ranges = new Float64Array([fh.fd, 10, 5000, -1, 0, 70000, fh.fd, 5010, data.length - 5010]);
  const digests = await hashFileRanges(ranges, new Uint32Array([1, 3]));
  assert.ok(digests.subarray(0, 20).equals(createHash('sha1').update(data.subarray(10, 5010)).digest()));
  assert.ok(digests.subarray(20).equals(createHash('sha1').update(Buffer.alloc(70000)).update(data.subarray(5010)).digest()));
});

test('a file cut short after the size check: hashInPlace gives up and the piece is not had', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'ct-resume-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const files = [{ path: ['a'], length: 100_000, pad: false, offset: 0 }];
  const layout = new FileLayout(files, 32768);
  const data = randomBytes(100_000);
  const storage = new TorrentStorage(layout, files, dir);
  for (let i = 0; i < layout.pieceCount; i++) await storage.writePiece(i, data.subarray(i * 32768, i * 32768 + layout.pieceSize(i)));
  await truncate(path.join(dir, 'a'), 40_000);
  assert.equal(await storage.hashInPlace([0, 1, 2, 3]), undefined);
  const digests = await storage.hashInPlace([0]);
  if (storage.hashesInPlace) assert.ok(digests?.equals(createHash('sha1').update(data.subarray(0, 32768)).digest()));
  await storage.close();
});

test('pieces larger than the 8 MiB window are hashed across windows, a bad byte in the second one found', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'ct-resume-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const files = [{ path: ['head'], length: 5001, pad: false, offset: 0 }, { path: ['big'], length: 20 * 1024 * 1024 + 123, pad: false, offset: 5001 }];
  const layout = new FileLayout(files, 12 * 1024 * 1024);
  const data = randomBytes(layout.totalLength);
  const hashes = [0, 1].map((i) => createHash('sha1').update(data.subarray(i * layout.pieceLength, i * layout.pieceLength + layout.pieceSize(i))).digest());
  const storage = new TorrentStorage(layout, files, dir);
  for (const i of [0, 1]) await storage.writePiece(i, data.subarray(i * layout.pieceLength, i * layout.pieceLength + layout.pieceSize(i)));
  assert.equal((await checkExistingPieces(layout, storage, hasher, (i) => hashes[i])).count, 2);
  const fh = await open(path.join(dir, 'big'), 'r+');
  await fh.write(Buffer.from([data[5001 + 9 * 1024 * 1024] ^ 1]), 0, 1, 9 * 1024 * 1024);
  await fh.close();
  const after = await checkExistingPieces(layout, storage, hasher, (i) => hashes[i]);
  assert.deepEqual([after.get(0), after.get(1)], [false, true]);
  await storage.close();
});
