/** `ct info`: print what a .torrent describes, or what a magnet link says. */
import type { Command } from 'commander';
import { formatBytes } from '../format.js';
import { magnetOf } from '../magnet-link.js';
import { collect, collectMagnet } from '../options.js';
import { examples } from '../output-options.js';
import { loadOneSource } from '../sources.js';

interface InfoOptions { json?: boolean; metainfo?: string[]; magnet?: string[] }

export function register(program: Command): void {
  const cmd = program.command('info')
    .summary('show what a .torrent holds (or what a magnet link says)')
    .description('Prints the name, infohash, size, piece length, trackers, magnet link and files of a .torrent. File\n' +
      'names are shown as ct will write them: components such as "..", ".", empty names, "/", "\\\\" and NUL are\n' +
      'neutralised, and names that collide after that get a " (n)" suffix. For a magnet link: its infohash,\n' +
      'name, trackers and peers (the files are known only once its metadata arrives).')
    .argument('[torrent]', '.torrent file or magnet link')
    .option('--metainfo <file>', 'the .torrent file (or give it as an argument)', collect)
    .option('--magnet <uri>', 'the magnet link (or give it as an argument)', collectMagnet)
    .option('--json', 'print JSON');
  examples(cmd, ['ct info ubuntu.torrent', "ct info 'magnet:?xt=urn:btih:...&dn=name' --json"]);
  cmd.action((torrent: string | undefined, opts: InfoOptions) => info(torrent, opts));
}

async function info(arg: string | undefined, opts: InfoOptions): Promise<void> {
  const source = await loadOneSource(opts, arg ? [arg] : []);
  if (source.kind === 'magnet') {
    const m = source.magnet;
    if (opts.json) {
      process.stdout.write(JSON.stringify({ infoHash: m.infoHashHex, name: m.name, trackers: m.trackers, peers: m.peers }, null, 2) + '\n');
      return;
    }
    const lines = [`magnet link (metadata not fetched)`, `infohash:     ${m.infoHashHex}`];
    if (m.name) lines.push(`name:         ${m.name}`);
    if (m.trackers.length) lines.push(`trackers:     ${m.trackers.map((t) => t.join(' ')).join(' | ')}`);
    if (m.peers.length) lines.push(`peers:        ${m.peers.join(' ')}`);
    process.stdout.write(lines.join('\n') + '\n');
    return;
  }
  const meta = source.meta;
  const files = meta.files.filter((f) => !f.pad);
  if (opts.json) {
    process.stdout.write(JSON.stringify({
      name: meta.name,
      infoHash: meta.infoHashHex,
      magnet: magnetOf(meta),
      pieceLength: meta.pieceLength,
      pieces: meta.pieceCount,
      totalLength: meta.totalLength,
      private: meta.private,
      announce: meta.announce,
      creationDate: meta.creationDate?.toISOString(),
      files: files.map((f) => ({ path: f.path.join('/'), length: f.length })),
    }, null, 2) + '\n');
    return;
  }
  const lines = [
    `name:         ${meta.name}`,
    `infohash:     ${meta.infoHashHex}`,
    `magnet:       ${magnetOf(meta)}`,
    `size:         ${formatBytes(meta.totalLength)} (${meta.totalLength} bytes)`,
    `pieces:       ${meta.pieceCount} x ${formatBytes(meta.pieceLength)}`,
    `private:      ${meta.private ? 'yes' : 'no'}`,
  ];
  if (meta.creationDate) lines.push(`created:      ${meta.creationDate.toISOString()}`);
  if (meta.comment) lines.push(`comment:      ${meta.comment}`);
  if (meta.announce.length) lines.push(`trackers:     ${meta.announce.map((t) => t.join(' ')).join(' | ')}`);
  lines.push(`files (${files.length}):`);
  files.forEach((f, i) => lines.push(`  ${String(i + 1).padStart(4)}  ${formatBytes(f.length).padStart(10)}  ${meta.multiFile ? meta.name + '/' : ''}${f.path.join('/')}`));
  process.stdout.write(lines.join('\n') + '\n');
}
