/**
 * The download's budget of open pieces: bytes of buffers, bounded in count. Pins the 16 KiB-piece
 * memory bug: 48 MiB (then the default) of 16 KiB pieces let 3,072 pieces be open at once (210-230 MiB peak RSS).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_PIECE_BUFFER_BYTES, MAX_OPEN_PIECES, openPieceBudget } from '../src/torrent/torrent-parts.js';

const KiB = 1024;
const MiB = 1024 * KiB;

test('1 MiB pieces: the byte budget decides (32 pieces)', () => {
  assert.equal(openPieceBudget(DEFAULT_PIECE_BUFFER_BYTES, MiB), 32);
});

test('16 KiB pieces: at most MAX_OPEN_PIECES open, not 3,072', () => {
  assert.equal(MAX_OPEN_PIECES, 512);
  assert.equal(openPieceBudget(DEFAULT_PIECE_BUFFER_BYTES, 16 * KiB), MAX_OPEN_PIECES);
});

test('16 MiB pieces: never fewer than 4 open, even beyond the byte budget', () => {
  assert.equal(openPieceBudget(DEFAULT_PIECE_BUFFER_BYTES, 16 * MiB), 4);
  assert.equal(openPieceBudget(8 * MiB, 4 * MiB), 4);
});
