// Directory and commit objects of a zone's namespace, as canonical CBOR (cborg's default
// encoding is RFC 8949 §4.2.1 deterministic): the same directory gives the same bytes, hence
// the same ObjectId, on every device. Decoding checks every field; anything else is damage.
import { decode, encode } from 'cborg';
import { FilesError } from '../errors.js';
import { checkName } from './path.js';

export const TREE_SCHEMA = 'fcp.tree.v1';
export const COMMIT_SCHEMA = 'fcp.commit.v1';

export type EntryKind = 'file' | 'dir';

/** One name in a directory. A directory's size is the sum of what it holds; `by` is the host that wrote the entry. */
export interface Entry {
  kind: EntryKind;
  /** Hex ObjectId: the file's content object, or the directory's tree object. */
  ref: string;
  size: number;
  /** Modification time, ms since the Unix epoch. */
  mtime: number;
  /** Permission bits (0o777 and the like). */
  mode: number;
  by: string;
}

export interface Commit {
  /** Hex ObjectId of the root tree. */
  tree: string;
  /** Hex ObjectIds of the heads this commit was made on, sorted. */
  parents: string[];
  /** Stable node id and host name of the device that made it. */
  device: string;
  host: string;
  /** Wall ms. */
  time: number;
  /** 1 + the largest parent generation: orders common ancestors. */
  gen: number;
  /** What the change was (`put photos/`, `rm a.txt`). */
  message: string;
}

const hexToBytes = (hex: string): Uint8Array => {
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new FilesError('FILES_BAD_ENTRY', `not an object id: ${hex}`);
  return Uint8Array.from(Buffer.from(hex, 'hex'));
};
const bytesToHex = (b: unknown, what: string): string => {
  if (!(b instanceof Uint8Array) || b.length !== 32) throw damaged(`${what} is not a 32-byte id`);
  return Buffer.from(b).toString('hex');
};
const damaged = (why: string) => new FilesError('FILES_DAMAGED', `namespace object is damaged: ${why}`);
const isUint = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/** UTF-8 byte order: the order file names sort in everywhere (not JavaScript's UTF-16 order). */
export function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export function encodeTree(entries: ReadonlyMap<string, Entry>): Uint8Array {
  const names = [...entries.keys()].sort(compareNames);
  return encode({
    v: 1,
    entries: names.map((name) => {
      const e = entries.get(name)!;
      return [name, { k: e.kind === 'file' ? 'f' : 'd', ref: hexToBytes(e.ref), size: e.size, mtime: e.mtime, mode: e.mode, by: e.by }];
    }),
  });
}

export function decodeTree(bytes: Uint8Array): Map<string, Entry> {
  let raw: unknown;
  try {
    raw = decode(bytes, { strict: true, allowUndefined: false });
  } catch (err) {
    throw damaged(`not canonical CBOR (${(err as Error).message})`);
  }
  const t = raw as { v?: unknown; entries?: unknown };
  if (typeof t !== 'object' || t === null || t.v !== 1 || !Array.isArray(t.entries)) throw damaged('not a tree');
  const out = new Map<string, Entry>();
  let previous: string | null = null;
  for (const item of t.entries as unknown[]) {
    if (!Array.isArray(item) || item.length !== 2 || typeof item[0] !== 'string') throw damaged('bad entry');
    const name = item[0];
    try {
      checkName(name);
    } catch {
      throw damaged(`bad name ${JSON.stringify(name)}`);
    }
    if (previous !== null && compareNames(previous, name) >= 0) throw damaged('entries not in order');
    previous = name;
    const e = item[1] as Record<string, unknown>;
    if (typeof e !== 'object' || e === null || (e.k !== 'f' && e.k !== 'd')) throw damaged(`bad kind of ${name}`);
    if (!isUint(e.size) || !isUint(e.mtime) || !isUint(e.mode) || typeof e.by !== 'string') throw damaged(`bad fields of ${name}`);
    out.set(name, { kind: e.k === 'f' ? 'file' : 'dir', ref: bytesToHex(e.ref, name), size: e.size, mtime: e.mtime, mode: e.mode, by: e.by });
  }
  return out;
}

export function encodeCommit(c: Commit): Uint8Array {
  return encode({
    v: 1,
    tree: hexToBytes(c.tree),
    parents: [...c.parents].sort().map(hexToBytes),
    device: c.device,
    host: c.host,
    time: c.time,
    gen: c.gen,
    message: c.message,
  });
}

export function decodeCommit(bytes: Uint8Array): Commit {
  let raw: unknown;
  try {
    raw = decode(bytes, { strict: true, allowUndefined: false });
  } catch (err) {
    throw damaged(`not canonical CBOR (${(err as Error).message})`);
  }
  const c = raw as Record<string, unknown>;
  if (typeof c !== 'object' || c === null || c.v !== 1 || !Array.isArray(c.parents)) throw damaged('not a commit');
  if (typeof c.device !== 'string' || typeof c.host !== 'string' || typeof c.message !== 'string' || !isUint(c.time) || !isUint(c.gen)) throw damaged('bad commit fields');
  return {
    tree: bytesToHex(c.tree, 'tree'),
    parents: (c.parents as unknown[]).map((p) => bytesToHex(p, 'parent')),
    device: c.device,
    host: c.host,
    time: c.time,
    gen: c.gen,
    message: c.message,
  };
}
