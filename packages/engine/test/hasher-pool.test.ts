import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { HasherPool, allocPieceBuffer } from '../src/hash/hasher-pool.js';
import { nativeAddonExpected } from './helpers/native-status.js';

/** Whether the native hasher (native/sha1_batch.c) must be there: built, and not turned off. */
const nativeExpected = () => nativeAddonExpected('CT_NO_NATIVE_HASH');

// Both kinds of lane: the libuv pool (native) and worker threads.
const MODES = [{ name: 'native', native: true }, { name: 'workers', native: false }];

test('the native hasher is used wherever it was built', () => {
  const pool = new HasherPool(1);
  assert.equal(pool.native, nativeExpected());
  void pool.close();
});

for (const mode of MODES) {
  test(`${mode.name}: hashes match node:crypto for shared, plain, empty and odd-sized buffers`, async () => {
    const pool = new HasherPool(2, undefined, { native: mode.native });
    const shared = allocPieceBuffer(1 << 20).fill(9);
    const plain = Buffer.from('hello world');
    const odd = allocPieceBuffer(16384 * 3 + 7).fill(5).subarray(3);
    for (const b of [shared, plain, Buffer.alloc(0), odd]) assert.deepEqual(await pool.hash(b), createHash('sha1').update(b).digest());
    assert.ok(await pool.verify(plain, createHash('sha1').update(plain).digest()));
    assert.equal(await pool.verify(plain, createHash('sha1').update('hello').digest()), false);
    await pool.close();
  });
}

// Regression: unref'd before its listeners were attached, the pool kept every embedding process
// alive after its work was done; unref'd too eagerly, a pending hash let the process quit.
for (const mode of MODES) {
  test(`${mode.name}: a pending hash keeps the process alive, an idle pool does not`, () => {
    const engine = fileURLToPath(new URL('../src/hash/hasher-pool.ts', import.meta.url));
    const script = `import { HasherPool } from ${JSON.stringify(engine)};
      const p = new HasherPool(2, undefined, { native: ${mode.native} });
      console.log((await p.hash(Buffer.from('abc'))).toString('hex'));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 15_000, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), createHash('sha1').update('abc').digest('hex'));
  });
}

const sha1 = (b: Uint8Array) => createHash('sha1').update(b).digest();

// Each message cost the main thread ~70 us however small: 1 GiB of 16 KiB pieces completing a
// few per socket read went out in ~8,000 messages. Small pieces now wait a little for company.
for (const mode of MODES) test(`${mode.name}: small pieces wait for company: posted when a batch is full or the short wait ends, never per turn`, async () => {
  // The wait ends only when the test says so, so nothing here depends on speed.
  const waiting: (() => void)[] = [];
  const pool = new HasherPool(1, (fn) => waiting.push(fn), { native: mode.native });
  const turn = () => new Promise((r) => setImmediate(r));
  const pieces = Array.from({ length: 74 }, (_, i) => allocPieceBuffer(16384).fill(i % 251));
  const answers: Promise<Buffer>[] = [];
  for (let i = 0; i < 10; i++) {
    answers.push(pool.hash(pieces[i]));
    await turn();
  }
  assert.equal(pool.messagesPosted, 0, '10 small pieces over 10 turns wait');
  for (let i = 10; i < 74; i++) answers.push(pool.hash(pieces[i]));
  assert.equal(pool.messagesPosted, 1, 'a full batch of 64 goes at once');
  for (const end of waiting.splice(0)) end();
  const digests = await Promise.all(answers);
  digests.forEach((d, i) => assert.deepEqual(d, sha1(pieces[i]), `piece ${i}`));
  assert.equal(pool.messagesPosted, 2, 'the other 10 went when the first batch was answered');
  await pool.close();
});

for (const mode of MODES) test(`${mode.name}: more than a batch at once: the jobs beyond it are posted when the first batch is answered`, async () => {
  const pool = new HasherPool(1, undefined, { native: mode.native });
  const pieces = Array.from({ length: 150 }, (_, i) => allocPieceBuffer(16384).fill(i % 7));
  const digests = await Promise.all(pieces.map((p) => pool.hash(p)));
  digests.forEach((d, i) => assert.deepEqual(d, sha1(pieces[i])));
  assert.equal(pool.messagesPosted, 3, '64 + 64 + 22');
  await pool.close();
});
