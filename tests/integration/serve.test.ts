/**
 * `ct serve` (issue 14): one long-running process whose torrents are added, paused, resumed and
 * removed while it runs, through `ct add/ls/pause/resume/rm` and its HTTP API, shown in its mount
 * at once, and restored after a restart without hashing what did not change. Real libtorrent
 * seeders on loopback; every read of the mount is done by a separate process.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { parseMetainfo, type Metainfo } from '@ct/engine';
import { exists, makeTree, removeDir, sameTree, tempDir } from '../helpers/fixtures.js';
import { Proc, ROOT, ct, ctRun, freePort, libtorrentSeeder, stopAll } from '../helpers/procs.js';
import { startServe } from '../helpers/serve.js';
import { waitUntil } from '../helpers/wait.js';

const READ_FILES = path.join(ROOT, 'tests', 'helpers', 'read-files.mjs');
let work: string;
let src: string;
const t = { set: '', clip: '' };
let setMeta: Metainfo;
let clipMeta: Metainfo;
const seeds = { set: '', clip: '' };
const mounts: string[] = [];

function sh(cmd: string, timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', cmd], { timeout: timeoutMs }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const sha1 = async (file: string) => createHash('sha1').update(await readFile(file)).digest('hex');

/** sha1 of each file, read whole by a process of its own. */
async function readThroughMount(files: string[]): Promise<string[]> {
  const p = new Proc(spawn(process.execPath, [READ_FILES, ...files], { stdio: 'pipe' }), 'reader');
  assert.equal(await p.waitExit(60_000), 0, p.stderr);
  return p.stdout.trim().split('\n').map((l) => l.split(' ')[0]);
}

/**
 * The Prometheus text exposition format, strictly: HELP and TYPE lines, then samples
 * `name{label="value",...} number`; anything else fails the test.
 */
function parsePrometheus(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  const out: { name: string; labels: Record<string, string>; value: number }[] = [];
  const typed = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      if (meta[1] === 'TYPE') {
        assert.match(meta[3], /^(counter|gauge|histogram|summary|untyped)$/, line);
        typed.set(meta[2], meta[3]);
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    assert.ok(m, `not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').match(/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"/g) ?? []) {
      const eq = l.indexOf('=');
      labels[l.slice(0, eq)] = JSON.parse(l.slice(eq + 1)) as string;
    }
    const family = m[1].replace(/_(bucket|sum|count)$/, '');
    assert.ok(typed.has(m[1]) || typed.has(family), `sample before its TYPE: ${line}`);
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

before(async () => {
  work = await tempDir('ct-serve-');
  src = path.join(work, 'src');
  await makeTree(path.join(src, 'set'), [['a.bin', 1_500_000], ['b/c.bin', 700_000], ['b/d.txt', 5000]]);
  await makeTree(src, [['clip.bin', 900_000]]);
  t.set = path.join(work, 'set.torrent');
  t.clip = path.join(work, 'clip.torrent');
  assert.equal((await ctRun(['create', path.join(src, 'set'), '-o', t.set, '--piece-length', '65536'])).code, 0);
  assert.equal((await ctRun(['create', path.join(src, 'clip.bin'), '-o', t.clip, '--piece-length', '65536'])).code, 0);
  setMeta = parseMetainfo(await readFile(t.set));
  clipMeta = parseMetainfo(await readFile(t.clip));
  seeds.set = `127.0.0.1:${(await libtorrentSeeder(t.set, src)).port}`;
  seeds.clip = `127.0.0.1:${(await libtorrentSeeder(t.clip, src)).port}`;
});
after(async () => {
  await stopAll();
  for (const m of mounts) await sh(`fusermount -uz ${q(m)} 2>/dev/null || umount -l ${q(m)} 2>/dev/null`);
  await removeDir(work);
});

/**
 * A removed torrent leaves the listing at once; a lookup by name may still find it until the
 * kernel asks for its attributes again (attr_timeout, 1 s), then it is ENOENT.
 */
async function gone(mnt: string, name: string): Promise<void> {
  assert.ok(!(await sh(`ls ${q(mnt)}`)).stdout.split('\n').includes(name), `${name} still listed`);
  await waitUntil(async () => !(await exists(path.join(mnt, name))), `${name} to be gone`, 5000);
}

/** A ct serve with its own mount, state and download folders (named after `name`), and a client of it. */
async function serveMounted(name: string): Promise<{ mnt: string; url: string; serve: Proc; cli: (args: string[]) => ReturnType<typeof ctRun> }> {
  const mnt = path.join(work, `mnt-${name}`);
  mounts.push(mnt);
  const url = `http://127.0.0.1:${await freePort()}`;
  const serve = await startServe(['--mount', mnt, '--mkdir', '--http', url.slice(7), '--state-dir', path.join(work, `state-${name}`), '--download-dir', path.join(work, `dl-${name}`)]);
  return { mnt, url, serve, cli: (args) => ctRun([...args, '--server', url]) };
}

test('ct serve: add, pause, resume and remove while it runs, through the CLI and the API; the mount follows; a restart restores without hashing', { timeout: 180_000 }, async () => {
  const mnt = path.join(work, 'mnt');
  mounts.push(mnt);
  const state = path.join(work, 'state');
  const dl = path.join(work, 'dl');
  const url = `http://127.0.0.1:${await freePort()}`;
  const serveArgs = ['--mount', mnt, '--mkdir', '--http', url.slice(7), '--state-dir', state, '--download-dir', dl];
  const cli = (args: string[]) => ctRun([...args, '--server', url]);
  let serve = await startServe(serveArgs);

  assert.match((await cli(['ls'])).stdout, /no torrents/);
  // A .torrent is in the mount as soon as ct add returns.
  const added = await cli(['add', t.set, '--seeds', seeds.set]);
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, new RegExp(`added set \\(${setMeta.infoHashHex}\\)`));
  assert.deepEqual((await sh(`ls ${q(mnt)}`)).stdout.split('\n').filter(Boolean), ['set']);
  // A magnet (infohash only) appears once its metadata has come from the libtorrent seeder.
  const magnet = await cli(['add', `magnet:?xt=urn:btih:${clipMeta.infoHashHex}&x.pe=${seeds.clip}`]);
  assert.equal(magnet.code, 0, magnet.stderr);
  assert.match(magnet.stdout, /metadata is on its way/);
  await waitUntil(() => exists(path.join(mnt, 'clip.bin')), 'the magnet in the mount', 30_000);
  assert.deepEqual(await readThroughMount([path.join(mnt, 'set', 'a.bin'), path.join(mnt, 'clip.bin')]),
    [await sha1(path.join(src, 'set', 'a.bin')), await sha1(path.join(src, 'clip.bin'))]);

  // The API: the list, one torrent with its files, a Range read under /files/.
  const list = await (await fetch(`${url}/api/v1/torrents`)).json() as { id: string; name: string; state: string }[];
  assert.deepEqual(list.map((x) => x.name).sort(), ['clip.bin', 'set']);
  const one = await (await fetch(`${url}/api/v1/torrents/${setMeta.infoHashHex.slice(0, 6)}`)).json() as { files: { path: string; progress: number }[] };
  assert.deepEqual(one.files.map((f) => f.path).sort(), ['a.bin', 'b/c.bin', 'b/d.txt']);
  assert.equal(one.files.find((f) => f.path === 'a.bin')?.progress, 1);
  const range = await fetch(`${url}/files/clip.bin`, { headers: { Range: 'bytes=1000-1999' } });
  assert.equal(range.status, 206);
  assert.deepEqual(Buffer.from(await range.arrayBuffer()), (await readFile(path.join(src, 'clip.bin'))).subarray(1000, 2000));
  assert.equal((await fetch(`${url}/api/v1/torrents/nothing-like-it`)).status, 404);

  // /metrics is Prometheus text: per torrent, in total, and the mount's reads.
  const scrape = await fetch(`${url}/metrics`);
  assert.match(scrape.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const samples = parsePrometheus(await scrape.text());
  const sample = (name: string, labels: Record<string, string> = {}) =>
    samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v))?.value;
  assert.ok((sample('ct_downloaded_bytes_total', { infohash: setMeta.infoHashHex, name: 'set' }) ?? 0) >= 1_500_000);
  assert.ok((sample('ct_downloaded_bytes_all_total') ?? 0) >= 1_500_000 + 900_000);
  assert.equal(sample('ct_pieces', { infohash: clipMeta.infoHashHex, kind: 'total' }), clipMeta.pieceCount);
  assert.equal(sample('ct_torrents', { state: 'seeding' }) ?? 0, 1, 'clip.bin, complete');
  assert.ok((sample('ct_mount_read_seconds_count', { result: 'ok' }) ?? 0) > 0, 'reads through the mount counted');

  // Pause through the CLI: out of the mount, still listed; resume through the API: back.
  const paused = await cli(['pause', clipMeta.infoHashHex.slice(0, 8)]);
  assert.equal(paused.code, 0, paused.stderr);
  assert.match(paused.stdout, /clip\.bin .*: paused/);
  await gone(mnt, 'clip.bin');
  assert.match((await cli(['ls'])).stdout, /paused .*clip\.bin/);
  const resumed = await fetch(`${url}/api/v1/torrents/clip.bin/resume`, { method: 'POST' });
  assert.equal(resumed.status, 200);
  assert.deepEqual(await readThroughMount([path.join(mnt, 'clip.bin')]), [await sha1(path.join(src, 'clip.bin'))]);

  // A file held open while its torrent is removed: its next read fails with EIO, no hang.
  const holder = new Proc(spawn(process.execPath, ['-e', `
    const fs = require('fs'); const fd = fs.openSync(process.argv[1], 'r'); const b = Buffer.alloc(4096);
    fs.readSync(fd, b, 0, 4096, 0); console.log('opened');
    process.stdin.once('data', () => { try { fs.readSync(fd, b, 0, 4096, 690000); console.log('READ'); } catch (e) { console.log('ERR:' + e.code); } process.exit(0); });`,
  path.join(mnt, 'set', 'b', 'c.bin')], { stdio: 'pipe' }), 'holder');
  await holder.waitFor(/opened/, 30_000);

  // Paused state survives a restart; so do the others, trusted from resume data.
  assert.equal((await cli(['pause', 'clip.bin'])).code, 0);
  const removedWhileOpen = cli(['rm', setMeta.infoHashHex.slice(0, 10)]);
  assert.equal((await removedWhileOpen).code, 0);
  holder.child.stdin.write('\n');
  assert.match((await holder.waitFor(/ERR:\w+|READ/, 30_000))[0], /ERR:EIO/);
  await gone(mnt, 'set');
  // Added again, into a category: DIR/<category>/set.
  const badCategory = await cli(['add', t.set, '--category', '../up']);
  assert.equal(badCategory.code, 2);
  assert.match(badCategory.stderr, /"category" must be a folder name/);
  assert.equal((await cli(['add', t.set, '--seeds', seeds.set, '--category', 'datasets'])).code, 0);
  assert.deepEqual(await readThroughMount([path.join(mnt, 'datasets', 'set', 'b', 'd.txt')]), [await sha1(path.join(src, 'set', 'b', 'd.txt'))]);

  serve.kill('SIGTERM');
  assert.equal(await serve.waitExit(30_000), 0, serve.stderr);
  assert.equal((await sh(`grep -c ' ${mnt} ' /proc/self/mountinfo`)).stdout.trim(), '0');
  serve = await startServe(serveArgs);
  assert.match(serve.stderr, /restored 2 torrents/);
  await waitUntil(() => /serving set \(.*; \d+ pieces trusted from resume data, 0 hashed/.test(serve.stderr), 'set restored', 30_000).catch((err: Error) => { throw new Error(`${err.message}: ${serve.stderr.split('\n').filter((l) => /serving set|resume/.test(l)).join(' | ')}`); });
  const after = JSON.parse((await cli(['ls', '--json'])).stdout) as { name: string; state: string; progress: number }[];
  assert.equal(after.find((x) => x.name === 'clip.bin')?.state, 'paused');
  assert.ok((after.find((x) => x.name === 'set')?.progress ?? 0) > 0, 'what was read before the restart is still there');
  assert.deepEqual(await readThroughMount([path.join(mnt, 'datasets', 'set', 'a.bin')]), [await sha1(path.join(src, 'set', 'a.bin'))]);

  // ct rm --delete-data takes the files with it; ct rm of what is not there is a usage error.
  assert.ok(await exists(path.join(dl, 'clip.bin')));
  assert.equal((await cli(['rm', 'clip.bin', '--delete-data'])).code, 0);
  assert.equal(await exists(path.join(dl, 'clip.bin')), false);
  const missing = await cli(['rm', 'clip.bin']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^ct: no torrent clip\.bin\n$/);
  serve.kill('SIGTERM');
  assert.equal(await serve.waitExit(30_000), 0, serve.stderr);
});

test('a file of one torrent read through the mount the whole time other torrents are added, paused, resumed and removed (CLI and API) reads byte-exact, never stalls', { timeout: 120_000 }, async () => {
  const { mnt, url, serve, cli } = await serveMounted('busy');
  assert.equal((await cli(['add', t.clip, '--seeds', seeds.clip])).code, 0);
  // A reader of its own: clip.bin in 16 KiB reads with a pause after each, pass after pass, until told to stop.
  const reader = new Proc(spawn(process.execPath, ['-e', `
    const fs = require('fs'), crypto = require('crypto');
    let stop = false; process.stdin.on('data', () => { stop = true; });
    (async () => {
      do {
        const fd = fs.openSync(process.argv[1], 'r'); const h = crypto.createHash('sha1'); const b = Buffer.alloc(16384);
        for (let pos = 0, n; (n = fs.readSync(fd, b, 0, b.length, pos)) > 0; pos += n) { h.update(b.subarray(0, n)); await new Promise((r) => setTimeout(r, 5)); }
        fs.closeSync(fd); console.log('PASS ' + h.digest('hex'));
      } while (!stop);
      console.log('END');
    })().catch((e) => { console.log('ERR ' + e.code); process.exit(1); });`, path.join(mnt, 'clip.bin')], { stdio: 'pipe' }), 'reader');
  await reader.waitFor(/PASS/, 30_000);
  // Meanwhile: add, pause, resume, remove another torrent, by CLI and by API.
  assert.equal((await cli(['add', t.set, '--seeds', seeds.set])).code, 0);
  assert.deepEqual(await readThroughMount([path.join(mnt, 'set', 'b', 'd.txt')]), [await sha1(path.join(src, 'set', 'b', 'd.txt'))]);
  assert.equal((await fetch(`${url}/api/v1/torrents/set/pause`, { method: 'POST' })).status, 200);
  assert.equal((await cli(['resume', 'set'])).code, 0);
  assert.equal((await cli(['limit', 'set', '--down', '1MB/s'])).code, 0);
  assert.equal((await fetch(`${url}/api/v1/torrents/set`, { method: 'DELETE' })).status, 204);
  assert.equal((await cli(['add', t.set, '--seeds', seeds.set, '--category', 'again'])).code, 0);
  assert.equal((await cli(['rm', 'set'])).code, 0);
  reader.child.stdin.write('\n');
  await reader.waitFor(/END|ERR/, 30_000);
  const passes = [...reader.stdout.matchAll(/PASS (\w+)/g)].map((m) => m[1]);
  assert.ok(passes.length >= 1 && !/ERR/.test(reader.stdout), reader.stdout);
  assert.deepEqual([...new Set(passes)], [await sha1(path.join(src, 'clip.bin'))], `${passes.length} passes, all byte-exact`);
  serve.kill('SIGTERM');
  assert.equal(await serve.waitExit(30_000), 0, serve.stderr);
});

test('DIR/.ct/add/: a .torrent or .magnet written there is added (cp returns once it is in the mount); anything else fails its close; the rest of the mount is read-only', { timeout: 90_000 }, async () => {
  const { mnt, serve } = await serveMounted('add');
  const addDir = path.join(mnt, '.ct', 'add');
  assert.equal((await sh(`ls -a ${q(mnt)}`)).stdout.split('\n').includes('.ct'), false, '.ct is not listed');
  assert.equal((await sh(`test -d ${q(addDir)} && test -w ${q(addDir)}`)).code, 0, 'but it is there, and writable');

  // cp of a .torrent: when cp returns, the torrent is in the mount.
  const cp = await sh(`cp ${q(t.set)} ${q(addDir)}/ && ls ${q(mnt)}`);
  assert.equal(cp.code, 0, cp.stderr);
  assert.deepEqual(cp.stdout.split('\n').filter(Boolean), ['set']);
  assert.match(serve.stderr, /\.ct\/add: added set\.torrent \([0-9a-f]{40}\)/);
  // A magnet link written by the shell: its metadata comes from the seeder, then it is readable.
  const echo = await sh(`echo 'magnet:?xt=urn:btih:${clipMeta.infoHashHex}&x.pe=${seeds.clip}' > ${q(addDir)}/clip.magnet`);
  assert.equal(echo.code, 0, echo.stderr);
  await waitUntil(() => exists(path.join(mnt, 'clip.bin')), 'the magnet in the mount', 30_000);
  assert.deepEqual(await readThroughMount([path.join(mnt, 'clip.bin')]), [await sha1(path.join(src, 'clip.bin'))]);
  assert.deepEqual((await sh(`ls -A ${q(addDir)}`)).stdout, '', 'taken files leave the folder');

  // Refused: not a torrent, not a .torrent/.magnet name, the same torrent again.
  // (cp reports a failed close; a shell redirect does not look, so only the log tells it.)
  await writeFile(path.join(work, 'junk.torrent'), 'not bencoded');
  await writeFile(path.join(work, 'notes.txt'), 'hi');
  const junk = await sh(`cp ${q(path.join(work, 'junk.torrent'))} ${q(addDir)}/`);
  assert.notEqual(junk.code, 0);
  assert.match(junk.stderr, /Invalid argument/);
  assert.match(serve.stderr, /\.ct\/add: junk\.torrent is refused: /);
  const txt = await sh(`cp ${q(path.join(work, 'notes.txt'))} ${q(addDir)}/`);
  assert.notEqual(txt.code, 0);
  assert.match(serve.stderr, /notes\.txt is refused: only \.torrent and \.magnet files are added/);
  const again = await sh(`cp ${q(t.set)} ${q(addDir)}/again.torrent`);
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /failed to close|Invalid argument/);

  // Everywhere else: EROFS.
  for (const cmd of [`touch ${q(mnt)}/new`, `mkdir ${q(mnt)}/d`, `rm -f ${q(mnt)}/clip.bin`, `sh -c 'echo x >> ${mnt}/clip.bin'`,
    `mv ${q(mnt)}/clip.bin ${q(mnt)}/moved`, `mkdir ${q(addDir)}/sub`, `touch ${q(mnt)}/.ct/x`]) {
    const r = await sh(cmd);
    assert.notEqual(r.code, 0, cmd);
    assert.match(r.stderr, /Read-only file system|Permission denied/, cmd);
  }
  assert.deepEqual(await readThroughMount([path.join(mnt, 'clip.bin')]), [await sha1(path.join(src, 'clip.bin'))], 'unchanged');
  serve.kill('SIGTERM');
  assert.equal(await serve.waitExit(30_000), 0, serve.stderr);
});

test('kill -9 of ct serve at three moments of a download: each restart brings the torrent back with what was verified, the end is byte-exact, a last restart hashes nothing', { timeout: 180_000 }, async () => {
  const big = path.join(src, 'big');
  const files: [string, number][] = [];
  for (let i = 0; i < 24; i++) files.push([`f${i}.bin`, 250_000 + ((i * 7919) % 90_000)]);
  await makeTree(big, files);
  const bigTorrent = path.join(work, 'big.torrent');
  assert.equal((await ctRun(['create', big, '-o', bigTorrent, '--piece-length', '65536'])).code, 0);
  const bigMeta = parseMetainfo(await readFile(bigTorrent));
  // ~7 MB at 1.5 MB/s: several seconds to kill it in.
  const seeder = `127.0.0.1:${(await libtorrentSeeder(bigTorrent, src, { rate: 1_500_000 })).port}`;
  const url = `http://127.0.0.1:${await freePort()}`;
  const dl = path.join(work, 'dl-kill');
  const args = ['--http', url.slice(7), '--state-dir', path.join(work, 'state-kill'), '--download-dir', dl, '--resume-every', '0.2'];
  const progress = async () => {
    const r = await ctRun(['ls', '--json', '--server', url]);
    return r.code === 0 ? (JSON.parse(r.stdout) as { verified: number; state: string }[])[0] : undefined;
  };
  let serve = await startServe(args);
  assert.equal((await ctRun(['add', bigTorrent, '--seeds', seeder, '--server', url])).code, 0);
  let before = 0;
  for (const share of [0.2, 0.45, 0.7]) {
    await waitUntil(async () => ((await progress())?.verified ?? 0) >= share * bigMeta.totalLength, `${share * 100} % verified`, 60_000);
    const at = (await progress())!.verified;
    serve.kill('SIGKILL');
    await serve.waitExit(30_000);
    serve = await startServe(args);
    await waitUntil(async () => (await progress())?.state !== undefined && (await progress())!.state !== 'starting' && (await progress())!.state !== 'checking', 'the torrent back', 30_000);
    const back = (await progress())!.verified;
    // Everything verified a resume interval before the kill is still there (0.2 s at 1.5 MB/s is
    // ~300 kB; the check allows a full second of it).
    assert.ok(back >= at - 1_500_000 && back >= before, `after the kill at ${at} bytes: ${back} verified`);
    before = back;
  }
  await waitUntil(async () => (await progress())?.state === 'seeding', 'the download to complete', 90_000);
  serve.kill('SIGTERM');
  assert.equal(await serve.waitExit(30_000), 0, serve.stderr);
  const same = await sameTree(big, path.join(dl, 'big'));
  assert.ok(same.same, same.detail);
  serve = await startServe(args);
  await waitUntil(() => /serving big \(.*; \d+ pieces trusted from resume data, 0 hashed/.test(serve.stderr), 'the complete torrent restored without hashing', 30_000);
  serve.kill('SIGTERM');
  assert.equal(await serve.waitExit(30_000), 0);
});

test('the watch folder: a .torrent and a .magnet dropped there are added and renamed .added; a bad one .invalid, with the reason in the log', { timeout: 90_000 }, async () => {
  const watch = path.join(work, 'watch');
  await mkdir(watch);
  const url = `http://127.0.0.1:${await freePort()}`;
  const serve = await startServe(['--watch-dir', watch, '--http', url.slice(7), '--state-dir', path.join(work, 'state-watch'), '--download-dir', path.join(work, 'dl-watch')]);
  await copyFile(t.set, path.join(watch, 'set.torrent'));
  await writeFile(path.join(watch, 'clip.magnet'), `magnet:?xt=urn:btih:${clipMeta.infoHashHex}&x.pe=${seeds.clip}\n`);
  await writeFile(path.join(watch, 'junk.torrent'), 'not bencoded at all');
  await writeFile(path.join(watch, 'notes.txt'), 'left alone');
  await waitUntil(async () => (await readdir(watch)).sort().join(' ') === 'clip.magnet.added junk.torrent.invalid notes.txt set.torrent.added',
    'the watch folder to be taken', 30_000);
  assert.match(serve.stderr, /watch folder: junk\.torrent is invalid: /);
  await waitUntil(async () => {
    const list = JSON.parse((await ctRun(['ls', '--json', '--server', url])).stdout) as { name: string; state: string }[];
    return list.map((x) => x.name).sort().join(' ') === 'clip.bin set';
  }, 'both torrents listed with their names', 30_000);
  // The same torrent dropped again is refused, not added twice.
  await copyFile(t.set, path.join(watch, 'again.torrent'));
  await waitUntil(async () => (await readdir(watch)).includes('again.torrent.invalid'), 'the duplicate refused', 30_000);
  assert.match(serve.stderr, /again\.torrent is invalid: torrent [0-9a-f]{40} is already added/);
  serve.kill('SIGTERM');
  assert.equal(await serve.waitExit(30_000), 0, serve.stderr);
});

test('file selection: ct add --select fetches only the matching files (the others are never created); ct select / deselect change it live and it survives a restart', { timeout: 90_000 }, async () => {
  const url = `http://127.0.0.1:${await freePort()}`;
  const dl = path.join(work, 'dl-select');
  const serveArgs = ['--http', url.slice(7), '--state-dir', path.join(work, 'state-select'), '--download-dir', dl];
  let serve = await startServe(serveArgs);
  const cli = (args: string[]) => ctRun([...args, '--server', url]);
  const files = async () => (JSON.parse((await cli(['files', 'set', '--json'])).stdout) as { files: { path: string; progress: number; priority: number }[] }).files;
  const progress = async (file: string) => (await files()).find((f) => f.path === file)?.progress;

  const none = await cli(['add', t.set, '--select', 'nothing-*']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /--select nothing-\* matches no file/);
  assert.equal((await cli(['add', t.set, '--seeds', seeds.set, '--select', '*.txt'])).code, 0);
  await waitUntil(async () => (await progress('b/d.txt')) === 1, 'd.txt fetched', 30_000);
  const listing = (await cli(['files', 'set'])).stdout;
  assert.match(listing, /^1 .* on read +a\.bin$/m);
  assert.match(listing, /^3 .*100\.0% .* selected +b\/d\.txt$/m);
  assert.equal(await sha1(path.join(dl, 'set', 'b', 'd.txt')), await sha1(path.join(src, 'set', 'b', 'd.txt')));
  assert.equal(await exists(path.join(dl, 'set', 'a.bin')), false, 'a deselected file is never created');
  assert.equal(await exists(path.join(dl, 'set', 'b', 'c.bin')), false);
  assert.equal((JSON.parse((await cli(['ls', '--json'])).stdout) as { state: string }[])[0].state, 'idle', 'what was selected is done');

  // Live: select a.bin by its number; a pattern matching nothing is refused.
  const selected = await cli(['select', 'set', '1']);
  assert.equal(selected.code, 0, selected.stderr);
  assert.match(selected.stdout, /set \([0-9a-f]{40}\): 2 of 3 files selected/);
  await waitUntil(async () => (await progress('a.bin')) === 1, 'a.bin fetched', 30_000);
  assert.equal(await sha1(path.join(dl, 'set', 'a.bin')), await sha1(path.join(src, 'set', 'a.bin')));
  const bad = await cli(['deselect', 'set', 'zzz*']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /matches no file/);
  assert.match((await cli(['deselect', 'set', 'b/**'])).stdout, /1 of 3 files selected/);

  // After a restart: the same priorities, nothing more fetched.
  serve.kill('SIGTERM');
  assert.equal(await serve.waitExit(30_000), 0, serve.stderr);
  serve = await startServe(serveArgs);
  await waitUntil(async () => (await files()).length === 3 && /serving set/.test(serve.stderr), 'set restored', 30_000);
  assert.deepEqual((await files()).map((f) => `${f.path}:${f.priority}`), ['a.bin:4', 'b/c.bin:0', 'b/d.txt:0']);
  assert.equal(await exists(path.join(dl, 'set', 'b', 'c.bin')), false);
  // A service without a mount still answers ct status.
  const status = await ctRun(['status', '--files']);
  assert.match(status.stdout, new RegExp(`\\(no mount: ct serve at ${url.replace(/\./g, '\\.')}\\)  pid ${serve.child.pid}  1 torrent`));
  assert.match(status.stdout, /^  set  idle .*\n(.*\n)*    100\.0%  a\.bin$/m);
  serve.kill('SIGTERM');
  assert.equal(await serve.waitExit(30_000), 0, serve.stderr);
});

test('a full state disk: ct add fails in one line and the service runs on; resume saves fail with a warning, leave no temp files, and succeed once there is room', { timeout: 90_000 }, async () => {
  // The state dir on a 1 MiB tmpfs (we run as root, as CI does); the data elsewhere.
  const state = path.join(work, 'state-full');
  await mkdir(state);
  const mounted = await sh(`mount -t tmpfs -o size=1m tmpfs ${q(state)}`);
  assert.equal(mounted.code, 0, mounted.stderr);
  mounts.push(state);
  const url = `http://127.0.0.1:${await freePort()}`;
  // A seeder at 250 kB/s: the 2.2 MB download lasts ~9 s, long enough to fill the disk under it.
  const slow = `127.0.0.1:${(await libtorrentSeeder(t.set, src, { rate: 250_000 })).port}`;
  const serve = await startServe(['--http', url.slice(7), '--state-dir', state, '--download-dir', path.join(work, 'dl-full'), '--resume-every', '0.3']);
  const cli = (args: string[]) => ctRun([...args, '--server', url]);
  await sh(`dd if=/dev/zero of=${q(path.join(state, 'filler'))} bs=4k 2>/dev/null`);
  const refused = await cli(['add', t.set, '--seeds', slow]);
  assert.notEqual(refused.code, 0);
  assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
  assert.match(refused.stderr, /no space left on device/i);
  assert.match((await cli(['ls'])).stdout, /no torrents/, 'still serving, nothing half-added');

  // Room for the records, not for the resume snapshots: the download goes on, the saves fail.
  await sh(`rm ${q(path.join(state, 'filler'))}`);
  assert.equal((await cli(['add', t.set, '--seeds', slow])).code, 0);
  await sh(`dd if=/dev/zero of=${q(path.join(state, 'filler'))} bs=4k 2>/dev/null`);
  await waitUntil(() => /cannot save resume data of set: .*no space left on device/i.test(serve.stderr), 'a failed save in the log', 20_000)
    .catch(async (err: Error) => { throw new Error(`${err.message}: ${serve.stderr} ${(await sh(`df ${q(state)}; ls -la ${q(state)}`)).stdout}`); });
  const leftovers = async () => (await sh(`find ${q(state)} -name '*.tmp'`)).stdout.trim();
  assert.equal(await leftovers(), '', 'no temp files left behind');
  assert.equal(serve.exitCode, null, 'still running');

  // Room again: the next saves land; once complete, a restart trusts the last and hashes nothing.
  await sh(`rm ${q(path.join(state, 'filler'))}`);
  await waitUntil(async () => (JSON.parse((await cli(['ls', '--json'])).stdout) as { state: string }[])[0]?.state === 'seeding', 'set downloaded', 60_000);
  await waitUntil(async () => (await readdir(path.join(state, 'resume')).catch(() => [])).length === 1, 'the snapshot saved', 10_000);
  serve.kill('SIGTERM');
  assert.equal(await serve.waitExit(30_000), 0, serve.stderr);
  const again = await startServe(['--http', url.slice(7), '--state-dir', state, '--download-dir', path.join(work, 'dl-full')]);
  await waitUntil(() => /serving set \(.*; \d+ pieces trusted from resume data, 0 hashed/.test(again.stderr), 'set restored from its snapshot', 30_000);
  again.kill('SIGTERM');
  assert.equal(await again.waitExit(30_000), 0, again.stderr);
  await sh(`umount ${q(state)}`);
});

test('ct add URL: the service fetches the .torrent, and the event stream tells; an HTML page, a redirect loop and an oversized file are one-line refusals', { timeout: 90_000 }, async () => {
  const torrentBytes = await readFile(t.set);
  const web = createServer((req, res) => {
    if (req.url === '/set.torrent') return void res.writeHead(200, { 'Content-Type': 'application/x-bittorrent' }).end(torrentBytes);
    if (req.url === '/moved') return void res.writeHead(302, { Location: '/set.torrent' }).end();
    if (req.url === '/login') return void res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end('<html>sign in</html>');
    if (req.url === '/a') return void res.writeHead(302, { Location: '/b' }).end();
    if (req.url === '/b') return void res.writeHead(302, { Location: '/a' }).end();
    if (req.url === '/huge') return void res.writeHead(200, { 'Content-Length': 9 * 1024 * 1024 }).end(Buffer.alloc(9 * 1024 * 1024));
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
  const url = `http://127.0.0.1:${await freePort()}`;
  const serve = await startServe(['--http', url.slice(7), '--state-dir', path.join(work, 'state-url'), '--download-dir', path.join(work, 'dl-url')]);
  // The event stream, read while the torrent is added and removed.
  const stop = new AbortController();
  let stream = '';
  const events = await fetch(`${url}/api/v1/events`, { signal: stop.signal });
  assert.equal(events.headers.get('content-type'), 'text/event-stream');
  const reading = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of events.body!) stream += decoder.decode(chunk as Uint8Array, { stream: true });
  })().catch(() => undefined);
  try {
    const ok = await ctRun(['add', `${base}/moved`, '--server', url]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, new RegExp(`^added set \\(${setMeta.infoHashHex}\\)\n$`));
    assert.equal((await ctRun(['rm', 'set', '--server', url])).code, 0);
    await waitUntil(() => /event: removed\ndata: \{"id":"[0-9a-f]{40}","name":"set"/.test(stream), 'the removed event', 10_000);
    assert.match(stream, new RegExp(`event: added\ndata: \\{"id":"${setMeta.infoHashHex}","name":"set"`));
    assert.match(stream, /event: progress\ndata: \[/);
    stop.abort();
    await reading;
    assert.equal((await ctRun(['add', `${base}/set.torrent`, '--server', url])).code, 0);
    // ct files lists each file; ct add --paused and ct resume by name.
    const files = await ctRun(['files', 'set', '--server', url]);
    assert.equal(files.code, 0, files.stderr);
    assert.deepEqual(files.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).pop()).sort(), ['a.bin', 'b/c.bin', 'b/d.txt']);
    assert.equal((await ctRun(['add', t.clip, '--paused', '--seeds', seeds.clip, '--server', url])).code, 0);
    assert.match((await ctRun(['ls', '--server', url])).stdout, /paused .*clip\.bin/);
    const resumedByName = await ctRun(['resume', 'clip.bin', '--server', url]);
    assert.equal(resumedByName.code, 0, resumedByName.stderr);
    assert.doesNotMatch(resumedByName.stdout, /: paused$/m);
    for (const [pathName, why] of [['/login', /is an HTML page, not a \.torrent file/], ['/a', /redirect loop/], ['/huge', /over the 8388608-byte limit/], ['/gone', /HTTP 404/]] as const) {
      const r = await ctRun(['add', base + pathName, '--server', url]);
      assert.equal(r.code, 2, `${pathName}: ${r.stderr}`);
      assert.match(r.stderr, /^ct: [^\n]+\n$/);
      assert.match(r.stderr, why);
    }
  } finally {
    serve.kill('SIGTERM');
    await serve.waitExit(30_000);
    web.close();
  }
});

test('the log: log.format = json gives one object per line; -q keeps info lines out (and beats CT_LOG_LEVEL)', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const json = await startServe(['--http', `127.0.0.1:${port}`, '--state-dir', path.join(work, 'state-log'), '--log-format', 'json']);
  json.kill('SIGTERM');
  assert.equal(await json.waitExit(30_000), 0);
  const lines = json.stderr.trim().split('\n');
  for (const line of lines) {
    const o = JSON.parse(line) as { time: string; level: string; msg: string };
    assert.ok(!Number.isNaN(Date.parse(o.time)) && ['error', 'warn', 'info', 'debug'].includes(o.level) && typeof o.msg === 'string', line);
  }
  assert.ok(lines.some((l) => l.includes('serving (pid')));
  const quiet = ct(['serve', '-q', '--no-dht', '--listen', '127.0.0.1:0', '--http', `127.0.0.1:${port}`, '--state-dir', path.join(work, 'state-log')], 'ct serve -q', { CT_LOG_LEVEL: 'debug' });
  await waitUntil(async () => (await ctRun(['ls', '--server', `http://127.0.0.1:${port}`])).code === 0, 'the quiet service to answer', 30_000);
  quiet.kill('SIGTERM');
  assert.equal(await quiet.waitExit(30_000), 0);
  assert.equal(quiet.stderr, '');
  const bad = await ctRun(['serve', '--log-level', 'loud']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--log-level <level>' argument 'loud' is invalid: expected one of error, warn, info, debug/);
});

test('ct serve refuses a non-loopback API without a token; with one, every request needs it', { timeout: 60_000 }, async () => {
  const state = path.join(work, 'state-token');
  const refused = await ctRun(['serve', '--http', '0.0.0.0:0', '--state-dir', state, '--no-dht'], 30_000);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /^ct: refusing to serve the API on 0\.0\.0\.0:0 without a token[^\n]*\n$/);
  const port = await freePort();
  const serve = await startServe(['--http', `0.0.0.0:${port}`, '--state-dir', state], { CT_HTTP_TOKEN: 'sesame' });
  const denied = await ctRun(['ls', '--server', `http://127.0.0.1:${port}`]);
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /bearer token/);
  const allowed = ct(['ls', '--server', `http://127.0.0.1:${port}`], 'ct ls', { CT_HTTP_TOKEN: 'sesame' });
  assert.equal(await allowed.waitExit(30_000), 0, allowed.stderr);
  assert.match(allowed.stdout, /no torrents/);
  // ct config says the token is set, never what it is.
  const shown = ct(['config', '--json'], 'ct config', { CT_HTTP_TOKEN: 'sesame' });
  assert.equal(await shown.waitExit(30_000), 0, shown.stderr);
  assert.ok(!shown.stdout.includes('sesame'));
  assert.match(shown.stdout, /"key":"http\.token","value":"<set>"/);
  serve.kill('SIGTERM');
  assert.equal(await serve.waitExit(30_000), 0);
  const none = await ctRun(['ls', '--server', `http://127.0.0.1:${port}`]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /^ct: no ct serve answers at http:\/\/127\.0\.0\.1:\d+ \(connection refused\)/);
});

test('the event stream with ?changes=1: every torrent once, then only the views that changed, and nothing while none does', { timeout: 90_000 }, async () => {
  const url = `http://127.0.0.1:${await freePort()}`;
  await startServe(['--http', url.slice(7), '--state-dir', path.join(work, 'state-changes'), '--download-dir', path.join(work, 'dl-changes')]);
  for (const [file, seed] of [[t.set, seeds.set], [t.clip, seeds.clip]]) assert.equal((await ctRun(['add', file, '--seeds', seed, '--server', url])).code, 0);
  const stop = new AbortController();
  const events: { event: string; data: { id: string; state: string }[] | { id: string }; at: number }[] = [];
  const res = await fetch(`${url}/api/v1/events?changes=1`, { signal: stop.signal });
  const reading = (async () => {
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of res.body!) {
      buffered += decoder.decode(chunk as Uint8Array, { stream: true });
      for (let cut = buffered.indexOf('\n\n'); cut >= 0; cut = buffered.indexOf('\n\n')) {
        const m = /^event: (\S+)\ndata: (.*)$/s.exec(buffered.slice(0, cut));
        buffered = buffered.slice(cut + 2);
        if (m) events.push({ event: m[1], data: JSON.parse(m[2]) as { id: string }, at: Date.now() });
      }
    }
  })().catch(() => undefined);
  try {
    await waitUntil(() => events.length > 0, 'the first event', 10_000);
    assert.equal(events[0].event, 'progress');
    assert.equal((events[0].data as unknown[]).length, 2);
    // Both complete, their rates decay to zero; then the stream falls silent.
    await waitUntil(() => events.filter((e) => e.event === 'updates').some((e) => (e.data as { state: string }[]).some((v) => v.state === 'seeding')), 'seeding in an update', 30_000);
    await waitUntil(() => Date.now() - (events.filter((e) => e.event === 'updates').pop()?.at ?? 0) > 2500, 'no update for 2.5 s', 30_000, 100);
    const before = events.length;
    assert.equal((await ctRun(['pause', 'clip.bin', '--server', url])).code, 0);
    await waitUntil(() => events.slice(before).some((e) => e.event === 'updates'), 'an update after the pause', 10_000);
    const update = events.slice(before).find((e) => e.event === 'updates')!;
    assert.deepEqual((update.data as { id: string; state: string }[]).map((v) => v.state), ['paused'], 'only the paused torrent');
    assert.ok(events.slice(before).some((e) => e.event === 'paused'));
  } finally {
    stop.abort();
    await reading;
  }
});
