import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { HasherPool, allocPieceBuffer } from '../src/hash/hasher-pool.js';

test('hashes match node:crypto for shared and plain buffers', async () => {
  const pool = new HasherPool(2);
  const shared = allocPieceBuffer(1 << 20).fill(9);
  const plain = Buffer.from('hello world');
  assert.deepEqual(await pool.hash(shared), createHash('sha1').update(shared).digest());
  assert.deepEqual(await pool.hash(plain), createHash('sha1').update(plain).digest());
  assert.ok(await pool.verify(plain, createHash('sha1').update(plain).digest()));
  await pool.close();
});

// Regression: unref'd before its listeners were attached, the pool kept every embedding process
// alive after its work was done; unref'd too eagerly, a pending hash let the process quit.
test('a pending hash keeps the process alive, an idle pool does not', () => {
  const engine = fileURLToPath(new URL('../src/hash/hasher-pool.ts', import.meta.url));
  const script = `import { HasherPool } from ${JSON.stringify(engine)};
    const p = new HasherPool(2);
    console.log((await p.hash(Buffer.from('abc'))).toString('hex'));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 15_000, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), createHash('sha1').update('abc').digest('hex'));
});
