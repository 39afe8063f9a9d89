/**
 * Shared benchmark plumbing: sample data, a libtorrent seeder, and running a command under
 * /usr/bin/time -v to read its wall time, CPU seconds and peak RSS. Benchmarks print figures side
 * by side with libtorrent on the same run; they are not tests and assert nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ARIA2_LOOPBACK } from '../tests/helpers/clients.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const WORK = path.join(ROOT, 'bench', '.work');
/** The ct executable, run as a user runs it: through its shebang, with the V8 flag it carries. */
export const CT = path.join(ROOT, 'packages', 'cli', 'dist', 'main.js');
export const LT_PEER = path.join(ROOT, 'tests', 'helpers', 'lt_peer.py');
export const PYTHON = '/usr/bin/python3';

/** A file of `bytes` random bytes at `file`, reused across runs. */
export async function sampleFile(file: string, bytes: number): Promise<void> {
  if (existsSync(file)) return;
  await mkdir(path.dirname(file), { recursive: true });
  const fh = await open(file, 'w');
  const chunk = 8 * 1024 * 1024;
  for (let pos = 0; pos < bytes; pos += chunk) await fh.write(randomBytes(Math.min(chunk, bytes - pos)));
  await fh.close();
}

export function run(cmd: string, args: string[], opts: { cwd?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

export interface Measured { seconds: number; cpuSeconds: number; peakRssMiB: number; stdout: string }

/** Runs a command under GNU time and returns wall time, user+sys CPU and peak RSS. */
export async function measure(cmd: string, args: string[]): Promise<Measured> {
  const r = await run('/usr/bin/time', ['-v', cmd, ...args]);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr.split("\n").filter((l) => !l.startsWith("\t")).join(" ").slice(0, 600)}`);
  const field = (name: string) => Number(new RegExp(`${name}: ([\\d.:]+)`).exec(r.stderr)?.[1] ?? NaN);
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)/.exec(r.stderr)?.[1] ?? '0';
  const seconds = wall.split(':').reduce((acc, part) => acc * 60 + Number(part), 0);
  return {
    seconds,
    cpuSeconds: field('User time \\(seconds\\)') + field('System time \\(seconds\\)'),
    peakRssMiB: field('Maximum resident set size \\(kbytes\\)') / 1024,
    stdout: r.stdout,
  };
}

/** Starts a libtorrent seeder and resolves once it listens. */
export function startLibtorrentSeeder(torrent: string, savePath: string, port: number, rate = 0, seedMode = true): Promise<ChildProcess> {
  const args = [LT_PEER, 'seed', '--torrent', torrent, '--save-path', savePath, '--port', String(port)];
  if (seedMode) args.push('--seed-mode');
  if (rate) args.push('--rate', String(rate));
  const child = spawn(PYTHON, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('LISTENING')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`libtorrent seeder exited (${code}): ${out}`)));
  });
}

export async function fresh(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
}

/** A port unlikely to clash, different every run (libtorrent will not reconnect to a finished endpoint). */
export function freshPort(base: number): number {
  return base + Math.floor(Math.random() * 2000);
}

export const fmt = (n: number, digits = 1) => n.toFixed(digits);

export interface TransferRow { name: string; mbps: number; cpu: number; rss: number }

/** aria2c's options for a benchmark download: loopback only, its default preallocation, exits once complete. */
const ARIA2_ARGS = [...ARIA2_LOOPBACK, '--seed-time=0', '--bt-stop-timeout=120'];

/** `data` (random bytes, reused across runs) and a torrent of it with `pieceLength` at `torrent`. */
export async function sampleTorrent(data: string, bytes: number, torrent: string, pieceLength: number, extra: string[] = []): Promise<void> {
  await sampleFile(data, bytes);
  const made = await run(CT, ['create', data, '-o', torrent, '--piece-length', String(pieceLength), ...extra]);
  if (made.code !== 0) throw new Error(made.stderr);
}

/**
 * Downloads `torrent` from the seeders at `seedPorts` with each client in turn for `rounds` rounds
 * (alternating who goes first: page cache and CPU frequency favour whoever runs second), each into
 * an empty folder after the previous run's writeback settled. ct runs with `ctArgs` added. With
 * `aria2Torrent` (the same torrent announcing to a loopback tracker the seeders announce to:
 * aria2c cannot be given a peer address), aria2c is a client too.
 */
export async function compareDownloads(opts: {
  torrent: string; seedPorts: number[]; dir: string; bytes: number; rounds: number; ctArgs?: string[]; label?: string;
  /** Several ct configurations, each a client of its own (default: one, `ct` with `ctArgs`). */
  ctVariants?: { name: string; args: string[] }[];
  aria2Torrent?: string;
}): Promise<TransferRow[]> {
  const rows: TransferRow[] = [];
  const variants = opts.ctVariants ?? [{ name: 'ct', args: opts.ctArgs ?? [] }];
  const clients = [...variants.map((v) => v.name), 'libtorrent', ...(opts.aria2Torrent ? ['aria2c'] : [])];
  const peers = opts.seedPorts.map((p) => `127.0.0.1:${p}`).join(',');
  for (let round = 0; round < opts.rounds; round++) {
    const order = round % 2 === 0 ? clients : [...clients].reverse();
    for (const client of order) {
      const out = path.join(opts.dir, `${client.replace(/\W+/g, '-')}-dl`);
      await fresh(out);
      await settle();
      const variant = variants.find((v) => v.name === client);
      const m = variant
        ? await measure(CT, ['download', '--metainfo', opts.torrent, '--seeds', peers, '--download-dir', out, '--quiet', '--listen', '127.0.0.1:0', ...variant.args])
        : client === 'aria2c'
          ? await measure('aria2c', [...ARIA2_ARGS, `--listen-port=${freshPort(60000)}`, '-d', out, opts.aria2Torrent!])
          : await measure(PYTHON, [LT_PEER, 'leech', '--torrent', opts.torrent, '--save-path', out, '--port', String(freshPort(44500)), '--peer', peers]);
      rows.push({ name: client, mbps: opts.bytes / 1e6 / m.seconds, cpu: m.cpuSeconds, rss: m.peakRssMiB });
      console.log(`${opts.label ? `${opts.label} ` : ''}round ${round + 1} ${client.padEnd(12)} ${fmt(opts.bytes / 1e6 / m.seconds).padStart(6)} MB/s  CPU ${fmt(m.cpuSeconds, 2)} s  RSS ${fmt(m.peakRssMiB)} MiB`);
      await fresh(out);
    }
  }
  return rows;
}

/**
 * The median of one client's runs. On this VM the first writes into freshly freed memory are
 * several times costlier (measured: 1 GiB of writes took 2.5 s of system time instead of 0.25 s),
 * and that lands on one client or the other by chance; a median is robust to it where a mean is not.
 */
export function median(rows: readonly TransferRow[], name: string, key: 'mbps' | 'cpu' | 'rss'): number {
  const r = rows.filter((x) => x.name === name).map((x) => x[key]).sort((a, b) => a - b);
  const mid = Math.floor(r.length / 2);
  return r.length % 2 ? r[mid] : (r[mid - 1] + r[mid]) / 2;
}

/** Lets the previous run's writeback finish so it is not billed to the next client. */
export async function settle(): Promise<void> {
  await run('sync', []);
  await new Promise((r) => setTimeout(r, 1500));
}
