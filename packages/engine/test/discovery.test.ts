import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { parseCompactPeers } from '../src/util/compact-peers.js';
import { nextAnnounceSec, MAX_ANNOUNCE_SEC, MIN_ANNOUNCE_SEC, DEFAULT_ANNOUNCE_SEC } from '../src/discovery/announce.js';
import { announceUrl, parseHttpAnnounce, percentBytes } from '../src/discovery/http-tracker.js';
import { parseMagnet } from '../src/discovery/magnet.js';
import { PexView, decodePex, encodePex, PEX_MAX_ADDRESSES } from '../src/peer/pex.js';
import { TorrentDiscovery } from '../src/discovery/torrent-discovery.js';
import { TrackerTiers, TIER_RETRY_MS } from '../src/discovery/tracker-tiers.js';
import type { DhtService } from '../src/discovery/dht.js';
import { encode } from '../src/metainfo/bencode.js';
import { parseMetainfo } from '../src/metainfo/metainfo.js';
import { encodeExtendedHandshake, parseExtendedHandshake } from '../src/peer/extensions.js';
import { buildTorrentFile } from '../src/session/session.js';
import { PeerDialer } from '../src/discovery/peer-dialer.js';

test('ut_pex messages round-trip IPv4 and IPv6 peers, at most 50 each way; garbage decodes as empty', () => {
  const added = ['10.0.0.1:6881', '[2001:db8::1]:51413', '192.168.1.20:1'];
  const msg = decodePex(encodePex({ added, dropped: ['10.0.0.9:80'] }));
  assert.deepEqual(msg.added.sort(), ['10.0.0.1:6881', '192.168.1.20:1', '[2001:db8:0:0:0:0:0:1]:51413'].sort());
  assert.deepEqual(msg.dropped, ['10.0.0.9:80']);
  const many = Array.from({ length: 120 }, (_, i) => `10.1.${i >> 8}.${i & 255}:7000`);
  assert.equal(decodePex(encodePex({ added: many, dropped: [] })).added.length, PEX_MAX_ADDRESSES);
  // A hostile peer packing 200 peers into one message still gives us 50.
  const packed = encode({ added: Buffer.alloc(6 * 200, 1) });
  assert.equal(decodePex(packed).added.length, PEX_MAX_ADDRESSES);
  assert.deepEqual(decodePex(Buffer.from('not bencode')), { added: [], dropped: [] });
  assert.deepEqual(decodePex(encode({ added: 5 })), { added: [], dropped: [] });
});

test('PexView sends only changes, never the peer itself', () => {
  const view = new PexView();
  assert.deepEqual(view.next(['a:1', 'b:2', 'self:3'], 'self:3'), { added: ['a:1', 'b:2'], dropped: [] });
  assert.equal(view.next(['a:1', 'b:2'], 'self:3'), undefined, 'nothing changed');
  assert.deepEqual(view.next(['b:2', 'c:4'], 'self:3'), { added: ['c:4'], dropped: ['a:1'] });
});

test('magnet links: hex and base32 infohashes, dn, tr as tiers, x.pe; clear errors otherwise', () => {
  const hex = 'c12fe1c06bba254a9dc9f519b335aa7c1367a88a';
  const m = parseMagnet(`magnet:?xt=urn:btih:${hex}&dn=My%20Film&tr=udp%3A%2F%2Ft.example%3A80&tr=http%3A%2F%2Fu.example%2Fannounce&x.pe=127.0.0.1:6881&x.pe=bad`);
  assert.equal(m.infoHashHex, hex);
  assert.equal(m.name, 'My Film');
  assert.deepEqual(m.trackers, [['udp://t.example:80'], ['http://u.example/announce']]);
  assert.deepEqual(m.peers, ['127.0.0.1:6881'], 'an unusable x.pe is skipped');
  const b32 = parseMagnet('magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK');
  assert.equal(b32.infoHashHex, hex);
  assert.throws(() => parseMagnet('http://example.com'), { code: 'EMAGNET' });
  assert.throws(() => parseMagnet('magnet:?dn=nothing'), { code: 'EMAGNET' });
  assert.throws(() => parseMagnet('magnet:?xt=urn:btih:1234'), { code: 'EMAGNET' });
});

test('tracker tiers (BEP 12): shuffled within a tier, next tracker on failure, the one that answers moves to the front, back-off after a full round', () => {
  const tiers = new TrackerTiers([['http://a/announce', 'http://b/announce'], ['udp://c:1', 'ws://skipped'], []], () => 0);
  assert.equal(tiers.count, 2, 'empty tiers and unsupported schemes are dropped');
  const first = tiers.active(0);
  assert.equal(tiers.failed(0), 0, 'the second tracker of the tier is tried at once');
  const second = tiers.active(0);
  assert.notEqual(first, second);
  tiers.succeeded(0);
  assert.equal(tiers.all()[0].url, second, 'the working tracker leads its tier now');
  assert.equal(tiers.active(0), second);
  assert.equal(tiers.failed(0), 0);
  assert.equal(tiers.failed(0), TIER_RETRY_MS, 'every tracker failed: wait');
  assert.equal(tiers.failed(0), 0);
  assert.equal(tiers.failed(0), TIER_RETRY_MS * 2, 'and wait longer each round');
  assert.equal(tiers.active(1), 'udp://c:1');
});

test('announce intervals are clamped: a tracker cannot make us announce every second or never again', () => {
  assert.equal(nextAnnounceSec(1), MIN_ANNOUNCE_SEC);
  assert.equal(nextAnnounceSec(4294967295), MAX_ANNOUNCE_SEC);
  assert.equal(nextAnnounceSec(undefined), DEFAULT_ANNOUNCE_SEC);
  assert.equal(nextAnnounceSec('1800'), DEFAULT_ANNOUNCE_SEC);
  assert.equal(nextAnnounceSec(900, 1200), 1200, 'min interval wins over a shorter interval');
});

test('HTTP announce answers: compact IPv4 and IPv6 peers, dictionary peers, warnings; refusals and nonsense become TrackerErrors', () => {
  const peers = Buffer.from([127, 0, 0, 1, 0x1a, 0xe1, 10, 0, 0, 2, 0, 0]); // the second has port 0
  const peers6 = Buffer.alloc(18);
  peers6[15] = 1;
  peers6.writeUInt16BE(6881, 16);
  const r = parseHttpAnnounce(encode({ interval: 1800, complete: 3, incomplete: 1, peers, peers6, 'warning message': 'be nice' }));
  assert.deepEqual(r.peers, ['127.0.0.1:6881', '[0:0:0:0:0:0:0:1]:6881']);
  assert.equal(r.seeders, 3);
  assert.equal(r.warning, 'be nice');
  const dicts = parseHttpAnnounce(encode({ interval: 60, peers: [{ ip: '10.0.0.5', port: 51413 }, { ip: 'x', port: 0 }, 'junk'] }));
  assert.deepEqual(dicts.peers, ['10.0.0.5:51413']);
  assert.throws(() => parseHttpAnnounce(encode({ 'failure reason': 'unregistered torrent' })), /tracker refused: unregistered torrent/);
  assert.throws(() => parseHttpAnnounce(encode({ 'failure reason': 5 })), /tracker refused: no reason given/);
  assert.throws(() => parseHttpAnnounce(Buffer.from('<html>')), { code: 'ETRACKER' });
  assert.throws(() => parseHttpAnnounce(encode([1, 2])), /not a dictionary/);
  assert.deepEqual(parseCompactPeers(Buffer.alloc(5), false), [], 'a short compact list yields nothing');
});

test('announce URLs percent-encode raw bytes and keep an existing query', () => {
  assert.equal(percentBytes(Buffer.from([0x41, 0x20, 0xff, 0x2e])), 'A%20%FF.');
  const url = announceUrl('http://t.example/announce?passkey=abc', {
    infoHash: Buffer.alloc(20, 0xab), peerId: Buffer.from('-ct0100-abcdefghijkl'), port: 6881, uploaded: 0, downloaded: 10, left: 5,
    event: 'started', numwant: 50, key: 255,
  });
  assert.match(url, /^http:\/\/t\.example\/announce\?passkey=abc&info_hash=(%AB){20}&peer_id=-ct0100-abcdefghijkl&port=6881&/);
  assert.match(url, /&event=started/);
  assert.match(url, /&key=ff/);
});

test('a .torrent built from fetched metadata keeps the exact info bytes, hence the infohash', () => {
  // Keys deliberately not in the order our encoder would write: the bytes must survive as they are.
  const info = Buffer.concat([Buffer.from('d4:name5:a.bin6:lengthi50000e12:piece lengthi16384e6:pieces80:'), Buffer.alloc(80, 3), Buffer.from('e')]);
  const meta = parseMetainfo(Buffer.concat([Buffer.from('d4:info'), info, Buffer.from('e')]));
  const rebuilt = parseMetainfo(buildTorrentFile(meta.infoBytes, [['udp://t.example:1'], ['http://u.example/announce']]));
  assert.equal(rebuilt.infoHashHex, meta.infoHashHex);
  assert.equal(createHash('sha1').update(rebuilt.infoBytes).digest('hex'), meta.infoHashHex);
  assert.deepEqual(rebuilt.announce, [['udp://t.example:1'], ['http://u.example/announce']]);
});

test('extension handshakes: ours offers ut_pex only when asked (never for private torrents); theirs is read defensively', () => {
  const pub = parseExtendedHandshake(encodeExtendedHandshake({ pex: true, metadataSize: 1234, listenPort: 6881, clientVersion: 'ct', reqq: 500 }));
  assert.deepEqual(pub?.ids, { ut_metadata: 1, ut_pex: 2 });
  assert.equal(pub?.metadataSize, 1234);
  assert.equal(pub?.listenPort, 6881);
  const priv = parseExtendedHandshake(encodeExtendedHandshake({ pex: false, clientVersion: 'ct', reqq: 500 }));
  assert.deepEqual(priv?.ids, { ut_metadata: 1 });
  const odd = parseExtendedHandshake(encode({ m: { ut_pex: 300, ut_metadata: 'x' }, p: 70000 }));
  assert.deepEqual(odd?.ids, {}, 'ids out of range are ignored');
  assert.equal(odd?.listenPort, undefined);
  assert.equal(parseExtendedHandshake(Buffer.from('li1ee')), undefined);
});

test('the peer list is bounded, keeps user-given peers, dedupes, and dials the best candidates first', () => {
  const dialer = new PeerDialer({ baseDelayMs: 10, maxDelayMs: 100, maxFailures: 3, maxCandidates: 3 });
  assert.equal(dialer.add('dht:1', false, 0, 'dht'), true);
  assert.equal(dialer.add('tracker:1', false, 0, 'tracker'), true);
  assert.equal(dialer.add('tracker:1', false, 0, 'pex'), false, 'known already');
  assert.equal(dialer.add('pex:1', false, 0, 'pex'), true);
  assert.equal(dialer.add('pex:2', false, 0, 'pex'), false, 'full, and nobody failed yet');
  assert.equal(dialer.add('user:1', true, 0), true, 'user-given peers always fit');
  assert.deepEqual(dialer.due(0, 2), ['user:1', 'tracker:1']);
  dialer.disconnected('tracker:1', 0, true);
  assert.equal(dialer.add('pex:2', false, 0, 'pex'), true, 'a failed discovered peer makes room');
  assert.equal(dialer.isKnown('tracker:1'), false);
  assert.deepEqual(dialer.due(0, 5), ['pex:1', 'pex:2', 'dht:1'], 'PEX before DHT');
});

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
