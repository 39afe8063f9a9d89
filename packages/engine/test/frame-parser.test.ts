import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProtocolError } from '../src/errors.js';
import { FrameParser } from '../src/wire/frame-parser.js';
import { encodeBlockRef, encodeHandshake, encodeIndex, encodePieceHeader, encodeSimple, encodeWithPayload, KEEP_ALIVE, MessageId, type HandshakeInfo, type WireMessage } from '../src/wire/messages.js';

const infoHash = Buffer.alloc(20, 0xab);
const peerId = Buffer.from('-XX0000-123456789012');

function collect(max = 1 << 20) {
  const messages: WireMessage[] = [];
  const handshakes: HandshakeInfo[] = [];
  const parser = new FrameParser({ maxMessageLength: max, onHandshake: (h) => handshakes.push(h), onMessage: (m) => messages.push(m) });
  return { parser, messages, handshakes };
}

function stream(): Buffer {
  const block = Buffer.alloc(16384, 0x5a);
  return Buffer.concat([
    encodeHandshake(infoHash, peerId, { fast: true, extended: true, dht: false }),
    encodeWithPayload(MessageId.bitfield, Buffer.from([0xf0])),
    encodeSimple(MessageId.unchoke),
    KEEP_ALIVE,
    encodeIndex(MessageId.have, 7),
    encodeBlockRef(MessageId.request, { index: 1, begin: 16384, length: 16384 }),
    encodePieceHeader(2, 0, block.length), block,
    encodeWithPayload(MessageId.extended, Buffer.from('d1:v2:xxe'), 0),
    Buffer.from([0, 0, 0, 1, 99]), // unknown id: ignored, not fatal
  ]);
}

test('parses a whole stream in one chunk and byte by byte alike', () => {
  const data = stream();
  const whole = collect();
  whole.parser.push(data);
  for (const size of [1, 3, 7, 64, 1000]) {
    const pieces = collect();
    for (let i = 0; i < data.length; i += size) pieces.parser.push(data.subarray(i, i + size));
    assert.deepEqual(pieces.messages, whole.messages, `chunk size ${size}`);
  }
  assert.equal(whole.handshakes.length, 1);
  assert.ok(whole.handshakes[0].infoHash.equals(infoHash));
  assert.ok(whole.handshakes[0].fast && whole.handshakes[0].extended && !whole.handshakes[0].dht);
  assert.deepEqual(whole.messages.map((m) => m.type), ['bitfield', 'unchoke', 'keep-alive', 'have', 'request', 'piece', 'extended', 'unknown']);
  const piece = whole.messages[5] as Extract<WireMessage, { type: 'piece' }>;
  assert.equal(piece.block.length, 16384);
  assert.ok(piece.block.every((b) => b === 0x5a));
});

test('a 2 GiB length prefix is refused at once, without buffering', () => {
  const { parser } = collect(256 * 1024);
  parser.push(encodeHandshake(infoHash, peerId, { fast: false, extended: false, dht: false }));
  assert.throws(() => parser.push(Buffer.from([0x80, 0, 0, 0, 7])), (e: unknown) => e instanceof ProtocolError && /exceeds/.test(e.message));
  assert.equal(parser.buffered, 0);
});

test('garbage instead of a handshake is refused on the first byte', () => {
  const { parser } = collect();
  assert.throws(() => parser.push(Buffer.from('GET / HTTP/1.1\r\n')), /not a BitTorrent handshake/);
});

test('messages whose size does not fit their id are refused', () => {
  for (const bad of [
    Buffer.from([0, 0, 0, 2, MessageId.choke, 0]),
    Buffer.from([0, 0, 0, 4, MessageId.have, 0, 0, 1]),
    Buffer.from([0, 0, 0, 5, MessageId.request, 0, 0, 0, 1]),
    Buffer.from([0, 0, 0, 8, MessageId.piece, 0, 0, 0, 1, 0, 0, 0]),
    Buffer.from([0, 0, 0, 1, MessageId.extended]),
  ]) {
    const { parser } = collect();
    parser.push(encodeHandshake(infoHash, peerId, { fast: false, extended: false, dht: false }));
    assert.throws(() => parser.push(bad), /invalid length/, bad.toString('hex'));
  }
});

test('after an error further input is ignored', () => {
  const { parser, messages } = collect();
  parser.push(encodeHandshake(infoHash, peerId, { fast: false, extended: false, dht: false }));
  assert.throws(() => parser.push(Buffer.from([0, 0, 0, 2, 0, 0])));
  parser.push(encodeSimple(MessageId.unchoke));
  assert.equal(messages.length, 0);
});

// The shared read buffer is overwritten by the next read: whatever the parser keeps between
// pushes must be its own copy, or messages split across reads come out corrupted.
test('transient chunks: leftovers are copied before the caller reuses the memory', () => {
  const data = stream();
  const expected = collect();
  expected.parser.push(data);
  for (const size of [5, 100, 16000, 20000, 65536]) {
    const got = collect();
    const shared = Buffer.alloc(size);
    const blocks: Buffer[] = [];
    const parser = new FrameParser({
      maxMessageLength: 1 << 20,
      onHandshake: () => undefined,
      onMessage: (m) => {
        got.messages.push(m);
        if (m.type === 'piece') blocks.push(Buffer.from(m.block)); // consumers copy what they keep
      },
    });
    for (let i = 0; i < data.length; i += size) {
      const n = Math.min(size, data.length - i);
      data.copy(shared, 0, i, i + n);
      parser.push(shared.subarray(0, n), true);
      shared.fill(0xee); // the next read overwrites it
    }
    assert.deepEqual(got.messages.map((m) => m.type), expected.messages.map((m) => m.type), `chunk size ${size}`);
    assert.equal(blocks.length, 1);
    assert.ok(blocks[0].every((b) => b === 0x5a), `piece payload intact with chunk size ${size}`);
  }
});

// Regression (issue 10): a message arriving one byte at a time re-copied everything received so far
// on every push (256 KiB fed byte by byte took 4 s of CPU). Now its body is allocated once at its
// final size and filled as bytes come: the number of allocations does not grow with the chunks.
test('a 256 KiB message fed one byte at a time is assembled in one buffer (linear, not quadratic)', () => {
  const body = Buffer.alloc(256 * 1024, 0x42);
  const data = Buffer.concat([encodeHandshake(infoHash, peerId, { fast: true, extended: true, dht: false }), encodePieceHeader(0, 0, body.length), body]);
  for (const transient of [true, false]) {
    const { parser, messages } = collect();
    const realAlloc = Buffer.allocUnsafe;
    let allocations = 0;
    Buffer.allocUnsafe = ((n: number) => { allocations++; return realAlloc(n); }) as typeof Buffer.allocUnsafe;
    try {
      for (let i = 0; i < data.length; i++) parser.push(data.subarray(i, i + 1), transient);
    } finally {
      Buffer.allocUnsafe = realAlloc;
    }
    assert.equal(messages.length, 1);
    const m = messages[0];
    assert.ok(m.type === 'piece' && m.block.length === body.length && m.block.every((b) => b === 0x42));
    assert.ok(allocations <= 4, `${allocations} allocations (transient: ${transient})`);
    assert.equal(parser.buffered, 0);
  }
});
