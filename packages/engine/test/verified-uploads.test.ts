/**
 * Uploads come only from verified bytes: a piece read for an upload is trusted without a second
 * hash only while its file is untouched since the start-up check (same inode, size, mtime);
 * after any write to the file, each piece read from it is hashed again and a changed one is lost.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { HasherPool } from '../src/hash/hasher-pool.js';
import { FileLayout } from '../src/layout/file-layout.js';
import { createTorrent } from '../src/metainfo/create.js';
import { parseMetainfo } from '../src/metainfo/metainfo.js';
import { TorrentStorage } from '../src/storage/torrent-storage.js';
import { VerifiedUploads } from '../src/torrent/verified-uploads.js';

const PIECE = 256 * 1024;

async function seeded(pieceLength: number) {
  const dir = await mkdtemp(path.join(tmpdir(), 'ct-uploads-'));
  const file = path.join(dir, 'data.bin');
  await writeFile(file, randomBytes(pieceLength * 4));
  const meta = parseMetainfo(await createTorrent(file, { pieceLength }));
  const layout = new FileLayout(meta.files, meta.pieceLength);
  const storage = new TorrentStorage(layout, meta.files, dir, { readOnly: true });
  const hasher = new HasherPool(1);
  const lost: number[] = [];
  const uploads = new VerifiedUploads(meta, layout, storage, hasher, 0, (i) => lost.push(i));
  const close = async () => { await storage.close(); await hasher.close(); await rm(dir, { recursive: true, force: true }); };
  return { file, uploads, lost, close };
}

test('pieces of a file untouched since the check are served without a second hash', async () => {
  const { uploads, lost, close } = await seeded(PIECE);
  try {
    uploads.trust(await uploads.stampFiles());
    for (let i = 0; i < 4; i++) (await uploads.readBlock(i, 0, 16384)).release();
    assert.equal(uploads.rehashed, 0);
    assert.deepEqual(lost, []);
  } finally {
    await close();
  }
});

test('after a write to the file every piece read from it is hashed again; the changed one is lost, never served', async () => {
  const { file, uploads, lost, close } = await seeded(PIECE);
  try {
    uploads.trust(await uploads.stampFiles());
    const fh = await open(file, 'r+');
    const byte = Buffer.alloc(1);
    await fh.read(byte, 0, 1, PIECE * 2 + 5);
    await fh.write(Buffer.from([byte[0] ^ 0xff]), 0, 1, PIECE * 2 + 5);
    await fh.close();
    (await uploads.readBlock(0, 0, 16384)).release();
    await assert.rejects(uploads.readBlock(2, 0, 16384), /does not match its hash/);
    assert.deepEqual(lost, [2]);
    assert.equal(uploads.rehashed, 2, 'both reads after the write were hashed');
  } finally {
    await close();
  }
});

test('without a check\'s stamps (or with small pieces) every piece read is hashed', async () => {
  const untrusted = await seeded(PIECE);
  const small = await seeded(16 * 1024);
  try {
    (await untrusted.uploads.readBlock(1, 0, 16384)).release();
    assert.equal(untrusted.uploads.rehashed, 1);
    small.uploads.trust(await small.uploads.stampFiles());
    (await small.uploads.readBlock(1, 0, 16384)).release();
    assert.equal(small.uploads.rehashed, 1);
  } finally {
    await untrusted.close();
    await small.close();
  }
});
