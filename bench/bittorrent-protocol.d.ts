declare module 'bittorrent-protocol' {
  import { Duplex } from 'node:stream';
  export default class Protocol extends Duplex {
    handshake(infoHash: Buffer, peerId: Buffer): void;
  }
}
