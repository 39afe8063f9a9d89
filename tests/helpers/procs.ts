/**
 * Child processes for integration tests: the real `ct` CLI and the real libtorrent peer. Every
 * process started here is tracked by PID and killed by `stopAll()` (call it in `after`), and every
 * wait has a deadline so a broken build fails a test instead of hanging CI.
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CT = path.join(ROOT, 'packages', 'cli', 'dist', 'main.js');
export const LT_PEER = path.join(ROOT, 'tests', 'helpers', 'lt_peer.py');

// Network tests stay on loopback: every ct started here runs without the DHT (which would ask
// the public bootstrap routers) unless a test passes CT_NO_DHT='' in its env with --dht-bootstrap.
process.env.CT_NO_DHT ??= '1';

const running = new Set<Proc>();

export class Proc {
  stdout = '';
  stderr = '';
  exitCode: number | null = null;
  readonly exited: Promise<number>;
  private waiters: (() => void)[] = [];

  constructor(readonly child: ChildProcessWithoutNullStreams, readonly label: string) {
    running.add(this);
    child.stdout.on('data', (d) => { this.stdout += d; this.wake(); });
    child.stderr.on('data', (d) => { this.stderr += d; this.wake(); });
    this.exited = new Promise((resolve) => child.on('close', (code, signal) => {
      this.exitCode = code ?? (signal ? 128 : -1);
      running.delete(this);
      this.wake();
      resolve(this.exitCode);
    }));
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves with the first stdout match of `pattern`; rejects after `timeoutMs` or on exit. */
  async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.stdout.match(pattern);
      if (m) return m;
      if (this.exitCode !== null) throw new Error(`${this.label} exited (${this.exitCode}) before ${pattern}: ${this.stderr.slice(-500)} ${this.stdout.slice(-500)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.label}: timed out waiting for ${pattern}; stdout: ${this.stdout.slice(-500)} stderr: ${this.stderr.slice(-500)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 1000));
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  /** Waits for exit with a deadline; kills the process if it is exceeded. */
  async waitExit(timeoutMs = 60_000): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<number>((_, reject) => {
      timer = setTimeout(() => {
        this.kill('SIGKILL');
        reject(new Error(`${this.label} did not exit within ${timeoutMs} ms; stdout: ${this.stdout.slice(-800)} stderr: ${this.stderr.slice(-800)}`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** JSON lines printed so far (ct --json). */
  jsonLines(): Record<string, unknown>[] {
    return this.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.exitCode === null && this.child.pid) {
      try { process.kill(this.child.pid, signal); } catch { /* already gone */ }
    }
  }
}

export function ct(args: string[], label = `ct ${args[0]}`, env: NodeJS.ProcessEnv = {}): Proc {
  return new Proc(spawn(process.execPath, [CT, ...args], { stdio: 'pipe', env: { ...process.env, ...env } }), label);
}

/** Runs ct to completion and returns its exit code and output. */
export async function ctRun(args: string[], timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = ct(args);
  const code = await p.waitExit(timeoutMs);
  return { code, stdout: p.stdout, stderr: p.stderr };
}

export function libtorrent(args: string[], label = `libtorrent ${args[0]}`): Proc {
  // Debian's python3-libtorrent is on /usr/bin/python3 (not on a pyenv python on PATH).
  return new Proc(spawn('/usr/bin/python3', [LT_PEER, ...args], { stdio: 'pipe' }), label);
}

/** Starts a libtorrent seeder and resolves once it is seeding. */
export async function libtorrentSeeder(torrent: string, savePath: string, opts: { port?: number; rate?: number; seedMode?: boolean } = {}): Promise<{ proc: Proc; port: number }> {
  const port = opts.port ?? await freePort();
  const args = ['seed', '--torrent', torrent, '--save-path', savePath, '--port', String(port)];
  if (opts.rate) args.push('--rate', String(opts.rate));
  // seed mode: libtorrent trusts the data and checks pieces as they are requested (a 5 GiB file
  // would otherwise be hashed in full first).
  if (opts.seedMode) args.push('--seed-mode');
  const proc = libtorrent(args, 'libtorrent seeder');
  await proc.waitFor(/LISTENING (\d+)/, 60_000);
  return { proc, port };
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function stopAll(): Promise<void> {
  const procs = [...running];
  for (const p of procs) p.kill('SIGTERM');
  // unref: a grace timer must not keep the test process alive once everything has exited.
  await Promise.all(procs.map((p) => Promise.race([p.exited, new Promise((r) => setTimeout(r, 5000).unref())])));
  for (const p of procs) p.kill('SIGKILL');
}

/** Runs a program (no shell) to completion, bounded in time: its exit code (1 on a timeout) and output. */
export function run(file: string, args: string[], timeoutMs = 60_000, input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
    if (input !== undefined) child.stdin?.end(input);
  });
}
