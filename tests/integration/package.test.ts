/**
 * The published @ct/engine works for a consumer: the packed tarball, installed into a fresh
 * strict TypeScript project (`skipLibCheck: false`), type-checks and runs an example. It once
 * failed: a published .d.ts needed the engine's private declaration of the untyped `bencode`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { removeDir, tempDir } from '../helpers/fixtures.js';
import { ROOT } from '../helpers/procs.js';

let work: string;
before(async () => { work = await tempDir('ct-package-'); });
after(async () => removeDir(work));

function run(cmd: string, args: string[], cwd: string, timeoutMs = 120_000): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => execFile(cmd, args, { cwd, timeout: timeoutMs, maxBuffer: 8 * 1024 * 1024 }, (err, stdout, stderr) =>
    resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr })));
}

const EXAMPLE = `import { Session, createTorrent, parseMetainfo, type Torrent } from '@ct/engine';

const meta = parseMetainfo(await createTorrent(process.argv[2]));
const session = await Session.create({ listen: { host: '127.0.0.1', port: 0 } });
const torrent: Torrent = await session.addTorrent(meta, { downloadDir: process.argv[3], readOnly: true });
if (torrent.currentState === 'checking') await new Promise<void>((r) => torrent.once('ready', () => r()));
const stats = torrent.stats();
console.log(JSON.stringify({ name: meta.name, files: torrent.files.map((f) => f.path), state: stats.state }));
await session.close();
`;

test('the packed @ct/engine installs, type-checks strictly (skipLibCheck off) and runs in a fresh project', { timeout: 300_000 }, async () => {
  // The workspace's dist is current (pnpm test builds first); --ignore-scripts keeps the pack
  // from rebuilding it under the other tests.
  const packed = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', work], path.join(ROOT, 'packages', 'engine'));
  assert.equal(packed.code, 0, packed.out);
  const tarball = path.join(work, (await readdir(work)).find((f) => f.endsWith('.tgz')) ?? '');
  const app = path.join(work, 'app');
  await mkdir(path.join(app, 'data', 'share'), { recursive: true });
  await writeFile(path.join(app, 'data', 'share', 'a.txt'), 'hello\n');
  await writeFile(path.join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  await writeFile(path.join(app, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: false, outDir: 'out', types: ['node'] },
    include: ['example.ts'],
  }));
  await writeFile(path.join(app, 'example.ts'), EXAMPLE);
  const installed = await run('pnpm', ['add', tarball, '@types/node@20.19.43', '--prefer-offline'], app);
  assert.equal(installed.code, 0, installed.out);
  const checked = await run(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', '.'], app);
  assert.equal(checked.code, 0, `the consumer's strict type-check: ${checked.out}`);
  const ran = await run(process.execPath, ['out/example.js', 'data/share', 'data'], app, 30_000);
  assert.equal(ran.code, 0, ran.out);
  assert.deepEqual(JSON.parse(ran.out.trim()), { name: 'share', files: ['a.txt'], state: 'seeding' });
});
