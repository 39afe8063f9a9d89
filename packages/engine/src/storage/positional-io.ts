/**
 * Positional reads and writes that finish the job (short writes and reads are continued), with
 * callback-style fs calls: 10-35% faster than FileHandle promises on the hot path (see DESIGN.md).
 */
import * as fs from 'node:fs';
import { cachedReader } from './cached-read.js';

export const writeAt = (fd: number, buf: Buffer, off: number, len: number, pos: number) =>
  new Promise<void>((resolve, reject) => {
    const loop = (o: number, l: number, p: number): void => {
      fs.write(fd, buf, o, l, p, (err, written) => {
        if (err) return reject(err);
        if (written < l) return loop(o + written, l - written, p + written);
        resolve();
      });
    };
    loop(off, len, pos);
  });

export const readAt = (fd: number, buf: Buffer, off: number, len: number, pos: number) =>
  new Promise<number>((resolve, reject) => {
    let total = 0;
    const loop = (): void => {
      fs.read(fd, buf, off + total, len - total, pos + total, (err, n) => {
        if (err) return reject(err);
        total += n;
        if (n === 0 || total === len) return resolve(total);
        loop();
      });
    };
    loop();
  });

/**
 * readAt, except that what the page cache holds is copied at once on this thread (cached-read.ts)
 * and only the rest goes through the libuv pool. For reads of pieces (FUSE reads, uploads), not
 * for bulk reads that are better spread over the pool's threads.
 */
export function readAtCachedFirst(fd: number, buf: Buffer, off: number, len: number, pos: number): Promise<number> {
  const n = len > 0 && cachedReader ? cachedReader.readCached(fd, buf.subarray(off, off + len), pos) : -1;
  if (n === len) return Promise.resolve(n);
  if (n <= 0) return readAt(fd, buf, off, len, pos);
  return readAt(fd, buf, off + n, len - n, pos + n).then((m) => n + m);
}

export function openFd(file: string, flags: number): Promise<number> {
  return new Promise((resolve, reject) => fs.open(file, flags, 0o644, (err, fd) => (err ? reject(err) : resolve(fd))));
}

/** `bufs` written back to back from `pos`, in as few pwritev calls as the kernel allows. */
export const writevAt = (fd: number, bufs: readonly Buffer[], pos: number) =>
  new Promise<void>((resolve, reject) => {
    const loop = (rest: Buffer[], p: number): void => {
      fs.writev(fd, rest, p, (err, written) => {
        if (err) return reject(err);
        let left = written;
        let i = 0;
        while (i < rest.length && left >= rest[i].length) left -= rest[i++].length;
        if (i === rest.length) return resolve();
        // A short write: go on from where it stopped.
        loop([rest[i].subarray(left), ...rest.slice(i + 1)], p + written);
      });
    };
    loop([...bufs], pos);
  });
