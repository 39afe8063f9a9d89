/** `ct add`: adds torrents to a running `ct serve` (its HTTP API). */
import * as path from 'node:path';
import type { Command } from 'commander';
import { parsePeerList } from '../options.js';
import { parsePatterns } from '../file-selection.js';
import { examples } from '../output-options.js';
import type { AddResult } from '../service/api-types.js';
import { ServiceClient, addClientOptions, addRequestFor, type ClientOptions } from '../service/service-client.js';

interface AddOptions extends ClientOptions {
  downloadDir?: string;
  seeds?: string[];
  paused?: boolean;
  category?: string;
  select?: string[];
  json?: boolean;
}

export function register(program: Command): void {
  const cmd = program.command('add')
    .summary('add torrents to a running ct serve')
    .description('Adds each torrent to the running ct serve, which keeps it across restarts. A .torrent file appears in\n' +
      'the service\'s mount at once; a magnet link or an infohash once its metadata has arrived from peers.')
    .argument('<torrents...>', '.torrent files, magnet links, infohashes, or http(s) URLs of .torrent files (fetched by the service)')
    .option('--download-dir <dir>', 'where its data goes (default: the service\'s)')
    .option('--seeds <host:port,...>', 'peers to dial for it, again after every restart', parsePeerList)
    .option('--paused', 'add it stopped (ct resume starts it)')
    .option('--category <name>', 'show it in the mount under DIR/<name>/')
    .option('--select <patterns>', 'fetch only these files in the background: indexes as ct files numbers them, ranges (3-7) or globs (*.mkv); repeatable', parsePatterns)
    .option('--json', 'print JSON lines: {"id", "name", "pending"}');
  addClientOptions(cmd);
  examples(cmd, ["ct add 'magnet:?xt=urn:btih:...'", 'ct add movie.torrent --download-dir /srv/media', 'ct add dataset.torrent --server http://10.0.0.2:4444']);
  cmd.action((sources: string[], opts: AddOptions) => add(sources, opts));
}

async function add(sources: string[], opts: AddOptions): Promise<void> {
  const client = ServiceClient.from(opts);
  for (const source of sources) {
    const req = await addRequestFor(source);
    const body = {
      ...(req.magnet !== undefined ? { magnet: req.magnet } : req.url !== undefined ? { url: req.url } : { torrent: req.torrent!.toString('base64') }),
      ...(opts.downloadDir ? { downloadDir: path.resolve(opts.downloadDir) } : {}),
      ...(opts.seeds ? { peers: opts.seeds } : {}),
      ...(opts.paused ? { paused: true } : {}),
      ...(opts.category ? { category: opts.category } : {}),
      ...(opts.select ? { select: opts.select } : {}),
    };
    const added = await client.request<AddResult>('POST', '/api/v1/torrents', body);
    if (opts.json) process.stdout.write(`${JSON.stringify(added)}\n`);
    else process.stdout.write(`added ${added.name ?? added.id} (${added.id})${added.pending ? ': its metadata is on its way from peers' : ''}\n`);
  }
}
