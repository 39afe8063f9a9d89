/**
 * What a peer's protocol logic needs from its connection: send messages, hear messages, drain
 * and close, know the write backlog. PeerWire is the real one (a TCP socket); unit tests drive
 * PeerSession and Torrent through a recording fake, with no sockets and no processes.
 */
import type { BlockRef, HandshakeInfo, WireMessage } from './messages.js';

export interface PeerConnectionEvents {
  handshake: [HandshakeInfo];
  message: [WireMessage];
  /** Emitted once, with why: ours (a CtError passed to destroy()) or the peer's. */
  close: [Error];
  /** The send buffer drained: uploads may continue. */
  drain: [];
}

export interface PeerConnection {
  on<E extends keyof PeerConnectionEvents>(event: E, listener: (...args: PeerConnectionEvents[E]) => void): unknown;
  /** When the last complete message (or the handshake) arrived. */
  readonly lastMessageAt: number;
  /** Bytes queued for sending but not yet handed to the kernel: the upload backlog. */
  readonly writeBacklog: number;
  readonly isClosed: boolean;
  choke(): void;
  unchoke(): void;
  interested(): void;
  notInterested(): void;
  have(index: number): void;
  haveAll(): void;
  haveNone(): void;
  bitfield(bytes: Uint8Array): void;
  request(ref: BlockRef): void;
  cancel(ref: BlockRef): void;
  reject(ref: BlockRef): void;
  extended(id: number, payload: Uint8Array): void;
  /** Sends a block; `taken` runs once its bytes are no longer needed (sent, or the connection gone). */
  piece(index: number, begin: number, block: Buffer, taken?: () => void): void;
  /** Closes the connection; `reason` reaches the `close` event. */
  destroy(reason?: Error): void;
  /** Optional: lets a piece payload land in place (PeerWire; see FrameParser). */
  setPieceTarget?(fn: ((index: number, begin: number, length: number) => Buffer | undefined) | undefined): void;
  /** Optional: the landing block's request was given up; its remaining bytes go elsewhere. */
  abortLanding?(): void;
  /** Optional: `meter` hears the size of every read from the socket (rate limits charge it). */
  setReadMeter?(meter: ((bytes: number) => void) | undefined): void;
  /** Optional: stop reading the socket (TCP then slows the sender) / read again. */
  pauseReads?(): void;
  resumeReads?(): void;
}
