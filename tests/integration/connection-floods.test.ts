/**
 * Idle and silent connections cannot lock real peers out (issue 10, part 3). While `ct seed` is
 * flooded for the whole test by 300 TCP connections that never send a byte (from three
 * addresses) and 60 peers that handshake and then say nothing (from twelve), each re-opened as
 * soon as ct closes it, a real libtorrent leecher must still complete. And a peer that trickles
 * one byte a second, never completing a message, is cut off.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { parseMetainfo, type Metainfo } from '@ct/engine';
import { makeTree, removeDir, sameTree, tempDir } from '../helpers/fixtures.js';
import { ct, ctRun, freePort, libtorrent, stopAll } from '../helpers/procs.js';
import { RawPeer } from '../helpers/raw-peer.js';
import { waitUntil } from '../helpers/wait.js';
import { loopbackSession } from '../helpers/sessions.js';

/** peer-eviction.ts: a peer may be evicted after this long (the test outlasts it). */
const EVICTION_GRACE_MS = 5_000;

let work: string;
let src: string;
let torrent: string;
let meta: Metainfo;

before(async () => {
  work = await tempDir('ct-floods-');
  src = path.join(work, 'src');
  await makeTree(path.join(src, 'payload'), [['a.bin', 4 * 1024 * 1024 + 5], ['b.txt', 1234]]);
  torrent = path.join(work, 'p.torrent');
  assert.equal((await ctRun(['create', path.join(src, 'payload'), '-o', torrent, '--piece-length', '65536'])).code, 0);
  meta = parseMetainfo(await readFile(torrent));
});
after(async () => {
  await stopAll();
  await removeDir(work);
});

/** Keeps `count` connections open from `addresses`, re-opening each one ct closes after `reopenMs`. */
function flood(port: number, addresses: string[], count: number, handshake: boolean, reopenMs: number) {
  const stats = { opened: 0, closedByCt: 0, handshakesAnswered: 0 };
  const live = new Set<RawPeer>();
  let stopped = false;
  const open = (i: number) => {
    if (stopped) return;
    const peer = new RawPeer('127.0.0.1', port, { localAddress: addresses[i % addresses.length] });
    stats.opened++;
    live.add(peer);
    if (handshake) {
      void peer.connected.then(() => {
        peer.handshake(meta.infoHash);
        peer.extendedHandshake();
      });
    }
    void peer.closed.then(() => {
      live.delete(peer);
      if (peer.handshakeReceived) stats.handshakesAnswered++;
      if (peer.closedByRemote) stats.closedByCt++;
      setTimeout(() => open(i), reopenMs).unref();
    });
  };
  for (let i = 0; i < count; i++) open(i);
  return { stats, stop: () => { stopped = true; for (const p of live) p.end(); } };
}

test('300 idle connections and 60 silent handshakers, held for the whole test: a libtorrent leecher still completes', async () => {
  const port = await freePort();
  const seeder = ct(['seed', '--metainfo', torrent, '--download-dir', src, '--listen', `127.0.0.1:${port}`, '--json'], 'ct seed');
  await seeder.waitFor(/"type":"ready"/, 30_000);
  const idle = flood(port, ['127.0.0.2', '127.0.0.3', '127.0.0.4'], 300, false, 100);
  const silentAddresses = Array.from({ length: 12 }, (_, i) => `127.0.0.${10 + i}`);
  const silent = flood(port, silentAddresses, 60, true, 1000);
  try {
    // The flood first fills every slot of the torrent (its cap is 50 peers)...
    await waitUntil(() => seeder.jsonLines().some((j) => j.type === 'progress' && Number(j.peers) >= 50), 'the flood to fill the torrent\'s 50 slots', 30_000, 100);
    // ...and stays past the eviction grace period, so only eviction can let the leecher in.
    await new Promise((r) => setTimeout(r, EVICTION_GRACE_MS + 1000));
    const dest = path.join(work, 'lt-dl');
    const leech = libtorrent(['leech', '--torrent', torrent, '--save-path', dest, '--port', String(await freePort()), '--peer', `127.0.0.1:${port}`, '--timeout', '60'], 'libtorrent leecher');
    assert.equal(await leech.waitExit(90_000), 0, `leecher did not complete: ${leech.stdout.slice(-300)}`);
    const cmp = await sameTree(path.join(src, 'payload'), path.join(dest, 'payload'));
    assert.ok(cmp.same, cmp.detail);
    assert.equal(seeder.exitCode, null);
    assert.ok(idle.stats.closedByCt > 0, 'idle connections were closed to make room');
    const reasons = new Set(seeder.jsonLines().filter((j) => j.type === 'peer-disconnected').map((j) => String(j.reason)));
    assert.ok([...reasons].some((r) => /evicted to make room/.test(r)), `a silent peer was evicted: ${[...reasons].join(' | ')}`);
  } finally {
    idle.stop();
    silent.stop();
  }
});

test('a peer trickling one byte a second, never completing a message, is cut off', async () => {
  const session = await loopbackSession({ wire: { idleTimeoutMs: 3000 } });
  try {
    const t = await session.addTorrent(meta, { downloadDir: src, readOnly: true });
    await new Promise<void>((r) => (t.isComplete ? r() : t.once('ready', () => r())));
    const reason = new Promise<string>((r) => t.once('peer-disconnected', (_peer, why) => r(why)));
    const peer = new RawPeer('127.0.0.1', session.listenAddress?.port ?? 0);
    await peer.connected;
    peer.handshake(meta.infoHash);
    // A 1 KiB message announced, then one byte a second of it.
    peer.socket.write(Buffer.from([0, 0, 4, 0]));
    const drip = setInterval(() => { if (!peer.socket.destroyed) peer.socket.write(Buffer.from([20])); }, 1000);
    try {
      assert.ok(await peer.until(() => peer.socket.destroyed, 15_000), 'ct closed the connection');
      assert.match(await reason, /no complete message from the peer/);
    } finally {
      clearInterval(drip);
      peer.end();
    }
  } finally {
    await session.close();
  }
});
