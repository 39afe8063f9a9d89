import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { encode } from '../src/metainfo/bencode.js';
import { TrackerAnnouncer } from '../src/discovery/tracker-announcer.js';

// A tracker on loopback that records the event of every announce and answers with a 1 s interval.
test('announces started, then again at the tracker\'s interval, completed once done, stopped at the end', async (t) => {
  const events: string[] = [];
  const server = createServer((req, res) => {
    const event = /[?&]event=(\w+)/.exec(req.url ?? '')?.[1] ?? 'regular';
    events.push(event);
    res.end(encode({ interval: 1, peers: Buffer.from([127, 0, 0, 1, 0x1a, 0xe1]) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  t.after(() => { server.closeAllConnections(); server.close(); });
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/announce`;
  const announcer = new TrackerAnnouncer([[url]], {
    infoHash: Buffer.alloc(20, 1), peerId: Buffer.alloc(20, 2), port: 6881, minIntervalSec: 1,
    stats: () => ({ uploaded: 0, downloaded: 0, left: 100 }),
  });
  const peers: string[] = [];
  announcer.on('peers', (p) => peers.push(...p));
  announcer.start();
  const until = async (cond: () => boolean) => {
    const deadline = Date.now() + 10_000;
    while (!cond()) {
      assert.ok(Date.now() < deadline, `timed out; events: ${events.join(',')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await until(() => events.includes('regular'));
  assert.equal(events[0], 'started');
  assert.deepEqual(peers.slice(0, 1), ['127.0.0.1:6881']);
  assert.equal(announcer.status()[0].state, 'working');
  announcer.completed();
  await until(() => events.includes('completed'));
  await announcer.stop();
  assert.equal(events.at(-1), 'stopped');
  assert.equal(events.filter((e) => e === 'completed').length, 1);
  assert.equal(events.filter((e) => e === 'started').length, 1);
});
