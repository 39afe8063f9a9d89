/** Discovery for one torrent: private torrents never touch the DHT. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventEmitter } from 'node:events';
import { TorrentDiscovery } from '../src/discovery/torrent-discovery.js';
import type { DhtService } from '../src/discovery/dht.js';

test('private torrents (BEP 27) never touch the DHT', () => {
  const calls: string[] = [];
  const dht = Object.assign(new EventEmitter(), {
    lookup: () => calls.push('lookup'), announce: () => calls.push('announce'), nodeCount: 3,
  }) as unknown as DhtService;
  const base = { infoHash: Buffer.alloc(20, 1), peerId: Buffer.alloc(20, 2), port: 6881, trackers: [], dht, stats: () => ({ uploaded: 0, downloaded: 0, left: 0 }), hasPeers: () => true };
  const priv = new TorrentDiscovery({ ...base, private: true });
  priv.start();
  priv.servingTorrent(base.stats, base.hasPeers, true);
  assert.deepEqual(calls, []);
  assert.deepEqual(priv.status().dht, { enabled: false, nodes: 0, peersFound: 0 });
  assert.equal(priv.status().pex, false);
  void priv.stop();
  const pub = new TorrentDiscovery({ ...base, private: false });
  pub.start();
  assert.deepEqual(calls, ['lookup']);
  pub.servingTorrent(base.stats, base.hasPeers, false);
  assert.deepEqual(calls, ['lookup', 'announce']);
  void pub.stop();
});
