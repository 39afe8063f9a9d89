/**
 * Rate limits of `ct serve` (issue 14), against real libtorrent peers on loopback: the session's
 * download limit from the config holds within ±10 % over 10 s; `ct limit` lifts it and sets one
 * for a single torrent while it runs (kept in the torrent's record); the upload limit holds while
 * a libtorrent leecher fetches from us. The rates are measured by the test from the service's
 * verified and uploaded byte counts, sampled through its API.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { parseMetainfo, type Metainfo } from '@ct/engine';
import { makeTree, removeDir, tempDir } from '../helpers/fixtures.js';
import { ct, ctRun, freePort, libtorrent, libtorrentSeeder, stopAll, type Proc } from '../helpers/procs.js';
import { waitUntil } from '../helpers/wait.js';

const SIZE = 320 * 1024 * 1024;
let work: string;
let torrent: string;
let meta: Metainfo;
let seed: string;

before(async () => {
  work = await tempDir('ct-limits-');
  await makeTree(path.join(work, 'src'), [['big.bin', SIZE]]);
  torrent = path.join(work, 'big.torrent');
  assert.equal((await ctRun(['create', path.join(work, 'src', 'big.bin'), '-o', torrent, '--piece-length', String(1 << 20)])).code, 0);
  meta = parseMetainfo(await readFile(torrent));
  seed = `127.0.0.1:${(await libtorrentSeeder(torrent, path.join(work, 'src'), { seedMode: true })).port}`;
});
after(async () => {
  await stopAll();
  await removeDir(work);
});

interface View { verified: number; state: string }

/** Bytes per second of `count()` over `seconds`, sampled at the start and the end. */
async function rateOver(seconds: number, count: () => Promise<number>): Promise<number> {
  const a = await count();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const b = await count();
  return (b - a) / ((performance.now() - t0) / 1000);
}

function near(measured: number, limit: number, what: string): void {
  const ratio = measured / limit;
  process.stdout.write(`# ${what}: ${ratio.toFixed(3)}x\n`);
  assert.ok(ratio >= 0.9 && ratio <= 1.1, `${what}: ${(measured / 1e6).toFixed(2)} MB/s against a limit of ${(limit / 1e6).toFixed(2)} MB/s (${ratio.toFixed(3)}x)`);
}

test('rate limits: 20 MB/s from the config holds within 10 % over 10 s; ct limit changes the session and one torrent live; the upload limit holds', { timeout: 180_000 }, async () => {
  const port = await freePort();
  const listen = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const config = path.join(work, 'config.toml');
  await writeFile(config, '[limits]\ndownload = "20MB/s"\n');
  const serve: Proc = ct(['serve', '--no-dht', '--listen', `127.0.0.1:${listen}`, '--http', `127.0.0.1:${port}`, '--config', config,
    '--state-dir', path.join(work, 'state'), '--download-dir', path.join(work, 'dl')], 'ct serve');
  await waitUntil(() => {
    assert.equal(serve.exitCode, null, `ct serve exited: ${serve.stderr}`);
    return serve.stderr.includes('serving (pid');
  }, 'ct serve to come up', 30_000);
  const cli = (args: string[]) => ctRun([...args, '--server', url]);
  const view = async () => (await (await fetch(`${url}/api/v1/torrents/${meta.infoHashHex}`)).json()) as View;

  assert.match((await cli(['limit'])).stdout, /^session: down 19\.1 MiB\/s, up no limit$/m);
  assert.equal((await cli(['add', torrent, '--seeds', seed])).code, 0);
  // Past TCP's start and the bucket's first burst, then 10 s.
  await waitUntil(async () => (await view()).verified >= 20e6, 'the download to start', 60_000);
  near(await rateOver(10, async () => (await view()).verified), 20e6, 'session limit 20 MB/s (config)');

  // Live: the session's limit off, this torrent's own at 8 MB/s.
  assert.match((await cli(['limit', meta.infoHashHex.slice(0, 8), '--down', '8MB/s'])).stdout, /down 7\.6 MiB\/s/);
  assert.match((await cli(['limit', '--down', '0'])).stdout, /session: down no limit/);
  await new Promise((r) => setTimeout(r, 1000));
  near(await rateOver(5, async () => (await view()).verified), 8e6, 'torrent limit 8 MB/s (ct limit ID)');
  const record = JSON.parse(await readFile(path.join(work, 'state', 'service', `${meta.infoHashHex}.json`), 'utf8')) as { limits?: unknown };
  assert.deepEqual(record.limits, { download: 8e6, upload: 0 }, 'kept in its record');
  const detail = await (await fetch(`${url}/api/v1/torrents/${meta.infoHashHex}/limits`)).json();
  assert.deepEqual(detail, { download: 8e6, upload: 0 });

  // Lifted: the rest comes at full speed.
  assert.equal((await cli(['limit', meta.infoHashHex.slice(0, 8), '--down', '0'])).code, 0);
  await waitUntil(async () => (await view()).state === 'seeding', 'the download to finish', 60_000);

  // Upload: a libtorrent leecher fetches from us under a 10 MB/s session limit.
  const bad = await cli(['limit', '--up', 'fast']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /expected a rate such as 20MB\/s/);
  const badApi = await fetch(`${url}/api/v1/limits`, { method: 'POST', body: JSON.stringify({ upload: -1 }) });
  assert.equal(badApi.status, 400);
  assert.match((await cli(['limit', '--up', '10MB/s'])).stdout, /up 9\.5 MiB\/s/);
  const leecher = libtorrent(['leech', '--torrent', torrent, '--save-path', path.join(work, 'lt'), '--port', String(await freePort()), '--peer', `127.0.0.1:${listen}`, '--timeout', '120'], 'libtorrent leecher');
  const uploaded = async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    return Number(/^ct_uploaded_bytes_all_total (\S+)$/m.exec(text)?.[1] ?? 'NaN');
  };
  await waitUntil(async () => (await uploaded()) >= 10e6, 'the leecher to start', 60_000);
  near(await rateOver(10, uploaded), 10e6, 'upload limit 10 MB/s');
  leecher.kill();
  serve.kill('SIGTERM');
  assert.equal(await serve.waitExit(30_000), 0, serve.stderr);
});
