/**
 * The web page of `ct serve` (issue 16) in a real browser: Debian's chromium, headless, through
 * puppeteer-core. A torrent is added through the form (a magnet naming a libtorrent seeder),
 * its progress reaches 100 % through the event stream alone, its page shows the piece map and
 * plays its video (the browser's own player on the Range URL), a priority and the limits are
 * changed, and it is removed with its data. A second service has a token: the page asks for it
 * once, keeps it, and adds a .torrent file with one of its files left out. Screenshots go to
 * tests/artifacts/ (README's come from there). No request leaves the server's origin.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'puppeteer-core';
import { parseMetainfo } from '@ct/engine';
import { ARTIFACTS, launchBrowser, recordWebm } from '../helpers/browser.js';
import { exists, makeTree, removeDir, tempDir } from '../helpers/fixtures.js';
import { ctRun, freePort, libtorrentSeeder, run, stopAll } from '../helpers/procs.js';
import { startServe } from '../helpers/serve.js';
import { waitUntil } from '../helpers/wait.js';

let work: string;
let browser: Browser;
let mnt: string;
let torrentFile: string;
let infoHash: string;
let seedPort: number;

/** Every URL the page asked for, to check that nothing left the server. */
function recordRequests(page: Page): string[] {
  const urls: string[] = [];
  page.on('request', (r) => urls.push(r.url()));
  return urls;
}

/** GET /api/v1/torrents with this Host header (fetch cannot set one). */
function statusWithHost(origin: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${origin}/api/v1/torrents`, { headers: { Host: host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `webui-${name}.png`), fullPage: true });
}

before(async () => {
  work = await tempDir('ct-webui-');
  browser = await launchBrowser();
  const page = await browser.newPage();
  const webm = await recordWebm(page, 3);
  await page.close();
  assert.ok(webm.length > 2000, `the browser recorded only ${webm.length} bytes`);
  await makeTree(path.join(work, 'src', 'show'), [['extra.bin', 6_000_000], ['notes.txt', 3000]]);
  await writeFile(path.join(work, 'src', 'show', 'clip.webm'), webm);
  torrentFile = path.join(work, 'show.torrent');
  assert.equal((await ctRun(['create', path.join(work, 'src', 'show'), '-o', torrentFile, '--piece-length', '65536'])).code, 0);
  infoHash = parseMetainfo(await readFile(torrentFile)).infoHashHex;
  // Paced, so the list shows it on its way (3 MB/s: about two seconds).
  seedPort = (await libtorrentSeeder(torrentFile, path.join(work, 'src'), { rate: 3_000_000 })).port;
  mnt = path.join(work, 'mnt');
});
after(async () => {
  await browser?.close();
  await stopAll();
  await run('fusermount', ['-uz', mnt]);
  await removeDir(work);
});

test('the page: add by magnet through the form, live progress to 100 %, the torrent page plays its video, priorities, limits, remove', { timeout: 180_000 }, async () => {
  const origin = `http://127.0.0.1:${await freePort()}`;
  const dl = path.join(work, 'dl');
  await startServe(['--mount', mnt, '--mkdir', '--download-all', '--cache-size', '64MiB', '--http', origin.slice(7), '--state-dir', path.join(work, 'state'), '--download-dir', dl]);
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 760 });
  const requests = recordRequests(page);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${origin}/`, { waitUntil: 'load' });
  await page.waitForSelector('#torrents');
  // Every progress the row shows, as the event stream redraws it (a reload would lose this).
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { seen: string[] }).seen = seen;
    new MutationObserver(() => {
      for (const el of document.querySelectorAll('#torrents tbody [role=progressbar]')) {
        const v = el.getAttribute('aria-valuenow')!;
        if (seen[seen.length - 1] !== v) seen.push(v);
      }
    }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow'] });
  });

  await page.click('#add-open');
  await page.waitForSelector('#add-form');
  await page.type('#add-link', `magnet:?xt=urn:btih:${infoHash}&dn=show&x.pe=127.0.0.1:${seedPort}`);
  await page.type('#add-category', 'shows');
  await shot(page, 'add');
  await page.click('#add-submit');
  await page.waitForFunction(() => !document.querySelector('#add-form'), { timeout: 10_000 });
  const row = `#torrents tr[data-id="${infoHash}"]`;
  await page.waitForSelector(row, { timeout: 10_000 });
  await page.waitForFunction((sel: string) => document.querySelector(`${sel} [role=progressbar]`)?.getAttribute('aria-valuenow') === '100'
    && document.querySelector(`${sel} .state`)?.textContent === 'seeding', { timeout: 60_000, polling: 100 }, row);
  const seen = await page.evaluate(() => (window as unknown as { seen?: string[] }).seen ?? []);
  assert.ok(seen.length >= 2 && Number(seen[0]) < 100 && seen[seen.length - 1] === '100', `progress seen: ${seen.join(' ')}`);
  assert.equal(await page.$eval(`${row} td:nth-child(2)`, (el) => el.textContent), 'shows');
  await shot(page, 'list');

  // Sorting and the filter work on what is shown.
  await page.type('#filter', 'nothing-like-it');
  assert.equal(await page.$$eval('#torrents tbody tr', (rows) => rows.length), 0);
  await page.click('#filter', { clickCount: 3 });
  await page.keyboard.press('Backspace');
  assert.equal(await page.$$eval('#torrents tbody tr', (rows) => rows.length), 1);

  // Pause and resume from the list.
  await page.click(`${row} button[data-action=pause]`);
  await page.waitForFunction((sel: string) => document.querySelector(`${sel} .state`)?.textContent === 'paused', { timeout: 10_000 }, row);
  assert.equal(((await (await fetch(`${origin}/api/v1/torrents/${infoHash}`)).json()) as { paused: boolean }).paused, true);
  await page.click(`${row} button[data-action=resume]`);
  await page.waitForFunction((sel: string) => document.querySelector(`${sel} .state`)?.textContent === 'seeding', { timeout: 20_000 }, row);

  // The torrent's page: piece map, files, discovery, peers; the video plays from the Range URL.
  await page.click(`${row} a.name`);
  await page.waitForSelector('#piece-map[data-pieces]');
  assert.equal(await page.$eval('#piece-map', (c) => (c as HTMLCanvasElement).dataset.pieces), String(Math.ceil((6_000_000 + 3000 + (await readFile(path.join(work, 'src', 'show', 'clip.webm'))).length) / 65536)));
  assert.equal(await page.$eval('#torrent-name', (el) => el.textContent), 'show');
  assert.match(await page.$eval('.torrent', (el) => el.textContent ?? ''), new RegExp(`In the mount: /shows/show`));
  await page.click('button.play[data-path="clip.webm"]');
  await page.waitForFunction(() => {
    const v = document.querySelector('#video') as HTMLVideoElement | null;
    return !!v && v.readyState >= 2;
  }, { timeout: 30_000 });
  const video = await page.$eval('#video', (v) => ({ src: (v as HTMLVideoElement).currentSrc, width: (v as HTMLVideoElement).videoWidth, error: (v as HTMLVideoElement).error?.message }));
  assert.equal(video.error, undefined);
  assert.equal(video.width, 320);
  assert.equal(video.src, `${origin}/dav/shows/show/clip.webm`);
  await shot(page, 'torrent');

  // A file's priority, from the page to the service.
  await page.select('select[aria-label="priority of extra.bin"]', '0');
  await waitUntil(async () => {
    const d = (await (await fetch(`${origin}/api/v1/torrents/${infoHash}`)).json()) as { files: { path: string; priority: number }[] };
    return d.files.find((f) => f.path === 'extra.bin')?.priority === 0;
  }, 'extra.bin deselected', 10_000);

  // The session page: limits set from the page; where the mount is; the configuration.
  await page.click('nav a[href="#/session"]');
  await page.waitForSelector('#mount-point');
  assert.equal(await page.$eval('#mount-point', (el) => el.textContent), mnt);
  await page.type('#limit-down', '5');
  await page.click('.session form.limits button');
  await waitUntil(async () => ((await (await fetch(`${origin}/api/v1/limits`)).json()) as { download: number }).download === 5_000_000, 'the limit set', 10_000);
  assert.match(await page.$eval('#config', (el) => el.textContent ?? ''), /session\.download_dir/);
  assert.match(await page.$eval('#config', (el) => el.textContent ?? ''), /cache\.max_size67108864flag --cache-size/);
  assert.match(await page.$eval('#cache', (el) => el.textContent ?? ''), /of 64\.0 MiB in \d+ pieces; \d+ hits, \d+ misses, \d+ evictions/);
  await shot(page, 'session');

  // Remove it with its data.
  await page.click('nav a[href="#/"]');
  await page.waitForSelector(`${row} button[data-action=remove]`);
  await page.click(`${row} button[data-action=remove]`);
  await page.waitForSelector('#remove-form');
  await page.click('#remove-data');
  await page.click('#remove-confirm');
  await page.waitForFunction((sel: string) => !document.querySelector(sel), { timeout: 10_000 }, row);
  assert.deepEqual(await (await fetch(`${origin}/api/v1/torrents`)).json(), []);
  await waitUntil(async () => !(await exists(path.join(dl, 'show', 'extra.bin'))), 'its data deleted', 10_000);

  // Without a token only loopback names are answered: a page whose name was rebound to 127.0.0.1 is refused.
  assert.equal(await statusWithHost(origin, 'evil.example:80'), 403);
  assert.equal(await statusWithHost(origin, `localhost:${new URL(origin).port}`), 200);

  assert.deepEqual(errors, []);
  const foreign = requests.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('data:') && !u.startsWith('blob:'));
  assert.deepEqual(foreign, [], 'the page asked another server');
  await page.close();
});

test('the page\'s assets: built small (under 200 KB of JS and CSS), cached for good by their hashed names, the page revalidated', async () => {
  const origin = `http://127.0.0.1:${await freePort()}`;
  await startServe(['--http', origin.slice(7), '--state-dir', path.join(work, 'state-assets'), '--download-dir', path.join(work, 'dl-assets')]);
  const index = await fetch(`${origin}/`);
  assert.equal(index.headers.get('cache-control'), 'no-cache');
  const html = await index.text();
  const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
  assert.equal(assets.length, 2, html);
  let total = 0;
  for (const a of assets) {
    const res = await fetch(`${origin}${a}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    total += (await res.arrayBuffer()).byteLength;
    const again = await fetch(`${origin}${a}`, { headers: { 'If-None-Match': res.headers.get('etag')! } });
    assert.equal(again.status, 304);
  }
  assert.ok(total < 200 * 1024, `${total} bytes of JS and CSS`);
  assert.match(html, /<script type="module" src="\/assets\/app-/);
  assert.doesNotMatch(html, /https?:\/\//, 'the page names no other server');
});

test('with a token the page asks for it once and keeps it; a .torrent file is added with one of its files left out', { timeout: 120_000 }, async () => {
  const origin = `http://127.0.0.1:${await freePort()}`;
  const token = 'page-secret';
  await startServe(['--http', origin.slice(7), '--state-dir', path.join(work, 'state-token'), '--download-dir', path.join(work, 'dl-token')], { CT_HTTP_TOKEN: token });
  const bearer = { Authorization: `Bearer ${token}` };
  assert.equal((await fetch(`${origin}/api/v1/torrents`)).status, 401);
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.goto(`${origin}/`, { waitUntil: 'load' });
  await page.waitForSelector('#token', { timeout: 10_000 });
  await page.type('#token', token);
  await page.keyboard.press('Enter');
  await page.waitForSelector('.empty:not([hidden])', { timeout: 10_000 });

  await page.click('#add-open');
  const chooser = await page.waitForSelector('input#add-file');
  await chooser!.uploadFile(torrentFile);
  await page.waitForFunction(() => document.querySelectorAll('.file-pick').length === 3, { timeout: 10_000 });
  const names = await page.$$eval('.file-choice li', (items) => items.map((li) => li.textContent?.trim().split(' ')[0]));
  assert.deepEqual(names, ['clip.webm', 'extra.bin', 'notes.txt']);
  await page.click('.file-pick[data-index="2"]');
  await page.type('#add-category', 'picked');
  await page.click('#add-submit');
  await page.waitForSelector(`#torrents tr[data-id="${infoHash}"]`, { timeout: 10_000 });
  const detail = (await (await fetch(`${origin}/api/v1/torrents/${infoHash}`, { headers: bearer })).json()) as { category: string; files: { path: string; priority: number }[] };
  assert.equal(detail.category, 'picked');
  assert.deepEqual(detail.files.map((f) => [f.path, f.priority > 0]), [['clip.webm', true], ['extra.bin', false], ['notes.txt', true]]);

  // By URL: the service fetches the .torrent (here from a loopback server) and lists its files first.
  await makeTree(path.join(work, 'src', 'by-url'), [['one.bin', 70_000], ['two.bin', 80_000]]);
  const urlTorrent = path.join(work, 'by-url.torrent');
  assert.equal((await ctRun(['create', path.join(work, 'src', 'by-url'), '-o', urlTorrent])).code, 0);
  const bytes = await readFile(urlTorrent);
  const server = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'application/x-bittorrent' }).end(bytes));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await page.click('#add-open');
    await page.waitForSelector('#add-link');
    await page.type('#add-link', `http://127.0.0.1:${(server.address() as AddressInfo).port}/by-url.torrent`);
    await page.keyboard.press('Tab');
    await page.waitForFunction(() => document.querySelectorAll('.file-pick').length === 2, { timeout: 10_000 });
    await page.click('#add-submit');
    const byUrl = parseMetainfo(bytes).infoHashHex;
    await page.waitForSelector(`#torrents tr[data-id="${byUrl}"]`, { timeout: 10_000 });
  } finally {
    server.close();
  }

  // Kept in the browser: a new page of the same browser asks nothing.
  const again = await context.newPage();
  await again.goto(`${origin}/`, { waitUntil: 'load' });
  await again.waitForSelector(`#torrents tr[data-id="${infoHash}"]`, { timeout: 10_000 });
  assert.equal(await again.$('#token'), null);
  // A page of another origin cannot drive the service, even with the cookie the browser holds.
  const forged = await fetch(`${origin}/api/v1/torrents/${infoHash}/pause`, { method: 'POST', headers: { ...bearer, Origin: 'http://evil.example' } });
  assert.equal(forged.status, 403);
  await context.close();
});
