/**
 * The folder tree a mount shows, built from the torrents' file lists. Pure: no FUSE, no engine,
 * so the layout rules are unit-tested alone. fuse-native speaks in paths, so nodes are found by
 * their absolute path inside the mount.
 *
 * Layout (the same as `ct stream --http` URLs): a multi-file torrent is a folder named after the
 * torrent, a single-file torrent's file sits at the root. Names arrive sanitised by the engine
 * (no `..`, `/`, NUL or empty components; duplicates inside a torrent already suffixed); only
 * names at the root can still clash between torrents, and those get a stable ` (n)` suffix in
 * the order torrents were added. Pad files never appear; BEP 47 symlinks are symlinks. A torrent
 * with a category sits in a folder of that name at the root, shared by the category's torrents
 * and gone with the last of them.
 */
import * as posix from 'node:path/posix';
import { freeName, type Torrent } from '@ct/engine';

/** What the tree needs to know of a torrent. */
export interface TreeSource {
  /** Infohash (hex): which torrent a node belongs to. */
  readonly id: string;
  readonly name: string;
  readonly multiFile: boolean;
  readonly files: readonly TreeSourceFile[];
  /** Timestamps of every node of this torrent. */
  readonly time: Date;
  /** A folder at the root the torrent goes into (`ct serve`'s categories): one path component. */
  readonly category?: string;
}

export interface TreeSourceFile {
  /** Path inside the torrent, '/'-separated, sanitised. */
  readonly path: string;
  readonly length: number;
  /** Index into the torrent's `files` array. */
  readonly index: number;
  /** BEP 47 symlink target, a path inside the torrent. */
  readonly symlinkTarget?: string;
}

interface NodeBase {
  readonly path: string;
  readonly time: Date;
  /** The torrent the node belongs to; undefined for the root. */
  readonly torrent?: string;
}
export interface DirNode extends NodeBase {
  readonly kind: 'dir';
  /** Child names in insertion order. */
  readonly children: string[];
  /** True for the folder of a multi-file torrent (its status is the torrent's). */
  readonly torrentRoot: boolean;
}
export interface FileNode extends NodeBase {
  readonly kind: 'file';
  readonly torrent: string;
  readonly size: number;
  readonly fileIndex: number;
}
export interface LinkNode extends NodeBase {
  readonly kind: 'link';
  /** What readlink answers: relative to the link's folder, so it resolves inside the mount. */
  readonly target: string;
}
export type TreeNode = DirNode | FileNode | LinkNode;

export class MountTree {
  private readonly nodes = new Map<string, TreeNode>();
  /** Torrent id -> the path of its top node (folder or single file). */
  private readonly tops = new Map<string, string>();
  /** Category -> the path of its folder at the root (suffixed if a torrent had the name first). */
  private readonly categories = new Map<string, string>();

  /** Names at the root no torrent or category may take (`.ct`, the add folder's). */
  private readonly reserved: ReadonlySet<string>;

  constructor(readonly createdAt = new Date(), reserved: readonly string[] = []) {
    this.reserved = new Set(reserved);
    this.nodes.set('/', { kind: 'dir', path: '/', time: createdAt, children: [], torrentRoot: false });
  }

  get(path: string): TreeNode | undefined {
    return this.nodes.get(path);
  }

  /** Path of a torrent's folder (multi-file) or file (single-file). */
  topOf(id: string): string | undefined {
    return this.tops.get(id);
  }

  get size(): number {
    return this.nodes.size;
  }

  /** Adds a torrent under the root (or its category's folder); returns the path it got. Adding the same id twice is refused. */
  add(src: TreeSource): string {
    if (this.tops.has(src.id)) throw new Error(`torrent ${src.id} is already mounted`);
    const parentPath = src.category === undefined ? '/' : this.categoryDir(src.category, src.time);
    const parent = this.nodes.get(parentPath) as DirNode;
    const topName = freeName(src.name, (n) => parent.children.includes(n) || (parentPath === '/' && this.reserved.has(n)));
    const top = posix.join(parentPath, topName);
    this.tops.set(src.id, top);
    parent.children.push(topName);
    if (!src.multiFile) {
      this.nodes.set(top, fileOrLink(top, src.files[0], src, ''));
      return top;
    }
    this.nodes.set(top, { kind: 'dir', path: top, time: src.time, torrent: src.id, children: [], torrentRoot: true });
    for (const f of src.files) {
      const parts = f.path.split('/');
      let dir = top;
      for (const part of parts.slice(0, -1)) dir = this.ensureDir(dir, part, src);
      const name = parts[parts.length - 1];
      const dirNode = this.nodes.get(dir) as DirNode;
      // The engine already made paths distinct; a clash here would be a bug, not a name to fix.
      if (dirNode.children.includes(name)) continue;
      dirNode.children.push(name);
      const p = posix.join(dir, name);
      this.nodes.set(p, fileOrLink(p, f, src, top));
    }
    return top;
  }

  private categoryDir(category: string, time: Date): string {
    if (!isPathComponent(category)) throw new Error(`not a category name: ${JSON.stringify(category)}`);
    const existing = this.categories.get(category);
    if (existing) return existing;
    const root = this.nodes.get('/') as DirNode;
    const name = freeName(category, (n) => root.children.includes(n) || this.reserved.has(n));
    const p = `/${name}`;
    root.children.push(name);
    this.nodes.set(p, { kind: 'dir', path: p, time, children: [], torrentRoot: false });
    this.categories.set(category, p);
    return p;
  }

  private ensureDir(parentPath: string, name: string, src: TreeSource): string {
    const p = posix.join(parentPath, name);
    const existing = this.nodes.get(p);
    if (existing?.kind === 'dir') return p;
    (this.nodes.get(parentPath) as DirNode).children.push(name);
    this.nodes.set(p, { kind: 'dir', path: p, time: src.time, torrent: src.id, children: [], torrentRoot: false });
    return p;
  }

  /** Takes a torrent out of the tree (its folder or file disappears, an emptied category folder too); false if absent. */
  remove(id: string): boolean {
    const top = this.tops.get(id);
    if (top === undefined) return false;
    this.tops.delete(id);
    for (const [p, n] of this.nodes) if (n.torrent === id) this.nodes.delete(p);
    const parentPath = posix.dirname(top);
    const parent = this.nodes.get(parentPath) as DirNode;
    parent.children.splice(parent.children.indexOf(posix.basename(top)), 1);
    if (parentPath !== '/' && parent.children.length === 0) {
      this.nodes.delete(parentPath);
      const root = this.nodes.get('/') as DirNode;
      root.children.splice(root.children.indexOf(parentPath.slice(1)), 1);
      for (const [c, p] of this.categories) if (p === parentPath) this.categories.delete(c);
    }
    return true;
  }

  /** Every node of a torrent, for status and tests. */
  nodesOf(id: string): TreeNode[] {
    return [...this.nodes.values()].filter((n) => n.torrent === id);
  }

  /** Number of sub-folders of a folder (its link count is 2 + that). */
  subdirCount(dir: DirNode): number {
    let n = 0;
    for (const c of dir.children) if (this.nodes.get(posix.join(dir.path, c))?.kind === 'dir') n++;
    return n;
  }
}

/** What the tree needs of a running torrent; `fallbackTime` stamps a torrent without a creation date. */
export function treeSource(torrent: Torrent, fallbackTime: Date, category?: string): TreeSource {
  const m = torrent.metainfo;
  return {
    id: torrent.infoHashHex,
    name: m.name,
    multiFile: m.multiFile,
    time: m.creationDate ?? fallbackTime,
    category,
    files: torrent.files.map((f) => ({ path: f.path, length: f.length, index: f.index, symlinkTarget: f.symlinkTarget })),
  };
}

/** One safe path component: not empty, `.` or `..`, no `/` or NUL, at most 255 bytes. */
export function isPathComponent(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !/[/\0]/.test(name) && Buffer.byteLength(name) <= 255;
}

function fileOrLink(p: string, f: TreeSourceFile, src: TreeSource, top: string): TreeNode {
  if (f.symlinkTarget !== undefined) {
    // Targets are torrent-relative: make them relative to the link's folder.
    const targetAbs = posix.join(top || '/', f.symlinkTarget);
    const target = posix.relative(posix.dirname(p), targetAbs) || '.';
    return { kind: 'link', path: p, time: src.time, torrent: src.id, target };
  }
  return { kind: 'file', path: p, time: src.time, torrent: src.id, size: f.length, fileIndex: f.index };
}
