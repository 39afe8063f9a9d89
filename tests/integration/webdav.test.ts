/**
 * `/dav/` of `ct serve` (issue 16): the mount's tree over WebDAV, read-only, checked with real
 * clients: rclone's webdav backend lists it (same names and sizes as the FUSE mount beside it,
 * categories and a name clash included) and copies it byte-exact, reading on demand from a
 * libtorrent seeder; curl sends the PROPFINDs a Windows or macOS client sends, and the XML is
 * parsed by Python's XML parser. The service has a token, so every request needs it (Basic, as
 * WebDAV clients send it).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { parseMetainfo } from '@ct/engine';
import { makeTree, removeDir, sameTree, tempDir } from '../helpers/fixtures.js';
import { ctRun, freePort, libtorrentSeeder, run, stopAll, type Proc } from '../helpers/procs.js';
import { startServe } from '../helpers/serve.js';
import { waitUntil } from '../helpers/wait.js';

const TOKEN = 'dav-secret';
let work: string;
let mnt: string;
let url: string;
let serve: Proc;
const auth = { Authorization: `Basic ${Buffer.from(`anyone:${TOKEN}`).toString('base64')}` };
/** rclone's flags for the share, the token as its (obscured) password. */
let rcloneFlags: string[];

/** A request by curl (the client the issue names for the XML): status line code and body. */
async function curl(method: string, p: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; body: string }> {
  const args = ['-s', '-X', method, '-u', `anyone:${TOKEN}`, '-w', '\n%{http_code}', ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`])];
  if (body !== undefined) args.push('--data-binary', body);
  const r = await run('curl', [...args, `${url}${p}`], 20_000);
  assert.equal(r.code, 0, r.stderr);
  const cut = r.stdout.lastIndexOf('\n');
  return { status: Number(r.stdout.slice(cut + 1)), body: r.stdout.slice(0, cut) };
}

async function dav(method: string, p: string, headers: Record<string, string> = {}, body?: string): Promise<Response> {
  return fetch(`${url}${p}`, { method, headers: { ...auth, ...headers }, body });
}

/** The XML must parse (Python's minidom, a strict XML parser); returns each response's href and its 200 props as text. */
async function parseMultistatus(xml: string): Promise<Map<string, Record<string, string>>> {
  const script = `import sys, json, xml.dom.minidom as m
doc = m.parseString(sys.stdin.read())
out = {}
for r in doc.getElementsByTagNameNS('DAV:', 'response'):
    href = r.getElementsByTagNameNS('DAV:', 'href')[0].firstChild.data
    props = {}
    for ps in r.getElementsByTagNameNS('DAV:', 'propstat'):
        status = ps.getElementsByTagNameNS('DAV:', 'status')[0].firstChild.data
        for prop in ps.getElementsByTagNameNS('DAV:', 'prop'):
            for p in prop.childNodes:
                if p.nodeType == p.ELEMENT_NODE:
                    key = ('' if p.namespaceURI == 'DAV:' else '{%s}' % p.namespaceURI) + p.localName
                    props[key] = ('404:' if ' 404 ' in status else '') + (p.toxml() if p.localName == 'resourcetype' else ''.join(c.data for c in p.childNodes if c.nodeType == c.TEXT_NODE))
    out[href] = props
print(json.dumps(out))`;
  const r = await run('/usr/bin/python3', ['-c', script], 10_000, xml);
  assert.equal(r.code, 0, `not well-formed XML: ${r.stderr}\n${xml}`);
  return new Map(Object.entries(JSON.parse(r.stdout) as Record<string, Record<string, string>>));
}

before(async () => {
  work = await tempDir('ct-dav-');
  const src = path.join(work, 'src');
  const other = path.join(work, 'other');
  // Names that need percent-encoding (space, UTF-8, %, #, &); a second torrent of the same name (the mount suffixes it).
  await makeTree(path.join(src, 'album'), [['01 ü song.webm', 900_000], ['notes/a%b #1 & c.txt', 5000], ['big.bin', 3_000_000]]);
  await makeTree(path.join(other, 'album'), [['x.bin', 400_000]]);
  await makeTree(src, [['single.bin', 700_000]]);
  mnt = path.join(work, 'mnt');
  url = `http://127.0.0.1:${await freePort()}`;
  serve = await startServe(['--mount', mnt, '--mkdir', '--http', url.slice(7), '--state-dir', path.join(work, 'state'), '--download-dir', path.join(work, 'dl')], { CT_HTTP_TOKEN: TOKEN });
  const add = async (dir: string, name: string, extra: Record<string, unknown> = {}) => {
    const file = path.join(work, `${name}-${path.basename(dir)}.torrent`);
    assert.equal((await ctRun(['create', path.join(dir, name), '-o', file, '--piece-length', '65536'])).code, 0);
    const seed = await libtorrentSeeder(file, dir);
    const res = await fetch(`${url}/api/v1/torrents`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ torrent: (await readFile(file)).toString('base64'), peers: [`127.0.0.1:${seed.port}`], ...extra }) });
    assert.equal(res.status, 201, await res.text());
    return parseMetainfo(await readFile(file));
  };
  await add(src, 'album');
  await add(other, 'album');
  await add(src, 'single.bin', { category: 'films' });
  const obscured = await run('rclone', ['obscure', TOKEN]);
  rcloneFlags = ['--webdav-url', `${url}/dav/`, '--webdav-vendor', 'other', '--webdav-user', 'ct', '--webdav-pass', obscured.stdout.trim(), '--config', '/dev/null', '--low-level-retries', '1', '--retries', '1'];
});
after(async () => {
  await stopAll();
  await run('fusermount', ['-uz', mnt]);
  await removeDir(work);
});

test('rclone lists the share with the names and sizes of the mount, and copies it byte-exact (read on demand)', { timeout: 120_000 }, async () => {
  const listed = await run('rclone', ['lsjson', '-R', ...rcloneFlags, ':webdav:'], 60_000);
  assert.equal(listed.code, 0, listed.stderr);
  const viaDav = (JSON.parse(listed.stdout) as { Path: string; Size: number; IsDir: boolean }[]).map((e) => `${e.Path} ${e.IsDir ? 'dir' : e.Size}`).sort();
  // The mount, listed by find in its own process (ct serve serves FUSE in another one).
  const found = await run('find', [mnt, '-mindepth', '1', '-not', '-path', `${mnt}/.ct*`, '-printf', '%P %y %s\\n']);
  const viaMount = found.stdout.trim().split('\n').map((l) => {
    const m = /^(.*) ([df]) (\d+)$/.exec(l)!;
    return `${m[1]} ${m[2] === 'd' ? 'dir' : m[3]}`;
  }).sort();
  assert.deepEqual(viaDav, viaMount);
  assert.ok(viaDav.includes('album (1)/x.bin 400000') && viaDav.includes('films/single.bin 700000') && viaDav.includes('album/notes/a%b #1 & c.txt 5000'), viaDav.join('\n'));

  const out = path.join(work, 'copy');
  const copied = await run('rclone', ['copy', ...rcloneFlags, ':webdav:', out], 90_000);
  assert.equal(copied.code, 0, copied.stderr);
  for (const [a, b] of [['copy/album', 'src/album'], ['copy/album (1)', 'other/album'], ['copy/films', 'src']]) {
    if (b === 'src') {
      assert.deepEqual(await readFile(path.join(work, a, 'single.bin')), await readFile(path.join(work, 'src', 'single.bin')));
      continue;
    }
    const same = await sameTree(path.join(work, a), path.join(work, b));
    assert.ok(same.same, same.detail);
  }
});

test('PROPFIND: depth 0 and 1 answer the RFC 4918 properties in well-formed XML; infinity, or no Depth, is 403', async () => {
  const root = await curl('PROPFIND', '/dav/', { Depth: '1' });
  assert.equal(root.status, 207);
  assert.match((await dav('PROPFIND', '/dav/', { Depth: '0' })).headers.get('content-type') ?? '', /^application\/xml/);
  const listing = await parseMultistatus(root.body);
  assert.deepEqual([...listing.keys()].sort(), ['/dav/', '/dav/album%20(1)/', '/dav/album/', '/dav/films/']);
  assert.match(listing.get('/dav/album/')!.resourcetype, /collection/);

  const folder = await parseMultistatus((await curl('PROPFIND', '/dav/album/', { Depth: '1' })).body);
  const song = folder.get('/dav/album/01%20%C3%BC%20song.webm')!;
  assert.ok(song, [...folder.keys()].join(' '));
  assert.equal(song.getcontentlength, '900000');
  assert.equal(song.getcontenttype, 'video/webm');
  assert.equal(song.resourcetype, '<D:resourcetype/>');
  assert.match(song.getetag, /^"[^"]+"$/);
  assert.ok(!Number.isNaN(Date.parse(song.getlastmodified)) && /GMT$/.test(song.getlastmodified), song.getlastmodified);
  assert.equal(song.displayname, '01 ü song.webm');
  assert.ok(folder.has('/dav/album/notes/'));

  // Depth 0: the resource alone. The props asked for, and a 404 propstat for one we do not have (a Windows client's).
  const body = '<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:"><D:prop><D:getcontentlength/><D:getetag/><Z:Win32FileAttributes/></D:prop></D:propfind>';
  const one = await parseMultistatus((await curl('PROPFIND', '/dav/films/single.bin', { Depth: '0', 'Content-Type': 'application/xml' }, body)).body);
  assert.deepEqual([...one.keys()], ['/dav/films/single.bin']);
  assert.deepEqual(one.get('/dav/films/single.bin'), { getcontentlength: '700000', getetag: one.get('/dav/films/single.bin')!.getetag, '{urn:schemas-microsoft-com:}Win32FileAttributes': '404:' });

  for (const depth of [{ Depth: 'infinity' }, {}] as Record<string, string>[]) {
    const refused = await dav('PROPFIND', '/dav/', depth);
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /propfind-finite-depth/);
  }
  // A body that is not a propfind is a client error.
  assert.equal((await dav('PROPFIND', '/dav/', { Depth: '0' }, '<nonsense/>')).status, 400);
});

test('trailing slashes: a folder answers with or without one (hrefs carry it), a file asked for with one is 404', async () => {
  const bare = await parseMultistatus(await (await dav('PROPFIND', '/dav/album', { Depth: '0' })).text());
  assert.deepEqual([...bare.keys()], ['/dav/album/']);
  assert.equal((await dav('PROPFIND', '/dav/films/single.bin/', { Depth: '0' })).status, 404);
  assert.equal((await dav('GET', '/dav/films/single.bin/')).status, 404);
  assert.equal((await dav('PROPFIND', '/dav/no-such', { Depth: '0' })).status, 404);
  // Another client's encoding of the same name (lower-case hex) finds it too.
  assert.equal((await dav('HEAD', '/dav/album/01%20%c3%bc%20song.webm')).status, 200);
  // A browser gets a listing of a folder.
  const page = await dav('GET', '/dav/album/');
  assert.equal(page.status, 200);
  assert.match(await page.text(), /href="\/dav\/album\/notes\/"/);
});

test('GET and HEAD with Range, ETag and Last-Modified; writes are 405 with Allow; OPTIONS says DAV: 1', async () => {
  const src = await readFile(path.join(work, 'src', 'album', 'big.bin'));
  const part = await dav('GET', '/dav/album/big.bin', { Range: 'bytes=1000000-1065535' });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-range'), `bytes 1000000-1065535/${src.length}`);
  assert.deepEqual(Buffer.from(await part.arrayBuffer()), src.subarray(1_000_000, 1_065_536));
  const head = await dav('HEAD', '/dav/album/big.bin');
  assert.equal(head.headers.get('content-length'), String(src.length));
  const etag = head.headers.get('etag')!;
  assert.ok(etag && head.headers.get('last-modified'));
  assert.equal((await dav('GET', '/dav/album/big.bin', { 'If-None-Match': etag })).status, 304);

  const options = await dav('OPTIONS', '/dav/');
  assert.equal(options.headers.get('dav'), '1');
  assert.equal(options.headers.get('allow'), 'OPTIONS, GET, HEAD, PROPFIND');
  for (const method of ['PUT', 'DELETE', 'MKCOL', 'MOVE', 'COPY', 'PROPPATCH', 'LOCK', 'UNLOCK', 'POST']) {
    const res = await dav(method, '/dav/album/big.bin', {}, method === 'PUT' ? 'x' : undefined);
    assert.equal(res.status, 405, method);
    assert.equal(res.headers.get('allow'), 'OPTIONS, GET, HEAD, PROPFIND', method);
  }
  // Nothing changed on disk or in the tree.
  assert.equal((await dav('HEAD', '/dav/album/big.bin')).headers.get('content-length'), String(src.length));
});

test('the token guards the share: none or a wrong one is 401 with a Basic challenge (what makes desktop clients ask)', async () => {
  const none = await fetch(`${url}/dav/`, { method: 'PROPFIND', headers: { Depth: '0' } });
  assert.equal(none.status, 401);
  assert.match(none.headers.get('www-authenticate') ?? '', /^Basic realm="ct"/);
  const wrong = await fetch(`${url}/dav/`, { method: 'PROPFIND', headers: { Depth: '0', Authorization: `Basic ${Buffer.from('ct:nope').toString('base64')}` } });
  assert.equal(wrong.status, 401);
  const bearer = await fetch(`${url}/dav/`, { method: 'PROPFIND', headers: { Depth: '0', Authorization: `Bearer ${TOKEN}` } });
  assert.equal(bearer.status, 207);
  const badRclone = await run('rclone', ['lsf', ...rcloneFlags.map((f, i) => (rcloneFlags[i - 1] === '--webdav-pass' ? 'AAAAAAAAAAAA' : f)), ':webdav:'], 30_000);
  assert.notEqual(badRclone.code, 0);
});

test('a paused torrent leaves the share, and comes back on resume', async () => {
  const list = (await (await fetch(`${url}/api/v1/torrents`, { headers: auth })).json()) as { id: string; name: string; category?: string; davPath?: string }[];
  const single = list.find((t) => t.category === 'films')!;
  assert.equal(single.davPath, '/films/single.bin');
  assert.equal((await fetch(`${url}/api/v1/torrents/${single.id}/pause`, { method: 'POST', headers: auth })).status, 200);
  assert.equal((await dav('PROPFIND', '/dav/films/', { Depth: '0' })).status, 404);
  assert.equal((await fetch(`${url}/api/v1/torrents/${single.id}/resume`, { method: 'POST', headers: auth })).status, 200);
  await waitUntil(async () => (await dav('PROPFIND', '/dav/films/single.bin', { Depth: '0' })).status === 207, 'single.bin back in the share', 10_000);
  assert.equal(serve.exitCode, null);
});

test('/metrics counts the share\'s requests by method and status class', async () => {
  const text = await (await fetch(`${url}/metrics`, { headers: auth })).text();
  const count = (labels: string) => Number(new RegExp(`^ct_http_requests_total\\{${labels}\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  assert.ok(count('area="dav",method="PROPFIND",status="2xx"') >= 5, text.split('\n').filter((l) => l.startsWith('ct_http')).join('\n'));
  assert.ok(count('area="dav",method="PROPFIND",status="4xx"') >= 3, 'the 401s, 403s and 404s');
  assert.ok(count('area="dav",method="PUT",status="4xx"') >= 1, 'the 405');
  assert.ok(count('area="dav",method="GET",status="2xx"') >= 1);
  assert.ok(count('area="api",method="POST",status="2xx"') >= 3, 'the adds');
});

test('connections are bounded per address: past 64 from one client, new ones are closed at once; the service answers again when they go', async () => {
  const { port } = new URL(url);
  const sockets = await Promise.all(Array.from({ length: 72 }, () => new Promise<Socket>((resolve) => {
    const s = connect(Number(port), '127.0.0.1', () => resolve(s));
    s.on('error', () => undefined);
  })));
  await waitUntil(() => sockets.filter((s) => s.destroyed).length >= 72 - 64, 'the connections past the bound to be closed', 5000);
  await new Promise((r) => setTimeout(r, 200));
  const open = sockets.filter((s) => !s.destroyed).length;
  // This test's own fetches may hold a few pooled connections too.
  assert.ok(open <= 64 && open >= 64 - 8, `${open} of 72 stayed open`);
  for (const s of sockets) s.destroy();
  await waitUntil(async () => (await dav('PROPFIND', '/dav/', { Depth: '0' }).catch(() => undefined))?.status === 207, 'an answer again', 5000);
});
