/**
 * bench/download: a 1 GiB single-file torrent seeded by a stock libtorrent on loopback, downloaded
 * by ct with the CLI's defaults (DHT on), by ct with --no-dht, by a libtorrent leecher and by
 * aria2c in the same run. Prints MB/s, CPU seconds and peak RSS of each and the ratios. aria2c
 * cannot be given a peer address: the seeder announces to Debian's opentracker on loopback and
 * aria2c gets the same torrent with that tracker (same infohash).
 * Usage: pnpm bench:download [--size MiB] [--rounds N]
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { startOpentracker } from '../tests/helpers/clients.js';
import { CT, WORK, compareDownloads, fmt, freshPort, median, run, sampleTorrent, startLibtorrentSeeder, type TransferRow } from './lib.js';

const { values } = parseArgs({ options: { size: { type: 'string', default: '1024' }, rounds: { type: 'string', default: '2' } } });
const mib = Number(values.size);
const bytes = mib * 1024 * 1024;
const dir = path.join(WORK, `download-${mib}`);
const data = path.join(dir, 'seed', 'payload.bin');
const torrent = path.join(dir, 'payload.torrent');

await sampleTorrent(data, bytes, torrent, 1024 * 1024);

const info = await run(CT, ['info', torrent, '--json']);
const infoHash = (JSON.parse(info.stdout) as { infoHash: string }).infoHash;
const tracker = await startOpentracker(path.join(dir, 'tracker'), [infoHash]);
const announced = path.join(dir, 'payload-tracker.torrent');
await sampleTorrent(data, bytes, announced, 1024 * 1024, ['--announce', tracker.announce]);

const seedPort = freshPort(42000);
// Not seed mode: libtorrent checks the data before it reports seeding, instead of hashing each
// piece on first request, which would bill the first client measured for the seeder's SHA-1.
const seeder = await startLibtorrentSeeder(announced, path.dirname(data), seedPort, 0, false);
let rows: TransferRow[];
try {
  // The CLI's defaults (DHT on, nothing to find on this offline machine) and ct as the
  // libtorrent peer runs, without a DHT.
  rows = await compareDownloads({ torrent, seedPorts: [seedPort], dir, bytes, rounds: Number(values.rounds), aria2Torrent: announced,
    ctVariants: [{ name: 'ct', args: [] }, { name: 'ct --no-dht', args: ['--no-dht'] }] });
} finally {
  seeder.kill('SIGTERM');
  tracker.proc.kill();
}

console.log(`\nbench/download: ${mib} MiB, 1 MiB pieces, stock libtorrent seeder (data checked up front) on 127.0.0.1, ${values.rounds} round(s), ${new Date().toISOString()}`);
console.log('median of each client\'s runs\nclient          MB/s    CPU s   peak RSS MiB');
for (const name of ['ct', 'ct --no-dht', 'libtorrent', 'aria2c']) console.log(`${name.padEnd(14)} ${fmt(median(rows, name, 'mbps')).padStart(6)} ${fmt(median(rows, name, 'cpu'), 2).padStart(8)} ${fmt(median(rows, name, 'rss')).padStart(10)}`);
for (const name of ['ct', 'ct --no-dht']) {
  console.log(`ratio ${name}/aria2c: rate ${fmt(median(rows, name, 'mbps') / median(rows, 'aria2c', 'mbps'), 2)}x, CPU ${fmt(median(rows, name, 'cpu') / median(rows, 'aria2c', 'cpu'), 2)}x, RSS ${fmt(median(rows, name, 'rss') / median(rows, 'aria2c', 'rss'), 2)}x`);
  console.log(`ratio ${name}/libtorrent: rate ${fmt(median(rows, name, 'mbps') / median(rows, 'libtorrent', 'mbps'), 2)}x, CPU ${fmt(median(rows, name, 'cpu') / median(rows, 'libtorrent', 'cpu'), 2)}x, RSS ${fmt(median(rows, name, 'rss') / median(rows, 'libtorrent', 'rss'), 2)}x`);
}
