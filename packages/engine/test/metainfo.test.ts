import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import bencode from 'bencode';
import { MetainfoError } from '../src/errors.js';
import { parseMetainfo } from '../src/metainfo/metainfo.js';

const PL = 16384;
function torrent(info: Record<string, unknown>, extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(bencode.encode({ announce: 'http://t.example/announce', ...extra, info }));
}
const hashes = (n: number) => Buffer.alloc(20 * n, 7);

test('single-file torrent: fields, infohash of the raw info bytes', () => {
  const info = { name: 'file.bin', 'piece length': PL, length: PL * 2 + 5, pieces: hashes(3) };
  const data = torrent(info, { 'creation date': 1700000000, comment: 'hi' });
  const m = parseMetainfo(data);
  assert.equal(m.name, 'file.bin');
  assert.equal(m.pieceCount, 3);
  assert.equal(m.totalLength, PL * 2 + 5);
  assert.equal(m.multiFile, false);
  assert.deepEqual(m.files.map((f) => f.path), [['file.bin']]);
  assert.equal(m.infoHashHex, createHash('sha1').update(bencode.encode(info)).digest('hex'));
  assert.deepEqual(m.announce, [['http://t.example/announce']]);
  assert.equal(m.creationDate?.getTime(), 1700000000 * 1000);
  assert.equal(m.comment, 'hi');
});

test('infohash uses the original bytes even when keys are not sorted', () => {
  // Hand-written info dict with unsorted keys: a re-encoding would sort them and change the hash.
  const raw = `d6:lengthi5e4:name1:x12:piece lengthi${PL}e6:pieces20:${'a'.repeat(20)}e`;
  const unsorted = `d4:name1:x6:lengthi5e12:piece lengthi${PL}e6:pieces20:${'a'.repeat(20)}e`;
  const m1 = parseMetainfo(Buffer.from(`d4:info${raw}e`, 'latin1'));
  const m2 = parseMetainfo(Buffer.from(`d4:info${unsorted}e`, 'latin1'));
  assert.equal(m2.infoHashHex, createHash('sha1').update(Buffer.from(unsorted, 'latin1')).digest('hex'));
  assert.notEqual(m1.infoHashHex, m2.infoHashHex);
});

test('multi-file torrent: offsets, unicode, 0-byte files, pad files, announce-list', () => {
  const info = {
    name: 'pack',
    'piece length': PL,
    pieces: hashes(2),
    files: [
      { length: 10, path: ['a.txt'] },
      { length: 0, path: ['empty'] },
      { length: PL - 10, path: ['.pad', '123'], attr: 'p' },
      { length: 100, path: ['dir', 'ünïcødé 字.bin'] },
    ],
  };
  const m = parseMetainfo(torrent(info, { 'announce-list': [['http://a'], ['udp://b', 'udp://c']] }));
  assert.equal(m.multiFile, true);
  assert.deepEqual(m.files.map((f) => [f.path.join('/'), f.offset, f.length, f.pad]), [
    ['a.txt', 0, 10, false],
    ['empty', 10, 0, false],
    ['.pad/10', 10, PL - 10, true],
    ['dir/ünïcødé 字.bin', PL, 100, false],
  ]);
  assert.deepEqual(m.announce, [['http://a'], ['udp://b', 'udp://c']]);
});

test('path traversal is neutralised: nothing can point outside the torrent folder', () => {
  const info = {
    name: '../../etc',
    'piece length': PL,
    pieces: hashes(1),
    files: [
      { length: 1, path: ['..', '..', 'evil.sh'] },
      { length: 1, path: ['/abs', 'x'] },
      { length: 1, path: ['a\0b', '.', '', 'c\\d'] },
      { length: 1, path: ['..'] },
      { length: 1, path: ['evil.sh'] },
    ],
  };
  const m = parseMetainfo(torrent(info));
  assert.equal(m.name, '.._.._etc');
  const paths = m.files.map((f) => f.path.join('/'));
  assert.deepEqual(paths, ['evil.sh', '_abs/x', 'a_b/c_d', '_', 'evil (1).sh']);
  for (const f of m.files) for (const c of f.path) assert.ok(c !== '..' && c !== '.' && c !== '' && !c.includes('/') && !c.includes('\0'));
});

test('a file that collides with a directory gets a stable suffix', () => {
  const info = { name: 'p', 'piece length': PL, pieces: hashes(1), files: [{ length: 1, path: ['a'] }, { length: 1, path: ['a', 'b'] }, { length: 1, path: ['a', 'c'] }] };
  assert.deepEqual(parseMetainfo(torrent(info)).files.map((f) => f.path.join('/')), ['a', 'a (1)/b', 'a (1)/c']);
});

test('malformed torrents give a MetainfoError with a clear message', () => {
  const ok = { name: 'x', 'piece length': PL, length: PL, pieces: hashes(1) };
  const cases: [Buffer, RegExp][] = [
    [Buffer.from('not bencode'), /not a valid torrent file/],
    [Buffer.from('i42e'), /top level is not a dictionary/],
    [torrent(ok).subarray(0, 40), /not a valid torrent file/],
    [Buffer.from(bencode.encode({ announce: 'x' })), /missing "info"/],
    [torrent({ ...ok, pieces: Buffer.alloc(19) }), /multiple of 20/],
    [torrent({ ...ok, pieces: hashes(2) }), /piece count 2 does not match/],
    [torrent({ ...ok, 'piece length': 0 }), /piece length/],
    [torrent({ ...ok, 'piece length': 2 ** 30 }), /outside/],
    [torrent({ ...ok, length: -1 }), /"length" must be >= 0/],
    [torrent({ ...ok, length: 0, pieces: Buffer.alloc(20) }), /no data|does not match/],
    [torrent({ ...ok, name: undefined }), /"name" must be a string/],
    [torrent({ name: 'x', 'piece length': PL, pieces: hashes(1), files: [] }), /non-empty list/],
    [torrent({ name: 'x', 'piece length': PL, pieces: hashes(1), files: [{ length: 1, path: [] }] }), /"path" must be a non-empty list/],
    [torrent({ name: 'x', 'piece length': PL, pieces: hashes(1), files: [{ length: 1, path: [5] }] }), /components must be strings/],
    [torrent({ name: 'x', 'piece length': PL, 'meta version': 2 }), /v2-only/],
  ];
  for (const [data, msg] of cases) {
    assert.throws(() => parseMetainfo(data), (err: unknown) => err instanceof MetainfoError && err.code === 'EMETAINFO' && msg.test(err.message), String(msg));
  }
});
