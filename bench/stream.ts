/**
 * bench/stream: streaming figures against one rate-limited libtorrent seeder, in one run.
 *   1. time to first byte of 64 KiB reads at 20 random offsets of one file (on-demand mode), and
 *      the bytes downloaded for them;
 *   2. reading the whole file sequentially through one reader (on-demand), against
 *   3. a plain download of the same torrent (everything wanted, no reader).
 * Goals (issue 3): median time to first byte <= 2x the time one piece takes at the seeder's rate;
 * sequential reading >= 90% of the plain download rate.
 * Usage: pnpm bench:stream [--size MiB] [--rate MB/s] [--piece KiB]
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { readFile } from 'node:fs/promises';
import { Session, parseMetainfo, type Metainfo } from '../packages/engine/src/index.js';
import { CT, WORK, fmt, fresh, freshPort, run, sampleFile, startLibtorrentSeeder } from './lib.js';

const { values } = parseArgs({ options: {
  size: { type: 'string', default: '256' }, rate: { type: 'string', default: '20' }, piece: { type: 'string', default: '1024' },
} });
const mib = Number(values.size);
const rate = Number(values.rate) * 1e6;
const pieceLength = Number(values.piece) * 1024;
const dir = path.join(WORK, `stream-${mib}`);
const data = path.join(dir, 'seed', 'video.bin');
const torrentFile = path.join(dir, `video-${values.piece}.torrent`);
await sampleFile(data, mib * 1024 * 1024);
const made = await run(CT, ['create', data, '-o', torrentFile, '--piece-length', String(pieceLength)]);
if (made.code !== 0) throw new Error(made.stderr);
const meta: Metainfo = parseMetainfo(await readFile(torrentFile));
const port = freshPort(46000);
const seeder = await startLibtorrentSeeder(torrentFile, path.dirname(data), port, rate, false);
const peers = [`127.0.0.1:${port}`];

async function withTorrent<T>(name: string, onDemand: boolean, fn: (t: Awaited<ReturnType<Session['addTorrent']>>) => Promise<T>): Promise<T> {
  const out = path.join(dir, name);
  await fresh(out);
  const session = await Session.create({ listen: { host: '127.0.0.1', port: 0 } });
  try {
    return await fn(await session.addTorrent(meta, { downloadDir: out, peers, onDemand }));
  } finally {
    await session.close();
    await fresh(out);
  }
}

try {
  // 1. Random reads.
  let seed = 42;
  const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const ttfb: number[] = [];
  const randomBytes = await withTorrent('random', true, async (t) => {
    const reader = t.files[0].createReader();
    await new Promise<void>((resolve) => (t.hasConnectedPeer ? resolve() : t.once('peer-connected', () => resolve())));
    for (let i = 0; i < 20; i++) {
      const at = Math.floor(random() * (t.files[0].length - 65536));
      const t0 = performance.now();
      await reader.read(at, 65536);
      ttfb.push(performance.now() - t0);
    }
    reader.close();
    return t.stats().downloaded;
  });
  // 2. Sequential reading through a reader.
  const seqSeconds = await withTorrent('sequential', true, async (t) => {
    const reader = t.files[0].createReader();
    const t0 = performance.now();
    for (let pos = 0; pos < t.files[0].length; pos += 1024 * 1024) await reader.read(pos, 1024 * 1024);
    reader.close();
    return (performance.now() - t0) / 1000;
  });
  // 3. Plain download.
  const plainSeconds = await withTorrent('plain', false, async (t) => {
    const t0 = performance.now();
    if (!t.isDone) await new Promise<void>((resolve) => t.once('done', () => resolve()));
    return (performance.now() - t0) / 1000;
  });
  ttfb.sort((a, b) => a - b);
  const median = (ttfb[9] + ttfb[10]) / 2;
  const pieceMs = (pieceLength / rate) * 1000;
  const total = meta.totalLength;
  console.log(`\nbench/stream: ${mib} MiB file, ${values.piece} KiB pieces, libtorrent seeder limited to ${values.rate} MB/s, ${new Date().toISOString()}`);
  console.log(`random 64 KiB reads (20): time to first byte median ${fmt(median)} ms, p90 ${fmt(ttfb[17])} ms, max ${fmt(ttfb[19])} ms`);
  console.log(`  one piece at the seeder's rate takes ${fmt(pieceMs)} ms: median = ${fmt(median / pieceMs, 2)}x a piece (goal <= 2x)`);
  console.log(`  downloaded for them: ${fmt(randomBytes / 1048576)} MiB of ${fmt(total / 1048576)} MiB (${fmt((randomBytes / total) * 100)}%)`);
  console.log(`sequential read through one reader: ${fmt(total / 1e6 / seqSeconds)} MB/s; plain download: ${fmt(total / 1e6 / plainSeconds)} MB/s; ratio ${fmt(plainSeconds / seqSeconds, 2)}x (goal >= 0.90x)`);
} finally {
  seeder.kill('SIGTERM');
}
process.exit(0);
