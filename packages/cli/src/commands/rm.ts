/** `ct rm`: removes torrents from a running `ct serve`. */
import type { Command } from 'commander';
import { examples } from '../output-options.js';
import { ServiceClient, addClientOptions, type ClientOptions } from '../service/service-client.js';

export function register(program: Command): void {
  const cmd = program.command('rm')
    .summary('remove torrents from a running ct serve')
    .description('Removes each torrent from the running ct serve: it leaves the mount at once (reads of its open files\n' +
      'fail with EIO) and is not restored again. Its data stays unless --delete-data. ID is an infohash, a unique\n' +
      'prefix of one (4+ hex digits) or a unique name, as ct ls shows.')
    .argument('<ids...>', 'torrents, as ct ls shows them')
    .option('--delete-data', 'also delete its downloaded files');
  addClientOptions(cmd);
  examples(cmd, ['ct rm 3f2a9c', 'ct rm "Big Buck Bunny" --delete-data']);
  cmd.action(async (ids: string[], opts: ClientOptions & { deleteData?: boolean }) => {
    const client = ServiceClient.from(opts);
    for (const id of ids) {
      await client.request('DELETE', `/api/v1/torrents/${encodeURIComponent(id)}${opts.deleteData ? '?delete_data=1' : ''}`);
      process.stdout.write(`removed ${id}\n`);
    }
  });
}
