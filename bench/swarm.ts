/**
 * bench/swarm: the two transfers with more than one peer, ct next to libtorrent in one run.
 *   1. download from 6 stock libtorrent seeders, each capped at --cap MB/s (peers that are each
 *      slower than the client: the picker spreads requests, memory must not grow per peer);
 *   2. seeding to 3 libtorrent leechers at once: ct seeds, then libtorrent seeds, the same three
 *      leechers each time; the rate is the bytes the three received over the time until the last
 *      one finished, CPU and peak RSS are the seeder's (its start-up check included for both: ct
 *      gets a fresh state dir each time, so no resume data lets it skip the check).
 * Usage: pnpm bench:swarm [--size MiB] [--rounds N] [--cap MB/s]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { CT, LT_PEER, PYTHON, WORK, compareDownloads, fmt, fresh, freshPort, median, run, sampleTorrent, settle, startLibtorrentSeeder, type TransferRow } from './lib.js';

const { values } = parseArgs({ options: {
  size: { type: 'string', default: '1024' }, rounds: { type: 'string', default: '2' }, cap: { type: 'string', default: '40' },
} });
const mib = Number(values.size);
const bytes = mib * 1024 * 1024;
const rounds = Number(values.rounds);
const dir = path.join(WORK, `swarm-${mib}`);
const data = path.join(dir, 'seed', 'payload.bin');
const torrent = path.join(dir, 'payload.torrent');
await sampleTorrent(data, bytes, torrent, 1024 * 1024);

// 1: six capped seeders. Seed mode: six full checks up front would take a minute; the seeders
// hash on first request instead, the same work whichever client is measured.
const seeders: ChildProcess[] = [];
const ports: number[] = [];
let multi: TransferRow[];
try {
  for (let i = 0; i < 6; i++) {
    const port = freshPort(50000 + i * 2000);
    seeders.push(await startLibtorrentSeeder(torrent, path.dirname(data), port, Number(values.cap) * 1e6, true));
    ports.push(port);
  }
  multi = await compareDownloads({ torrent, seedPorts: ports, dir, bytes, rounds, ctArgs: ['--no-dht'], label: '6 seeders' });
} finally {
  for (const s of seeders) s.kill('SIGTERM');
}

// 2: one seeder, three leechers.
interface SeedRow { name: string; mbps: number; cpu: number; rss: number }
const ticks = 100; // USER_HZ on Linux

/** user+system CPU seconds and peak RSS (MiB) of a live process, from /proc. */
function usage(pid: number): { cpu: number; rss: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpu = (Number(fields[11]) + Number(fields[12])) / ticks;
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return { cpu, rss: Number(hwm) / 1024 };
}

function waitForLine(child: ChildProcess, pattern: RegExp, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d) => { out += d; if (pattern.test(out)) resolve(); });
    child.on('exit', (code) => reject(new Error(`${what} exited (${code}): ${out.slice(-400)}`)));
  });
}

async function seedToThree(name: 'ct' | 'libtorrent', round: number): Promise<SeedRow> {
  const port = freshPort(56000);
  const stateDir = path.join(dir, 'ct-state');
  await fresh(stateDir);
  const seeder = name === 'ct'
    ? spawn(CT, ['seed', '--metainfo', torrent, '--download-dir', path.dirname(data), '--listen', `127.0.0.1:${port}`, '--no-dht', '--quiet', '--state-dir', stateDir], { stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(PYTHON, [LT_PEER, 'seed', '--torrent', torrent, '--save-path', path.dirname(data), '--port', String(port)], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    await waitForLine(seeder, name === 'ct' ? /seeding on/ : /LISTENING/, `${name} seeder`);
    await settle();
    const t0 = performance.now();
    const leechers = [0, 1, 2].map(async (i) => {
      const out = path.join(dir, `leech-${i}`);
      await fresh(out);
      const r = await run(PYTHON, [LT_PEER, 'leech', '--torrent', torrent, '--save-path', out, '--port', String(freshPort(58000 + i * 500)), '--peer', `127.0.0.1:${port}`, '--timeout', '300']);
      if (r.code !== 0) throw new Error(`leecher ${i} failed (${r.code}): ${r.stdout.slice(-300)}`);
      return out;
    });
    const outs = await Promise.all(leechers);
    const seconds = (performance.now() - t0) / 1000;
    const u = usage(seeder.pid!);
    for (const out of outs) await fresh(out);
    const row = { name, mbps: (3 * bytes) / 1e6 / seconds, cpu: u.cpu, rss: u.rss };
    console.log(`seeding round ${round + 1} ${name.padEnd(12)} ${fmt(row.mbps).padStart(6)} MB/s to 3  CPU ${fmt(row.cpu, 2)} s  RSS ${fmt(row.rss)} MiB`);
    return row;
  } finally {
    seeder.kill('SIGTERM');
  }
}

const seeding: SeedRow[] = [];
for (let round = 0; round < rounds; round++) {
  const order: ('ct' | 'libtorrent')[] = round % 2 === 0 ? ['ct', 'libtorrent'] : ['libtorrent', 'ct'];
  for (const name of order) seeding.push(await seedToThree(name, round));
}

console.log(`\nbench/swarm: ${mib} MiB, 1 MiB pieces, stock libtorrent peers on 127.0.0.1, ${rounds} round(s), medians, ${new Date().toISOString()}`);
console.log('| work | ct MB/s | ct CPU s | ct RSS MiB | libtorrent MB/s | libtorrent CPU s | libtorrent RSS MiB | rate | CPU |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const [work, rows] of [[`download from 6 seeders capped at ${values.cap} MB/s`, multi], ['seeding to 3 libtorrent leechers', seeding]] as const) {
  const ct = { mbps: median(rows, 'ct', 'mbps'), cpu: median(rows, 'ct', 'cpu'), rss: median(rows, 'ct', 'rss') };
  const lt = { mbps: median(rows, 'libtorrent', 'mbps'), cpu: median(rows, 'libtorrent', 'cpu'), rss: median(rows, 'libtorrent', 'rss') };
  console.log(`| ${work} | ${fmt(ct.mbps)} | ${fmt(ct.cpu, 2)} | ${fmt(ct.rss)} | ${fmt(lt.mbps)} | ${fmt(lt.cpu, 2)} | ${fmt(lt.rss)} | ${fmt(ct.mbps / lt.mbps, 2)}x | ${fmt(ct.cpu / lt.cpu, 2)}x |`);
}
process.exit(0);
