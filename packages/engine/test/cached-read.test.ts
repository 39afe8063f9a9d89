/**
 * The native page-cache read (storage/cached-read.ts): bytes in the page cache are copied at
 * once, bytes that would need the disk are refused (-1) and then read through the pool, and
 * either way the caller gets the file's exact bytes.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { cachedReader } from '../src/storage/cached-read.js';
import { readAtCachedFirst } from '../src/storage/positional-io.js';
import { nativeAddonExpected } from './helpers/native-status.js';

const addonExpected = () => nativeAddonExpected('CT_NO_CACHED_READ');

/** Drops the file's clean pages from the page cache (Node has no posix_fadvise). */
function evict(file: string): void {
  execFileSync('python3', ['-c', 'import os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); os.fsync(fd); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)', file]);
}

test('bytes just written come from the page cache; evicted ones through the pool; both exact', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'ct-cached-read-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'f');
  const data = randomBytes(1 << 20);
  const fh = await open(file, 'w+');
  t.after(() => fh.close());
  await fh.write(data, 0, data.length, 0);

  if (!(await addonExpected())) {
    assert.equal(cachedReader, undefined);
  } else {
    const into = Buffer.alloc(128 * 1024);
    assert.equal(cachedReader!.readCached(fh.fd, into, 4097), into.length, 'a cached range is copied whole');
    assert.ok(into.equals(data.subarray(4097, 4097 + into.length)));
    assert.equal(cachedReader!.readCached(fh.fd, into, data.length - 1000), 1000, 'short at the end of the file');
    assert.equal(cachedReader!.readCached(fh.fd, into, data.length), 0, '0 at the end');
    // DONTNEED is advice: a page the kernel is still writing back stays. Ask again until it went.
    let refused = -2;
    for (let tries = 0; tries < 10 && refused !== -1; tries++) {
      evict(file);
      refused = cachedReader!.readCached(fh.fd, into, 300_000);
      if (refused !== -1) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(refused, -1, 'not cached: refused, nothing waited for');
  }

  evict(file);
  const back = Buffer.alloc(data.length + 10);
  assert.equal(await readAtCachedFirst(fh.fd, back, 10, data.length, 0), data.length);
  assert.ok(back.subarray(10).equals(data));
  const again = Buffer.alloc(data.length);
  assert.equal(await readAtCachedFirst(fh.fd, again, 0, data.length, 0), data.length, 'now cached');
  assert.ok(again.equals(data));
  assert.equal(await readAtCachedFirst(fh.fd, again, 0, 5000, data.length - 2000), 2000, 'short at the end, as readAt');
});
