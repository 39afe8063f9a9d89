import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contentType, fileUrlPath, parseRange } from '../src/http/http-server.js';

test('Range headers: closed, open, suffix, clamped, unsatisfiable, ignored', () => {
  assert.deepEqual(parseRange('bytes=0-99', 1000), [0, 99]);
  assert.deepEqual(parseRange('bytes=900-', 1000), [900, 999]);
  assert.deepEqual(parseRange('bytes=-100', 1000), [900, 999]);
  assert.deepEqual(parseRange('bytes=-5000', 1000), [0, 999]);
  assert.deepEqual(parseRange('bytes=990-5000', 1000), [990, 999]);
  assert.equal(parseRange('bytes=1000-', 1000), 'unsatisfiable');
  assert.equal(parseRange('bytes=5-4', 1000), 'unsatisfiable');
  assert.equal(parseRange('bytes=-0', 1000), 'unsatisfiable');
  assert.equal(parseRange('bytes=0-', 0), 'unsatisfiable');
  assert.equal(parseRange(undefined, 1000), undefined);
  assert.equal(parseRange('bytes=0-1,5-6', 1000), undefined, 'several ranges: the whole file');
  assert.equal(parseRange('items=0-1', 1000), undefined);
});

test('URLs follow the mount layout, percent-encoded per segment', () => {
  assert.equal(fileUrlPath('Pack', true, 'dir/ünï 字.srt'), '/Pack/dir/%C3%BCn%C3%AF%20%E5%AD%97.srt');
  assert.equal(fileUrlPath('movie.mkv', false, 'movie.mkv'), '/movie.mkv');
  assert.equal(fileUrlPath('a#b', true, 'c?d'), '/a%23b/c%3Fd');
});

test('media types for common files', () => {
  assert.equal(contentType('x.MKV'), 'video/x-matroska');
  assert.equal(contentType('x.mp4'), 'video/mp4');
  assert.equal(contentType('x.srt'), 'application/x-subrip');
  assert.equal(contentType('noext'), 'application/octet-stream');
});
