/**
 * Strict bencode. The `bencode` package decodes leniently: it accepts trailing garbage, leading
 * zeros, truncated input in places, and silently rounds integers beyond 2^53. A .torrent is
 * hostile input, so we first walk the bytes ourselves and reject anything that is not exactly one
 * canonical value; only then is the package asked to decode. The same walk gives the byte span of
 * a dictionary entry, which the infohash needs (it is the SHA-1 of the raw `info` bytes, not of a
 * re-encoding that might differ from the original).
 */
import bencode from 'bencode';
import { BencodeError } from '../errors.js';

/**
 * A decoded bencode value (strings stay bytes). Declared here, not taken from the untyped
 * `bencode` package's private declaration: the published .d.ts files must stand on their own.
 */
export type BencodeValue = number | Uint8Array | BencodeValue[] | { [key: string]: BencodeValue };

/** Deep nesting blows the recursive decoder's stack; no real torrent nests beyond a handful. */
const MAX_DEPTH = 64;

const I = 0x69, L = 0x6c, D = 0x64, E = 0x65, COLON = 0x3a, MINUS = 0x2d, ZERO = 0x30, NINE = 0x39;

interface Span { start: number; end: number }

/** Walks one value starting at `pos` and returns the index just past it. Throws on any defect. */
function skipValue(buf: Uint8Array, pos: number, depth: number): number {
  if (depth > MAX_DEPTH) throw new BencodeError('nesting too deep', pos);
  if (pos >= buf.length) throw new BencodeError('unexpected end of data', pos);
  const c = buf[pos];
  if (c === I) return skipInteger(buf, pos);
  if (c >= ZERO && c <= NINE) return skipString(buf, pos).end;
  if (c === L) {
    let p = pos + 1;
    while (true) {
      if (p >= buf.length) throw new BencodeError('unterminated list', pos);
      if (buf[p] === E) return p + 1;
      p = skipValue(buf, p, depth + 1);
    }
  }
  if (c === D) {
    let p = pos + 1;
    while (true) {
      if (p >= buf.length) throw new BencodeError('unterminated dictionary', pos);
      if (buf[p] === E) return p + 1;
      if (buf[p] < ZERO || buf[p] > NINE) throw new BencodeError('dictionary key is not a string', p);
      p = skipValue(buf, skipString(buf, p).end, depth + 1);
    }
  }
  throw new BencodeError(`unexpected byte 0x${c.toString(16).padStart(2, '0')}`, pos);
}

function skipInteger(buf: Uint8Array, pos: number): number {
  let p = pos + 1;
  const digitsStart = buf[p] === MINUS ? p + 1 : p;
  p = digitsStart;
  while (p < buf.length && buf[p] >= ZERO && buf[p] <= NINE) p++;
  if (p >= buf.length || buf[p] !== E) throw new BencodeError('malformed integer', pos);
  const digits = p - digitsStart;
  if (digits === 0) throw new BencodeError('integer without digits', pos);
  if (buf[digitsStart] === ZERO && (digits > 1 || digitsStart !== pos + 1)) {
    throw new BencodeError('integer with leading zero or negative zero', pos);
  }
  const text = Buffer.from(buf.buffer, buf.byteOffset + pos + 1, p - pos - 1).toString('latin1');
  if (!Number.isSafeInteger(Number(text))) throw new BencodeError('integer out of range', pos);
  return p + 1;
}

function skipString(buf: Uint8Array, pos: number): { dataStart: number; end: number } {
  let p = pos;
  let len = 0;
  while (p < buf.length && buf[p] >= ZERO && buf[p] <= NINE) {
    len = len * 10 + (buf[p] - ZERO);
    if (len > buf.length) throw new BencodeError('string length exceeds data', pos);
    p++;
  }
  if (p >= buf.length || buf[p] !== COLON) throw new BencodeError('string length without ":"', pos);
  if (buf[pos] === ZERO && p - pos > 1) throw new BencodeError('string length with leading zero', pos);
  const dataStart = p + 1;
  const end = dataStart + len;
  if (end > buf.length) throw new BencodeError('string runs past end of data', pos);
  return { dataStart, end };
}

/** Throws a BencodeError unless `buf` holds exactly one well-formed, canonical value. */
export function checkBencode(buf: Uint8Array): void {
  const end = skipValue(buf, 0, 0);
  if (end !== buf.length) throw new BencodeError('trailing data after value', end);
}

/**
 * Checks that `buf` starts with one well-formed value and returns where it ends (messages such as
 * ut_metadata's data carry raw bytes after their dictionary).
 */
export function checkBencodePrefix(buf: Uint8Array): number {
  return skipValue(buf, 0, 0);
}

/** Strictly validates, then decodes. */
export function decodeStrict(buf: Uint8Array): BencodeValue {
  checkBencode(buf);
  return bencode.decode(buf) as BencodeValue;
}

/**
 * Byte span of the value stored under `key` in the top-level dictionary of `buf`, or undefined.
 * `buf` must already have passed checkBencode.
 */
export function topLevelValueSpan(buf: Uint8Array, key: string): Span | undefined {
  if (buf[0] !== D) return undefined;
  let found: Span | undefined;
  // Walk only the top level: nested dictionaries are skipped without a key callback.
  let p = 1;
  while (p < buf.length && buf[p] !== E) {
    const k = skipString(buf, p);
    const start = k.end;
    p = skipValue(buf, start, 1);
    const name = Buffer.from(buf.buffer, buf.byteOffset + k.dataStart, k.end - k.dataStart).toString('latin1');
    if (name === key && !found) found = { start, end: p };
  }
  return found;
}

export function encode(value: unknown): Buffer {
  const out = bencode.encode(value);
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}
