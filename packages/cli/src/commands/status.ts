/** `ct status`: progress of running mounts, from the processes serving them. */
import * as path from 'node:path';
import type { Command } from 'commander';
import { CtError } from '@ct/engine';
import type { MountStatus } from '@ct/fusefs';
import { listSockets, request, socketPathFor } from '../control/control-socket.js';
import { fuseMountPoints } from '../control/mount-table.js';
import { formatBytes, formatRate } from '../format.js';
import { examples } from '../output-options.js';

type Status = MountStatus & { waitingForMetadata?: string[] };

export function register(program: Command): void {
  const cmd = program.command('status')
    .summary('progress of running mounts')
    .description('One line per mount (its process id) and per torrent: progress, rates, peers, state. PATH may be a\n' +
      'mount point, or a torrent\'s folder or file inside a mount (then its files are listed too). Without PATH:\n' +
      'every ct mount of this user. Magnets still waiting for their metadata are listed as such.')
    .argument('[path]', 'a mount point, or a torrent inside one')
    .option('--files', 'also one line per file (progress and path)')
    .option('--json', 'print JSON (with the process id, pid)');
  examples(cmd, ['ct status', 'ct status ./mnt --files', 'ct status ./mnt/movie-pack --json']);
  cmd.action((target: string | undefined, opts: { files?: boolean; json?: boolean }) => status(target, opts));
}

async function status(target: string | undefined, opts: { files?: boolean; json?: boolean }): Promise<void> {
  if (target !== undefined) {
    const abs = path.resolve(target);
    // The mount holding PATH: the longest mount point that is PATH or a parent of it.
    const mountPoint = fuseMountPoints().filter((m) => abs === m || abs.startsWith(m + path.sep))
      .sort((a, b) => b.length - a.length)[0] ?? abs;
    const st = await request(socketPathFor(mountPoint), 'status', 5000).catch(() => {
      throw new CtError('EMOUNT', `no ct mount is serving ${abs}`);
    }) as unknown as Status;
    const inside = path.relative(mountPoint, abs).split(path.sep)[0];
    if (inside) st.torrents = st.torrents.filter((t) => t.path.replace(/^\/+/, '').split('/')[0] === inside);
    process.stdout.write(opts.json ? JSON.stringify(st, null, 2) + '\n' : describe(st, !!opts.files || !!inside));
    return;
  }
  const all: Status[] = [];
  for (const socket of listSockets()) {
    const st = await request(socket, 'status', 2000).catch(() => undefined);
    if (st) all.push(st as unknown as Status);
  }
  if (opts.json) process.stdout.write(JSON.stringify({ mounts: all }, null, 2) + '\n');
  else process.stdout.write(all.length ? all.map((s) => describe(s, !!opts.files)).join('') : 'no ct mounts running\n');
}

function describe(st: Status, files: boolean): string {
  const open = st.openFiles ? `  ${st.openFiles} file${st.openFiles === 1 ? '' : 's'} open` : '';
  const lines = [`${st.mountPoint}  pid ${st.pid}  ${st.torrents.length} torrent${st.torrents.length === 1 ? '' : 's'}${open}`];
  for (const t of st.torrents) {
    lines.push(`  ${t.path}  ${t.state}  ${(t.progress * 100).toFixed(1)}%  ${formatBytes(t.bytes.verified)} of ${formatBytes(t.bytes.total)}  ` +
      `${formatRate(t.rates.download)} down  ${formatRate(t.rates.upload)} up  peers ${t.peers}`);
    if (files) {
      for (const tr of t.discovery?.trackers ?? []) {
        const note = tr.state === 'error' ? `error: ${tr.error}` : tr.state === 'working' ? `${tr.peers} peers` : 'not yet answered';
        lines.push(`    tracker ${tr.url}  ${note}${tr.warning ? `  (warning: ${tr.warning})` : ''}`);
      }
      if (t.discovery?.dht.enabled) lines.push(`    DHT: ${t.discovery.dht.nodes} nodes, ${t.discovery.dht.peersFound} peers found`);
      for (const f of t.files) lines.push(`    ${(f.progress * 100).toFixed(1).padStart(5)}%  ${f.path}`);
    }
  }
  for (const name of st.waitingForMetadata ?? []) lines.push(`  ${name}  waiting for metadata from peers`);
  if (st.cache) {
    const c = st.cache;
    lines.push(`  cache  ${formatBytes(c.used)} of ${formatBytes(c.max)}  ${c.pieces} pieces  ${c.hits} hits  ${c.misses} misses  ${c.evictions} evictions`);
  }
  return lines.join('\n') + '\n';
}
