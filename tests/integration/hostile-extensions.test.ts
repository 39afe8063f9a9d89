/**
 * No peer can kill or hang ct with extension messages (issue 10, part 2). A scripted peer sends
 * `ct seed` a corpus of malformed ut_metadata, ut_pex and extension-handshake payloads, each on its
 * own connection; then ct must still be alive, answer a new handshake, answer a request for a
 * metadata piece that does not exist with a reject, and serve a real libtorrent leecher byte-exact.
 * On the fetching side, a magnet download meets a peer that answers with malformed metadata
 * messages (a negative piece crashed ut_metadata's parser) and still completes from an honest one.
 * And the DHT's UDP socket drops malformed datagrams before bittorrent-dht's decoder sees them.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as dgram from 'node:dgram';
import DHT from 'bittorrent-dht';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { bencodeEncode, parseMetainfo, type Metainfo } from '@ct/engine';
import { makeTree, removeDir, sameTree, tempDir } from '../helpers/fixtures.js';
import { MetadataLiar } from '../helpers/metadata-liar.js';
import { Proc, ROOT, ct, ctRun, freePort, libtorrent, libtorrentSeeder, stopAll } from '../helpers/procs.js';
import { RawPeer } from '../helpers/raw-peer.js';

let work: string;
let src: string;
let torrent: string;
let meta: Metainfo;
let seeder: Proc;
let seederPort: number;
const liars: MetadataLiar[] = [];

/** ct's own ids for the extensions (what a peer writes to ct with). */
const CT_UT_METADATA = 1;
const CT_UT_PEX = 2;

const deep = (n: number) => Buffer.from('l'.repeat(n) + 'e'.repeat(n));
const CORPUS: [string, Buffer][] = [
  ['empty', Buffer.alloc(0)],
  ['one byte', Buffer.from('d')],
  ['not a dictionary', Buffer.from('i42e')],
  ['a list', Buffer.from('l4:spame')],
  ['a string', Buffer.from('4:spam')],
  ['negative string length', Buffer.from('d-4294967295:ee')],
  ['huge string length', Buffer.from('d99999999999:ee')],
  ['negative piece with trailer', Buffer.from('d8:msg_typei1e5:piecei-1eeX')],
  ['negative msg_type', bencodeEncode({ msg_type: -1, piece: 0 })],
  ['huge piece', Buffer.from('d8:msg_typei0e5:piecei9007199254740993ee')],
  ['piece as a string', bencodeEncode({ msg_type: 0, piece: 'zero' })],
  ['msg_type as a dict', bencodeEncode({ msg_type: { a: 1 }, piece: 0 })],
  ['unsolicited data', Buffer.concat([bencodeEncode({ msg_type: 1, piece: 0, total_size: 16384 }), Buffer.alloc(16384)])],
  ['deep nesting', deep(20_000)],
  ['deep nesting in a dictionary', Buffer.concat([Buffer.from('d1:m'), deep(5000), Buffer.from('e')])],
  ['unterminated dictionary', Buffer.from('d8:msg_typei0e5:piecei0e')],
  ['leading zeros', Buffer.from('d8:msg_typei00e5:piecei0ee')],
  ['trailing garbage', Buffer.concat([bencodeEncode({ msg_type: 0, piece: 0 }), Buffer.alloc(1000, 0xff)])],
  ['oversized (200 KiB)', Buffer.concat([Buffer.from('d1:x204800:'), Buffer.alloc(204800, 0x41), Buffer.from('e')])],
  ['pex with wrong types', bencodeEncode({ added: 5, 'added.f': [1, 2], dropped: { x: 1 } })],
  ['pex with a ragged compact list', bencodeEncode({ added: Buffer.alloc(13, 1), added6: Buffer.alloc(17, 1) })],
  ['handshake with wrong types', bencodeEncode({ m: 'ut_metadata', p: -5, metadata_size: 'big', reqq: [1], v: { x: 1 } })],
  ['handshake with ids out of range', bencodeEncode({ m: { ut_metadata: 300, ut_pex: -1 }, metadata_size: -1, p: 70000 })],
];

before(async () => {
  work = await tempDir('ct-hostile-ext-');
  src = path.join(work, 'src');
  await makeTree(path.join(src, 'payload'), [['a.bin', 2 * 1024 * 1024 + 77], ['b.txt', 3000]]);
  torrent = path.join(work, 'p.torrent');
  assert.equal((await ctRun(['create', path.join(src, 'payload'), '-o', torrent, '--piece-length', '65536'])).code, 0);
  meta = parseMetainfo(await readFile(torrent));
  seederPort = await freePort();
  seeder = ct(['seed', '--metainfo', torrent, '--download-dir', src, '--listen', `127.0.0.1:${seederPort}`, '--json'], 'ct seed');
  await seeder.waitFor(/"type":"ready"/, 30_000);
});
after(async () => {
  await stopAll();
  await Promise.all(liars.map((l) => l.close()));
  await removeDir(work);
});

async function handshaken(): Promise<RawPeer> {
  const peer = new RawPeer('127.0.0.1', seederPort);
  await peer.connected;
  peer.handshake(meta.infoHash);
  peer.extendedHandshake();
  assert.ok(await peer.until(() => peer.handshakeReceived, 10_000), 'ct answers the handshake');
  return peer;
}

test('a corpus of malformed extension messages: ct survives each, answers new peers, and still serves libtorrent', async () => {
  const targets: [string, number][] = [['ut_metadata', CT_UT_METADATA], ['ut_pex', CT_UT_PEX], ['extension handshake', 0]];
  for (const [name, extId] of targets) {
    for (const [what, payload] of CORPUS) {
      const peer = await handshaken();
      peer.extended(extId, payload);
      // Either ct drops this peer or ignores the message; it must not stop serving others.
      await peer.until(() => peer.socket.destroyed, 300);
      peer.end();
      assert.equal(seeder.exitCode, null, `ct seed died on ${name}: ${what}: ${seeder.stderr}`);
    }
  }
  // The reasons for the disconnects are reported.
  const reasons = seeder.jsonLines().filter((j) => j.type === 'peer-disconnected').map((j) => String(j.reason));
  assert.ok(reasons.some((r) => /malformed ut_metadata message/.test(r)), `reasons: ${reasons.slice(0, 5).join(' | ')}`);

  // A request for a metadata piece that does not exist gets a reject (msg_type 2), not empty data.
  const probe = await handshaken();
  probe.extended(CT_UT_METADATA, bencodeEncode({ msg_type: 0, piece: 999 }));
  const isReject = (m: Buffer) => m[0] === 20 && m[1] === 3 && m.subarray(2).toString('latin1') === 'd8:msg_typei2e5:piecei999ee';
  assert.ok(await probe.until(() => probe.messages.some(isReject), 5000), 'a reject for piece 999');
  // And a real request still gets the real bytes.
  probe.extended(CT_UT_METADATA, bencodeEncode({ msg_type: 0, piece: 0 }));
  const isData = (m: Buffer) => m[0] === 20 && m[1] === 3 && m.includes(meta.infoBytes.subarray(0, Math.min(64, meta.infoBytes.length)));
  assert.ok(await probe.until(() => probe.messages.some(isData), 5000), 'metadata piece 0');
  probe.end();

  const dest = path.join(work, 'lt-dl');
  const leech = libtorrent(['leech', '--torrent', torrent, '--save-path', dest, '--port', String(await freePort()), '--peer', `127.0.0.1:${seederPort}`, '--timeout', '60'], 'libtorrent leecher');
  assert.equal(await leech.waitExit(90_000), 0, leech.stdout + leech.stderr);
  const cmp = await sameTree(path.join(src, 'payload'), path.join(dest, 'payload'));
  assert.ok(cmp.same, cmp.detail);
  assert.equal(seeder.exitCode, null, 'ct seed still running');
});

test('fetching metadata: a peer answering with malformed ut_metadata messages is dropped, the download completes', async () => {
  const liar = new MetadataLiar('malformed', meta.infoHash, meta.infoBytes.length, '127.0.0.2');
  liars.push(liar);
  await liar.listen();
  const honestPort = await freePort();
  const magnet = `magnet:?xt=urn:btih:${meta.infoHashHex}&x.pe=${liar.address}&x.pe=127.0.0.1:${honestPort}`;
  const dest = path.join(work, 'magnet-dl');
  const dl = ct(['download', magnet, '--download-dir', dest, '--state-dir', path.join(work, 'state'),
    '--listen', '127.0.0.1:0', '--timeout', '60'], 'ct download magnet');
  // The honest peer starts only once the malformed one was dropped, so it cannot be skipped by luck.
  const deadline = Date.now() + 30_000;
  while (!/dropped 127\.0\.0\.2:\d+: .*ut_metadata/.test(dl.stderr)) {
    assert.ok(Date.now() < deadline, `malformed peer not reported: ${dl.stderr}`);
    assert.equal(dl.exitCode, null, dl.stderr);
    await new Promise((r) => setTimeout(r, 50));
  }
  await libtorrentSeeder(torrent, src, { port: honestPort });
  assert.equal(await dl.waitExit(90_000), 0, dl.stderr);
  assert.ok(liar.requests >= 1, 'the malformed peer was asked');
  const cmp = await sameTree(path.join(src, 'payload'), path.join(dest, 'payload'));
  assert.ok(cmp.same, cmp.detail);
});

test('DHT: malformed datagrams (one of them hung bittorrent-dht\'s decoder forever) never reach it; the node keeps answering', async (t) => {
  // The DHT node runs in a process of its own: if it hung, this test's timers still run and fail it.
  const script = `import { DhtService } from ${JSON.stringify(path.join(ROOT, 'packages/engine/dist/index.js'))};
    const d = await DhtService.start({ bootstrap: [], host: '127.0.0.1' });
    console.log('PORT ' + d.port);
    setInterval(() => console.log('DROPPED ' + d.droppedDatagrams), 200);`;
  const node = new Proc(spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'pipe' }), 'ct dht node');
  const port = Number((await node.waitFor(/PORT (\d+)/, 15_000))[1]);
  const udp = dgram.createSocket('udp4');
  t.after(() => udp.close());
  const corpus = [Buffer.from('d-4294967295:ee'), Buffer.alloc(0), Buffer.from('i1e'), Buffer.from('d1:y1:q'), deep(3000), Buffer.alloc(20_000, 0x64)];
  for (const c of corpus) await new Promise<void>((r) => udp.send(c, port, '127.0.0.1', () => r()));
  await node.waitFor(new RegExp(`DROPPED ${corpus.length}`), 10_000);
  // A real DHT node bootstraps from it: ct's node still answers queries.
  const peer = new DHT({ bootstrap: [`127.0.0.1:${port}`], host: '127.0.0.1' });
  t.after(() => peer.destroy());
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('ct\'s DHT node did not answer')), 15_000);
    peer.on('node', () => { clearTimeout(timer); resolve(); });
    peer.listen(0, '127.0.0.1');
  });
  node.kill();
});
