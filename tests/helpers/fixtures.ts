/**
 * Test content: a multi-file tree with everything that tends to break a client (unicode names,
 * 0-byte files, nested folders, files smaller than a piece so pieces span file boundaries, a last
 * piece shorter than the rest), plus directory comparison.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export const TRICKY_FILES: [string, number][] = [
  ['a-small.txt', 1000],
  ['empty-file', 0],
  ['nested/deeper/deepest/data.bin', 300_000],
  ['nested/ünïcödé — 字幕.srt', 33_333],
  ['nested/zero/also-empty', 0],
  ['spans/part1.bin', 70_000],
  ['spans/part2.bin', 5],
  ['spans/part3.bin', 123_457],
  ['z-last.bin', 250_001],
];

export async function tempDir(prefix = 'ct-test-'): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}

/** Writes `files` (path, size) of random content under `root`. */
export async function makeTree(root: string, files: [string, number][] = TRICKY_FILES): Promise<void> {
  for (const [name, size] of files) {
    const file = path.join(root, name);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, randomBytes(size));
  }
}

/** Relative path -> sha1 of every regular file below `root`. */
export async function treeHashes(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const abs = path.join(dir, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(abs, r);
      else if (e.isFile()) out.set(r, createHash('sha1').update(await readFile(abs)).digest('hex'));
    }
  };
  await walk(root, '');
  return out;
}

export async function sameTree(a: string, b: string): Promise<{ same: boolean; detail: string }> {
  const [ha, hb] = await Promise.all([treeHashes(a), treeHashes(b)]);
  const diffs: string[] = [];
  for (const [k, v] of ha) if (hb.get(k) !== v) diffs.push(`${k}: ${hb.has(k) ? 'differs' : 'missing'}`);
  for (const k of hb.keys()) if (!ha.has(k)) diffs.push(`${k}: unexpected`);
  return { same: diffs.length === 0, detail: diffs.join(', ') };
}

export async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
