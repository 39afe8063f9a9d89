/**
 * A file of a torrent as a Node Readable, for code that pipes (HTTP responses, stdout, hashing).
 * It owns one FileReader, so it has its own readahead window; destroying the stream aborts the
 * pending read (releasing its deadlines) and closes the reader.
 */
import { Readable } from 'node:stream';
import { UsageError } from '../errors.js';
import type { FileReader } from './file-reader.js';

export interface FileReadStreamOptions {
  /** First byte, default 0. */
  start?: number;
  /** Last byte, inclusive (as in fs.createReadStream); default the end of the file. */
  end?: number;
  /** Bytes per read; 256 KiB by default (two FUSE-sized reads, one HTTP socket write). */
  chunkSize?: number;
}

export function createFileReadStream(reader: FileReader, fileLength: number, opts: FileReadStreamOptions = {}): Readable {
  const start = opts.start ?? 0;
  const last = Math.min(opts.end ?? fileLength - 1, fileLength - 1);
  const chunk = opts.chunkSize ?? 256 * 1024;
  if (!Number.isInteger(start) || start < 0 || !Number.isInteger(last) || !(chunk > 0)) {
    reader.close();
    throw new UsageError(`invalid stream range start=${opts.start} end=${opts.end}`);
  }
  const abort = new AbortController();
  let pos = start;
  return new Readable({
    highWaterMark: chunk,
    read(this: Readable) {
      if (pos > last) {
        this.push(null);
        return;
      }
      const length = Math.min(chunk, last + 1 - pos);
      reader.read(pos, length, { signal: abort.signal }).then(
        (bytes) => {
          pos += bytes.length;
          this.push(bytes);
        },
        (err: Error) => this.destroy(err),
      );
    },
    destroy(err, callback) {
      abort.abort();
      reader.close();
      callback(err);
    },
  });
}
