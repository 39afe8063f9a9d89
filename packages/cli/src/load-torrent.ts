/** Reads and parses a .torrent file given on the command line, with one-line errors. */
import { readFile } from 'node:fs/promises';
import { MetainfoError, UsageError, parseMetainfo, type Metainfo } from '@ct/engine';

export async function loadTorrentFile(file: string): Promise<Metainfo> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'ENOENT' ? `no such file: ${file}` : `cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return parseMetainfo(data);
  } catch (err) {
    if (err instanceof MetainfoError) throw new MetainfoError(`${file}: ${err.message}`);
    throw err;
  }
}

