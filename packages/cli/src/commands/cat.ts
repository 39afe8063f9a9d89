/**
 * `ct cat`: writes a byte range of one file of a torrent to stdout and exits, downloading only the
 * pieces the read needs (on-demand mode). The scriptable way to read from a swarm.
 */
import { pipeline } from 'node:stream/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Command } from 'commander';
import { CtError, UsageError } from '@ct/engine';
import { listenOption, parseSize, timeoutOption } from '../options.js';
import { examples } from '../output-options.js';
import { SOURCE_NOTE, addSourceOptions, isTorrentArgument, loadOneSource, type SourceOptions } from '../sources.js';
import { addSource, onShutdown, openSession } from '../swarm.js';

interface CatOptions extends SourceOptions {
  downloadDir?: string;
  offset: number;
  length?: number;
  listen: string;
  timeout: number;
}

export function register(program: Command): void {
  const cmd = program.command('cat')
    .summary('write a byte range of one file to stdout, downloading only what it needs')
    .description('Writes bytes [offset, offset+length) of PATH (its path inside the torrent, e.g. movie.mkv or\n' +
      'pack/dir/a.bin) to stdout: the whole file by default. Only the pieces under the read and a small\n' +
      'readahead are downloaded. With --download-dir data already there is reused and what is fetched\n' +
      'stays; without it a temporary folder is used and removed.' + SOURCE_NOTE)
    .argument('[torrent]', '.torrent file or magnet link (unless given with --metainfo/--magnet)')
    .argument('[path]', 'the file inside the torrent');
  addSourceOptions(cmd)
    .option('--download-dir <dir>', 'keep what is fetched here and reuse what is there (default: a temporary folder)')
    .option('--offset <bytes>', 'first byte to write (sizes take k, MiB, ...)', parseSize, 0)
    .option('--length <bytes>', 'how many bytes (default: to the end of the file)', parseSize)
    .addOption(listenOption('127.0.0.1:0', 'accept peers here'))
    .addOption(timeoutOption('give up when no peer is reachable for this long'));
  examples(cmd, [
    'ct cat movie.torrent movie.mkv --offset 1MiB --length 64k | xxd | head',
    'ct cat pack.torrent pack/docs/readme.txt',
  ]);
  cmd.action((a: string | undefined, b: string | undefined, opts: CatOptions) => cat(a, b, opts));
}

async function cat(a: string | undefined, b: string | undefined, opts: CatOptions): Promise<void> {
  const given = !!(opts.metainfo?.length || opts.magnet?.length);
  // With --metainfo/--magnet the only argument is the path; otherwise the torrent comes first.
  const [torrentArg, pathArg] = given && b === undefined ? [undefined, a] : [a, b];
  if (torrentArg !== undefined && given) throw new UsageError('give the torrent once: as an argument or with --metainfo/--magnet');
  if (torrentArg !== undefined && !isTorrentArgument(torrentArg) && pathArg === undefined) {
    throw new UsageError(`missing the torrent (a .torrent file or magnet link) before "${torrentArg}"`);
  }
  if (pathArg === undefined) throw new UsageError('missing PATH: the file inside the torrent to write (ct info lists them)');
  const source = await loadOneSource(opts, torrentArg ? [torrentArg] : []);
  const wanted = pathArg.replace(/^\/+/, '');
  const temp = opts.downloadDir ? undefined : await mkdtemp(path.join(tmpdir(), 'ct-cat-'));
  const session = await openSession(opts.listen, opts);
  const cleanup = async () => {
    await session.close();
    if (temp) await rm(temp, { recursive: true, force: true });
  };
  onShutdown(cleanup, (sig) => (sig === 'SIGINT' ? 130 : 143));
  try {
    const torrent = await addSource(session, source, { downloadDir: opts.downloadDir ?? (temp as string), peers: opts.seeds ?? [], onDemand: true }, opts.timeout,
      (m) => process.stderr.write(`ct: ${m}\n`));
    const meta = torrent.metainfo;
    const relative = meta.multiFile && wanted.startsWith(`${meta.name}/`) ? wanted.slice(meta.name.length + 1) : wanted;
    const file = torrent.files.find((f) => f.path === relative);
    if (!file) throw new UsageError(`no file "${wanted}" in ${meta.name} (ct info lists them)`);
    const length = Math.min(opts.length ?? file.length, Math.max(0, file.length - opts.offset));
    if (length === 0) return;
    const noPeer = setTimeout(() => {
      if (!torrent.hasConnectedPeer) void torrent.close();
    }, opts.timeout * 1000);
    try {
      const bytes = file.createReadStream({ start: opts.offset, end: opts.offset + length - 1, chunkSize: 1024 * 1024 });
      await pipeline(bytes, process.stdout, { end: false });
    } catch (err) {
      if (err instanceof CtError && err.code === 'ECLOSED' && !torrent.hasConnectedPeer) {
        throw new CtError('ENO_PEERS', `no peer reachable within ${opts.timeout} s`);
      }
      throw err;
    } finally {
      clearTimeout(noPeer);
    }
    await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  } finally {
    await cleanup();
  }
}
