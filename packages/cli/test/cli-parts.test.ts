/** The pure parts of the command line: option values, file selection, the progress line, rates. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArgumentError } from 'commander';
import type { TorrentStats } from '@ct/engine';
import { parseHttp, parsePeerList, parseSeconds, parseSize } from '../src/options.js';
import { selectFiles } from '../src/file-selection.js';
import { plainLine, stateLabel, ttyLine, type LineInput } from '../src/progress-line.js';
import { RateSampler } from '../src/rate-sampler.js';
import { formatRate } from '../src/format.js';

test('sizes take units; bad values say the accepted form', () => {
  assert.equal(parseSize('16384'), 16384);
  assert.equal(parseSize('16k'), 16384);
  assert.equal(parseSize('256KiB'), 262144);
  assert.equal(parseSize('4MiB'), 4 * 1024 * 1024);
  assert.equal(parseSize('1.5G'), 1.5 * 1024 ** 3);
  assert.equal(parseSize('2MB'), 2e6);
  for (const bad of ['16q', '', '-5', 'k', '1e3']) assert.throws(() => parseSize(bad), InvalidArgumentError, bad);
  assert.throws(() => parseSeconds('-5'), /positive number of seconds/);
  assert.equal(parseHttp('8889'), '127.0.0.1:8889');
  assert.equal(parseHttp('[::1]:80'), '[::1]:80');
  assert.throws(() => parseHttp('x'), /PORT or HOST:PORT/);
  assert.deepEqual(parsePeerList('a.b:1, [::1]:2'), ['a.b:1', '[::1]:2']);
  assert.throws(() => parsePeerList(''), /HOST:PORT/);
  assert.throws(() => parsePeerList('1.2.3.4'), /"1\.2\.3\.4" is not HOST:PORT/);
});

test('file selection: indices, ranges, globs, exclusions', () => {
  const paths = ['a.mkv', 'subs/a.srt', 'subs/b.srt', 'extra/b.mkv', 'readme.txt'];
  assert.deepEqual(selectFiles(paths, undefined, undefined), [true, true, true, true, true]);
  assert.deepEqual(selectFiles(paths, ['*.mkv'], undefined), [true, false, false, true, false], 'a bare glob matches names in any folder');
  assert.deepEqual(selectFiles(paths, ['subs/**', '5'], ['3']), [false, true, false, false, true]);
  assert.deepEqual(selectFiles(paths, ['2-4'], ['extra/*']), [false, true, true, false, false]);
  assert.deepEqual(selectFiles(paths, undefined, ['*.srt']), [true, false, false, true, true]);
  assert.throws(() => selectFiles(paths, ['9'], undefined), /out of range 1-5/);
  assert.throws(() => selectFiles(paths, ['*.iso'], undefined), /matches no file/);
});

const stats = (over: Partial<TorrentStats> = {}): TorrentStats => ({
  state: 'downloading', status: 'downloading', verifiedBytes: 120 * 1024 * 1024, totalBytes: 256 * 1024 * 1024, progress: 120 / 256, piecesHave: 120, piecesTotal: 256,
  downloaded: 0, uploaded: 0, downloadRate: 0, uploadRate: 0, peers: 3, seeds: 1, wasted: 0, hashFailures: 0, bannedPeers: 0, ...over,
});
const line = (over: Partial<LineInput> = {}): LineInput => ({ stats: stats(), role: 'download', downloadRate: 12 * 1024 * 1024, uploadRate: 0, done: false, ...over });

test('the progress line fits every width and drops fields as it narrows', () => {
  for (let width = 20; width <= 200; width++) {
    const l = ttyLine(line(), width);
    assert.ok(l.length <= width - 1, `${width}: ${l.length}`);
  }
  assert.match(ttyLine(line(), 120), /^\[#+\.+\] downloading 46\.9% {2}120\.0 MiB\/256\.0 MiB {2}12\.0 MiB\/s down {2}ETA 0:11 {2}peers 3 {2}0 B\/s up$/);
  assert.equal(ttyLine(line(), 40), 'downloading 46.9%  120.0 MiB/256.0 MiB');
  assert.match(plainLine(line()), /^downloading 46\.9% 120\.0 MiB\/256\.0 MiB down 12\.0 MiB\/s up 0 B\/s peers 3 eta 0:11$/);
});

test('states say what is happening', () => {
  const partialSeed = stats({ state: 'downloading', verifiedBytes: 10 * 1024 * 1024, totalBytes: 35 * 1024 * 1024, piecesHave: 10, piecesTotal: 35 });
  assert.equal(stateLabel(line({ stats: partialSeed, role: 'seed', done: true })), 'seeding 10.0 MiB of 35.0 MiB');
  assert.equal(stateLabel(line({ stats: stats({ state: 'seeding', piecesHave: 256 }), role: 'seed', done: true })), 'seeding');
  assert.equal(stateLabel(line({ stats: stats({ state: 'seeding' }), done: true })), 'done', 'a plain download ends on done');
  assert.equal(stateLabel(line({ role: 'stream', onDemand: true, downloadRate: 0 })), 'idle');
  assert.equal(stateLabel(line({ stats: stats({ state: 'checking' }) })), 'checking');
  assert.equal(formatRate(1536), '1.5 KiB/s');
});

test('rates: plausible from the first sample, 0 once nothing moves', () => {
  const r = new RateSampler(3000);
  r.sample(0, 0);
  r.sample(250, 2_500_000);
  assert.equal(r.rate(), 10_000_000, 'a quarter second in: the real rate, not a fraction of it');
  r.sample(1000, 10_000_000);
  r.sample(5000, 10_000_000);
  r.sample(5500, 10_000_000);
  assert.equal(r.rate(), 0);
});
