/**
 * A peer that offers a torrent's metadata over ut_metadata (BEP 9) and lies about it: random
 * bytes of the right size (they cannot hash to the infohash), a size far over any sane limit, or
 * data messages for a negative piece (which threw a RangeError inside the ut_metadata package).
 * It records which metadata pieces the client asked for.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { bencodeEncode } from '@ct/engine';
import { LoopbackServer } from './loopback-server.js';

export type LieMode = 'wrong-hash' | 'oversized' | 'malformed';

/** Our ut_metadata id, the one the client must use when it writes to us. */
const OUR_ID = 3;

export class MetadataLiar extends LoopbackServer {
  requests = 0;

  constructor(readonly mode: LieMode, readonly infoHash: Buffer, readonly realSize: number, host: string) {
    super(host);
  }

  private send(socket: Socket, id: number, payload: Buffer, extId?: number): void {
    const head = Buffer.alloc(extId === undefined ? 5 : 6);
    head.writeUInt32BE(head.length - 4 + payload.length, 0);
    head[4] = id;
    if (extId !== undefined) head[5] = extId;
    socket.write(Buffer.concat([head, payload]));
  }

  protected onConnection(socket: Socket): void {
    let theirId = 0;
    const size = this.mode === 'oversized' ? 64 * 1024 * 1024 : this.realSize;
    this.readMessages(socket, () => {
      const hs = Buffer.alloc(68);
      hs[0] = 19;
      hs.write('BitTorrent protocol', 1, 'latin1');
      hs[25] |= 0x10; // extension protocol
      this.infoHash.copy(hs, 28);
      randomBytes(20).copy(hs, 48);
      socket.write(hs);
      this.send(socket, 20, bencodeEncode({ m: { ut_metadata: OUR_ID }, metadata_size: size, v: 'liar' }), 0);
    }, (msg) => {
      if (msg[0] !== 20) return;
      const payload = msg.subarray(2);
      if (msg[1] === 0) {
        const m = /ut_metadatai(\d+)e/.exec(payload.toString('latin1'));
        theirId = m ? Number(m[1]) : 0;
        return;
      }
      if (msg[1] !== OUR_ID || !theirId) return;
      const piece = Number(/5:piecei(\d+)e/.exec(payload.toString('latin1'))?.[1] ?? -1);
      if (piece < 0) return;
      this.requests++;
      if (this.mode === 'malformed') {
        this.send(socket, 20, Buffer.from('d8:msg_typei1e5:piecei-1eeX'), theirId);
        return;
      }
      const length = Math.min(16384, size - piece * 16384);
      const head = bencodeEncode({ msg_type: 1, piece, total_size: size });
      this.send(socket, 20, Buffer.concat([head, randomBytes(Math.max(0, length))]), theirId);
    });
  }
}
