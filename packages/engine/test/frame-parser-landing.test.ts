/**
 * Blocks landing in place (FrameParser.pieceTarget/readTarget): the payload of a piece message
 * goes straight into its target, read directly or copied once; an aborted landing never touches
 * the target again; without a target the usual path runs.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { FrameParser } from '../src/wire/frame-parser.js';
import { encodeHandshake, encodeIndex, encodePieceHeader, MessageId, type WireMessage } from '../src/wire/messages.js';

const hs = encodeHandshake(Buffer.alloc(20, 1), Buffer.alloc(20, 2), { fast: true, extended: true, dht: false });

function parser(target: (i: number, b: number, len: number) => Buffer | undefined) {
  const messages: WireMessage[] = [];
  const p = new FrameParser({ maxMessageLength: 1 << 20, onHandshake: () => undefined, onMessage: (m) => messages.push(m), pieceTarget: target });
  p.push(hs);
  return { p, messages };
}

/** Feeds `bytes` the way a socket with a chosen read buffer would: into readTarget() when it names one. */
function feed(p: FrameParser, bytes: Buffer, readSize = 4096): { direct: number } {
  let pos = 0;
  let direct = 0;
  while (pos < bytes.length) {
    const into = p.readTarget();
    if (into) {
      const n = Math.min(into.length, readSize, bytes.length - pos);
      bytes.copy(into, 0, pos, pos + n);
      p.push(into.subarray(0, n), true);
      direct += n;
      pos += n;
    } else {
      const n = Math.min(readSize, bytes.length - pos);
      p.push(Buffer.from(bytes.subarray(pos, pos + n)), true);
      pos += n;
    }
  }
  return { direct };
}

test('a block lands in its target: the message\'s block is the target, with the right bytes; the next heads are read alone', () => {
  const piece = Buffer.alloc(4 * 16384);
  const blocks = [0, 1, 2, 3].map(() => randomBytes(16384));
  const { p, messages } = parser((i, b, len) => (i === 7 ? piece.subarray(b, b + len) : undefined));
  const wire = Buffer.concat(blocks.flatMap((blk, k) => [encodePieceHeader(7, k * 16384, 16384), blk]));
  const { direct } = feed(p, wire);
  assert.equal(messages.length, 4);
  for (const [k, m] of messages.entries()) {
    assert.equal(m.type, 'piece');
    if (m.type !== 'piece') continue;
    assert.equal(m.block.buffer, piece.buffer, 'the block is a view of the target');
    assert.equal(m.block.byteOffset, piece.byteOffset + k * 16384);
    assert.ok(m.block.equals(blocks[k]));
  }
  assert.ok(piece.equals(Buffer.concat(blocks)));
  assert.ok(direct > 3 * 16384, `most of the payload was read in place (${direct} bytes)`);
});

test('after a block, a message that is not a piece goes the usual way and reads return to the shared buffer', () => {
  const piece = Buffer.alloc(16384);
  const { p, messages } = parser((_i, b, len) => piece.subarray(b, b + len));
  feed(p, Buffer.concat([encodePieceHeader(0, 0, 16384), randomBytes(16384), encodeIndex(MessageId.have, 3), encodeIndex(MessageId.have, 4)]));
  assert.deepEqual(messages.map((m) => m.type), ['piece', 'have', 'have']);
  assert.equal(p.readTarget(), undefined);
});

test('an aborted landing never writes to its target again; the message still completes (as bytes elsewhere)', () => {
  const piece = Buffer.alloc(16384, 0xee);
  const { p, messages } = parser((_i, b, len) => piece.subarray(b, b + len));
  const block = randomBytes(16384);
  p.push(Buffer.concat([encodePieceHeader(0, 0, 16384), block.subarray(0, 1000)]));
  assert.ok(piece.subarray(0, 1000).equals(block.subarray(0, 1000)), 'the first bytes landed');
  p.abortLanding();
  const rest = p.readTarget();
  assert.ok(rest && rest.buffer !== piece.buffer, 'the rest is read into scratch memory');
  p.push(Buffer.from(block.subarray(1000)));
  assert.ok(piece.subarray(1000).every((b) => b === 0xee), 'the target was not touched after the abort');
  assert.equal(messages.length, 1);
  const m = messages[0];
  assert.ok(m.type === 'piece' && m.block.buffer !== piece.buffer);
});

test('without a target (or a wrong-sized one) the payload is parsed the usual way', () => {
  for (const target of [() => undefined, () => Buffer.alloc(10)]) {
    const { p, messages } = parser(target);
    const block = randomBytes(16384);
    feed(p, Buffer.concat([encodePieceHeader(1, 0, 16384), block]), 1000);
    assert.equal(messages.length, 1);
    const m = messages[0];
    assert.ok(m.type === 'piece' && m.block.equals(block));
  }
});
