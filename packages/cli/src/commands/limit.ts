/** `ct limit`: the download and upload limits of a running `ct serve`, for the session or one torrent. */
import { Option, type Command } from 'commander';
import { formatRate } from '../format.js';
import { parseRate } from '../options.js';
import { examples } from '../output-options.js';
import type { Limits } from '../service/api-types.js';
import { ServiceClient, addClientOptions, type ClientOptions } from '../service/service-client.js';

interface LimitOptions extends ClientOptions {
  down?: number;
  up?: number;
  json?: boolean;
}

export function register(program: Command): void {
  const cmd = program.command('limit')
    .summary('show or change the rate limits of a running ct serve')
    .description('Without --down or --up, prints the limits. With them, changes them at once: for the whole session\n' +
      '(until it stops: limits.download / limits.upload in the config are what it starts with), or, given an ID,\n' +
      'for that torrent (kept across restarts; the session\'s limits still apply on top). 0 removes a limit.')
    .argument('[id]', 'a torrent, as ct ls shows it (default: the whole session)')
    .addOption(new Option('--down <rate>', 'download at most this fast (20MB/s, 512k; 0: no limit)').argParser(parseRate))
    .addOption(new Option('--up <rate>', 'upload at most this fast (0: no limit)').argParser(parseRate))
    .option('--json', 'print {"download", "upload"} in bytes per second');
  addClientOptions(cmd);
  examples(cmd, ['ct limit --down 20MB/s', 'ct limit 3f2a9c --up 1MB/s', 'ct limit --down 0']);
  cmd.action(async (id: string | undefined, opts: LimitOptions) => {
    const client = ServiceClient.from(opts);
    const where = id === undefined ? '/api/v1/limits' : `/api/v1/torrents/${encodeURIComponent(id)}/limits`;
    const change = { ...(opts.down !== undefined ? { download: opts.down } : {}), ...(opts.up !== undefined ? { upload: opts.up } : {}) };
    const limits = Object.keys(change).length > 0 ? await client.request<Limits>('POST', where, change) : await client.request<Limits>('GET', where);
    if (opts.json) return void process.stdout.write(`${JSON.stringify(limits)}\n`);
    const one = (n: number) => (n > 0 ? formatRate(n) : 'no limit');
    process.stdout.write(`${id === undefined ? 'session' : id}: down ${one(limits.download)}, up ${one(limits.upload)}\n`);
  });
}
