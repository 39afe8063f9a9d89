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
import type { Command } from 'commander';
import { formatBytes } from '../format.js';
import { parseMebibytes } from '../options.js';
import { examples } from '../output-options.js';
import { ProgressReporter, chooseMode } from '../progress.js';
import { reportEvents, summary, waitForDone } from '../swarm.js';

export function register(program: Command): void {
  const cmd = program.command('demo')
    .summary('seed and download generated content over loopback, then clean up')
    .description('Makes sample files in a temporary folder, seeds them from one engine and downloads them with a second\n' +
      'over 127.0.0.1 with the real progress output, checks the copy byte for byte and removes everything it made.')
    .option('--size <MiB>', 'how much sample content', parseMebibytes, 256)
    .option('--json', 'print only JSON lines (started, progress, done)');
  examples(cmd, ['ct demo', 'ct demo --size 1024 --json']);
  cmd.action((opts: { size: number; json?: boolean }) => demo(opts));
}

const SAMPLE_FILES = [
  ['README.txt', 0.0001],
  ['video/big-buck-sample.mkv', 0.6],
  ['video/subtitles/ünïcödé — 字幕.srt', 0.0002],
  ['data/part-001.bin', 0.25],
  ['data/part-002.bin', 0.1497],
  ['data/empty.txt', 0],
] as const;

async function demo(opts: { size: number; json?: boolean }): Promise<void> {
  const mib = opts.size;
  const say = (text: string, fields: Record<string, unknown>) =>
    process.stdout.write(opts.json ? JSON.stringify(fields) + '\n' : text + '\n');
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
    say(`made ${SAMPLE_FILES.length} sample files (${mib} MiB) in ${source}`, { type: 'sample', files: SAMPLE_FILES.length, mib, folder: source });
    const torrentData = await createTorrent(source);
    const meta = parseMetainfo(torrentData);
    say(`torrent ${meta.name}: ${meta.pieceCount} pieces of ${formatBytes(meta.pieceLength)}, infohash ${meta.infoHashHex}`, { type: 'torrent', name: meta.name, pieces: meta.pieceCount, pieceLength: meta.pieceLength, infoHash: meta.infoHashHex });

    const seeder = await Session.create({ listen: { host: '127.0.0.1', port: 0 } });
    sessions.push(seeder);
    await seeder.addTorrent(meta, { downloadDir: path.dirname(source), readOnly: true });
    const seedAddr = `127.0.0.1:${seeder.listenAddress?.port}`;
    say(`seeder listening on ${seedAddr}`, { type: 'started', seeder: seedAddr });

    const leecher = await Session.create({ listen: { host: '127.0.0.1', port: 0 } });
    sessions.push(leecher);
    const dest = path.join(work, 'leecher');
    const started = Date.now();
    const torrent = await leecher.addTorrent(meta, { downloadDir: dest, peers: [seedAddr] });
    const reporter = new ProgressReporter(torrent, chooseMode(opts), { role: 'download' });
    reportEvents(torrent, reporter);
    reporter.start();
    try {
      await waitForDone(torrent, 30);
    } finally {
      reporter.stop();
    }
    const seconds = (Date.now() - started) / 1000;
    say(summary(torrent, seconds), { type: 'done', ...torrent.stats(), seconds });
    for (const [name] of SAMPLE_FILES) {
      const [a, b] = await Promise.all([readFile(path.join(source, name)), readFile(path.join(dest, meta.name, name))]);
      if (!a.equals(b)) throw new CtError('ESTORAGE', `demo copy of ${name} differs from the original`);
    }
    say(`verified: all ${SAMPLE_FILES.length} files are byte-identical; cleaning up ${work}`, { type: 'verified', files: SAMPLE_FILES.length });
  } finally {
    await cleanup();
  }
}
