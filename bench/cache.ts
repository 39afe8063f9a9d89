/**
 * bench/cache: `ct mount --cache-size` at 5 %, 20 % and 100 % of a torrent, and without a limit
 * (what btfs and an unbounded ct do: everything read stays on disk), under the same re-read
 * pattern: reads of 64 KiB at offsets drawn from a Zipf distribution over the torrent's pieces
 * (a few hot regions, a long tail), by a reader process of its own, against a stock libtorrent
 * seeder on loopback. Figures: bytes fetched from the swarm, peak disk use of the download
 * folder, read latency (median, p95) and the cache's hit rate.
 * Usage: pnpm bench:cache [--size MiB] [--reads N]
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { CT, WORK, fmt, fresh, freshPort, run, sampleTorrent, startLibtorrentSeeder } from './lib.js';

const { values } = parseArgs({ options: { size: { type: 'string', default: '256' }, reads: { type: 'string', default: '400' } } });
const mib = Number(values.size);
const bytes = mib * 2 ** 20;
const reads = Number(values.reads);
const PIECE = 2 ** 20;
const dir = path.join(WORK, `cache-${mib}`);
const data = path.join(dir, 'seed', 'payload.bin');
const torrent = path.join(dir, 'payload.torrent');

/** The reader: Zipf(s = 1.1) over the pieces, a fixed seed so every configuration reads the same offsets. */
const READER = `
  const fs = require('fs'); const [file, n, size, piece] = process.argv.slice(1).map((x, i) => i ? Number(x) : x);
  const pieces = Math.floor(size / piece); let seed = 42; const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const weights = []; let total = 0; for (let k = 1; k <= pieces; k++) { total += 1 / Math.pow(k, 1.1); weights.push(total); }
  // Hot ranks scattered over the file, not all at its start.
  const perm = [...Array(pieces).keys()]; for (let i = pieces - 1; i > 0; i--) { const j = Math.floor(rnd() * (i + 1)); [perm[i], perm[j]] = [perm[j], perm[i]]; }
  const fd = fs.openSync(file, 'r'); const buf = Buffer.alloc(65536); const lat = [];
  for (let i = 0; i < n; i++) {
    const u = rnd() * total; let lo = 0, hi = pieces - 1; while (lo < hi) { const mid = (lo + hi) >> 1; if (weights[mid] < u) lo = mid + 1; else hi = mid; }
    const pos = perm[lo] * piece + Math.floor(rnd() * (piece - 65536));
    const t0 = process.hrtime.bigint(); fs.readSync(fd, buf, 0, 65536, pos); lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  lat.sort((a, b) => a - b); console.log(JSON.stringify({ median: lat[Math.floor(lat.length / 2)], p95: lat[Math.floor(lat.length * 0.95)] }));`;

function sampleDiskUse(folder: string): { stop: () => Promise<number> } {
  let out = '';
  const p = spawn('sh', ['-c', `while :; do du -sB1 '${folder}' 2>/dev/null | cut -f1; sleep 0.1; done`], { stdio: ['ignore', 'pipe', 'ignore'] });
  p.stdout.on('data', (d) => { out += d; });
  return { stop: async () => { p.kill('SIGKILL'); await new Promise((r) => p.once('exit', r)); return Math.max(0, ...out.split('\n').filter(Boolean).map(Number)); } };
}

async function mounted(child: ChildProcess): Promise<void> {
  let err = '';
  child.stderr!.on('data', (d) => { err += d; });
  for (const deadline = Date.now() + 60_000; !err.includes('mounted');) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`ct mount did not come up: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Row { label: string; fetchedMiB: number; peakMiB: number; median: number; p95: number; hitRate: number }

await sampleTorrent(data, bytes, torrent, PIECE);
const seedPort = freshPort(46500);
const seeder = await startLibtorrentSeeder(torrent, path.dirname(data), seedPort);
const rows: Row[] = [];
try {
  for (const fraction of [0.05, 0.2, 1, 0]) {
    const label = fraction ? `${fraction * 100} % (${fmt((bytes * fraction) / 2 ** 20, 0)} MiB)` : 'no limit';
    const mnt = path.join(dir, 'mnt');
    const dl = path.join(dir, 'dl');
    await fresh(dl);
    const child = spawn(CT, ['mount', mnt, '--mkdir', torrent, '--seeds', `127.0.0.1:${seedPort}`, '--download-dir', dl, '--state-dir', path.join(dir, 'state'),
      '--listen', '127.0.0.1:0', '--no-dht', ...(fraction ? ['--cache-size', String(Math.floor(bytes * fraction))] : [])], { stdio: ['ignore', 'ignore', 'pipe'] });
    await mounted(child);
    const du = sampleDiskUse(dl);
    const lat = await new Promise<{ median: number; p95: number }>((resolve, reject) =>
      execFile(process.execPath, ['-e', READER, path.join(mnt, 'payload.bin'), String(reads), String(bytes), String(PIECE)], { timeout: 600_000 },
        (err, out) => (err ? reject(err) : resolve(JSON.parse(out) as { median: number; p95: number }))));
    const peak = await du.stop();
    const status = JSON.parse((await run(CT, ['status', mnt, '--json'])).stdout) as { torrents: { bytes: { downloaded: number } }[]; cache?: { hits: number; misses: number } };
    const c = status.cache;
    rows.push({ label, fetchedMiB: status.torrents[0].bytes.downloaded / 2 ** 20, peakMiB: peak / 2 ** 20, ...lat, hitRate: c ? c.hits / Math.max(1, c.hits + c.misses) : NaN });
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
} finally {
  seeder.kill('SIGTERM');
}

console.log(`\nbench/cache: ${mib} MiB torrent (1 MiB pieces), ${reads} reads of 64 KiB, Zipf(1.1) over the pieces, ${new Date().toISOString()}`);
console.log('cache              | fetched MiB | peak disk MiB | read median ms | read p95 ms | hit rate');
for (const r of rows) {
  console.log(`${r.label.padEnd(18)} | ${fmt(r.fetchedMiB).padStart(11)} | ${fmt(r.peakMiB).padStart(13)} | ${fmt(r.median, 2).padStart(14)} | ${fmt(r.p95, 2).padStart(11)} | ${Number.isNaN(r.hitRate) ? '   -' : `${fmt(r.hitRate * 100)} %`}`);
}
console.log('(no limit: every piece read stays on disk, as with btfs; its hit rate is not counted without a cache)');
