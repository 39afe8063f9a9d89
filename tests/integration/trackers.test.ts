/**
 * Trackers on loopback: ct finds a libtorrent seeder through bittorrent-tracker's server (run in
 * this process) and through Debian's opentracker, each over HTTP and over UDP, with no --seeds.
 * Broken trackers (refusals, malformed answers, absurd intervals, silence) never stop a download
 * and show up in its status.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Server as TrackerServer } from 'bittorrent-tracker';
import { parseMetainfo } from '@ct/engine';
import { makeTree, removeDir, sameTree, tempDir } from '../helpers/fixtures.js';
import { Proc, ct, ctRun, freePort, libtorrentSeeder, stopAll } from '../helpers/procs.js';
import { waitUntil } from '../helpers/wait.js';

let work: string;
let src: string;

before(async () => {
  work = await tempDir();
  src = path.join(work, 'src');
  await makeTree(path.join(src, 'album'), [['one.bin', 400_000], ['two/two.bin', 300_001], ['empty', 0]]);
});
after(async () => {
  await stopAll();
  await removeDir(work);
});

/** The JSON lines of a `ct download --json` run. */
const jsonLines = (out: string) => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));

/** Makes .torrent files of the same data (hence the same infohash) with different trackers. */
async function torrentWith(name: string, announce: string[]): Promise<string> {
  const file = path.join(work, `${name}.torrent`);
  const args = ['create', path.join(src, 'album'), '-o', file, '--piece-length', '32768'];
  for (const a of announce) args.push('--announce', a);
  const r = await ctRun(args);
  assert.equal(r.code, 0, r.stderr);
  return file;
}

/** Downloads with no peer given; the tracker must supply the seeder. */
async function downloadThrough(torrent: string, dest: string): Promise<Record<string, unknown> & { discovery: { trackers: { url: string; state: string; peers: number }[] } }> {
  const r = await ctRun(['download', '--metainfo', torrent, '--download-dir', dest, '--json', '--listen', '127.0.0.1:0', '--timeout', '30'], 60_000);
  assert.equal(r.code, 0, `${r.stderr}\n${r.stdout.slice(-1000)}`);
  const cmp = await sameTree(path.join(src, 'album'), path.join(dest, 'album'));
  assert.ok(cmp.same, cmp.detail);
  return jsonLines(r.stdout).find((j) => j.type === 'done');
}

describe('bittorrent-tracker server in-process', () => {
  let server: InstanceType<typeof TrackerServer>;
  let port: number;

  before(async () => {
    port = await freePort();
    server = new TrackerServer({ udp: true, http: true, ws: false, stats: false, interval: 60_000 });
    server.on('error', () => undefined);
    server.on('warning', () => undefined);
    // Its listen() binds udp6 too, to the same hostname unless told apart.
    await new Promise<void>((resolve) => server.listen(port, { http: '127.0.0.1', udp: '127.0.0.1', udp6: '::1' }, () => resolve()));
  }, { timeout: 10_000 });
  after(() => {
    // Its close() waits for idle keep-alive HTTP connections; end them first.
    (server as unknown as { http?: { closeAllConnections(): void } }).http?.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  }, { timeout: 10_000 });

  test('ct finds a libtorrent seeder over HTTP and over UDP (BEP 15), no --seeds', { timeout: 120_000 }, async () => {
    const both = await torrentWith('tracked', [`http://127.0.0.1:${port}/announce`, `udp://127.0.0.1:${port}`]);
    const infoHash = parseMetainfo(await readFile(both)).infoHashHex;
    const announced = new Promise<void>((resolve) => server.on('start', () => resolve()));
    const seeder = await libtorrentSeeder(both, src);
    await announced; // libtorrent has told the tracker about itself
    assert.ok(server.torrents[infoHash], 'the tracker knows the torrent');

    const viaHttp = await downloadThrough(await torrentWith('http-only', [`http://127.0.0.1:${port}/announce`]), path.join(work, 'dl-http'));
    assert.equal(viaHttp.discovery.trackers[0].state, 'working');
    assert.ok(viaHttp.discovery.trackers[0].peers >= 1);

    const viaUdp = await downloadThrough(await torrentWith('udp-only', [`udp://127.0.0.1:${port}`]), path.join(work, 'dl-udp'));
    assert.equal(viaUdp.discovery.trackers[0].state, 'working');
    assert.ok(viaUdp.discovery.trackers[0].peers >= 1);
    seeder.proc.kill();
  });

  test('a download tells the tracker started, then completed when done, then stopped when it ends (HTTP and UDP)', { timeout: 120_000 }, async () => {
    const seeder = await libtorrentSeeder(await torrentWith('events-seed', []), src);
    for (const url of [`http://127.0.0.1:${port}/announce`, `udp://127.0.0.1:${port}`]) {
      const file = await torrentWith(`events-${url.slice(0, 4)}`, [url]);
      const events: string[] = [];
      const ctPeerId = Buffer.from('-ct0100-').toString('hex');
      const record = (name: string) => (_addr: string, params: { peer_id?: string }) => {
        if (params.peer_id?.startsWith(ctPeerId)) events.push(name);
      };
      const handlers = { start: record('started'), complete: record('completed'), stop: record('stopped') };
      for (const [event, fn] of Object.entries(handlers)) server.on(event, fn);
      try {
        const r = await ctRun(['download', '--metainfo', file, '--seeds', `127.0.0.1:${seeder.port}`, '--download-dir', path.join(work, `events-${url.slice(0, 4)}`),
          '--listen', '127.0.0.1:0', '--quiet', '--timeout', '30'], 60_000);
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(events, ['started', 'completed', 'stopped'], `${url}: the session announced each event once, in order`);
      } finally {
        for (const [event, fn] of Object.entries(handlers)) server.off(event, fn);
      }
    }
    seeder.proc.kill();
  });
});

describe('opentracker (Debian) as a foreign tracker', () => {
  let tracker: Proc;
  let port: number;
  let torrentBoth: string;

  before(async () => {
    port = await freePort();
    torrentBoth = await torrentWith('opentracker', [`http://127.0.0.1:${port}/announce`, `udp://127.0.0.1:${port}/announce`]);
    const infoHash = parseMetainfo(await readFile(torrentBoth)).infoHashHex;
    // Debian's build serves only whitelisted infohashes; it chroots into -d and drops to -u.
    const dir = path.join(work, 'opentracker');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'whitelist'), `${infoHash}\n`);
    // The whitelist path is read after the chroot.
    tracker = new Proc(spawn('/usr/bin/opentracker', ['-i', '127.0.0.1', '-p', String(port), '-P', String(port), '-d', dir, '-w', '/whitelist', '-u', 'nobody'], { stdio: 'pipe' }), 'opentracker');
    // Ready when its HTTP port answers.
    await waitUntil(() => fetch(`http://127.0.0.1:${port}/stats`).then(() => true, () => false), 'opentracker to answer over HTTP', 10_000, 50);
  }, { timeout: 30_000 });
  after(() => { tracker.child.kill(); });

  test('ct finds a libtorrent seeder through opentracker over HTTP and over UDP', { timeout: 120_000 }, async () => {
    const seeder = await libtorrentSeeder(torrentBoth, src);
    // opentracker has no event to wait for: ask it (HTTP scrape) until it lists the seeder.
    const infoHash = parseMetainfo(await readFile(torrentBoth)).infoHash;
    const hash = [...infoHash].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
    await waitUntil(async () => {
      const body = Buffer.from(await (await fetch(`http://127.0.0.1:${port}/scrape?info_hash=${hash}`)).arrayBuffer());
      return Number(/8:completei(\d+)e/.exec(body.toString('latin1'))?.[1] ?? 0) >= 1;
    }, 'libtorrent to be listed by opentracker (scrape)', 20_000, 100);
    const viaHttp = await downloadThrough(await torrentWith('ot-http', [`http://127.0.0.1:${port}/announce`]), path.join(work, 'ot-http'));
    assert.equal(viaHttp.discovery.trackers[0].state, 'working');
    const viaUdp = await downloadThrough(await torrentWith('ot-udp', [`udp://127.0.0.1:${port}/announce`]), path.join(work, 'ot-udp'));
    assert.equal(viaUdp.discovery.trackers[0].state, 'working');
    seeder.proc.kill();
  });
});

test('broken trackers (refusal, malformed answers, a 136-year interval, HTTP 500, UDP garbage, silence) never stop a download', { timeout: 120_000 }, async (t) => {
  const answers: Record<string, string | number> = {
    '/refuses/announce': 'd14:failure reason16:not on this sitee',
    '/int-reason/announce': 'd14:failure reasoni5ee',
    '/garbage/announce': 'this is not bencode',
    '/list/announce': 'li1ei2ee',
    '/forever/announce': 'd8:intervali4294967295e5:peers5:abcdee',
    '/error/announce': 500,
  };
  /** Announces without an event: regular re-announces, which only an obeyed interval would cause here. */
  const regular: Record<string, number> = {};
  const http = createServer((req, res) => {
    const p = (req.url ?? '').split('?')[0];
    if (!/[?&]event=/.test(req.url ?? '')) regular[p] = (regular[p] ?? 0) + 1;
    const a = answers[p];
    if (typeof a === 'number') { res.statusCode = a; res.end('oops'); return; }
    res.end(a ?? 'd8:intervali60ee');
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
  t.after(() => { http.closeAllConnections(); http.close(); });
  const httpPort = (http.address() as { port: number }).port;
  // A UDP "tracker" that answers every packet with bytes of the right transaction id but nonsense.
  const udp = createSocket('udp4');
  udp.on('message', (msg, rinfo) => {
    const reply = Buffer.alloc(10);
    reply.writeUInt32BE(7, 0);
    msg.copy(reply, 4, 12, 16);
    udp.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', () => resolve()));
  t.after(() => udp.close());
  const udpPort = udp.address().port;
  const silentPort = await freePort(); // nothing listens: UDP "port unreachable"

  const urls = [...Object.keys(answers).map((p) => `http://127.0.0.1:${httpPort}${p}`), `udp://127.0.0.1:${udpPort}`, `udp://127.0.0.1:${silentPort}`];
  const torrent = await torrentWith('broken-trackers', urls);
  const seedPort = await freePort();
  const seeder = ct(['seed', '--metainfo', torrent, '--download-dir', src, '--listen', `127.0.0.1:${seedPort}`, '--json'], 'ct seed');
  await seeder.waitFor(/"type":"ready"/);
  const dest = path.join(work, 'dl-broken');
  // --seed keeps it running after the download, so every tracker has answered (or failed) by the
  // time its status is read from the per-second JSON lines.
  const dl = ct(['download', '--metainfo', torrent, '--seeds', `127.0.0.1:${seedPort}`, '--download-dir', dest, '--json', '--listen', '127.0.0.1:0', '--seed'], 'ct download');
  await dl.waitFor(/"type":"done"/, 60_000);
  assert.ok((await sameTree(path.join(src, 'album'), path.join(dest, 'album'))).same);
  type T = { url: string; state: string; error?: string };
  let trackers: T[] = [];
  await waitUntil(() => {
    const last = jsonLines(dl.stdout).filter((j) => j.type === 'progress').pop();
    trackers = last?.discovery?.trackers ?? [];
    return trackers.length === urls.length && trackers.every((t) => t.state === 'working' || t.state === 'error');
  }, 'every tracker to answer or fail', 20_000, 100);
  dl.child.kill('SIGTERM');
  assert.equal(await dl.exited, 0, dl.stderr);
  assert.doesNotMatch(dl.stderr, /TypeError|at .*\.js:\d+/, 'no stack trace');
  const status = new Map<string, T>(trackers.map((t) => [t.url, t]));
  const errorOf = (p: string) => status.get(`http://127.0.0.1:${httpPort}${p}`);
  assert.match(errorOf('/refuses/announce')?.error ?? '', /tracker refused: not on this site/);
  assert.match(errorOf('/int-reason/announce')?.error ?? '', /tracker refused/);
  assert.match(errorOf('/garbage/announce')?.error ?? '', /malformed/);
  assert.match(errorOf('/list/announce')?.error ?? '', /malformed/);
  assert.match(errorOf('/error/announce')?.error ?? '', /HTTP 500/);
  assert.equal(errorOf('/forever/announce')?.state, 'working', 'an absurd interval is clamped, not obeyed');
  assert.equal(regular['/forever/announce'] ?? 0, 0, 'and not re-announced in a loop (started/completed/stopped only)');
  assert.match(status.get(`udp://127.0.0.1:${udpPort}`)?.error ?? '', /action 7/);
  assert.equal(status.get(`udp://127.0.0.1:${silentPort}`)?.state, 'error');
  // Without --json, a tracker's error is one line of the progress output.
  const plain = ct(['download', '--metainfo', torrent, '--seeds', `127.0.0.1:${seedPort}`, '--download-dir', path.join(work, 'dl-broken-plain'), '--listen', '127.0.0.1:0', '--seed'], 'ct download (plain)');
  await plain.waitFor(/^tracker http:\/\/127\.0\.0\.1:\d+\/refuses\/announce: tracker refused: not on this site$/m, 30_000);
  plain.child.kill('SIGTERM');
  await plain.exited;
  seeder.child.kill();
});
