/** `/.ct/add/`: the bookkeeping of files written into the mount's one writable folder (no FUSE). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AddFolder, MAX_ADD_FILE_BYTES } from '../src/add-folder.js';
import { Errno } from '../src/errno.js';
import { MountTree } from '../src/mount-tree.js';

function folder(refuse?: (name: string, bytes: Buffer) => string | undefined) {
  const taken: { name: string; text: string }[] = [];
  const add = new AddFolder(async (name, bytes) => {
    const why = refuse?.(name, bytes);
    if (why) throw new Error(why);
    taken.push({ name, text: bytes.toString() });
  });
  return { add, taken };
}

test('a file written and closed is handed over once with its bytes, then leaves the folder', async () => {
  const { add, taken } = folder();
  assert.deepEqual(add.list('/.ct'), ['add']);
  assert.deepEqual(add.list('/.ct/add'), []);
  const fd = add.create('/.ct/add/x.torrent');
  assert.ok(fd > 0);
  assert.equal(add.flush(fd) instanceof Promise, true);
  assert.equal(await add.flush(fd), 0, 'an empty file (the open before the writes) hands nothing over');
  assert.equal(add.write(fd, Buffer.from('hello '), 6, 0), 6);
  assert.equal(add.write(fd, Buffer.from('world!'), 5, 6), 5);
  assert.deepEqual(add.get('/.ct/add/x.torrent'), { kind: 'file', size: 11, time: (add.get('/.ct/add/x.torrent') as { time: Date }).time });
  assert.deepEqual(add.list('/.ct/add'), ['x.torrent']);
  assert.equal(await add.flush(fd), 0);
  assert.equal(await add.flush(fd), 0, 'a second flush (a dup\'d fd) does not add it twice');
  assert.deepEqual(taken, [{ name: 'x.torrent', text: 'hello world' }]);
  add.release(fd);
  assert.deepEqual(add.list('/.ct/add'), []);
  assert.equal(add.get('/.ct/add/x.torrent'), undefined);
});

test('a refused file fails its close with EINVAL; sizes, names and counts are bounded', async () => {
  const { add } = folder((name) => (name.endsWith('.txt') ? 'only .torrent and .magnet files are added' : undefined));
  const fd = add.create('/.ct/add/notes.txt');
  add.write(fd, Buffer.from('x'), 1, 0);
  assert.equal(await add.flush(fd), Errno.EINVAL);
  add.release(fd);
  const big = add.create('/.ct/add/big.torrent');
  assert.equal(add.write(big, Buffer.alloc(16), 16, MAX_ADD_FILE_BYTES - 8), Errno.EFBIG);
  assert.equal(add.truncate('/.ct/add/big.torrent', MAX_ADD_FILE_BYTES + 1), Errno.EFBIG);
  add.release(big);
  assert.equal(add.create('/.ct/add/sub/x.torrent'), Errno.EACCES, 'no folders inside');
  assert.equal(add.create('/.ct/other'), Errno.EACCES);
  const fds = Array.from({ length: 64 }, (_, i) => add.create(`/.ct/add/${i}.torrent`));
  assert.ok(fds.every((n) => n > 0));
  assert.equal(add.create('/.ct/add/65.torrent'), Errno.ENOSPC, '64 files at once at most');
  for (const n of fds) add.release(n);
  assert.deepEqual(add.list('/.ct/add'), []);
});

test('truncate, a sparse write, rename inside the folder and unlink', async () => {
  const { add, taken } = folder();
  const fd = add.create('/.ct/add/.tmp123');
  add.write(fd, Buffer.from('ab'), 2, 4);
  assert.equal(add.truncate('/.ct/add/.tmp123', 8), 0);
  assert.equal(add.rename('/.ct/add/.tmp123', '/.ct/add/y.magnet'), 0);
  assert.equal(add.rename('/.ct/add/y.magnet', '/elsewhere'), Errno.EROFS);
  assert.equal(await add.flush(fd), 0);
  assert.deepEqual(taken, [{ name: 'y.magnet', text: '\0\0\0\0ab\0\0' }]);
  const other = add.create('/.ct/add/z.torrent');
  assert.equal(add.unlink('/.ct/add/z.torrent'), 0);
  assert.equal(add.unlink('/.ct/add/z.torrent'), Errno.ENOENT);
  add.release(other);
  add.release(fd);
  assert.equal(AddFolder.owns('/.ct/add/x'), true);
  assert.equal(AddFolder.owns('/.ctx'), false);
});

test('no torrent or category takes the name .ct at the root', () => {
  const tree = new MountTree(new Date(0), ['.ct']);
  const time = new Date(0);
  assert.equal(tree.add({ id: 'a', name: '.ct', multiFile: false, time, files: [{ path: '.ct', length: 1, index: 0 }] }), '/.ct (1)');
  assert.equal(tree.add({ id: 'b', name: 'x', multiFile: false, time, category: '.ct', files: [{ path: 'x', length: 1, index: 0 }] }), '/.ct (2)/x');
});
