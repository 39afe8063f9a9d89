/** `ct create`: make a .torrent from a file or folder. */
import { writeFile } from 'node:fs/promises';
import { UsageError, createTorrent, parseMetainfo } from '@ct/engine';
import { parse, requireOption } from '../args.js';
import { formatBytes } from '../format.js';

export const createHelp = `ct create PATH -o FILE [--piece-length BYTES] [--announce URL ...] [--private] [--comment TEXT]

  Hashes PATH (a file or a folder) and writes a v1 .torrent to FILE. The piece length defaults
  to a power of two giving about 1500 pieces (16 KiB .. 16 MiB).`;

export async function create(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    output: { type: 'string', short: 'o' },
    'piece-length': { type: 'string' },
    announce: { type: 'string', multiple: true },
    private: { type: 'boolean' },
    comment: { type: 'string' },
  }, true);
  if (positionals.length !== 1) throw new UsageError('expected exactly one PATH to make a torrent of');
  const out = requireOption(values.output, 'output (-o)');
  const pieceLength = values['piece-length'] === undefined ? undefined : Number(values['piece-length']);
  const data = await createTorrent(positionals[0], {
    pieceLength,
    announce: values.announce,
    private: values.private,
    comment: values.comment,
  });
  await writeFile(out, data);
  const meta = parseMetainfo(data);
  process.stdout.write(`created ${out}: ${meta.name}, ${meta.files.length} file(s), ${formatBytes(meta.totalLength)}, ` +
    `${meta.pieceCount} pieces of ${formatBytes(meta.pieceLength)}, infohash ${meta.infoHashHex}\n`);
  return 0;
}
