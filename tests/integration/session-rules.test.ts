/**
 * Session-wide rules on loopback, in-process: an address that is ourselves is dialed once and
 * never again, the session's connection cap refuses what is over it, and a private torrent never
 * reaches the DHT (a local bittorrent-dht node sees the public torrent's lookups only).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { createTorrent, parseMetainfo, type Metainfo } from '@ct/engine';
import { startRecordingDhtNode } from '../../packages/engine/test/helpers/recording-dht-node.js';
import { removeDir, tempDir } from '../helpers/fixtures.js';
import { addressOf, closeSessions, loopbackSession } from '../helpers/sessions.js';
import { waitUntil } from '../helpers/wait.js';

let work: string;
let meta: Metainfo;
let privateMeta: Metainfo;

before(async () => {
  work = await tempDir();
  await mkdir(path.join(work, 'src'));
  await writeFile(path.join(work, 'src', 'data.bin'), randomBytes(300_000));
  meta = parseMetainfo(await createTorrent(path.join(work, 'src', 'data.bin'), { pieceLength: 32768 }));
  privateMeta = parseMetainfo(await createTorrent(path.join(work, 'src', 'data.bin'), { pieceLength: 32768, private: true }));
});
after(async () => {
  await closeSessions();
  await removeDir(work);
});

/** A TCP forwarder to `target` that counts the connections it passed on. */
async function countingForwarder(target: string): Promise<{ address: string; count(): number; close(): void }> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  let n = 0;
  const server = net.createServer((a) => {
    n++;
    const b = net.connect(port, host);
    a.pipe(b).pipe(a);
    a.on('error', () => b.destroy());
    b.on('error', () => a.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`, count: () => n, close: () => server.close() };
}

test('an address that turns out to be ourselves is dialed once, never again (even one the user gave, retried forever otherwise)', async () => {
  const session = await loopbackSession();
  // Our address as a tracker would list it: through a forwarder, so the dials can be counted.
  const fwd = await countingForwarder(addressOf(session));
  try {
    await session.addTorrent(meta, { downloadDir: path.join(work, 'self'), peers: [fwd.address], onDemand: true });
    await waitUntil(() => fwd.count() >= 1, 'the first dial', 10_000);
    // The dialer's back-off retries a failed address after 250 ms, 500 ms, 1 s, 2 s...: 4 s would see
    // several more attempts if the address were not forgotten.
    await new Promise((r) => setTimeout(r, 4000));
    assert.equal(fwd.count(), 1, 'dialed exactly once');
  } finally {
    fwd.close();
    await closeSessions(session);
  }
});

/** A raw peer that handshakes for `infoHash`; resolves true when the session answered, false when it closed. */
function rawHandshake(address: string, infoHash: Buffer, id: number): Promise<{ answered: boolean; socket: net.Socket }> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolve) => {
    const socket = net.connect(port, host);
    const hs = Buffer.alloc(68);
    hs[0] = 19; hs.write('BitTorrent protocol', 1, 'latin1'); hs[25] |= 0x10; hs[27] |= 0x04;
    infoHash.copy(hs, 28); Buffer.alloc(20, id).copy(hs, 48);
    socket.write(hs);
    let got = 0;
    socket.on('data', (b: Buffer) => { got += b.length; if (got >= 68) resolve({ answered: true, socket }); });
    socket.on('close', () => resolve({ answered: false, socket }));
    socket.on('error', () => undefined);
  });
}

test('the session\'s connection cap: connections past maxConnections are refused, across torrents', async () => {
  const session = await loopbackSession({ maxConnections: 3 });
  const sockets: net.Socket[] = [];
  try {
    await session.addTorrent(meta, { downloadDir: path.join(work, 'src'), readOnly: true, discovery: false });
    await session.addTorrent(privateMeta, { downloadDir: path.join(work, 'src'), readOnly: true, discovery: false });
    const results: boolean[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await rawHandshake(addressOf(session), i % 2 ? meta.infoHash : privateMeta.infoHash, 10 + i);
      sockets.push(r.socket);
      results.push(r.answered);
    }
    assert.deepEqual(results, [true, true, true, false, false]);
    // A slot frees when a connection ends.
    sockets[0].destroy();
    await waitUntil(async () => {
      const r = await rawHandshake(addressOf(session), meta.infoHash, 40);
      sockets.push(r.socket);
      return r.answered;
    }, 'a freed slot to be taken', 10_000, 100);
  } finally {
    for (const s of sockets) s.destroy();
    await closeSessions(session);
  }
});

test('a private torrent never reaches the DHT: the local node sees lookups for the public torrent only', { timeout: 60_000 }, async (t) => {
  const node = await startRecordingDhtNode();
  t.after(() => node.destroy());
  const asked = node.asked;
  const session = await loopbackSession({ dht: { bootstrap: [`127.0.0.1:${node.port}`], host: '127.0.0.1' }, dhtRetryMs: 200 });
  try {
    const priv = await session.addTorrent(privateMeta, { downloadDir: path.join(work, 'dht-private'), onDemand: true });
    await session.addTorrent(meta, { downloadDir: path.join(work, 'dht-public'), onDemand: true });
    await waitUntil(() => asked.has(meta.infoHashHex), 'the public torrent\'s DHT lookup', 30_000);
    // Several retry rounds (200 ms) of the public torrent later, still nothing about the private one.
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(asked.has(privateMeta.infoHashHex), false, 'the private infohash never reached the DHT');
    assert.equal(priv.stats().discovery?.dht.enabled, false);
  } finally {
    await closeSessions(session);
  }
});
