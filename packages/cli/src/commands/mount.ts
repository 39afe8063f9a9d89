/**
 * `ct mount`: serves torrents as a read-only folder from this process until unmounted (Ctrl-C,
 * SIGTERM or `ct umount`). Files download on demand (what is read plus readahead) unless
 * --download-all; what is verified is seeded. `ct status` asks this process over its control
 * socket.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { UsageError, isMagnet, type Torrent } from '@ct/engine';
import { DEFAULT_READ_TIMEOUT_MS, TorrentMount } from '@ct/fusefs';
import { parse, parseSeconds } from '../args.js';
import { serveControl } from '../control/control-socket.js';
import { SOURCE_HELP, SOURCE_OPTIONS, loadSources, peersOf, sourceName } from '../sources.js';
import { addSource, onShutdown, openSession } from '../swarm.js';

export const mountHelp = `ct mount MOUNTPOINT (--metainfo FILE | --magnet URI | 'magnet:?...') [more torrents ...]
         [--seeds HOST:PORT[,...]] [--download-dir DIR] [--read-timeout SECONDS] [--eagain]
         [--download-all] [--allow-other]

  Mounts the torrents read-only at MOUNTPOINT (created if missing): a multi-file torrent is a
  folder named after it, a single-file torrent's file sits at the top. Reads wait for their
  pieces, which are fetched first; a read still waiting after --read-timeout (default ${DEFAULT_READ_TIMEOUT_MS / 1000} s)
  fails with EIO (EAGAIN with --eagain). Only what is read is downloaded (plus readahead), into
  DIR (default ~/.cache/ct), unless --download-all. Extended attribute user.ct.status (alias
  user.torrent.status) on any entry holds JSON progress. Runs in the foreground until Ctrl-C,
  SIGTERM or \`ct umount MOUNTPOINT\`. A magnet link's folder appears once its metadata arrives.

${SOURCE_HELP}`;

export async function mount(argv: string[]): Promise<number> {
  const { values, positionals: args } = parse(argv, {
    ...SOURCE_OPTIONS,
    'download-dir': { type: 'string' },
    'read-timeout': { type: 'string' },
    eagain: { type: 'boolean' },
    'download-all': { type: 'boolean' },
    'allow-other': { type: 'boolean' },
    listen: { type: 'string' },
  }, true);
  const positionals = args.filter((a) => !isMagnet(a));
  if (positionals.length !== 1) throw new UsageError('give exactly one MOUNTPOINT (ct mount --help)');
  const mountPoint = path.resolve(positionals[0]);
  const sources = await loadSources(values, args);
  const readTimeoutMs = parseSeconds(values['read-timeout'], 'read-timeout', DEFAULT_READ_TIMEOUT_MS / 1000) * 1000;
  const downloadDir = values['download-dir'] ?? path.join(os.homedir(), '.cache', 'ct');
  const peers = peersOf(values);

  const session = await openSession(values.listen, values);
  const fuse = new TorrentMount(mountPoint, { readTimeoutMs, eagain: !!values.eagain, allowOther: !!values['allow-other'] });
  const torrents: Torrent[] = [];
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await fuse.unmount().catch((err: Error) => process.stderr.write(`ct: ${err.message}\n`));
      control?.close();
      await session.close();
    })();
    return stopping;
  };
  let control: Awaited<ReturnType<typeof serveControl>> | undefined;
  try {
    const opts = { downloadDir, peers, onDemand: !values['download-all'] };
    const show = (torrent: Torrent) => {
      torrent.on('error', (err) => process.stderr.write(`ct: ${torrent.metainfo.name}: ${err.message}\n`));
      torrents.push(torrent);
      return fuse.add(torrent);
    };
    for (const source of sources) if (source.kind === 'file') show(await session.addTorrent(source.meta, opts));
    // Magnets join the mounted tree when their metadata arrives (no timeout: the mount waits).
    for (const source of sources) {
      if (source.kind !== 'magnet') continue;
      void addSource(session, source, opts, undefined, (m) => process.stderr.write(`ct: ${m}\n`)).then(
        (torrent) => process.stderr.write(`ct: ${sourceName(source)} is at ${path.join(mountPoint, show(torrent))}\n`),
        (err: Error) => { if (!stopping) process.stderr.write(`ct: ${sourceName(source)}: ${err.message}\n`); });
    }
    control = await serveControl(mountPoint, {
      status: () => fuse.status(),
      // Like umount(8): a mount with files open stays unless forced (then their reads fail with EIO).
      unmount: (force) => {
        const open = fuse.openFileCount;
        if (!force && open > 0) return { refuse: `${open} file${open > 1 ? 's are' : ' is'} open in the mount (close ${open > 1 ? 'them' : 'it'}, or use --force)` };
        return { then: () => void stop().then(() => process.exit(0)) };
      },
    });
    await fuse.mount();
  } catch (err) {
    await stop();
    throw err;
  }
  onShutdown(stop, () => 0);
  process.stderr.write(`ct: mounted ${sources.length} torrent(s) at ${mountPoint} (pid ${process.pid}); ct umount ${mountPoint} to stop\n`);
  return new Promise<number>(() => undefined); // serves until a signal or `ct umount`
}
