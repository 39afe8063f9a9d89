// The parts of ut_metadata 4 (untyped, ESM; a bittorrent-protocol extension) that
// peer/metadata-exchange.ts drives through its own small wire adapter.
declare module 'ut_metadata' {
  import { EventEmitter } from 'node:events';
  export interface MetadataWire {
    extendedHandshake: Record<string, unknown>;
    extended(name: string, payload: Buffer): void;
  }
  export interface UtMetadata extends EventEmitter {
    metadata?: Buffer;
    onHandshake(infoHashHex: string, peerIdHex: string, extensions: Record<string, boolean>): void;
    onExtendedHandshake(handshake: Record<string, unknown>): void;
    onMessage(payload: Buffer): void;
    fetch(): void;
    cancel(): void;
  }
  export type UtMetadataClass = new (wire: MetadataWire) => UtMetadata;
  export default function utMetadata(metadata?: Buffer): UtMetadataClass;
}
