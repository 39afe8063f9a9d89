import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FileLayout } from '../src/layout/file-layout.js';

// Files: a(10) | empty(0) | b(25) | pad(5) | c(8)  => 48 bytes, pieces of 16: 16,16,16
const files = [
  { offset: 0, length: 10, pad: false },
  { offset: 10, length: 0, pad: false },
  { offset: 10, length: 25, pad: false },
  { offset: 35, length: 5, pad: true },
  { offset: 40, length: 8, pad: false },
];
const layout = new FileLayout(files, 16);

test('piece count and the short last piece', () => {
  assert.equal(layout.totalLength, 48);
  assert.equal(layout.pieceCount, 3);
  assert.equal(new FileLayout([{ offset: 0, length: 40, pad: false }], 16).pieceSize(2), 8);
});

test('a piece spanning files maps to runs in each, skipping empty files', () => {
  assert.deepEqual(layout.pieceSegments(0).map((s) => [s.fileIndex, s.fileOffset, s.length, s.rangeOffset]), [[0, 0, 10, 0], [2, 0, 6, 10]]);
  assert.deepEqual(layout.pieceSegments(2).map((s) => [s.fileIndex, s.fileOffset, s.length, s.rangeOffset, s.pad]), [
    [2, 22, 3, 0, false], [3, 0, 5, 3, true], [4, 0, 8, 8, false],
  ]);
});

test('arbitrary ranges and the byte at each offset', () => {
  assert.equal(layout.fileAt(0), 0);
  assert.equal(layout.fileAt(10), 2);
  assert.equal(layout.fileAt(36), 3);
  assert.equal(layout.fileAt(47), 4);
  const segs = layout.segments(9, 3);
  assert.deepEqual(segs.map((s) => [s.fileIndex, s.fileOffset, s.length]), [[0, 9, 1], [2, 0, 2]]);
  assert.throws(() => layout.segments(40, 9), RangeError);
});

test('which pieces cover a file', () => {
  assert.deepEqual(layout.filePieces(0), { first: 0, last: 0 });
  assert.deepEqual(layout.filePieces(2), { first: 0, last: 2 });
  assert.equal(layout.filePieces(1), null);
  assert.deepEqual(layout.pieceFiles(2), [2, 4]);
});

test('segments cover every byte exactly once (exhaustive over small layouts)', () => {
  for (let trial = 0; trial < 200; trial++) {
    const n = 1 + (trial % 6);
    let offset = 0;
    const fs = Array.from({ length: n }, (_, i) => {
      const length = (trial * 7 + i * 13) % 23;
      const f = { offset, length, pad: false };
      offset += length;
      return f;
    });
    if (offset === 0) continue;
    const l = new FileLayout(fs, 1 + (trial % 9));
    let covered = 0;
    for (let p = 0; p < l.pieceCount; p++) {
      for (const s of l.pieceSegments(p)) {
        assert.equal(fs[s.fileIndex].offset + s.fileOffset, p * l.pieceLength + s.rangeOffset);
        covered += s.length;
      }
    }
    assert.equal(covered, offset);
  }
});
