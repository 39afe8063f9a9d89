/** The web page's formatting of sizes, rates, times and paths (pure). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bytes, encodePath, eta, isAudio, isMedia, rate } from '../src/format.js';

test('sizes and rates in binary units, nothing for a rate of zero', () => {
  assert.equal(bytes(512), '512 B');
  assert.equal(bytes(1536), '1.5 KiB');
  assert.equal(bytes(200 * 1024 * 1024), '200 MiB');
  assert.equal(bytes(3 * 1024 ** 4), '3.0 TiB');
  assert.equal(rate(0), '');
  assert.equal(rate(2 * 1024 * 1024), '2.0 MiB/s');
});

test('time left: seconds, minutes, hours, days; nothing when done or stalled', () => {
  assert.equal(eta(100, 10), '10s');
  assert.equal(eta(125, 1), '2m 5s');
  assert.equal(eta(7300, 1), '2h 1m');
  assert.equal(eta(90000, 1), '1d 1h');
  assert.equal(eta(0, 10), '');
  assert.equal(eta(100, 0), '');
});

test('paths are encoded segment by segment; media is told by extension', () => {
  assert.equal(encodePath('/shows/a b/ü#1.mkv'), '/shows/a%20b/%C3%BC%231.mkv');
  assert.ok(isMedia('x/Clip.WEBM') && isMedia('a.mp3') && !isMedia('a.txt'));
  assert.ok(isAudio('a.flac') && !isAudio('a.mp4'));
});
