/**
 * Block-level state of one piece that is being downloaded. Exists only while a piece is partial,
 * so memory scales with pieces in flight, not with torrent size.
 */

export const enum BlockState { Free = 0, Requested = 1, Received = 2 }

export class PartialPiece {
  readonly state: Uint8Array;
  /** Outstanding requests per block: more than one only in endgame. */
  readonly requests: Uint8Array;
  /** Which peer delivered each block, to blame the right peers when the hash fails. */
  readonly contributors: (string | undefined)[];
  /**
   * Blocks being received in place into the piece's buffer (see FrameParser): no second copy
   * may be requested while one lands, or two peers would write the same memory.
   */
  readonly landing: Uint8Array;
  received = 0;
  requested = 0;

  constructor(readonly index: number, readonly blockCount: number) {
    this.state = new Uint8Array(blockCount);
    this.requests = new Uint8Array(blockCount);
    this.contributors = new Array(blockCount);
    this.landing = new Uint8Array(blockCount);
  }

  get complete(): boolean {
    return this.received === this.blockCount;
  }

  /** Blocks neither received nor requested. */
  get free(): number {
    return this.blockCount - this.received - this.requested;
  }

  reset(): void {
    this.state.fill(BlockState.Free);
    this.requests.fill(0);
    this.contributors.fill(undefined);
    this.landing.fill(0);
    this.received = 0;
    this.requested = 0;
  }
}
