/**
 * bench/pieces: the same data as a torrent of 16 KiB pieces and of 1 MiB pieces, each downloaded
 * from a stock libtorrent seeder by ct and by a libtorrent leecher in the same run. Small pieces
 * multiply every per-piece cost (hash hand-off, writes, `have` messages, picker and bitfield
 * work, wake-ups); the goal (issue 13) is ct >= 1.0x libtorrent at 16 KiB and ct's CPU per GiB at
 * 16 KiB within 1.5x of its own figure at 1 MiB.
 * Usage: pnpm bench:pieces [--size MiB] [--rounds N]
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { WORK, compareDownloads, fmt, freshPort, median, sampleTorrent, startLibtorrentSeeder, type TransferRow } from './lib.js';

const { values } = parseArgs({ options: { size: { type: 'string', default: '1024' }, rounds: { type: 'string', default: '2' } } });
const mib = Number(values.size);
const bytes = mib * 1024 * 1024;
const dir = path.join(WORK, `pieces-${mib}`);
const data = path.join(dir, 'seed', 'payload.bin');

const results: { pieceLength: number; rows: TransferRow[] }[] = [];
for (const pieceLength of [16 * 1024, 1024 * 1024]) {
  const torrent = path.join(dir, `payload-${pieceLength}.torrent`);
  await sampleTorrent(data, bytes, torrent, pieceLength);
  const seedPort = freshPort(46000);
  const seeder = await startLibtorrentSeeder(torrent, path.dirname(data), seedPort, 0, false);
  try {
    const rows = await compareDownloads({ torrent, seedPorts: [seedPort], dir, bytes, rounds: Number(values.rounds), ctArgs: ['--no-dht'], label: `${pieceLength / 1024} KiB` });
    results.push({ pieceLength, rows });
  } finally {
    seeder.kill('SIGTERM');
  }
}

const gib = bytes / 2 ** 30;
console.log(`\nbench/pieces: ${mib} MiB, stock libtorrent seeder on 127.0.0.1, ${values.rounds} round(s), medians, ${new Date().toISOString()}`);
console.log('pieces    ct MB/s  ct CPU s/GiB  ct RSS MiB   lt MB/s  lt CPU s/GiB   rate ratio  CPU ratio');
for (const { pieceLength, rows } of results) {
  const ct = { mbps: median(rows, 'ct', 'mbps'), cpu: median(rows, 'ct', 'cpu') / gib, rss: median(rows, 'ct', 'rss') };
  const lt = { mbps: median(rows, 'libtorrent', 'mbps'), cpu: median(rows, 'libtorrent', 'cpu') / gib };
  console.log(`${(`${pieceLength / 1024} KiB`).padEnd(9)} ${fmt(ct.mbps).padStart(7)} ${fmt(ct.cpu, 2).padStart(13)} ${fmt(ct.rss).padStart(11)} ${fmt(lt.mbps).padStart(9)} ${fmt(lt.cpu, 2).padStart(13)} ${(fmt(ct.mbps / lt.mbps, 2) + 'x').padStart(12)} ${(fmt(ct.cpu / lt.cpu, 2) + 'x').padStart(10)}`);
}
const [small, big] = results.map(({ rows }) => median(rows, 'ct', 'cpu'));
console.log(`ct CPU per GiB, 16 KiB pieces / 1 MiB pieces: ${fmt(small / big, 2)}x (goal <= 1.5x)`);
