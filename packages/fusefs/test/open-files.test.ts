import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { OpenFiles } from '../src/open-files.js';

test('a pending read aborts at its deadline and says it timed out', async () => {
  const files = new OpenFiles();
  const read = files.beginRead(20);
  await once(read.signal, 'abort');
  assert.equal(read.timedOut, true);
  read.end();
});

test('closing the table aborts every pending read at once, not as a timeout; later reads start aborted', async () => {
  const files = new OpenFiles();
  const a = files.beginRead(60_000);
  const b = files.beginRead(60_000);
  const done = files.beginRead(60_000);
  done.end();
  files.closeAll();
  assert.equal(a.signal.aborted && b.signal.aborted, true);
  assert.equal(done.signal.aborted, false, 'a finished read is left alone');
  assert.equal(a.timedOut, false);
  a.end();
  b.end();
  const late = files.beginRead(60_000);
  assert.equal(late.signal.aborted, true);
  late.end();
});

test('a torrent leaving the mount (pause, removal) closes its handles only: they are orphaned until released', () => {
  const files = new OpenFiles();
  const closed: string[] = [];
  const file = (name: string) => ({ createReader: () => ({ close: () => closed.push(name) }) }) as unknown as Parameters<OpenFiles['open']>[0];
  const a = files.open(file('a'), 10, 'torrent-a');
  const b = files.open(file('b'), 10, 'torrent-b');
  files.closeTorrent('torrent-a');
  assert.deepEqual(closed, ['a']);
  assert.equal(files.get(a), undefined);
  assert.equal(files.isOrphaned(a), true, 'its reads answer EIO, not EBADF');
  assert.ok(files.get(b), 'the other torrent keeps its handle');
  assert.equal(files.count, 1);
  files.close(a); // the kernel's release
  assert.equal(files.isOrphaned(a), false);
});
