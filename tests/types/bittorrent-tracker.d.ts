// The parts of bittorrent-tracker's server (untyped, ESM) that the tracker tests run.
declare module 'bittorrent-tracker' {
  import { EventEmitter } from 'node:events';
  export interface ServerOptions { udp?: boolean; http?: boolean; ws?: boolean; stats?: boolean; interval?: number }
  export class Server extends EventEmitter {
    constructor(opts?: ServerOptions);
    /** Swarms by hex infohash. */
    torrents: Record<string, unknown>;
    listen(port: number, hostname: { http?: string; udp?: string; udp6?: string } | string, onListening?: () => void): void;
    close(cb?: () => void): void;
  }
}
