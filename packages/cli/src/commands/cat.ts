/**
 * `ct cat`: writes a byte range of one file of a torrent to stdout and exits, downloading only the
 * pieces the read needs (on-demand mode). The scriptable way to read from a swarm.
 */
import { pipeline } from 'node:stream/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CtError, UsageError } from '@ct/engine';
import { isMagnet } from '@ct/engine';
import { parse, parseNonNegativeInt, parseSeconds } from '../args.js';
import { SOURCE_HELP, SOURCE_OPTIONS, loadSources, peersOf } from '../sources.js';
import { addSource, onShutdown, openSession } from '../swarm.js';

export const catHelp = `ct cat (--metainfo FILE | --magnet URI) [--seeds HOST:PORT,...] [--download-dir DIR] PATH [--offset N] [--length M]

  Writes bytes [N, N+M) of PATH (its path inside the torrent) to stdout: the whole file by default.
  Only the pieces under the read (and a small readahead) are downloaded. With --download-dir, data
  already there is reused and what is fetched stays; without it a temporary folder is used.
  --timeout SECONDS gives up when no peer is reachable (default 60).

${SOURCE_HELP}`;

export async function cat(argv: string[]): Promise<number> {
  const { values, positionals: args } = parse(argv, {
    ...SOURCE_OPTIONS,
    'download-dir': { type: 'string' },
    offset: { type: 'string' },
    length: { type: 'string' },
    listen: { type: 'string' },
    timeout: { type: 'string' },
  }, true);
  const positionals = args.filter((a) => !isMagnet(a));
  if (positionals.length !== 1) throw new UsageError('expected exactly one PATH inside the torrent');
  const sources = await loadSources(values, args);
  if (sources.length !== 1) throw new UsageError('give exactly one torrent');
  const peers = peersOf(values);
  const wanted = positionals[0].replace(/^\/+/, '');
  const offset = parseNonNegativeInt(values.offset, 'offset', 0);
  const timeoutSec = parseSeconds(values.timeout, 'timeout', 60);

  const temp = values['download-dir'] ? undefined : await mkdtemp(path.join(tmpdir(), 'ct-cat-'));
  const session = await openSession(values.listen ?? '127.0.0.1:0', values);
  const cleanup = async () => {
    await session.close();
    if (temp) await rm(temp, { recursive: true, force: true });
  };
  onShutdown(cleanup, (sig) => (sig === 'SIGINT' ? 130 : 143));
  try {
    const torrent = await addSource(session, sources[0], { downloadDir: values['download-dir'] ?? (temp as string), peers, onDemand: true }, timeoutSec,
      (m) => process.stderr.write(`ct: ${m}\n`));
    const meta = torrent.metainfo;
    const relative = meta.multiFile && wanted.startsWith(`${meta.name}/`) ? wanted.slice(meta.name.length + 1) : wanted;
    const file = torrent.files.find((f) => f.path === relative);
    if (!file) throw new UsageError(`no file "${wanted}" in ${meta.name} (try ct info)`);
    const length = Math.min(parseNonNegativeInt(values.length, 'length', file.length), Math.max(0, file.length - offset));
    const noPeer = setTimeout(() => {
      if (!torrent.hasConnectedPeer) void torrent.close();
    }, timeoutSec * 1000);
    try {
      const bytes = file.createReadStream({ start: offset, end: offset + length - 1, chunkSize: 1024 * 1024 });
      await pipeline(bytes, process.stdout, { end: false });
    } catch (err) {
      if (err instanceof CtError && err.code === 'ECLOSED' && !torrent.hasConnectedPeer) {
        throw new CtError('ENO_PEERS', `no peer reachable within ${timeoutSec} s`);
      }
      throw err;
    } finally {
      clearTimeout(noPeer);
    }
    await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
    return 0;
  } finally {
    await cleanup();
  }
}
