/**
 * `ct demo`: the main job with nothing but this machine. Makes sample content in a temporary
 * folder, seeds it from one engine and downloads it with a second over loopback (real TCP, the
 * real progress output), checks the copy byte for byte, and removes everything it made.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CtError, Session, createTorrent, parseMetainfo } from '@ct/engine';
import { parse } from '../args.js';
import { formatBytes } from '../format.js';
import { ProgressReporter, chooseMode } from '../progress.js';
import { reportEvents, summary, waitForDone } from '../swarm.js';

export const demoHelp = `ct demo [--size MIB] [--json]

  Seeds generated sample content from one engine and downloads it with another over 127.0.0.1,
  verifies the copy, and cleans up. Default size: 256 MiB.`;

const SAMPLE_FILES = [
  ['README.txt', 0.0001],
  ['video/big-buck-sample.mkv', 0.6],
  ['video/subtitles/ünïcödé — 字幕.srt', 0.0002],
  ['data/part-001.bin', 0.25],
  ['data/part-002.bin', 0.1497],
  ['data/empty.txt', 0],
] as const;

export async function demo(argv: string[]): Promise<number> {
  const { values } = parse(argv, { size: { type: 'string' }, json: { type: 'boolean' } });
  const mib = values.size === undefined ? 256 : Number(values.size);
  if (!Number.isFinite(mib) || mib <= 0 || mib > 8192) throw new CtError('EUSAGE', '--size must be between 1 and 8192 MiB');
  const work = await mkdtemp(path.join(tmpdir(), 'ct-demo-'));
  const sessions: Session[] = [];
  const cleanup = async () => {
    await Promise.all(sessions.map((s) => s.close()));
    await rm(work, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  try {
    const source = path.join(work, 'seeder', 'ct-sample');
    for (const [name, share] of SAMPLE_FILES) {
      const file = path.join(source, name);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, share === 0 ? '' : name === 'README.txt' ? 'Sample content made by `ct demo`.\n' : randomBytes(Math.round(mib * 1024 * 1024 * share)));
    }
    process.stdout.write(`made ${SAMPLE_FILES.length} sample files (${mib} MiB) in ${source}\n`);
    const torrentData = await createTorrent(source);
    const meta = parseMetainfo(torrentData);
    process.stdout.write(`torrent ${meta.name}: ${meta.pieceCount} pieces of ${formatBytes(meta.pieceLength)}, infohash ${meta.infoHashHex}\n`);

    const seeder = await Session.create({ listen: { host: '127.0.0.1', port: 0 } });
    sessions.push(seeder);
    await seeder.addTorrent(meta, { downloadDir: path.dirname(source), readOnly: true });
    const seedAddr = `127.0.0.1:${seeder.listenAddress?.port}`;
    process.stdout.write(`seeder listening on ${seedAddr}\n`);

    const leecher = await Session.create({ listen: { host: '127.0.0.1', port: 0 } });
    sessions.push(leecher);
    const dest = path.join(work, 'leecher');
    const started = Date.now();
    const torrent = await leecher.addTorrent(meta, { downloadDir: dest, peers: [seedAddr] });
    const reporter = new ProgressReporter(torrent, chooseMode(!!values.json, false));
    reportEvents(torrent, reporter);
    reporter.start();
    try {
      await waitForDone(torrent, 30);
    } finally {
      reporter.stop();
    }
    process.stdout.write(summary(torrent, (Date.now() - started) / 1000) + '\n');
    for (const [name] of SAMPLE_FILES) {
      const [a, b] = await Promise.all([readFile(path.join(source, name)), readFile(path.join(dest, meta.name, name))]);
      if (!a.equals(b)) throw new CtError('ESTORAGE', `demo copy of ${name} differs from the original`);
    }
    process.stdout.write(`verified: all ${SAMPLE_FILES.length} files are byte-identical; cleaning up ${work}\n`);
    return 0;
  } finally {
    await cleanup();
  }
}
