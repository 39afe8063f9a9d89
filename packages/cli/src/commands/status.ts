/** `ct status`: progress of the torrents of one running mount, or of every mount, from its process. */
import * as path from 'node:path';
import { CtError, UsageError } from '@ct/engine';
import type { MountStatus } from '@ct/fusefs';
import { parse } from '../args.js';
import { listSockets, request, socketPathFor } from '../control/control-socket.js';
import { formatBytes, formatRate } from '../format.js';

export const statusHelp = `ct status [MOUNTPOINT] [--json]

  Shows each mounted torrent's progress, rates, peers and per-file progress, and the id of the
  process serving the mount (pid). Without MOUNTPOINT: every ct mount of this user.`;

export async function status(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' } }, true);
  if (positionals.length > 1) throw new UsageError('give at most one MOUNTPOINT');
  if (positionals.length === 1) {
    const mountPoint = path.resolve(positionals[0]);
    const st = await request(socketPathFor(mountPoint), 'status', 5000).catch(() => {
      throw new CtError('EMOUNT', `no ct mount is serving ${mountPoint}`);
    }) as unknown as MountStatus;
    process.stdout.write(values.json ? JSON.stringify(st, null, 2) + '\n' : describe(st));
    return 0;
  }
  const all: MountStatus[] = [];
  for (const socket of listSockets()) {
    const st = await request(socket, 'status', 2000).catch(() => undefined);
    if (st) all.push(st as unknown as MountStatus);
  }
  if (values.json) process.stdout.write(JSON.stringify({ mounts: all }, null, 2) + '\n');
  else process.stdout.write(all.length ? all.map(describe).join('\n') : 'no ct mounts running\n');
  return 0;
}

function describe(st: MountStatus): string {
  const lines = [`${st.mountPoint} (pid ${st.pid})`];
  for (const t of st.torrents) {
    lines.push(`  ${t.path}  ${(t.progress * 100).toFixed(1)}%  ${formatBytes(t.bytes.verified)} of ${formatBytes(t.bytes.total)}  ` +
      `down ${formatRate(t.rates.download)} up ${formatRate(t.rates.upload)}  peers ${t.peers}  [${t.state}]`);
    for (const tr of t.discovery?.trackers ?? []) {
      const note = tr.state === 'error' ? `error: ${tr.error}` : tr.state === 'working' ? `${tr.peers} peers` : 'not yet answered';
      lines.push(`    tracker ${tr.url}  ${note}${tr.warning ? `  (warning: ${tr.warning})` : ''}`);
    }
    if (t.discovery?.dht.enabled) lines.push(`    DHT: ${t.discovery.dht.nodes} nodes, ${t.discovery.dht.peersFound} peers found`);
    for (const f of t.files) lines.push(`    ${(f.progress * 100).toFixed(1).padStart(5)}%  ${f.path}`);
  }
  return lines.join('\n') + '\n';
}
