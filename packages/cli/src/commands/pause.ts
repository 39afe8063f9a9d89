/** `ct pause` and `ct resume`: stop a torrent of a running `ct serve`, or start it again. */
import type { Command } from 'commander';
import { examples } from '../output-options.js';
import type { TorrentView } from '../service/api-types.js';
import { ServiceClient, addClientOptions, type ClientOptions } from '../service/service-client.js';

export function register(program: Command): void {
  for (const verb of ['pause', 'resume'] as const) {
    const cmd = program.command(verb)
      .summary(verb === 'pause' ? 'stop torrents of a running ct serve (kept across restarts)' : 'start paused torrents again')
      .description(verb === 'pause'
        ? 'Stops each torrent: no peers, no data fetched or seeded, its folder leaves the mount (open files fail with\n' +
          'EIO). It stays listed and stays paused across restarts until ct resume.'
        : 'Starts each paused torrent again; what was verified is trusted from its resume data, not hashed again.')
      .argument('<ids...>', 'torrents, as ct ls shows them');
    addClientOptions(cmd);
    examples(cmd, [`ct ${verb} 3f2a9c`]);
    cmd.action(async (ids: string[], opts: ClientOptions) => {
      const client = ServiceClient.from(opts);
      for (const id of ids) {
        const t = await client.request<TorrentView>('POST', `/api/v1/torrents/${encodeURIComponent(id)}/${verb}`);
        process.stdout.write(`${t.name} (${t.id}): ${t.state}\n`);
      }
    });
  }
}
