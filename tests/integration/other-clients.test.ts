/**
 * ct swarms with the common clients (issue 10, part 4), in both directions, byte-exact: aria2c
 * (through a loopback opentracker: it takes no peer address; by .torrent and by magnet, the
 * metadata coming from ct), transmission-cli (which never dials loopback peers: ct seed dials it)
 * and qBittorrent-nox (peers added through its Web API). aria2 once stalled at ~10% because ct
 * closed on its later full bitfield; transmission's last piece waited ~9 s for a dropped request.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { parseMetainfo, type Metainfo } from '@ct/engine';
import { QBittorrent, aria2Download, aria2Seed, startOpentracker, transmission } from '../helpers/clients.js';
import { makeTree, removeDir, sameTree, tempDir } from '../helpers/fixtures.js';
import { ct, ctRun, freePort, stopAll, type Proc } from '../helpers/procs.js';

let work: string;
let src: string;
/** With opentracker's announce URL (aria2), and without (the others: nothing but the given peer). */
let tracked: string;
let plain: string;
let meta: Metainfo;
let announce: string;

// No 0-byte file: transmission 3.00 never creates those.
const FILES: [string, number][] = [['movie.bin', 6 * 1024 * 1024 + 321], ['docs/readme.txt', 5000], ['docs/z.bin', 70_001]];

before(async () => {
  work = await tempDir('ct-clients-');
  src = path.join(work, 'src');
  await makeTree(path.join(src, 'payload'), FILES);
  plain = path.join(work, 'plain.torrent');
  assert.equal((await ctRun(['create', path.join(src, 'payload'), '-o', plain, '--piece-length', '65536'])).code, 0);
  meta = parseMetainfo(await readFile(plain));
  ({ announce } = await startOpentracker(path.join(work, 'opentracker'), [meta.infoHashHex]));
  tracked = path.join(work, 'tracked.torrent');
  assert.equal((await ctRun(['create', path.join(src, 'payload'), '-o', tracked, '--piece-length', '65536', '--announce', announce])).code, 0);
});
after(async () => {
  await stopAll();
  await removeDir(work);
});

async function ctSeed(torrent: string, extra: string[] = []): Promise<{ proc: Proc; port: number }> {
  const port = await freePort();
  const proc = ct(['seed', '--metainfo', torrent, '--download-dir', src, '--listen', `127.0.0.1:${port}`, '--json', ...extra], 'ct seed');
  await proc.waitFor(/"type":"ready"/, 30_000);
  return { proc, port };
}

async function ctDownload(torrent: string, seeds: string, dest: string): Promise<void> {
  const dl = ct(['download', '--metainfo', torrent, '--seeds', seeds, '--download-dir', dest, '--listen', '127.0.0.1:0', '--timeout', '60', '--json'], 'ct download');
  assert.equal(await dl.waitExit(90_000), 0, dl.stderr);
  const cmp = await sameTree(path.join(src, 'payload'), path.join(dest, 'payload'));
  assert.ok(cmp.same, cmp.detail);
}

async function assertSameAsSource(dest: string, what: string): Promise<void> {
  const cmp = await sameTree(path.join(src, 'payload'), path.join(dest, 'payload'));
  assert.ok(cmp.same, `${what}: ${cmp.detail}`);
}

async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('aria2c downloads from ct seed through a tracker, by .torrent and by magnet (metadata from ct)', async () => {
  const seeder = await ctSeed(tracked);
  for (const [what, source] of [['torrent', tracked], ['magnet', `magnet:?xt=urn:btih:${meta.infoHashHex}&tr=${encodeURIComponent(announce)}`]]) {
    const dest = path.join(work, `aria2-${what}`);
    const aria = await aria2Download(source, dest);
    assert.equal(await aria.waitExit(90_000), 0, `aria2c (${what}): ${aria.stdout.slice(-500)} ${aria.stderr.slice(-300)}`);
    await assertSameAsSource(dest, `aria2c by ${what}`);
  }
  // ct said why each aria2 connection ended, and never that a bitfield was unexpected.
  const reasons = seeder.proc.jsonLines().filter((j) => j.type === 'peer-disconnected').map((j) => String(j.reason));
  assert.ok(reasons.length > 0);
  assert.ok(!reasons.some((r) => /bitfield/.test(r)), reasons.join(' | '));
  seeder.proc.kill();
});

test('ct downloads from aria2c', async () => {
  const aria = await aria2Seed(plain, src);
  await ctDownload(plain, `127.0.0.1:${aria.port}`, path.join(work, 'from-aria2'));
  aria.proc.kill();
});

test('transmission-cli downloads from ct seed, which dials it (transmission never dials loopback peers)', async () => {
  const dest = path.join(work, 'transmission-dl');
  const tr = await transmission(plain, dest, path.join(work, 'tr-leech'));
  const seeder = await ctSeed(plain, ['--seeds', `127.0.0.1:${tr.port}`]);
  await until(() => sameTree(path.join(src, 'payload'), path.join(dest, 'payload')).then((c) => c.same, () => false), 'transmission to complete', 90_000);
  assert.ok(seeder.proc.jsonLines().some((j) => j.type === 'peer-connected' && j.peer === `127.0.0.1:${tr.port}`), 'ct dialed transmission');
  tr.proc.kill();
  seeder.proc.kill();
});

test('ct downloads from transmission-cli', async () => {
  const tr = await transmission(plain, src, path.join(work, 'tr-seed'));
  await ctDownload(plain, `127.0.0.1:${tr.port}`, path.join(work, 'from-transmission'));
  tr.proc.kill();
});

test('qBittorrent-nox downloads from ct seed, and ct from qBittorrent', async () => {
  const qbDir = path.join(work, 'qb-dl');
  const qb = await QBittorrent.start(path.join(work, 'qb-profile'), qbDir);
  const seeder = await ctSeed(plain);
  await qb.add(await readFile(plain), qbDir);
  // The Web API answers "Ok." before the torrent is in qBittorrent's session, and a peer added
  // before that is dropped: add it again every 2 s until the download is complete.
  let lastAdd = 0;
  await until(async () => {
    if (Date.now() - lastAdd > 2000) {
      lastAdd = Date.now();
      await qb.addPeer(meta.infoHashHex, `127.0.0.1:${seeder.port}`);
    }
    return ((await qb.progress(meta.infoHashHex))?.progress ?? 0) >= 1;
  }, 'qBittorrent to complete', 60_000);
  await assertSameAsSource(qbDir, 'qBittorrent');
  seeder.proc.kill();
  // qBittorrent now seeds what it fetched: ct downloads it back.
  await ctDownload(plain, `127.0.0.1:${qb.port}`, path.join(work, 'from-qbittorrent'));
  qb.proc.kill();
});
