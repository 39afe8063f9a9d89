import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MountTree, type TreeSource } from '../src/mount-tree.js';

const time = new Date(1_700_000_000_000);
const multi = (id: string, name: string, paths: string[]): TreeSource => ({
  id, name, multiFile: true, time,
  files: paths.map((p, index) => ({ path: p, length: 10 * (index + 1), index })),
});

test('a multi-file torrent is a folder, a single-file torrent a file at the root', () => {
  const tree = new MountTree(time);
  assert.equal(tree.add(multi('a', 'Album', ['cd1/01.flac', 'cd1/02.flac', 'cover.jpg'])), '/Album');
  assert.equal(tree.add({ id: 'b', name: 'movie.mkv', multiFile: false, time, files: [{ path: 'movie.mkv', length: 5 * 2 ** 32, index: 0 }] }), '/movie.mkv');
  const root = tree.get('/');
  assert.ok(root?.kind === 'dir');
  assert.deepEqual(root.children, ['Album', 'movie.mkv']);
  const cd1 = tree.get('/Album/cd1');
  assert.ok(cd1?.kind === 'dir');
  assert.deepEqual(cd1.children, ['01.flac', '02.flac']);
  const movie = tree.get('/movie.mkv');
  assert.ok(movie?.kind === 'file');
  assert.equal(movie.size, 5 * 2 ** 32, 'sizes above 4 GiB are exact');
  assert.equal(tree.subdirCount(tree.get('/Album') as never), 1);
});

test('names clashing at the root get a stable suffix in the order torrents are added', () => {
  const tree = new MountTree(time);
  tree.add(multi('a', 'data', ['x']));
  assert.equal(tree.add(multi('b', 'data', ['y'])), '/data (1)');
  assert.equal(tree.add({ id: 'c', name: 'data', multiFile: false, time, files: [{ path: 'data', length: 1, index: 0 }] }), '/data (2)');
  assert.equal(tree.topOf('b'), '/data (1)');
  assert.ok(tree.get('/data (1)/y'));
  assert.throws(() => tree.add(multi('a', 'again', ['z'])), /already mounted/);
});

test('BEP 47 symlinks point inside the mount, relative to their folder', () => {
  const tree = new MountTree(time);
  tree.add({
    id: 'a', name: 't', multiFile: true, time,
    files: [
      { path: 'a.txt', length: 1, index: 0 },
      { path: 'docs/deep/latest', length: 0, index: 2, symlinkTarget: 'a.txt' },
      { path: 'docs/same', length: 0, index: 3, symlinkTarget: 'docs/deep/latest' },
    ],
  });
  const latest = tree.get('/t/docs/deep/latest');
  assert.ok(latest?.kind === 'link');
  assert.equal(latest.target, '../../a.txt');
  const same = tree.get('/t/docs/same');
  assert.ok(same?.kind === 'link');
  assert.equal(same.target, 'deep/latest');
});

test('a removed torrent leaves no node behind; the others stay; its name is free again', () => {
  const tree = new MountTree(time);
  tree.add(multi('a', 'data', ['x/1', 'x/2', 'y']));
  tree.add(multi('b', 'data', ['z']));
  const before = tree.size;
  assert.equal(tree.remove('a'), true);
  assert.equal(tree.remove('a'), false);
  assert.deepEqual((tree.get('/') as { children: string[] }).children, ['data (1)']);
  assert.equal(tree.get('/data/x/1'), undefined);
  assert.equal(tree.get('/data'), undefined);
  assert.equal(tree.size, before - 5, 'data, data/x, data/x/1, data/x/2, data/y');
  assert.ok(tree.get('/data (1)/z'));
  assert.equal(tree.add(multi('c', 'data', ['w'])), '/data');
});

test('categories: torrents of a category share a folder at the root, which goes with the last of them; a clash with a torrent is suffixed', () => {
  const tree = new MountTree(time);
  tree.add(multi('x', 'films', ['a.mkv']));
  assert.equal(tree.add({ ...multi('a', 'Album', ['01.flac']), category: 'music' }), '/music/Album');
  assert.equal(tree.add({ id: 'b', name: 'song.mp3', multiFile: false, time, files: [{ path: 'song.mp3', length: 3, index: 0 }], category: 'music' }), '/music/song.mp3');
  assert.equal(tree.add({ ...multi('c', 'Clip', ['c.mkv']), category: 'films' }), '/films (1)/Clip', 'the name was a torrent\'s first');
  const root = tree.get('/');
  assert.ok(root?.kind === 'dir');
  assert.deepEqual(root.children, ['films', 'music', 'films (1)']);
  assert.equal(tree.get('/music/Album/01.flac')?.kind, 'file');
  tree.remove('a');
  assert.deepEqual((tree.get('/music') as { children: string[] }).children, ['song.mp3']);
  tree.remove('b');
  assert.equal(tree.get('/music'), undefined, 'an empty category folder goes');
  assert.deepEqual(root.children, ['films', 'films (1)']);
  assert.equal(tree.add({ ...multi('a', 'Album', ['01.flac']), category: 'music' }), '/music/Album', 'and comes back');
  for (const bad of ['', '.', '..', 'a/b', 'nul\0']) assert.throws(() => tree.add({ ...multi('z', 'Z', ['z']), category: bad }), /not a category name/);
});
