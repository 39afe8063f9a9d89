import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import DHT from 'bittorrent-dht';
import { DhtService } from '../src/discovery/dht.js';
import { startRecordingDhtNode } from './helpers/recording-dht-node.js';

// The routing table outlives the process: saved on close, loaded on start (so a restart does not
// depend on bootstrap nodes); a damaged file is ignored.
test('the DHT routing table is loaded from the state dir at start and saved at close', async (t) => {
  const state = await mkdtemp(path.join(tmpdir(), 'ct-dht-'));
  const other = new DHT({ bootstrap: false });
  t.after(async () => { other.destroy(); await rm(state, { recursive: true, force: true }); });
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', () => resolve()));
  const known = { host: '127.0.0.1', port: other.address().port };

  await writeFile(path.join(state, 'dht.json'), '{ damaged');
  const fresh = await DhtService.start({ bootstrap: [], stateDir: state, host: '127.0.0.1' });
  assert.equal(fresh.nodeCount, 0, 'a damaged table is ignored, not fatal');
  await fresh.close();

  await writeFile(path.join(state, 'dht.json'), JSON.stringify({ nodes: [known, { host: 'x', port: 'no' }] }));
  const svc = await DhtService.start({ bootstrap: [], stateDir: state, host: '127.0.0.1' });
  const deadline = Date.now() + 10_000;
  while (svc.nodeCount === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(svc.nodeCount, 1, 'the saved node is back in the table without any bootstrap node');
  await svc.close();
  const saved = JSON.parse(await readFile(path.join(state, 'dht.json'), 'utf8'));
  assert.deepEqual(saved.nodes, [known]);
});

// The node starts in the background (its module alone took ~70 ms of the main thread before a
// session could dial anyone): what is asked of it before it listens must not be lost.
test('a lookup asked before the DHT node listens reaches the network once it does; close before that is clean', async (t) => {
  const node = await startRecordingDhtNode();
  t.after(() => node.destroy());
  const asked = node.asked;
  const infoHash = Buffer.alloc(20, 0xab);
  const svc = DhtService.create({ bootstrap: [`127.0.0.1:${node.port}`], host: '127.0.0.1' });
  assert.equal(svc.port, 0, 'not listening yet');
  svc.lookup(infoHash);
  const deadline = Date.now() + 10_000;
  while (!asked.has(infoHash.toString('hex')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(asked.has(infoHash.toString('hex')), 'the early lookup was sent');
  await svc.close();

  assert.throws(() => DhtService.create({ bootstrap: ['no-port-here'] }), /HOST:PORT|host:port|port/i, 'a bad bootstrap address is refused at once, not lost in the background');

  const early = DhtService.create({ bootstrap: [], host: '127.0.0.1' });
  early.lookup(infoHash);
  await early.close();
  assert.equal(early.nodeCount, 0);
});
