// Reads files given on the command line (one after another, whole) and prints "sha1 path" for each:
// a reader process of its own, so a test never reads a FUSE mount served by its own event loop.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
for (const f of process.argv.slice(2)) {
  try {
    process.stdout.write(`${createHash('sha1').update(await readFile(f)).digest('hex')} ${f}\n`);
  } catch (err) {
    process.stdout.write(`ERROR:${err.code ?? err.message} ${f}\n`);
  }
}
