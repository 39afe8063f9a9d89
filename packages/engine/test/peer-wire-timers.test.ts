/**
 * PeerWire's connection timers on a real loopback socket pair: the handshake timeout, the idle
 * timeout that counts complete messages only (a byte trickle does not keep a connection), and
 * keep-alives when we have nothing to say. Short timeouts; the assertions are about which event
 * happened and why, with deadlines that fail loudly.
 */
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { test } from 'node:test';
import { PeerWire, DEFAULT_WIRE_OPTIONS, type PeerWireOptions } from '../src/wire/peer-wire.js';
import { encodeHandshake } from '../src/wire/messages.js';

async function pair(opts: Partial<PeerWireOptions>): Promise<{ wire: PeerWire; remote: net.Socket; close(): void }> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[net.Socket]>;
  const local = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await once(local, 'connect');
  const [remote] = await accepted;
  const wire = new PeerWire(local, { ...DEFAULT_WIRE_OPTIONS, ...opts });
  return { wire, remote, close: () => { wire.destroy(); remote.destroy(); server.close(); } };
}

function closeReason(wire: PeerWire, ms: number): Promise<Error> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the wire did not close within ${ms} ms`)), ms);
    wire.on('close', (err) => { clearTimeout(timer); resolve(err); });
  });
}

const hs = encodeHandshake(Buffer.alloc(20, 1), Buffer.alloc(20, 2), { fast: true, extended: true, dht: false });

test('no handshake within the handshake timeout closes the connection, saying so', async () => {
  const p = await pair({ handshakeTimeoutMs: 200 });
  try {
    const err = await closeReason(p.wire, 5000);
    assert.match(err.message, /no handshake in/);
  } finally { p.close(); }
});

test('idle timeout: a peer that trickles bytes but never completes a message is closed', async () => {
  const p = await pair({ idleTimeoutMs: 400, keepAliveMs: 60_000 });
  try {
    p.remote.write(hs);
    await once(p.wire, 'handshake');
    // A 1000-byte message announced, then one byte every 50 ms: bytes, but no message.
    p.remote.write(Buffer.from([0, 0, 3, 232, 20]));
    const trickle = setInterval(() => p.remote.write(Buffer.from([0])), 50);
    try {
      const err = await closeReason(p.wire, 5000);
      assert.match(err.message, /no complete message from the peer/);
    } finally { clearInterval(trickle); }
  } finally { p.close(); }
});

test('idle timeout: complete messages (keep-alives) keep the connection open', async () => {
  const p = await pair({ idleTimeoutMs: 1000, keepAliveMs: 60_000 });
  try {
    p.remote.write(hs);
    await once(p.wire, 'handshake');
    const keepAlive = setInterval(() => p.remote.write(Buffer.alloc(4)), 50);
    let closed = false;
    p.wire.on('close', () => { closed = true; });
    await new Promise((r) => setTimeout(r, 2500)); // two and a half idle timeouts
    clearInterval(keepAlive);
    assert.equal(closed, false, 'open while keep-alives arrive');
    assert.match((await closeReason(p.wire, 5000)).message, /no complete message/, 'and closed once they stop');
  } finally { p.close(); }
});

test('keep-alive: with nothing to send for keepAliveMs, four zero bytes go out', async () => {
  const p = await pair({ keepAliveMs: 200, idleTimeoutMs: 60_000 });
  try {
    p.wire.sendHandshake(Buffer.alloc(20, 1), Buffer.alloc(20, 3), { fast: true, extended: true, dht: false });
    const received: Buffer[] = [];
    p.remote.on('data', (b: Buffer) => received.push(b));
    const deadline = Date.now() + 5000;
    while (Buffer.concat(received).length < hs.length + 4) {
      assert.ok(Date.now() < deadline, 'no keep-alive arrived');
      await new Promise((r) => setTimeout(r, 20));
    }
    const all = Buffer.concat(received);
    assert.deepEqual([...all.subarray(hs.length, hs.length + 4)], [0, 0, 0, 0]);
  } finally { p.close(); }
});
