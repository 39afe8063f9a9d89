/**
 * A fixed-size bit set in BitTorrent's wire order (bit 0 is the high bit of byte 0). Sized once:
 * a peer cannot grow it, which is what makes a hostile bitfield harmless.
 */
export class Bitfield {
  readonly bytes: Uint8Array;
  private setCount = 0;

  constructor(readonly length: number, bytes?: Uint8Array) {
    this.bytes = new Uint8Array(Math.ceil(length / 8));
    if (bytes) {
      this.bytes.set(bytes.subarray(0, this.bytes.length));
      // Spare bits past `length` are cleared so counts and equality stay exact.
      const spare = this.bytes.length * 8 - length;
      if (spare > 0) this.bytes[this.bytes.length - 1] &= 0xff << spare;
      for (const b of this.bytes) this.setCount += popcount(b);
    }
  }

  /** True when `bytes` is exactly the wire form of a `length`-bit field (right size, spare bits 0). */
  static isValidWire(bytes: Uint8Array, length: number): boolean {
    if (bytes.length !== Math.ceil(length / 8)) return false;
    const spare = bytes.length * 8 - length;
    return spare === 0 || (bytes[bytes.length - 1] & ((1 << spare) - 1)) === 0;
  }

  static full(length: number): Bitfield {
    const b = new Bitfield(length);
    for (let i = 0; i < length; i++) b.set(i);
    return b;
  }

  get(i: number): boolean {
    return (this.bytes[i >> 3] & (0x80 >> (i & 7))) !== 0;
  }

  set(i: number): void {
    if (i < 0 || i >= this.length) return;
    const mask = 0x80 >> (i & 7);
    if ((this.bytes[i >> 3] & mask) === 0) {
      this.bytes[i >> 3] |= mask;
      this.setCount++;
    }
  }

  clear(i: number): void {
    const mask = 0x80 >> (i & 7);
    if ((this.bytes[i >> 3] & mask) !== 0) {
      this.bytes[i >> 3] &= ~mask;
      this.setCount--;
    }
  }

  get count(): number {
    return this.setCount;
  }

  get complete(): boolean {
    return this.setCount === this.length;
  }
}

function popcount(b: number): number {
  let n = 0;
  for (; b; b &= b - 1) n++;
  return n;
}
