/**
 * The local control socket of a running `ct mount`: `ct status` and `ct umount` talk to the
 * process that serves a mount through it. One Unix socket per mount point, in a per-user runtime
 * folder (mode 0700), named after a hash of the mount point's absolute path, so any shell finds
 * it from the path alone. The protocol is one JSON line each way: {"cmd":"status"} or
 * {"cmd":"unmount","force":bool}; a refused unmount answers {"error": why}.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { CtError } from '@ct/engine';

export type ControlCommand = 'status' | 'unmount';

export interface ControlHandlers {
  status(): object;
  /**
   * Says whether it will unmount (`undefined`) or why not (files open and no `force`); when it
   * will, the answer is sent first and `then` runs after: the caller waits for the process to exit.
   */
  unmount(force: boolean): { refuse?: string; then?: () => void };
}

export function controlDir(): string {
  if (process.env.CT_RUNTIME_DIR) return process.env.CT_RUNTIME_DIR;
  const base = process.env.XDG_RUNTIME_DIR ?? os.tmpdir();
  return path.join(base, `ct-${process.getuid?.() ?? 'user'}`);
}

export function socketPathFor(mountPoint: string): string {
  const id = createHash('sha1').update(path.resolve(mountPoint)).digest('hex').slice(0, 16);
  return path.join(controlDir(), `mount-${id}.sock`);
}

/** Sockets of every mount this user may be running (some may be stale). */
export function listSockets(): string[] {
  try {
    return fs.readdirSync(controlDir()).filter((n) => n.startsWith('mount-') && n.endsWith('.sock')).map((n) => path.join(controlDir(), n));
  } catch {
    return [];
  }
}

export async function serveControl(mountPoint: string, handlers: ControlHandlers): Promise<Server> {
  const file = socketPathFor(mountPoint);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // A socket file left by a killed process: nobody answers on it, so it can go.
  if (fs.existsSync(file)) {
    const alive = await request(file, 'status', 1000).then(() => true, () => false);
    if (alive) throw new CtError('EMOUNT', `another ct process serves ${mountPoint}`);
    fs.rmSync(file, { force: true });
  }
  const server = createServer((socket) => {
    let line = '';
    socket.on('error', () => undefined);
    socket.on('data', (d) => {
      line += d.toString('utf8');
      if (!line.includes('\n') || line.length > 4096) return;
      let msg: { cmd?: unknown; force?: unknown } = {};
      try {
        msg = JSON.parse(line) as typeof msg;
      } catch {
        // answered as an unknown command below
      }
      if (msg.cmd === 'status') socket.end(JSON.stringify(handlers.status()) + '\n');
      else if (msg.cmd === 'unmount') {
        const decision = handlers.unmount(msg.force === true);
        if (decision.refuse) socket.end(JSON.stringify({ error: decision.refuse, pid: process.pid }) + '\n');
        else socket.end(JSON.stringify({ ok: true, pid: process.pid }) + '\n', () => decision.then?.());
      } else socket.end(JSON.stringify({ error: 'unknown command' }) + '\n');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(file, () => resolve());
  });
  server.on('close', () => fs.rmSync(file, { force: true }));
  return server;
}

/** Sends one command and returns the parsed answer; rejects when nobody answers in time. */
export function request(file: string, cmd: ControlCommand, timeoutMs = 5000, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(file);
    let data = '';
    const timer = setTimeout(() => socket.destroy(new Error('no answer')), timeoutMs);
    socket.on('connect', () => socket.write(JSON.stringify({ cmd, ...extra }) + '\n'));
    socket.on('data', (d) => { data += d.toString('utf8'); });
    socket.on('error', (err) => { clearTimeout(timer); reject(err); });
    socket.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(data) as Record<string, unknown>);
      } catch (err) {
        reject(err as Error);
      }
    });
  });
}
