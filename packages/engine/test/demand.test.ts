/**
 * DemandTable and ReadWaiters, the torrent's pure bookkeeping of what readers and file selections
 * want: priorities and deadlines in the picker, the one answer to "may this file exist on disk",
 * and read waits that end exactly once.
 */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';
import { FileLayout } from '../src/layout/file-layout.js';
import { DEFAULT_PRIORITY, MAX_PRIORITY, PiecePicker } from '../src/picker/piece-picker.js';
import { DemandTable } from '../src/torrent/demand.js';
import { ReadWaiters } from '../src/torrent/read-waiters.js';

const PL = 1024;
// Three files: a (pieces 0-1), b (pieces 1-2, sharing piece 1 with a), c (piece 3).
const files = [
  { path: ['a'], rawPath: ['a'], executable: false, length: 1500, pad: false, offset: 0 },
  { path: ['b'], rawPath: ['b'], executable: false, length: 1500, pad: false, offset: 1500 },
  { path: ['c'], rawPath: ['c'], executable: false, length: 1000, pad: false, offset: 3000 },
];
function setup(onDemand: boolean) {
  const layout = new FileLayout(files, PL);
  const picker = new PiecePicker({ pieceCount: layout.pieceCount, pieceLength: PL, totalLength: 4000 });
  return { picker, demand: new DemandTable(picker, layout, files, onDemand) };
}

test('readers raise their pieces with deadlines, under-read pieces first; release restores the file priority', () => {
  const { picker, demand } = setup(true);
  assert.equal(picker.getPriority(0), 0, 'on demand: nothing wanted');
  const reader = {};
  demand.want(reader, [2], [3], 1000);
  assert.equal(picker.getPriority(2), MAX_PRIORITY);
  assert.equal(picker.getPriority(3), MAX_PRIORITY);
  assert.deepEqual([...demand.piecesUnderReads()], [2], 'readahead is not "under a read"');
  assert.deepEqual(picker.criticalPieces, [2, 3], 'the read before its readahead');
  const other = {};
  demand.want(other, [3], [], 1000);
  demand.release(reader);
  assert.equal(picker.getPriority(2), 0, 'back to the file priority');
  assert.equal(picker.getPriority(3), MAX_PRIORITY, 'still wanted by the other reader');
  demand.release(other);
  assert.equal(picker.getPriority(3), 0);
});

test('file priorities: a shared piece keeps the highest of its files; which files may exist', () => {
  const { picker, demand } = setup(false);
  assert.equal(picker.getPriority(1), DEFAULT_PRIORITY);
  demand.setFilePriority(0, 0);
  assert.equal(picker.getPriority(0), 0);
  assert.equal(picker.getPriority(1), DEFAULT_PRIORITY, 'piece 1 is also b\'s');
  assert.equal(demand.fileMayExist(0), false, 'deselected: its bytes go to the part file');
  demand.fileOpened(0);
  assert.equal(demand.fileMayExist(0), true, 'a reader opened it');
  assert.equal(demand.fileMayExist(2), true, 'selected by default');
});

test('read waits: resolve when every piece is had, reject on abort (listener removed) and on close', async () => {
  const have = new Set<number>();
  const waiters = new ReadWaiters((i) => have.has(i));
  const ctl = new AbortController();
  const done = waiters.wait(0, 1, ctl.signal);
  have.add(0);
  waiters.wake();
  assert.equal(waiters.size, 1, 'piece 1 still missing');
  have.add(1);
  waiters.wake();
  await done;
  assert.equal(getEventListeners(ctl.signal, 'abort').length, 0);
  await assert.rejects(waiters.wait(5, 5, AbortSignal.abort(new Error('gone'))), /gone/);
  const aborted = new AbortController();
  const pending = waiters.wait(7, 7, aborted.signal);
  aborted.abort(new Error('stop'));
  await assert.rejects(pending, /stop/);
  const closing = waiters.wait(8, 8);
  waiters.close();
  await assert.rejects(closing, { code: 'ECLOSED' });
  assert.equal(waiters.size, 0);
});
