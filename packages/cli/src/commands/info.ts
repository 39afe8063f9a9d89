/** `ct info`: print what a .torrent describes. */
import { UsageError } from '@ct/engine';
import { parse } from '../args.js';
import { formatBytes } from '../format.js';
import { loadTorrentFile } from '../load-torrent.js';

export const infoHelp = `ct info FILE [--json]

  Prints the name, infohash, piece length, trackers and files of a .torrent.`;

export async function info(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' } }, true);
  if (positionals.length !== 1) throw new UsageError('expected exactly one .torrent file');
  const meta = await loadTorrentFile(positionals[0]);
  const files = meta.files.filter((f) => !f.pad);
  if (values.json) {
    process.stdout.write(JSON.stringify({
      name: meta.name,
      infoHash: meta.infoHashHex,
      pieceLength: meta.pieceLength,
      pieces: meta.pieceCount,
      totalLength: meta.totalLength,
      private: meta.private,
      announce: meta.announce,
      creationDate: meta.creationDate?.toISOString(),
      files: files.map((f) => ({ path: f.path.join('/'), length: f.length })),
    }, null, 2) + '\n');
    return 0;
  }
  const lines = [
    `name:         ${meta.name}`,
    `infohash:     ${meta.infoHashHex}`,
    `size:         ${formatBytes(meta.totalLength)} (${meta.totalLength} bytes)`,
    `pieces:       ${meta.pieceCount} x ${formatBytes(meta.pieceLength)}`,
    `private:      ${meta.private ? 'yes' : 'no'}`,
  ];
  if (meta.creationDate) lines.push(`created:      ${meta.creationDate.toISOString()}`);
  if (meta.comment) lines.push(`comment:      ${meta.comment}`);
  if (meta.announce.length) lines.push(`trackers:     ${meta.announce.map((t) => t.join(' ')).join(' | ')}`);
  lines.push(`files (${files.length}):`);
  for (const f of files) lines.push(`  ${formatBytes(f.length).padStart(10)}  ${meta.multiFile ? meta.name + '/' : ''}${f.path.join('/')}`);
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
