// The parts of bittorrent-dht (untyped, ESM) that discovery/dht.ts uses.
declare module 'bittorrent-dht' {
  import { EventEmitter } from 'node:events';
  export interface DhtNodeAddress { host: string; port: number; id?: Uint8Array | string }
  export interface DhtOptions {
    bootstrap?: string[] | false;
    nodeId?: Uint8Array | string;
    host?: string | false;
    maxPeers?: number;
    timeBucketOutdated?: number;
    /** Handed through k-rpc to k-rpc-socket: the UDP socket to use instead of a new one. */
    socket?: import('node:dgram').Socket;
  }
  export class Client extends EventEmitter {
    constructor(opts?: DhtOptions);
    readonly listening: boolean;
    readonly ready: boolean;
    readonly nodeId: Uint8Array;
    listen(port: number, host: string, cb?: () => void): void;
    address(): { address: string; port: number; family: string };
    addNode(node: DhtNodeAddress): void;
    lookup(infoHash: Uint8Array | string, cb?: (err: Error | null, found?: number) => void): () => void;
    announce(infoHash: Uint8Array | string, port: number, cb?: (err: Error | null) => void): void;
    toJSON(): { nodes: DhtNodeAddress[] };
    destroy(cb?: () => void): void;
  }
  const DHT: typeof Client;
  export default DHT;
}
