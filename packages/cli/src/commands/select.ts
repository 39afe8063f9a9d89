/** `ct select` and `ct deselect`: which files of a torrent of a running `ct serve` are fetched in the background. */
import type { Command } from 'commander';
import { examples } from '../output-options.js';
import type { TorrentDetail } from '../service/api-types.js';
import { ServiceClient, addClientOptions, type ClientOptions } from '../service/service-client.js';

export function register(program: Command): void {
  for (const verb of ['select', 'deselect'] as const) {
    const cmd = program.command(verb)
      .summary(verb === 'select' ? 'fetch files of a torrent of ct serve in the background' : 'stop fetching files of a torrent of ct serve')
      .description((verb === 'select'
        ? 'Fetches the matching files whole, in the background, whether or not they are read.'
        : 'Stops fetching the matching files in the background; reading one through the mount or /files/ still\n' +
          'fetches what the read needs. What is verified stays.') +
        '\nFILE is a number as ct files shows it, a range (3-7) or a glob matched against the path (*.mkv, subs/**).\n' +
        'Kept across restarts.')
      .argument('<id>', 'a torrent, as ct ls shows it')
      .argument('<files...>', 'file numbers, ranges or globs');
    addClientOptions(cmd);
    examples(cmd, [`ct ${verb} 3f2a9c 2`, `ct ${verb} 3f2a9c '*.mkv' 5-9`]);
    cmd.action(async (id: string, files: string[], opts: ClientOptions) => {
      const t = await ServiceClient.from(opts).request<TorrentDetail>('POST', `/api/v1/torrents/${encodeURIComponent(id)}/${verb}`, { files });
      const selected = t.files.filter((f) => f.priority > 0).length;
      process.stdout.write(`${t.name} (${t.id}): ${selected} of ${t.files.length} file${t.files.length === 1 ? '' : 's'} selected\n`);
    });
  }
}
