/**
 * The bounded cache (issue 15): a torrent 16 times larger than `--cache-size` mounted and read
 * through the mount by separate processes, against a libtorrent seeder on loopback. Reads are
 * byte-exact; the download dir's allocated size, sampled every 100 ms by a process of its own,
 * never passes the limit plus one piece per open reader; a restart keeps what is cached.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { parseMetainfo } from '@ct/engine';
import { removeDir, tempDir } from '../helpers/fixtures.js';
import { Proc, ct, ctRun, libtorrentSeeder, stopAll } from '../helpers/procs.js';

const MiB = 1024 * 1024;
const CACHE = 64 * MiB;
const PIECE = MiB;
let work: string;
let src: string;
const mounts: string[] = [];

function sh(cmd: string, timeoutMs = 120_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', cmd], { timeout: timeoutMs, maxBuffer: 64 * MiB }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

before(async () => {
  work = await tempDir('ct-cache-');
  src = path.join(work, 'src');
  await mkdir(path.join(src, 'pair'), { recursive: true });
  // 1 GiB in one file, and a torrent of two 512 MiB files for the two readers.
  assert.equal((await sh(`head -c ${1024 * MiB} /dev/urandom > ${q(path.join(src, 'big.bin'))}`)).code, 0);
  assert.equal((await sh(`head -c ${512 * MiB} /dev/urandom > ${q(path.join(src, 'pair', 'a.bin'))} && head -c ${512 * MiB} /dev/urandom > ${q(path.join(src, 'pair', 'b.bin'))}`)).code, 0);
  for (const [input, out] of [['big.bin', 'big.torrent'], ['pair', 'pair.torrent']]) {
    const made = await ctRun(['create', path.join(src, input), '-o', path.join(work, out), '--piece-length', String(PIECE)], 120_000);
    assert.equal(made.code, 0, made.stderr);
  }
});
after(async () => {
  await stopAll();
  for (const m of mounts) await sh(`fusermount -uz ${q(m)} 2>/dev/null`);
  await removeDir(work);
});

/** Samples `du -B1` of `dir` every 100 ms in a process of its own; stop() gives the largest figure. */
function sampleDiskUse(dir: string): { stop: () => Promise<number> } {
  const p = new Proc(spawn('sh', ['-c', `while :; do du -sB1 ${q(dir)} | cut -f1; sleep 0.1; done`], { stdio: 'pipe' }), 'du sampler');
  return {
    stop: async () => {
      p.kill('SIGKILL');
      await p.waitExit(5000).catch(() => undefined);
      return Math.max(0, ...p.stdout.split('\n').filter(Boolean).map(Number));
    },
  };
}

async function mount(name: string, torrent: string, seed: string | undefined, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<{ proc: Proc; mnt: string; dl: string }> {
  const mnt = path.join(work, `mnt-${name}`);
  const dl = path.join(work, `dl-${name}`);
  mounts.push(mnt);
  const proc = ct(['mount', mnt, '--mkdir', torrent, '--download-dir', dl, '--cache-size', `${CACHE / MiB}MiB`, '--listen', '127.0.0.1:0',
    '--state-dir', path.join(work, `state-${name}`), '--read-timeout', '20', ...(seed ? ['--seeds', seed] : []), ...extra], `ct mount ${name}`, env);
  const deadline = Date.now() + 60_000;
  while (!proc.stderr.includes('mounted')) {
    if (proc.exitCode !== null) throw new Error(`ct mount exited ${proc.exitCode}: ${proc.stderr}`);
    if (Date.now() > deadline) throw new Error(`ct mount did not come up: ${proc.stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { proc, mnt, dl };
}

async function unmount(m: { proc: Proc; mnt: string }): Promise<void> {
  m.proc.kill('SIGTERM');
  assert.equal(await m.proc.waitExit(30_000), 0, m.proc.stderr);
}

/** A reader process: `count` random reads of up to 256 KiB, each compared with the source file; prints the mismatches. */
async function randomReads(mounted: string, source: string, count: number): Promise<string> {
  const script = `
    const fs = require('fs'); const [f, s, n] = process.argv.slice(1); const a = fs.openSync(f, 'r'), b = fs.openSync(s, 'r');
    const size = fs.fstatSync(b).size; let bad = 0; let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let i = 0; i < Number(n); i++) {
      const len = 1 + Math.floor(rnd() * 256 * 1024); const pos = Math.floor(rnd() * (size - len));
      const x = Buffer.alloc(len), y = Buffer.alloc(len); fs.readSync(a, x, 0, len, pos); fs.readSync(b, y, 0, len, pos);
      if (!x.equals(y)) bad++;
    }
    console.log('BAD ' + bad);`;
  const r = await new Promise<{ code: number; out: string }>((resolve) =>
    execFile(process.execPath, ['-e', script, mounted, source, String(count)], { timeout: 120_000 }, (err, out, e) => resolve({ code: err ? 1 : 0, out: out + e })));
  assert.equal(r.code, 0, r.out);
  return r.out.trim();
}

test('a 1 GiB torrent through a 64 MiB cache: a whole sequential read and 200 random reads are byte-exact, and the disk never holds more than the limit plus a piece; a restart keeps what is cached', { timeout: 240_000 }, async () => {
  const torrent = path.join(work, 'big.torrent');
  const seeder = await libtorrentSeeder(torrent, src, { seedMode: true });
  const m = await mount('big', torrent, `127.0.0.1:${seeder.port}`);
  const du = sampleDiskUse(m.dl);
  const whole = await sh(`sha1sum ${q(path.join(m.mnt, 'big.bin'))} ${q(path.join(src, 'big.bin'))} | cut -c1-40`);
  assert.equal(whole.code, 0, whole.stderr);
  const [got, want] = whole.stdout.trim().split('\n');
  assert.equal(got, want, 'the whole file through the mount');
  assert.equal(await randomReads(path.join(m.mnt, 'big.bin'), path.join(src, 'big.bin'), 200), 'BAD 0');
  const peak = await du.stop();
  // One reader at a time here; 8 KiB for the folder's own blocks.
  assert.ok(peak <= CACHE + PIECE + 8192, `the download dir held ${peak} bytes (limit ${CACHE} + one piece)`);
  assert.ok(peak >= CACHE / 2, `and the cache was used (${peak} bytes)`);
  const line = (await ctRun(['status', m.mnt])).stdout;
  const c = /cache {2}([\d.]+) MiB of 64\.0 MiB {2}(\d+) pieces {2}(\d+) hits {2}(\d+) misses {2}(\d+) evictions/.exec(line);
  assert.ok(c, line);
  assert.ok(Number(c[5]) >= 1024 - 64, `evictions: ${c[5]}`);
  assert.ok(Number(c[3]) > 0 && Number(c[4]) > 0, 'hits and misses counted');
  const xattr = await sh(`getfattr --only-values -n user.ct.status ${q(m.mnt)}`);
  assert.equal((JSON.parse(xattr.stdout) as { cache: { max: number } }).cache.max, CACHE, 'the root\'s status has the cache');
  const st = JSON.parse((await ctRun(['status', m.mnt, '--json'])).stdout) as { torrents: { bytes: { verified: number } }[] };
  const cached = st.torrents[0].bytes.verified;
  assert.ok(cached > 0 && cached <= CACHE, `${cached} bytes verified and held`);
  await unmount(m);

  // Restarted without any peer: what was cached at the stop is still had, and reads from disk.
  seeder.proc.kill();
  const again = await mount('big', torrent, undefined);
  type Status = { torrents: { bytes: { verified: number }; files: { ranges: [number, number][] }[] }[] };
  const restarted = JSON.parse((await ctRun(['status', again.mnt, '--json', '--files'])).stdout) as Status;
  assert.equal(restarted.torrents[0].bytes.verified, cached, 'every cached piece kept');
  const [start, end] = restarted.torrents[0].files[0].ranges[0];
  const chunk = Math.min(end - start, 4 * MiB);
  const read = await sh(`dd if=${q(path.join(again.mnt, 'big.bin'))} bs=4096 skip=${start / 4096} count=${chunk / 4096} 2>/dev/null | sha1sum | cut -c1-40; ` +
    `dd if=${q(path.join(src, 'big.bin'))} bs=4096 skip=${start / 4096} count=${chunk / 4096} 2>/dev/null | sha1sum | cut -c1-40`);
  const [fromMount, fromSource] = read.stdout.trim().split('\n');
  assert.equal(fromMount, fromSource, `cached bytes at ${start} read with no peer`);
  await unmount(again);
});

test('two files read at once by two readers, their working sets together past the cache, both byte-exact within the limit plus a piece each (holes punched without the native addon)', { timeout: 240_000 }, async () => {
  const torrent = path.join(work, 'pair.torrent');
  const meta = parseMetainfo(await readFile(torrent));
  assert.equal(meta.files.length, 2);
  const seeder = await libtorrentSeeder(torrent, src, { seedMode: true });
  // Without the native addon: holes are punched through util-linux's fallocate, and the bound holds all the same.
  const m = await mount('pair', torrent, `127.0.0.1:${seeder.port}`, [], { CT_NO_PUNCH_HOLE: '1' });
  const du = sampleDiskUse(m.dl);
  const both = await sh(`sha1sum ${q(path.join(m.mnt, 'pair', 'a.bin'))} & sha1sum ${q(path.join(m.mnt, 'pair', 'b.bin'))} & wait`);
  assert.equal(both.code, 0, both.stderr);
  const sums = Object.fromEntries(both.stdout.trim().split('\n').map((l) => [path.basename(l.split(/\s+/)[1]), l.slice(0, 40)]));
  const want = await sh(`sha1sum ${q(path.join(src, 'pair', 'a.bin'))} ${q(path.join(src, 'pair', 'b.bin'))}`);
  const wanted = Object.fromEntries(want.stdout.trim().split('\n').map((l) => [path.basename(l.split(/\s+/)[1]), l.slice(0, 40)]));
  assert.deepEqual(sums, wanted);
  const peak = await du.stop();
  assert.ok(peak <= CACHE + 2 * PIECE + 8192, `the download dir held ${peak} bytes (limit ${CACHE} + a piece per reader)`);
  await unmount(m);
  seeder.proc.kill();
});

test('ct serve --cache-size: the cache in /metrics (size, limit, hits, misses, evictions) while a file larger than it is read', { timeout: 120_000 }, async () => {
  const torrent = path.join(work, 'pair.torrent');
  const seeder = await libtorrentSeeder(torrent, src, { seedMode: true });
  const mnt = path.join(work, 'mnt-serve');
  mounts.push(mnt);
  const port = 20000 + Math.floor(Math.random() * 20000);
  const url = `http://127.0.0.1:${port}`;
  const serve = ct(['serve', '--no-dht', '--listen', '127.0.0.1:0', '--http', `127.0.0.1:${port}`, '--mount', mnt, '--mkdir', '--cache-size', '16MiB',
    '--state-dir', path.join(work, 'state-serve'), '--download-dir', path.join(work, 'dl-serve')], 'ct serve');
  for (const deadline = Date.now() + 30_000; !serve.stderr.includes('serving (pid');) {
    assert.ok(Date.now() < deadline && serve.exitCode === null, serve.stderr);
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal((await ctRun(['add', torrent, '--seeds', `127.0.0.1:${seeder.port}`, '--server', url])).code, 0);
  const sum = await sh(`sha1sum ${q(path.join(mnt, 'pair', 'a.bin'))} ${q(path.join(src, 'pair', 'a.bin'))} | cut -c1-40`);
  const [got, want] = sum.stdout.trim().split('\n');
  assert.equal(got, want);
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  assert.equal(value('ct_cache_limit_bytes'), 16 * MiB);
  assert.ok(value('ct_cache_bytes') <= 16 * MiB + PIECE, `${value('ct_cache_bytes')} bytes held`);
  assert.ok(value('ct_cache_evictions_total') > 400, 'most of the 512 pieces were evicted');
  assert.ok(value('ct_cache_misses_total') > 0 && value('ct_cache_hits_total') >= 0);
  serve.kill('SIGTERM');
  assert.equal(await serve.waitExit(30_000), 0, serve.stderr);
  seeder.proc.kill();
});
