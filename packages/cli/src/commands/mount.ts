/**
 * `ct mount`: serves torrents as a read-only folder from this process until unmounted (Ctrl-C,
 * SIGTERM or `ct umount`). Files download on demand (what is read plus readahead) unless
 * --download-all; what is verified is seeded. `ct status` asks this process over its control
 * socket.
 */
import * as path from 'node:path';
import type { Command } from 'commander';
import type { Torrent } from '@ct/engine';
import { serveControl } from '../control/control-socket.js';
import { addMountOptions, cacheOption, newTorrentMount, prepareMountPoint, unmountHandler, type MountFlags } from '../mount-point.js';
import { examples } from '../output-options.js';
import { SOURCE_NOTE, addSourceOptions, loadSources, sourceName, type SourceOptions } from '../sources.js';
import { addSource, onShutdown, openSession } from '../swarm.js';

type MountOptions = SourceOptions & MountFlags;

export function register(program: Command): void {
  const cmd = program.command('mount')
    .summary('mount torrents as a read-only folder that streams (FUSE)')
    .description('Mounts the torrents read-only at MOUNTPOINT, in this process, in the foreground until Ctrl-C, SIGTERM or\n' +
      '`ct umount MOUNTPOINT`. A multi-file torrent is a folder named after it, a single-file torrent\'s file sits\n' +
      'at the top. Reads wait for their pieces, which are fetched first; a read still waiting after --read-timeout\n' +
      'fails with EIO (EAGAIN with --eagain). Only what is read is downloaded (plus readahead) unless\n' +
      '--download-all; what is there is seeded. The extended attribute user.ct.status (alias user.torrent.status)\n' +
      'on any entry holds JSON progress. A magnet link\'s folder appears once its metadata arrives.\n' +
      'MOUNTPOINT must be an empty folder (created with --mkdir).' + SOURCE_NOTE)
    .argument('<mountpoint>', 'an empty folder')
    .argument('[torrents...]', '.torrent files and magnet links');
  addMountOptions(addSourceOptions(cmd), 'MOUNTPOINT');
  examples(cmd, [
    'ct mount ~/torrents movie.torrent dataset.torrent',
    "ct mount ./mnt 'magnet:?xt=urn:btih:...' --download-all --read-timeout 30",
    'mpv ./mnt/movie.mkv; ct umount ./mnt',
  ]);
  cmd.action((mountPoint: string, torrents: string[], opts: MountOptions) => mount(mountPoint, torrents, opts));
}

async function mount(mountArg: string, torrentArgs: string[], opts: MountOptions): Promise<void> {
  const mountPoint = path.resolve(mountArg);
  const sources = await loadSources(opts, torrentArgs);
  prepareMountPoint(mountPoint, !!opts.mkdir);
  const session = await openSession(opts.listen, opts, cacheOption(opts));
  const fuse = newTorrentMount(mountPoint, opts, { cacheStats: () => session.cacheStats() });
  const torrents: Torrent[] = [];
  /** Magnets still waiting for their metadata (ct status says so). */
  const waiting = new Set<string>();
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
    const addOpts = { downloadDir: opts.downloadDir, peers: opts.seeds ?? [], onDemand: !opts.downloadAll };
    const show = (torrent: Torrent) => {
      torrent.on('error', (err) => process.stderr.write(`ct: ${torrent.metainfo.name}: ${err.message}\n`));
      torrent.on('warning', (message) => process.stderr.write(`ct: ${message}\n`));
      torrents.push(torrent);
      return fuse.add(torrent);
    };
    for (const source of sources) if (source.kind === 'file') show(await session.addTorrent(source.meta, addOpts));
    // Magnets join the mounted tree when their metadata arrives (no timeout: the mount waits).
    for (const source of sources) {
      if (source.kind !== 'magnet') continue;
      const name = sourceName(source);
      waiting.add(name);
      void addSource(session, source, addOpts, undefined, (m) => process.stderr.write(`ct: ${m}\n`)).then(
        (torrent) => {
          waiting.delete(name);
          process.stderr.write(`ct: ${name} is at ${path.join(mountPoint, show(torrent))}\n`);
        },
        (err: Error) => { if (!stopping) process.stderr.write(`ct: ${name}: ${err.message}\n`); });
    }
    control = await serveControl(mountPoint, {
      status: () => ({ ...fuse.status(), waitingForMetadata: [...waiting] }),
      unmount: unmountHandler(fuse, stop),
    });
    await fuse.mount();
  } catch (err) {
    await stop();
    throw err;
  }
  onShutdown(stop, () => 0);
  process.stderr.write(`ct: mounted ${sources.length} torrent(s) at ${mountPoint} (pid ${process.pid}); ct umount ${mountPoint} to stop\n`);
  return new Promise<void>(() => undefined); // serves until a signal or `ct umount`
}
