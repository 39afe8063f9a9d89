/**
 * `ct mount` end to end: real FUSE mounts served by a ct process, fed by real peers (libtorrent,
 * and ct itself for the BEP 47 torrent libtorrent would not seed as crafted), checked with
 * ordinary tools run as separate processes (never from this process against its own mount).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { makeTree, removeDir, tempDir } from '../helpers/fixtures.js';
import { craftTorrent } from '../helpers/craft-torrent.js';
import { ct, ctRun, freePort, libtorrentSeeder, stopAll, type Proc } from '../helpers/procs.js';
import { waitUntil } from '../helpers/wait.js';

const GiB = 1024 * 1024 * 1024;
const BIG = 5 * GiB + 12345; // > 4 GiB: 64-bit sizes and offsets all the way
const UNICODE = 'Ünïcödé 日本語 🎬.txt';

let work: string;
let seeds: string;
const torrents = { media: '', big: '', links: '' };
let bigTail: Buffer;
const mounts: string[] = [];

/** Runs a shell command in its own process; never throws. */
function sh(cmd: string, timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', cmd], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

async function isMounted(mnt: string): Promise<boolean> {
  return (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').some((l) => l.split(' ')[4] === mnt);
}

/** Starts `ct mount` and resolves once the kernel shows the mount. */
async function mount(name: string, args: string[]): Promise<{ proc: Proc; mnt: string }> {
  const mnt = path.join(work, name);
  mounts.push(mnt);
  const proc = ct(['mount', mnt, '--mkdir', ...args], `ct mount ${name}`);
  const deadline = Date.now() + 30_000;
  while (!proc.stderr.includes('mounted')) {
    if (proc.exitCode !== null) throw new Error(`ct mount exited ${proc.exitCode}: ${proc.stderr}`);
    if (Date.now() > deadline) throw new Error(`ct mount did not come up: ${proc.stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(await isMounted(mnt), 'the kernel lists the mount');
  return { proc, mnt };
}

before(async () => {
  work = await tempDir('ct-mount-');
  const src = path.join(work, 'src');
  // A multi-file torrent: unicode names, a 0-byte file, nested folders.
  await makeTree(path.join(src, 'media'), [['movie.mkv', 3 * 1024 * 1024 + 333], [UNICODE, 4000], ['sub/empty.bin', 0], ['sub/deeper/notes.txt', 70_000]]);
  torrents.media = path.join(work, 'media.torrent');
  assert.equal((await ctRun(['create', path.join(src, 'media'), '-o', torrents.media, '--piece-length', '65536'])).code, 0);
  // A single-file torrent of a sparse 5 GiB file with real bytes at its end.
  bigTail = randomBytes(1024 * 1024);
  torrents.big = path.join(work, 'big.torrent');
  await writeFile(torrents.big, await craftTorrent(src, {
    name: 'big.bin', pieceLength: 16 * 1024 * 1024, single: true,
    files: [{ path: ['big.bin'], length: BIG, blobs: [{ offset: BIG - bigTail.length, data: bigTail }] }],
  }));
  // BEP 47: a pad file (never shown) and a symlink.
  torrents.links = path.join(work, 'links.torrent');
  await writeFile(torrents.links, await craftTorrent(src, {
    name: 'links', pieceLength: 16384,
    files: [
      { path: ['a.txt'], length: 1000, blobs: [{ offset: 0, data: Buffer.alloc(1000, 'a') }] },
      { path: ['.pad', '15384'], length: 15384, pad: true },
      { path: ['docs', 'b.txt'], length: 5000, blobs: [{ offset: 0, data: Buffer.alloc(5000, 'b') }] },
      { path: ['docs', 'latest'], length: 0, symlink: ['a.txt'] },
    ],
  }));
  const media = await libtorrentSeeder(torrents.media, src);
  const big = await libtorrentSeeder(torrents.big, src, { seedMode: true });
  const linksPort = await freePort();
  const linksSeeder = ct(['seed', '--metainfo', torrents.links, '--download-dir', src, '--listen', `127.0.0.1:${linksPort}`], 'ct seed links');
  await linksSeeder.waitFor(/seeding/, 30_000);
  seeds = [`127.0.0.1:${media.port}`, `127.0.0.1:${big.port}`, `127.0.0.1:${linksPort}`].join(',');
});

after(async () => {
  for (const mnt of mounts) if (await isMounted(mnt)) await sh(`fusermount -uz ${q(mnt)}`);
  await stopAll();
  await removeDir(work);
});

test('three torrents in one mount: layout, modes, sizes, exact bytes, symlinks, EROFS, xattrs, ct status', async () => {
  const { proc, mnt } = await mount('mnt-all', [
    '--metainfo', torrents.media, '--metainfo', torrents.big, '--metainfo', torrents.links,
    '--seeds', seeds, '--download-dir', path.join(work, 'dl-all'),
  ]);
  // Layout: multi-file torrents are folders, the single-file torrent's file is at the top.
  const found = (await sh(`cd ${q(mnt)} && find . | LC_ALL=C sort`)).stdout.trim().split('\n');
  assert.deepEqual(found, [
    '.', './big.bin', './links', './links/a.txt', './links/docs', './links/docs/b.txt', './links/docs/latest',
    './media', './media/movie.mkv', './media/sub', './media/sub/deeper', './media/sub/deeper/notes.txt',
    './media/sub/empty.bin', `./media/${UNICODE}`,
  ].sort(), 'no pad file, unicode kept');

  // Modes and sizes: no write bit anywhere; > 4 GiB exact.
  const modes = (await sh(`cd ${q(mnt)} && stat -c '%a %s %F %n' big.bin media media/movie.mkv media/sub/empty.bin links/docs/latest`)).stdout.trim().split('\n');
  assert.deepEqual(modes, [
    `444 ${BIG} regular file big.bin`,
    '555 4096 directory media',
    `444 ${3 * 1024 * 1024 + 333} regular file media/movie.mkv`,
    '444 0 regular empty file media/sub/empty.bin',
    '444 8 symbolic link links/docs/latest' // size = length of "../a.txt",
  ]);
  // Timestamps from the torrent's creation date; statfs answers (a full, read-only filesystem).
  assert.equal((await sh(`stat -c %Y ${q(path.join(mnt, 'links/a.txt'))}`)).stdout.trim(), '1700000000');
  const fsStat = (await sh(`stat -f -c '%S %b %a %l' ${q(mnt)}`)).stdout.trim().split(' ').map(Number);
  assert.deepEqual([fsStat[0], fsStat[3]], [4096, 255]);
  assert.ok(fsStat[1] * 4096 >= BIG, 'blocks cover the torrents');
  assert.ok(fsStat[2] > 0 && fsStat[2] < fsStat[1], 'free = what is still to fetch');
  const writable = (await sh(`find ${q(mnt)} -perm /222 -not -type l`)).stdout.trim();
  assert.equal(writable, '', 'nothing writable');

  // Bytes: every file of the media torrent, compared with the seeder's copy by separate processes.
  const src = path.join(work, 'src', 'media');
  for (const f of ['movie.mkv', UNICODE, 'sub/empty.bin', 'sub/deeper/notes.txt']) {
    const r = await sh(`cmp ${q(path.join(mnt, 'media', f))} ${q(path.join(src, f))}`);
    assert.equal(r.code, 0, `cmp ${f}: ${r.stdout}${r.stderr}`);
  }
  const sums = (await sh(`sha256sum ${q(path.join(mnt, 'media', 'movie.mkv'))} ${q(path.join(src, 'movie.mkv'))} | cut -d' ' -f1 | uniq | wc -l`)).stdout.trim();
  assert.equal(sums, '1', 'sha256sum agrees');
  assert.equal((await sh(`cat ${q(path.join(mnt, 'media/sub/empty.bin'))} | wc -c`)).stdout.trim(), '0');

  // The end of the 5 GiB file, and a stretch of zeros at 4.5 GiB, with dd skip=.
  const tail = await sh(`dd if=${q(path.join(mnt, 'big.bin'))} bs=1M skip=${BIG - bigTail.length} iflag=skip_bytes,fullblock count=1 2>/dev/null | sha256sum | cut -d' ' -f1`);
  assert.equal(tail.stdout.trim(), createHash('sha256').update(bigTail).digest('hex'), `last MiB past 4 GiB ${tail.stderr}`);
  // du counts what is on disk: the whole movie (read above), next to nothing of the 5 GiB file.
  await new Promise((r) => setTimeout(r, 1100)); // past the kernel's 1 s attribute cache
  const du = (await sh(`du -k ${q(path.join(mnt, 'media/movie.mkv'))} ${q(path.join(mnt, 'big.bin'))}`)).stdout.trim().split('\n').map((l) => Number(l.split('\t')[0]));
  assert.ok(du[0] >= 3 * 1024 && du[1] < 200 * 1024, `du: ${du.join(', ')} KiB`);
  const zeros = await sh(`dd if=${q(path.join(mnt, 'big.bin'))} bs=64k skip=${(4.5 * GiB) / 65536} count=1 2>/dev/null | tr -d '\\0' | wc -c`);
  assert.equal(zeros.stdout.trim(), '0', 'zeros at 4.5 GiB');

  // BEP 47 symlink: readlink answers a path inside the mount, and following it reads the target.
  assert.equal((await sh(`readlink ${q(path.join(mnt, 'links/docs/latest'))}`)).stdout.trim(), '../a.txt');
  assert.equal((await sh(`cat ${q(path.join(mnt, 'links/docs/latest'))}`)).stdout, 'a'.repeat(1000));
  assert.equal((await sh(`cat ${q(path.join(mnt, 'links/docs/b.txt'))}`)).stdout, 'b'.repeat(5000));

  // Read-only: every kind of change answers EROFS.
  for (const cmd of [
    `touch ${q(path.join(mnt, 'new'))}`, `echo x > ${q(path.join(mnt, 'media/movie.mkv'))}`, `echo x >> ${q(path.join(mnt, 'media/movie.mkv'))}`,
    `mkdir ${q(path.join(mnt, 'd'))}`, `rm -f ${q(path.join(mnt, 'media/movie.mkv'))}`, `rmdir ${q(path.join(mnt, 'media/sub/deeper'))}`,
    `mv ${q(path.join(mnt, 'media/movie.mkv'))} ${q(path.join(mnt, 'media/m2'))}`, `chmod 777 ${q(path.join(mnt, 'media/movie.mkv'))}`,
    `truncate -s 0 ${q(path.join(mnt, 'media/movie.mkv'))}`, `ln -s x ${q(path.join(mnt, 'lnk'))}`,
    `setfattr -n user.x -v 1 ${q(path.join(mnt, 'media/movie.mkv'))}`,
  ]) {
    const r = await sh(cmd);
    assert.notEqual(r.code, 0, `${cmd} must fail`);
    assert.match(r.stderr, /Read-only file system/, `${cmd}: ${r.stderr}`);
  }

  // Extended attributes: JSON status on the root, a torrent folder and a file, under both names.
  const xattr = async (p: string, name = 'user.ct.status') =>
    JSON.parse((await sh(`getfattr --only-values -n ${name} ${q(p)}`)).stdout) as Record<string, unknown>;
  const root = await xattr(mnt);
  assert.equal((root.torrents as unknown[]).length, 3);
  const folder = await xattr(path.join(mnt, 'media'), 'user.torrent.status');
  assert.equal(folder.name, 'media');
  assert.deepEqual(folder.pieces, { have: (folder.pieces as { total: number }).total, total: (folder.pieces as { total: number }).total });
  const file = await xattr(path.join(mnt, 'media', 'movie.mkv'));
  assert.equal(file.path, 'movie.mkv');
  assert.deepEqual(file.ranges, [[0, 3 * 1024 * 1024 + 333]], 'a fully read file has one verified range');
  const big = await xattr(path.join(mnt, 'big.bin'));
  assert.ok((big.downloaded as number) < 100 * 1024 * 1024, 'on demand: only what was read of the 5 GiB file');
  assert.match((await sh(`getfattr -d ${q(path.join(mnt, 'media'))}`)).stdout, /user\.ct\.status=[\s\S]*user\.torrent\.status=/);

  // ct status asks the serving process.
  const st = await ctRun(['status', mnt, '--json']);
  assert.equal(st.code, 0, st.stderr);
  const status = JSON.parse(st.stdout) as { pid: number; torrents: { path: string; files: { path: string; progress: number }[] }[] };
  assert.equal(status.pid, proc.child.pid);
  assert.deepEqual(status.torrents.map((t) => t.path).sort(), ['/big.bin', '/links', '/media']);
  assert.equal(status.torrents.find((t) => t.path === '/media')?.files.find((f) => f.path === 'movie.mkv')?.progress, 1);
  // Text: one line per mount and per torrent; files only with --files or for one torrent.
  const text = await ctRun(['status']);
  const lines = text.stdout.split('\n').filter((l) => l.includes(mnt) || l.startsWith('  /'));
  assert.ok(lines.some((l) => l.startsWith(`${mnt}  pid ${proc.child.pid}  3 torrents`)), text.stdout);
  assert.match(text.stdout, /^ {2}\/media {2}seeding {2}100\.0%/m);
  assert.match(text.stdout, /^ {2}\/big\.bin {2}idle /m, 'an on-demand torrent nobody reads is idle');
  assert.doesNotMatch(text.stdout, /movie\.mkv/);
  const one = await ctRun(['status', path.join(mnt, 'media')]);
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stdout, /^ {4}100\.0% {2}movie\.mkv$/m);
  assert.doesNotMatch(one.stdout, /big\.bin/);

  const r = await ctRun(['umount', mnt]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await proc.waitExit(15_000), 0);
  assert.equal(await isMounted(mnt), false);
  // The download folder holds only what was read: of the 5 GiB file, its last MiB, the 64 KiB at
  // 4.5 GiB and readahead (blocks on disk, the file itself is sparse).
  const onDisk = Number((await sh(`du -k ${q(path.join(work, 'dl-all', 'big.bin'))}`)).stdout.split('\t')[0]);
  assert.ok(onDisk > 0 && onDisk < 300 * 1024, `${onDisk} KiB of the 5 GiB file on disk`);
});

test('a read no peer can serve fails with EIO after --read-timeout (not twice that); the mount stays usable', async () => {
  const { proc, mnt } = await mount('mnt-timeout', ['--metainfo', torrents.media, '--download-dir', path.join(work, 'dl-timeout'), '--read-timeout', '3']);
  const started = Date.now();
  const r = await sh(`dd if=${q(path.join(mnt, 'media/movie.mkv'))} of=/dev/null bs=64k count=1`, 30_000);
  const elapsed = Date.now() - started;
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Input\/output error/);
  // Regression: the kernel retried the failed readahead with a new read, which waited N again.
  assert.ok(elapsed >= 2900 && elapsed < 5000, `failed after ${elapsed} ms with --read-timeout 3`);
  assert.equal((await sh(`ls ${q(path.join(mnt, 'media'))}`)).code, 0, 'still answering');
  assert.equal((await ctRun(['umount', mnt])).code, 0);
  assert.equal(await proc.waitExit(15_000), 0);
  // rqbit-fuse's option: EAGAIN instead of EIO.
  const eagain = await mount('mnt-eagain', ['--metainfo', torrents.media, '--download-dir', path.join(work, 'dl-timeout'), '--read-timeout', '1', '--eagain']);
  const r2 = await sh(`dd if=${q(path.join(eagain.mnt, 'media/movie.mkv'))} of=/dev/null bs=64k count=1`, 30_000);
  assert.match(r2.stderr, /Resource temporarily unavailable/);
  assert.equal((await ctRun(['umount', eagain.mnt])).code, 0);
  assert.equal(await eagain.proc.waitExit(15_000), 0);
});

test('ct umount refuses while a file is open; --force fails the pending read with EIO, the mount goes, nothing wedges', async () => {
  const { proc, mnt } = await mount('mnt-pending', ['--metainfo', torrents.media, '--download-dir', path.join(work, 'dl-pending')]);
  const reading = sh(`cat ${q(path.join(mnt, 'media/movie.mkv'))} > /dev/null`, 60_000);
  await waitUntil(async () => JSON.parse((await ctRun(['status', mnt, '--json'])).stdout).openFiles === 1, 'the reader to open the file', 20_000, 100);
  const busy = await ctRun(['umount', mnt], 30_000);
  assert.equal(busy.code, 1, 'without --force an open file keeps the mount');
  assert.match(busy.stderr, /^ct: cannot unmount .*: 1 file is open in the mount \(close it, or use --force\)\n$/);
  assert.ok(await isMounted(mnt));
  const r = await ctRun(['umount', mnt, '--force'], 30_000);
  assert.equal(r.code, 0, r.stderr);
  const read = await reading;
  assert.notEqual(read.code, 0, 'the pending read failed instead of hanging');
  assert.match(read.stderr, /Input\/output error/, 'EIO, not "Bad file descriptor"');
  assert.equal(await proc.waitExit(15_000), 0);
  assert.equal(await isMounted(mnt), false);
});

/** The `fusermount -o auto_unmount` helper libfuse started for a mount served by `pid`. */
async function unmountHelperOf(pid: number): Promise<number> {
  const r = await sh(`pgrep -P ${pid} -x fusermount`);
  const helper = Number(r.stdout.trim().split('\n')[0]);
  assert.ok(helper > 0, `no fusermount helper under ${pid}: ${r.stdout}${r.stderr}`);
  return helper;
}

test('a SIGKILLed mount: auto_unmount removes it; with the helper gone too it is stale and ct umount clears it; ct mount works again; a mount point in use is refused', async () => {
  // 1. The kernel-side helper unmounts when the process dies (no ct umount).
  const first = await mount('mnt-kill', ['--metainfo', torrents.media, '--seeds', seeds, '--download-dir', path.join(work, 'dl-kill')]);
  first.proc.kill('SIGKILL');
  await first.proc.exited;
  await waitUntil(async () => !(await isMounted(first.mnt)), 'auto_unmount to remove the mount of a killed process', 15_000, 50);
  // 2. Regression: with the killed process's control socket left behind, the next ct mount failed
  // with "Cannot find module 'nanoresource'". Now the helper dies first: the mount stays, stale.
  const second = await mount('mnt-kill', ['--metainfo', torrents.media, '--seeds', seeds, '--download-dir', path.join(work, 'dl-kill')]);
  const helper = await unmountHelperOf(second.proc.child.pid ?? 0);
  process.kill(helper, 'SIGKILL');
  second.proc.kill('SIGKILL');
  await second.proc.exited;
  const ls = await sh(`ls ${q(second.mnt)}`);
  assert.match(ls.stderr, /Transport endpoint is not connected/, 'stale');
  assert.ok(await isMounted(second.mnt));
  const um = await ctRun(['umount', second.mnt]);
  assert.equal(um.code, 0, um.stderr);
  assert.equal(await isMounted(second.mnt), false, 'ct umount cleared the stale mount');
  const again = await mount('mnt-kill', ['--metainfo', torrents.media, '--seeds', seeds, '--download-dir', path.join(work, 'dl-kill')]);
  const r = await sh(`cmp ${q(path.join(again.mnt, 'media', UNICODE))} ${q(path.join(work, 'src', 'media', UNICODE))}`);
  assert.equal(r.code, 0, r.stderr);
  // A second mount on the same point: one line, exit 1, the first keeps working.
  const clash = await ctRun(['mount', again.mnt, '--metainfo', torrents.media]);
  assert.equal(clash.code, 1);
  assert.equal(clash.stderr.trim().split('\n').length, 1, clash.stderr);
  assert.match(clash.stderr, /^ct: .*(in use|serves)/);
  assert.equal((await sh(`ls ${q(again.mnt)}`)).code, 0);
  assert.equal((await ctRun(['umount', again.mnt])).code, 0);
  assert.equal(await again.proc.waitExit(15_000), 0);
});

test('--download-all fetches everything in the background; SIGTERM unmounts cleanly', async () => {
  const { proc, mnt } = await mount('mnt-all-bg', ['--metainfo', torrents.media, '--seeds', seeds, '--download-dir', path.join(work, 'dl-bg'), '--download-all']);
  const deadline = Date.now() + 30_000;
  let progress = 0;
  while (progress < 1 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    const st = JSON.parse((await sh(`getfattr --only-values -n user.ct.status ${q(path.join(mnt, 'media'))}`)).stdout) as { progress: number };
    progress = st.progress;
  }
  assert.equal(progress, 1, 'complete without any read');
  proc.kill('SIGTERM');
  assert.equal(await proc.waitExit(15_000), 0);
  assert.equal(await isMounted(mnt), false);
});
