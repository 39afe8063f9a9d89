/**
 * Typed errors. Every failure a user or an embedding program can act on is a `CtError` with a
 * stable `code`, so callers branch on `err.code` instead of parsing messages, and the CLI can
 * print one clean line instead of a stack trace.
 */

export type CtErrorCode =
  | 'EMETAINFO' // a .torrent file is malformed or violates the spec
  | 'EBENCODE' // bytes are not valid bencoding
  | 'EPATH' // a file path in a torrent is unsafe and could not be neutralised
  | 'EPROTOCOL' // a peer broke the wire protocol
  | 'EPEER_BANNED' // a peer was banned for sending bad data
  | 'EPEER_GONE' // a peer closed or reset the connection
  | 'EPEER_EVICTED' // a peer was disconnected to make room (idle, useless, over a limit)
  | 'ENO_PEERS' // no peer could be reached in time
  | 'ESTORAGE' // disk IO failed (full disk, permissions, ...)
  | 'EADDRESS' // a host:port string is invalid
  | 'ECLOSED' // the torrent or session was closed while an operation was pending
  | 'EMOUNT' // a FUSE mount could not be made or removed (mount point in use, no FUSE, ...)
  | 'ETRACKER' // a tracker failed, refused us or answered nonsense
  | 'EMAGNET' // a magnet link is malformed
  | 'EMETADATA' // metadata from peers was refused (wrong hash, oversized, lying about its size)
  | 'EHASHER' // a hash could not be computed (a hash lane failed, the pool closed): says nothing of the data
  | 'ETIMEOUT' // a peer or operation exceeded its time limit
  | 'ESERVICE' // a running `ct serve` could not be reached, or refused a request
  | 'EUSAGE'; // a caller passed invalid arguments

export class CtError extends Error {
  readonly code: CtErrorCode;
  constructor(code: CtErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

export class MetainfoError extends CtError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EMETAINFO', message, options);
  }
}

export class BencodeError extends CtError {
  /** Byte offset in the input where the problem was found. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super('EBENCODE', `${message} at byte ${offset}`);
    this.offset = offset;
  }
}

export class ProtocolError extends CtError {
  constructor(message: string) {
    super('EPROTOCOL', message);
  }
}

export class StorageError extends CtError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ESTORAGE', message, options);
  }
}

export class AddressError extends CtError {
  constructor(message: string) {
    super('EADDRESS', message);
  }
}

export class ClosedError extends CtError {
  constructor(message = 'torrent closed') {
    super('ECLOSED', message);
  }
}

export class UsageError extends CtError {
  constructor(message: string) {
    super('EUSAGE', message);
  }
}

export function isCtError(err: unknown): err is CtError {
  return err instanceof CtError;
}

export class MountError extends CtError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EMOUNT', message, options);
  }
}

export class TrackerError extends CtError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ETRACKER', message, options);
  }
}

export class MagnetError extends CtError {
  constructor(message: string) {
    super('EMAGNET', message);
  }
}

export class HasherError extends CtError {
  constructor(message: string) {
    super('EHASHER', message);
  }
}
