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
