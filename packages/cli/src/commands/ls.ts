/** `ct ls` and `ct files`: what a running `ct serve` holds. */
import type { Command } from 'commander';
import { formatBytes, formatRate } from '../format.js';
import { examples } from '../output-options.js';
import type { TorrentDetail, TorrentView } from '../service/api-types.js';
import { ServiceClient, addClientOptions, type ClientOptions } from '../service/service-client.js';

export function register(program: Command): void {
  const ls = program.command('ls')
    .summary('list the torrents of a running ct serve')
    .description('One line per torrent of the running ct serve: ID (the infohash\'s first 8 digits; any unique prefix\n' +
      'works), state, progress, size, rates, peers, name and where it is in the mount.')
    .option('--json', 'print the API\'s JSON (every field, the whole infohash)');
  addClientOptions(ls);
  examples(ls, ['ct ls', 'ct ls --json | jq -r ".[].name"']);
  ls.action(async (opts: ClientOptions & { json?: boolean }) => {
    const list = await ServiceClient.from(opts).request<TorrentView[]>('GET', '/api/v1/torrents');
    if (opts.json) return void process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
    if (list.length === 0) return void process.stdout.write('no torrents (add one with ct add)\n');
    for (const t of list) {
      process.stdout.write(`${t.id.slice(0, 8)}  ${t.state.padEnd(11)} ${(t.progress * 100).toFixed(1).padStart(5)}%  ${formatBytes(t.size).padStart(9)}  ` +
        `${formatRate(t.downloadRate)} down  ${formatRate(t.uploadRate)} up  peers ${t.peers}  ${t.name}${t.mountPath ? `  (${t.mountPath})` : ''}${t.error ? `  error: ${t.error}` : ''}\n`);
    }
  });

  const files = program.command('files')
    .summary('list the files of a torrent of a running ct serve')
    .description('One line per file of the torrent: its number (for ct select), progress, size, path, and whether it is\n' +
      'fetched in the background ("selected") or only as far as it is read.')
    .argument('<id>', 'a torrent, as ct ls shows it')
    .option('--json', 'print the API\'s JSON');
  addClientOptions(files);
  examples(files, ['ct files 3f2a9c']);
  files.action(async (id: string, opts: ClientOptions & { json?: boolean }) => {
    const t = await ServiceClient.from(opts).request<TorrentDetail>('GET', `/api/v1/torrents/${encodeURIComponent(id)}`);
    if (opts.json) return void process.stdout.write(`${JSON.stringify(t, null, 2)}\n`);
    const width = String(t.files.length).length;
    t.files.forEach((f, i) => process.stdout.write(`${String(i + 1).padStart(width)}  ${(f.progress * 100).toFixed(1).padStart(5)}%  ` +
      `${formatBytes(f.length).padStart(9)}  ${f.priority > 0 ? 'selected  ' : 'on read   '}  ${f.path}\n`));
  });
}
