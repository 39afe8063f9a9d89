import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FileReader, type ReaderHost } from '../src/stream/file-reader.js';

/** A host whose pieces arrive when the test says so, recording what the reader wants. */
function fakeHost() {
  const wanted = new Map<object, number[]>();
  const waiting: { first: number; last: number; resolve(): void }[] = [];
  const host: ReaderHost = {
    pieceLength: 100,
    havePiece: () => false,
    want: (owner, urgent, ahead) => { wanted.set(owner, [...urgent, ...ahead]); },
    release: (owner) => { wanted.delete(owner); },
    waitForPieces: (first, last) => new Promise<void>((resolve) => waiting.push({ first, last, resolve })),
    readRange: async (_offset, length, into) => (into ?? Buffer.alloc(length)).fill(1, 0, length),
  };
  return { host, wanted, waiting };
}

// The kernel sends several reads on one FUSE handle at once. A later read used to replace the
// earlier one's wants, so in on-demand mode the earlier read's piece fell back to priority 0
// and the read never completed.
test('concurrent reads on one reader keep every pending read\'s pieces wanted', async () => {
  const { host, wanted, waiting } = fakeHost();
  const reader = new FileReader(host, 0, 10_000, { min: 100, max: 100 });
  const a = reader.read(0, 50);
  const b = reader.read(5000, 50);
  const wants = wanted.get(reader) ?? [];
  assert.ok(wants.includes(0), 'the first read\'s piece is still wanted');
  assert.ok(wants.includes(50), 'and the second\'s');
  assert.equal(wants[0], 0, 'oldest pending read first');
  for (const w of waiting) w.resolve();
  assert.equal((await a).length, 50);
  assert.equal((await b).length, 50);
  reader.close();
  assert.equal(wanted.has(reader), false, 'closing releases everything');
});

test('aborting one of two pending reads keeps the other one\'s pieces', async () => {
  const { host, wanted, waiting } = fakeHost();
  const reader = new FileReader(host, 0, 10_000, { min: 100, max: 100 });
  const a = reader.read(0, 50);
  const ac = new AbortController();
  host.waitForPieces = (first, last, signal) => new Promise<void>((resolve, reject) => {
    waiting.push({ first, last, resolve });
    signal?.addEventListener('abort', () => reject(new Error('aborted')));
  });
  const b = reader.read(5000, 50, { signal: ac.signal });
  ac.abort();
  await assert.rejects(b);
  assert.ok((wanted.get(reader) ?? []).includes(0), 'the first read still wants its piece');
  assert.ok(!(wanted.get(reader) ?? []).includes(50), 'the aborted read\'s piece is released');
  waiting[0].resolve();
  assert.equal((await a).length, 50);
  reader.close();
});

test('a read into a caller\'s buffer fills it and returns a view of it, short at end of file', async () => {
  const { host } = fakeHost();
  host.havePiece = () => true;
  host.waitForPieces = async () => undefined;
  const reader = new FileReader(host, 0, 150);
  const into = Buffer.alloc(100);
  const got = await reader.read(100, 100, { into });
  assert.equal(got.length, 50);
  assert.equal(got.buffer, into.buffer);
  assert.deepEqual([...into.subarray(0, 50)], new Array(50).fill(1));
  assert.equal(into[50], 0, 'nothing written past the end of the file');
  await assert.rejects(reader.read(0, 100, { into: Buffer.alloc(10) }), /read buffer of 10 bytes/);
});
