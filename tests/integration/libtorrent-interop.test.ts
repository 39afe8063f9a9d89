/**
 * ct against a real libtorrent (Debian's python3-libtorrent) over TCP on 127.0.0.1, both ways.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseMetainfo } from '@ct/engine';
import { TRICKY_FILES, makeTree, removeDir, sameTree, tempDir } from '../helpers/fixtures.js';
import { ct, ctRun, freePort, libtorrent, libtorrentSeeder, stopAll } from '../helpers/procs.js';

let work: string;
let src: string;

before(async () => {
  work = await tempDir();
  src = path.join(work, 'src');
  await makeTree(path.join(src, 'tricky'));
});
after(async () => {
  await stopAll();
  await removeDir(work);
});

describe('ct downloads from libtorrent', () => {
  test('a ct-made multi-file torrent: unicode, empty files, nesting, pieces across files, short last piece', async () => {
    const torrent = path.join(work, 'ct-made.torrent');
    // 64 KiB pieces over ~780 KB of files: most pieces span files, the last one is short.
    const made = await ctRun(['create', path.join(src, 'tricky'), '-o', torrent, '--piece-length', '65536']);
    assert.equal(made.code, 0, made.stderr);
    const total = TRICKY_FILES.reduce((s, [, n]) => s + n, 0);
    assert.notEqual(total % 65536, 0, 'fixture must have a short last piece');
    const seeder = await libtorrentSeeder(torrent, src);
    const dest = path.join(work, 'dl1');
    const r = await ctRun(['download', '--metainfo', torrent, '--seeds', `127.0.0.1:${seeder.port}`, '--download-dir', dest, '--json', '--listen', '127.0.0.1:0'], 60_000);
    assert.equal(r.code, 0, r.stderr);
    const done = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((j) => j.type === 'done');
    assert.equal(done.piecesHave, done.piecesTotal);
    const cmp = await sameTree(path.join(src, 'tricky'), path.join(dest, 'tricky'));
    assert.ok(cmp.same, cmp.detail);
    seeder.proc.kill();
  });

  test('a libtorrent-made torrent with BEP 47 pad files: pads are never written', async () => {
    const torrent = path.join(work, 'lt-made.torrent');
    const mk = libtorrent(['create', '--path', path.join(src, 'tricky'), '--out', torrent, '--piece-length', '32768', '--pad']);
    assert.equal(await mk.waitExit(30_000), 0, mk.stderr);
    const info = await ctRun(['info', torrent, '--json']);
    assert.equal(info.code, 0, info.stderr);
    const made = parseMetainfo(await readFile(torrent));
    const pads = made.files.filter((f) => f.pad);
    assert.ok(pads.length >= 2, `libtorrent made pad entries (${pads.length})`);
    assert.equal(JSON.parse(info.stdout).files.length, made.files.length - pads.length, 'ct info lists the real files only');
    const seeder = await libtorrentSeeder(torrent, src);
    const dest = path.join(work, 'dl2');
    const r = await ctRun(['download', '--metainfo', torrent, '--seeds', `127.0.0.1:${seeder.port}`, '--download-dir', dest, '--quiet'], 60_000);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^done: tricky/m);
    const cmp = await sameTree(path.join(src, 'tricky'), path.join(dest, 'tricky'));
    assert.ok(cmp.same, cmp.detail);
    seeder.proc.kill();
  });
});

test('libtorrent downloads from ct seed', async () => {
  const torrent = path.join(work, 'for-lt.torrent');
  assert.equal((await ctRun(['create', path.join(src, 'tricky'), '-o', torrent, '--piece-length', '16384'])).code, 0);
  const seedPort = await freePort();
  const seeder = ct(['seed', '--metainfo', torrent, '--download-dir', src, '--listen', `127.0.0.1:${seedPort}`, '--json'], 'ct seed');
  const ready = JSON.parse((await seeder.waitFor(/^\{"type":"ready".*$/m))[0]);
  assert.equal(ready.piecesHave, ready.piecesTotal);
  const dest = path.join(work, 'lt-dl');
  const leech = libtorrent(['leech', '--torrent', torrent, '--save-path', dest, '--port', String(await freePort()), '--peer', `127.0.0.1:${seedPort}`, '--timeout', '90']);
  assert.equal(await leech.waitExit(120_000), 0, leech.stdout + leech.stderr);
  assert.match(leech.stdout, /^DONE/m);
  const cmp = await sameTree(path.join(src, 'tricky'), path.join(dest, 'tricky'));
  assert.ok(cmp.same, cmp.detail);
  seeder.kill('SIGTERM');
  assert.equal(await seeder.waitExit(10_000), 0, 'ct seed exits 0 on SIGTERM');
});
