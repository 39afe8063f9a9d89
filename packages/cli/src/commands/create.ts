/** `ct create`: make a .torrent from a file or folder. */
import { existsSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { Option, type Command } from 'commander';
import { UsageError, createTorrent, parseMetainfo } from '@ct/engine';
import { formatBytes } from '../format.js';
import { magnetOf } from '../magnet-link.js';
import { collect, parsePositiveSize } from '../options.js';
import { examples } from '../output-options.js';

interface CreateOptions {
  output: string;
  pieceLength?: number;
  announce?: string[];
  private?: boolean;
  comment?: string;
}

export function register(program: Command): void {
  const cmd = program.command('create')
    .summary('make a .torrent from a file or folder')
    .description('Hashes PATH (a file or a folder: files in byte-wise sorted order, empty files included) and writes a\n' +
      'v1 .torrent, then prints its infohash and magnet link.')
    .argument('<path>', 'the file or folder to share')
    .addOption(new Option('-o, --output <file>', 'where to write the .torrent; - for stdout').makeOptionMandatory())
    .addOption(new Option('--piece-length <bytes>', 'piece length, a power of two (16k .. 16MiB)').argParser(parsePositiveSize).default(undefined, 'about 1500 pieces'))
    .option('--announce <url>', 'a tracker URL; repeatable (each becomes its own tier)', collect)
    .option('--private', 'private torrent (BEP 27): peers come from its trackers only')
    .option('--comment <text>', 'a comment stored in the torrent');
  examples(cmd, [
    'ct create ./holiday-photos -o photos.torrent --announce udp://tracker.example:6969/announce',
    'ct create movie.mkv -o - --piece-length 4MiB > movie.torrent',
  ]);
  cmd.action((target: string, opts: CreateOptions) => create(target, opts));
}

async function create(target: string, opts: CreateOptions): Promise<void> {
  if (!existsSync(target)) throw new UsageError(`no such file or folder: ${target}`);
  const toStdout = opts.output === '-';
  if (!toStdout) {
    const dir = path.dirname(path.resolve(opts.output));
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`cannot write ${opts.output}: no such folder ${dir}`);
  }
  const data = await createTorrent(target, {
    pieceLength: opts.pieceLength,
    announce: opts.announce,
    private: opts.private,
    comment: opts.comment,
  });
  const meta = parseMetainfo(data);
  const line = `created ${toStdout ? 'a torrent' : opts.output}: ${meta.name}, ${meta.files.length} file(s), ${formatBytes(meta.totalLength)}, ` +
    `${meta.pieceCount} pieces of ${formatBytes(meta.pieceLength)}, infohash ${meta.infoHashHex}\nmagnet: ${magnetOf(meta)}\n`;
  if (toStdout) {
    process.stdout.write(data);
    process.stderr.write(line);
  } else {
    await writeFile(opts.output, data);
    process.stdout.write(line);
  }
}
