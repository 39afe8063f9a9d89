/**
 * bench/webdav: `ct serve`'s /dav/ next to `rclone serve webdav` (a well-used Go WebDAV server)
 * over the same files on the same run: ct serves a complete torrent (verified pieces on disk),
 * rclone the same folder, both read-only on loopback. Figures: a whole 256 MiB file by GET
 * (MB/s and the server's CPU seconds per GiB, from /proc), 200 random 64 KiB Range GETs
 * (median and p95 latency), and PROPFIND Depth 1 of a folder of 1,000 files (median ms).
 * Usage: pnpm bench:webdav [--size MiB] [--rounds N]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { CT, WORK, fmt, freshPort, run, sampleFile } from './lib.js';

const { values } = parseArgs({ options: { size: { type: 'string', default: '256' }, rounds: { type: 'string', default: '3' } } });
const mib = Number(values.size);
const rounds = Number(values.rounds);
const dir = path.join(WORK, `webdav-${mib}`);
const data = path.join(dir, 'data', 'set');
const torrent = path.join(dir, 'set.torrent');
const SMALL = 1000;

/** CPU seconds (user + system) a process used so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function until(what: string, ok: () => Promise<boolean>): Promise<void> {
  for (const deadline = Date.now() + 60_000; !(await ok().catch(() => false));) {
    if (Date.now() > deadline) throw new Error(`${what} did not come up`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Server { name: string; base: string; proc: ChildProcess }

async function startCt(): Promise<Server> {
  const port = freshPort(47100);
  const proc = spawn(process.execPath, [CT, 'serve', '--no-dht', '--listen', '127.0.0.1:0', '--http', `127.0.0.1:${port}`, '--state-dir', path.join(dir, 'ct-state'), '--download-dir', path.join(dir, 'data'), '-q'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const api = `http://127.0.0.1:${port}`;
  await until('ct serve', async () => (await fetch(`${api}/api/v1/torrents`)).ok);
  const list = (await (await fetch(`${api}/api/v1/torrents`)).json()) as unknown[];
  if (list.length === 0) {
    const res = await fetch(`${api}/api/v1/torrents`, { method: 'POST', body: JSON.stringify({ torrent: readFileSync(torrent).toString('base64') }) });
    if (!res.ok) throw new Error(await res.text());
  }
  await until('the torrent to be checked', async () => ((await (await fetch(`${api}/api/v1/torrents`)).json()) as { state: string }[])[0]?.state === 'seeding');
  return { name: 'ct /dav/', base: `${api}/dav/set`, proc };
}

async function startRclone(): Promise<Server> {
  const port = freshPort(47300);
  const proc = spawn('rclone', ['serve', 'webdav', data, '--addr', `127.0.0.1:${port}`, '--read-only', '--config', '/dev/null', '-q'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const base = `http://127.0.0.1:${port}`;
  await until('rclone serve webdav', async () => (await fetch(`${base}/`, { method: 'OPTIONS' })).status < 500);
  return { name: 'rclone serve webdav', base, proc };
}

async function wholeFile(s: Server): Promise<{ mbps: number; cpuPerGiB: number }> {
  const cpu0 = cpuSeconds(s.proc.pid!);
  const t0 = process.hrtime.bigint();
  const r = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{size_download}', `${s.base}/big.bin`]);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (Number(r.stdout) !== mib * 2 ** 20) throw new Error(`${s.name}: ${r.stdout} bytes`);
  return { mbps: (mib * 2 ** 20) / 1e6 / seconds, cpuPerGiB: (cpuSeconds(s.proc.pid!) - cpu0) / (mib / 1024) };
}

async function ranges(s: Server): Promise<{ median: number; p95: number }> {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const lat: number[] = [];
  for (let i = 0; i < 200; i++) {
    const start = Math.floor(rnd() * (mib * 2 ** 20 - 65536));
    const t0 = process.hrtime.bigint();
    const res = await fetch(`${s.base}/big.bin`, { headers: { Range: `bytes=${start}-${start + 65535}` } });
    const got = (await res.arrayBuffer()).byteLength;
    lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (res.status !== 206 || got !== 65536) throw new Error(`${s.name}: ${res.status}, ${got} bytes`);
  }
  lat.sort((a, b) => a - b);
  return { median: lat[100], p95: lat[190] };
}

async function propfind(s: Server): Promise<number> {
  const lat: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = process.hrtime.bigint();
    const res = await fetch(`${s.base}/small/`, { method: 'PROPFIND', headers: { Depth: '1' } });
    const body = await res.text();
    lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (res.status !== 207 || (body.match(/<D:response>|<d:response>/gi) ?? []).length !== SMALL + 1) throw new Error(`${s.name}: PROPFIND ${res.status}`);
  }
  lat.sort((a, b) => a - b);
  return lat[10];
}

await sampleFile(path.join(data, 'big.bin'), mib * 2 ** 20);
await mkdir(path.join(data, 'small'), { recursive: true });
for (let i = 0; i < SMALL; i++) await writeFile(path.join(data, 'small', `file ${String(i).padStart(4, '0')}.txt`), `small file ${i}\n`);
const made = await run(CT, ['create', data, '-o', torrent, '--piece-length', String(2 ** 20)]);
if (made.code !== 0) throw new Error(made.stderr);

const servers = [await startCt(), await startRclone()];
const rows = new Map<string, { mbps: number[]; cpu: number[]; median: number[]; p95: number[]; propfind: number[] }>();
for (const s of servers) rows.set(s.name, { mbps: [], cpu: [], median: [], p95: [], propfind: [] });
try {
  for (let round = 0; round < rounds; round++) {
    // Alternate who goes first: the page cache favours whoever reads second.
    for (const s of round % 2 ? [...servers].reverse() : servers) {
      const row = rows.get(s.name)!;
      const w = await wholeFile(s);
      row.mbps.push(w.mbps);
      row.cpu.push(w.cpuPerGiB);
      const r = await ranges(s);
      row.median.push(r.median);
      row.p95.push(r.p95);
      row.propfind.push(await propfind(s));
    }
  }
} finally {
  for (const s of servers) s.proc.kill('SIGTERM');
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`\nbench/webdav: ${mib} MiB file, ${SMALL}-file folder, ${rounds} rounds (medians)\n`);
console.log('| server | GET MB/s | server CPU s/GiB | 64 KiB Range median ms | p95 ms | PROPFIND depth 1 of 1,000 ms |');
console.log('|---|---|---|---|---|---|');
for (const [name, r] of rows) console.log(`| ${name} | ${fmt(med(r.mbps), 0)} | ${fmt(med(r.cpu), 2)} | ${fmt(med(r.median), 2)} | ${fmt(med(r.p95), 2)} | ${fmt(med(r.propfind), 1)} |`);
const [c, g] = [...rows.values()];
console.log(`\nct / rclone: GET ${fmt(med(c.mbps) / med(g.mbps), 2)}x, CPU per GiB ${fmt(med(c.cpu) / med(g.cpu), 2)}x, Range median ${fmt(med(c.median) / med(g.median), 2)}x, PROPFIND ${fmt(med(c.propfind) / med(g.propfind), 2)}x`);
