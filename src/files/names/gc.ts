// Garbage collection of a zone's namespace objects, mark and sweep. Marked: every commit
// reachable from any device's head (short of forgotten ones), every tree of those commits, every
// file content object they name, and (through `references`) whatever a content object is made
// of. Swept: objects of the namespace's schemas that nothing marks and that are older than the
// grace period (an upload not yet committed is young). Marking that cannot read an object
// fails the whole pass: nothing is collected on a partial view.
import { CHUNK_LIST_SCHEMA, CHUNK_SCHEMA, FILE_SCHEMA } from '../file-object.js';
import { COMMIT_SCHEMA, TREE_SCHEMA } from './codec.js';
import { FilesError } from '../errors.js';
import type { History } from './history.js';
import type { TreeStore } from './tree.js';

/** Schemas whose objects are the files layer's to collect (never user blobs stored by id). */
export const COLLECTED_SCHEMAS: ReadonlySet<string> = new Set([TREE_SCHEMA, COMMIT_SCHEMA, FILE_SCHEMA, CHUNK_LIST_SCHEMA, CHUNK_SCHEMA]);

export const DEFAULT_GC_GRACE_MS = 60 * 60_000;

export interface MarkOptions {
  /** What a file content object is made of (chunk lists, chunks), for chunked content. */
  references?: (fileRef: string) => Promise<string[]>;
}

/** Every object id the heads reach. */
export async function markReachable(trees: TreeStore, history: History, heads: string[], opts: MarkOptions = {}): Promise<Set<string>> {
  const marked = new Set<string>();
  const walkTree = async (ref: string): Promise<void> => {
    if (marked.has(ref)) return;
    marked.add(ref);
    for (const e of (await trees.tree(ref)).values()) {
      if (e.kind === 'dir') await walkTree(e.ref);
      else if (!marked.has(e.ref)) {
        marked.add(e.ref);
        for (const r of (await opts.references?.(e.ref)) ?? []) marked.add(r);
      }
    }
  };
  try {
    for (const h of heads) {
      for (const id of await history.ancestors(h)) {
        if (marked.has(id)) continue;
        marked.add(id);
        await walkTree((await history.commit(id)).tree);
      }
    }
  } catch (err) {
    throw new FilesError('FILES_HISTORY_UNAVAILABLE', `collection stopped, nothing was removed: part of the namespace cannot be read now (${(err as Error).message})`, { cause: err });
  }
  return marked;
}

export interface Candidate {
  id: string;
  schema: string;
  /** Wall ms the object was stored. */
  created: number;
  length: number;
}

/** The unmarked objects of the collected schemas older than the grace period. */
export function sweep(candidates: Iterable<Candidate>, marked: ReadonlySet<string>, now: number, graceMs: number): Candidate[] {
  const out: Candidate[] = [];
  for (const c of candidates) if (COLLECTED_SCHEMAS.has(c.schema) && !marked.has(c.id) && now - c.created >= graceMs) out.push(c);
  return out.sort((a, b) => (a.id < b.id ? -1 : 1));
}
