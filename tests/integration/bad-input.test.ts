/**
 * Bad input ends in one clear line on stderr and a non-zero exit, never a stack trace or a hang:
 * malformed .torrent files, bad arguments, unreachable peers, a full disk, hostile file names.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { bencodeEncode } from '@ct/engine';
import { exists, removeDir, tempDir } from '../helpers/fixtures.js';
import { ct, ctRun, freePort, stopAll } from '../helpers/procs.js';

let work: string;
const mounts: string[] = [];

before(async () => { work = await tempDir(); });
after(async () => {
  await stopAll();
  for (const m of mounts) execFileSync('umount', [m]);
  await removeDir(work);
});

function assertOneLineError(r: { code: number; stderr: string }, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, got: ${r.stderr}`);
  assert.match(lines[0], /^ct: /);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

test('malformed .torrent files', async () => {
  const valid = { info: { name: 'x', 'piece length': 16384, length: 10, pieces: Buffer.alloc(20) } };
  const cases: [string, Buffer, RegExp][] = [
    ['empty', Buffer.alloc(0), /not a valid torrent file/],
    ['text', Buffer.from('hello, world'), /not a valid torrent file/],
    ['truncated', bencodeEncode(valid).subarray(0, 30), /not a valid torrent file/],
    ['trailing', Buffer.concat([bencodeEncode(valid), Buffer.from('junk')]), /trailing data/],
    ['no-info', bencodeEncode({ announce: 'x' }), /missing "info"/],
    ['bad-pieces', bencodeEncode({ info: { ...valid.info, pieces: Buffer.alloc(21) } }), /multiple of 20/],
    ['count-mismatch', bencodeEncode({ info: { ...valid.info, length: 100_000 } }), /does not match/],
    ['negative', bencodeEncode({ info: { ...valid.info, length: -5 } }), /must be >= 0/],
  ];
  for (const [name, data, pattern] of cases) {
    const file = path.join(work, `${name}.torrent`);
    await writeFile(file, data);
    assertOneLineError(await ctRun(['info', file]), 1, pattern);
    assertOneLineError(await ctRun(['download', '--metainfo', file, '--seeds', '127.0.0.1:1']), 1, pattern);
  }
  assertOneLineError(await ctRun(['info', path.join(work, 'missing.torrent')]), 2, /no such file/);
});

test('bad arguments exit 2 with a usage line', async () => {
  assertOneLineError(await ctRun(['frobnicate']), 2, /unknown command/);
  assertOneLineError(await ctRun(['download', '--seeds', '127.0.0.1:1']), 2, /give a torrent: a .torrent file or a magnet link/);
  assertOneLineError(await ctRun(['download', '--bogus']), 2, /bogus/);
  const file = path.join(work, 'ok.torrent');
  await writeFile(file, bencodeEncode({ info: { name: 'x', 'piece length': 16384, length: 10, pieces: Buffer.alloc(20) } }));
  assertOneLineError(await ctRun(['download', '--metainfo', file, '--seeds', 'nonsense']), 2, /"nonsense" is not HOST:PORT/);
  assertOneLineError(await ctRun(['download', '--metainfo', file, '--seeds', '127.0.0.1:1', '--timeout', '-3']), 2, /--timeout/);
  assertOneLineError(await ctRun(['create', path.join(work, 'nope'), '-o', path.join(work, 'n.torrent')]), 2, /no such file/);
});

test('no reachable peer: a clear error after --timeout, not a hang', async () => {
  const file = path.join(work, 'lonely.torrent');
  await writeFile(file, bencodeEncode({ info: { name: 'x', 'piece length': 16384, length: 10, pieces: Buffer.alloc(20) } }));
  const closedPort = await freePort();
  assertOneLineError(await ctRun(['download', '--metainfo', file, '--seeds', `127.0.0.1:${closedPort}`, '--timeout', '2', '--download-dir', path.join(work, 'lonely')], 20_000), 1, /no peer reachable within 2 s \(1 could not be connected to; no trackers, DHT off\)$/);
  // A peer that accepts TCP and closes on our plaintext handshake, as one requiring encryption does.
  const picky = createServer((s) => { s.on('error', () => undefined); s.once('data', () => s.destroy()); });
  await new Promise<void>((r) => picky.listen(0, '127.0.0.1', () => r()));
  try {
    const port = (picky.address() as AddressInfo).port;
    assertOneLineError(await ctRun(['download', '--metainfo', file, '--seeds', `127.0.0.1:${port}`, '--timeout', '2', '--download-dir', path.join(work, 'lonely')], 20_000), 1,
      /no peer reachable within 2 s \(1 peer closed the connection during the handshake \(they may require encryption/);
  } finally {
    picky.close();
  }
});

test('a listen address in use is a clear error', async () => {
  const port = await freePort();
  const src = path.join(work, 'busy-src');
  await mkdir(src);
  await writeFile(path.join(src, 'f'), randomBytes(1000));
  const file = path.join(work, 'busy.torrent');
  assert.equal((await ctRun(['create', path.join(src, 'f'), '-o', file])).code, 0);
  const first = ct(['seed', '--metainfo', file, '--download-dir', src, '--listen', `127.0.0.1:${port}`, '--json']);
  await first.waitFor(/"type":"ready"/);
  assertOneLineError(await ctRun(['seed', '--metainfo', file, '--download-dir', src, '--listen', `127.0.0.1:${port}`]), 1, /address in use/);
  first.kill();
});

test('hostile file names stay inside the download directory', async () => {
  // A torrent whose paths try to climb out; ct seeds it (sanitised the same way) and ct downloads it.
  const content = [randomBytes(20_000), randomBytes(5000), randomBytes(3000)];
  // A name of its own, so its absence where a naive join would put it proves something.
  const pwned = `pwned-${randomBytes(6).toString('hex')}`;
  const all = Buffer.concat(content);
  const pieceLength = 16384;
  const pieces = Buffer.concat(Array.from({ length: Math.ceil(all.length / pieceLength) }, (_, i) =>
    createHash('sha1').update(all.subarray(i * pieceLength, (i + 1) * pieceLength)).digest()));
  const torrent = bencodeEncode({ info: {
    name: '../../escape', 'piece length': pieceLength, pieces,
    files: [
      { length: content[0].length, path: ['..', '..', '..', 'tmp', pwned] },
      { length: content[1].length, path: ['/etc', 'passwd'] },
      { length: content[2].length, path: ['a\u0000b'] },
    ],
  } });
  const file = path.join(work, 'evil.torrent');
  await writeFile(file, torrent);
  const info = JSON.parse((await ctRun(['info', file, '--json'])).stdout);
  assert.deepEqual(info.files.map((f: { path: string }) => f.path), [`tmp/${pwned}`, '_etc/passwd', 'a_b']);
  const seedDir = path.join(work, 'evil-seed');
  const root = path.join(seedDir, info.name);
  await mkdir(path.join(root, 'tmp'), { recursive: true });
  await mkdir(path.join(root, '_etc'), { recursive: true });
  await writeFile(path.join(root, 'tmp', pwned), content[0]);
  await writeFile(path.join(root, '_etc', 'passwd'), content[1]);
  await writeFile(path.join(root, 'a_b'), content[2]);
  const port = await freePort();
  const seeder = ct(['seed', '--metainfo', file, '--download-dir', seedDir, '--listen', `127.0.0.1:${port}`, '--json']);
  const ready = JSON.parse((await seeder.waitFor(/^\{"type":"ready".*$/m))[0]);
  assert.equal(ready.piecesHave, ready.piecesTotal);
  const dest = path.join(work, 'jail', 'inside');
  await mkdir(dest, { recursive: true });
  const r = await ctRun(['download', '--metainfo', file, '--seeds', `127.0.0.1:${port}`, '--download-dir', dest, '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await readdir(path.join(work, 'jail')), ['inside'], 'nothing written next to the download dir');
  // Where a naive path.join of the torrent's name and path would have written it (/tmp/<name>).
  const naive = path.join(dest, '../../escape', '..', '..', '..', 'tmp', pwned);
  assert.ok(!naive.startsWith(work), `the naive target ${naive} lies outside the test folder`);
  assert.ok(!(await exists(naive)), `nothing written at ${naive}`);
  assert.ok((await readFile(path.join(dest, info.name, 'tmp', pwned))).equals(content[0]));
  assert.ok((await readFile(path.join(dest, info.name, 'a_b'))).equals(content[2]));
  seeder.kill();
});

test('a full disk is a clear error, and what was verified stays on disk', async () => {
  const src = path.join(work, 'big');
  await mkdir(src);
  await writeFile(path.join(src, 'big.bin'), randomBytes(6 * 1024 * 1024));
  const file = path.join(work, 'big.torrent');
  assert.equal((await ctRun(['create', path.join(src, 'big.bin'), '-o', file, '--piece-length', '262144'])).code, 0);
  const port = await freePort();
  const seeder = ct(['seed', '--metainfo', file, '--download-dir', src, '--listen', `127.0.0.1:${port}`, '--json']);
  await seeder.waitFor(/"type":"ready"/);
  // A 2 MiB tmpfs: the 6 MiB file cannot fit. We run as root (CI does too).
  const small = path.join(work, 'small-disk');
  await mkdir(small);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', small]);
  mounts.push(small);
  const r = await ctRun(['download', '--metainfo', file, '--seeds', `127.0.0.1:${port}`, '--download-dir', small, '--quiet'], 60_000);
  assertOneLineError(r, 1, /no space left on device|ENOSPC/i);
  // The pieces verified before the disk filled are intact: a seeder on that folder finds them.
  const check = ct(['seed', '--metainfo', file, '--download-dir', small, '--listen', '127.0.0.1:0', '--json']);
  const ready = JSON.parse((await check.waitFor(/^\{"type":"ready".*$/m))[0]);
  assert.ok(ready.piecesHave > 0 && ready.piecesHave < ready.piecesTotal, `kept ${ready.piecesHave} of ${ready.piecesTotal}`);
  check.kill();
  await check.waitExit(10_000);
  seeder.kill();
});
