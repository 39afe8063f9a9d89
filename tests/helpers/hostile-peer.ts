/**
 * A misbehaving BitTorrent peer for tests (libtorrent verifies what it serves, even in seed mode,
 * so it cannot play this part). It listens on its own loopback address, completes a normal
 * handshake, then misbehaves in one chosen way, and records what the client did to it.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { LoopbackServer } from './loopback-server.js';

export type HostileMode =
  | 'corrupt' // claims every piece, unchokes, answers every request with random bytes
  | 'huge-length' // sends a 2 GiB length prefix
  | 'garbage' // sends random bytes after the handshake
  | 'bad-bitfield' // sends a bitfield one byte too long
  | 'silent'; // claims every piece, unchokes, never answers a request

export class HostilePeer extends LoopbackServer {
  /** Connections the client opened, and how many of them it closed on us. */
  connections = 0;
  closedByClient = 0;
  requestsReceived = 0;
  blocksSent = 0;

  constructor(readonly mode: HostileMode, readonly infoHash: Buffer, readonly pieceCount: number, host = '127.0.0.2') {
    super(host);
  }

  protected onConnection(socket: Socket): void {
    this.connections++;
    socket.on('close', () => { if (!this.closing) this.closedByClient++; });
    // Parse the client's messages only as far as needed to answer requests.
    this.readMessages(socket, () => this.afterHandshake(socket), (msg) => {
      if (msg.length === 13 && msg[0] === 6) this.onRequest(socket, msg.readUInt32BE(1), msg.readUInt32BE(5), msg.readUInt32BE(9));
    });
  }

  private afterHandshake(socket: Socket): void {
    const hs = Buffer.alloc(68);
    hs[0] = 19;
    hs.write('BitTorrent protocol', 1, 'latin1');
    this.infoHash.copy(hs, 28);
    randomBytes(20).copy(hs, 48);
    socket.write(hs);
    const fullBitfield = (extra = 0) => {
      const bytes = Buffer.alloc(Math.ceil(this.pieceCount / 8) + extra, 0);
      for (let i = 0; i < this.pieceCount; i++) bytes[i >> 3] |= 0x80 >> (i & 7);
      const head = Buffer.alloc(5);
      head.writeUInt32BE(1 + bytes.length, 0);
      head[4] = 5;
      return Buffer.concat([head, bytes]);
    };
    const unchoke = Buffer.from([0, 0, 0, 1, 1]);
    switch (this.mode) {
      case 'corrupt':
      case 'silent':
        socket.write(Buffer.concat([fullBitfield(), unchoke]));
        break;
      case 'huge-length':
        socket.write(Buffer.from([0x7f, 0xff, 0xff, 0xff, 7, 0, 0, 0, 0]));
        break;
      case 'garbage':
        socket.write(randomBytes(4096));
        break;
      case 'bad-bitfield':
        socket.write(fullBitfield(1));
        break;
    }
  }

  private onRequest(socket: Socket, index: number, begin: number, length: number): void {
    this.requestsReceived++;
    if (this.mode !== 'corrupt') return;
    const head = Buffer.alloc(13);
    head.writeUInt32BE(9 + length, 0);
    head[4] = 7;
    head.writeUInt32BE(index, 5);
    head.writeUInt32BE(begin, 9);
    socket.write(Buffer.concat([head, randomBytes(length)]));
    this.blocksSent++;
  }
}
