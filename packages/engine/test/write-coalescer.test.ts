import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WriteCoalescer } from '../src/storage/write-coalescer.js';

test('writes of one turn merge into runs of contiguous ranges per file; a gap or another file starts a new run', async () => {
  const runs: string[] = [];
  const c = new WriteCoalescer(async (file, pos, bufs) => { runs.push(`${file}@${pos}:${bufs.map((b) => b.length).join('+')}`); });
  const b = (n: number) => Buffer.alloc(n);
  await Promise.all([
    c.write(0, 200, b(100)), c.write(0, 0, b(100)), c.write(0, 100, b(100)), // out of order, contiguous
    c.write(0, 1000, b(50)), // a gap
    c.write(1, 300, b(100)), // another file
  ]);
  assert.deepEqual(runs.sort(), ['0@0:100+100+100', '0@1000:50', '1@300:100']);
});

test('a failed run rejects exactly its writes', async () => {
  const c = new WriteCoalescer(async (file) => { if (file === 1) throw new Error('ENOSPC'); });
  const results = await Promise.allSettled([c.write(0, 0, Buffer.alloc(10)), c.write(1, 0, Buffer.alloc(10)), c.write(1, 10, Buffer.alloc(10))]);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'rejected']);
});

test('runs are bounded (256 buffers)', async () => {
  const runs: number[] = [];
  const c = new WriteCoalescer(async (_f, _p, bufs) => { runs.push(bufs.length); });
  await Promise.all(Array.from({ length: 600 }, (_, i) => c.write(0, i * 16, Buffer.alloc(16))));
  assert.deepEqual(runs, [256, 256, 88]);
});

// Regression: writes were gathered only within one turn of the event loop; under load each turn
// completed a piece or two, so 16 KiB pieces were written one pwrite each while the file's
// previous write was still on disk.
test('writes arriving while a file\'s batch is on disk leave together as the next batch', async () => {
  const runs: string[] = [];
  let release: () => void = () => undefined;
  const c = new WriteCoalescer(async (_f, pos, bufs) => {
    runs.push(`${pos}:${bufs.length}`);
    if (pos === 0) await new Promise<void>((r) => { release = r; });
  });
  const first = c.write(0, 0, Buffer.alloc(16));
  await new Promise((r) => setImmediate(r));
  const later: Promise<void>[] = [];
  for (let turn = 0; turn < 5; turn++) {
    later.push(c.write(0, 16 * (turn + 1), Buffer.alloc(16)));
    await new Promise((r) => setImmediate(r));
  }
  assert.deepEqual(runs, ['0:1'], 'nothing else is written while the first batch is on disk');
  release();
  await Promise.all([first, ...later]);
  assert.deepEqual(runs, ['0:1', '16:5'], 'the five writes of five turns go as one run');
});
