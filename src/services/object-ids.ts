// Object ids as users type them: the full 64 hex digits, or a unique prefix (at least 8) of an
// object whose manifest this device holds.
import { MeshError } from '../mesh/index.js';
import type { SymbolStore } from '../store/index.js';

export const MIN_PREFIX = 8;

export function resolveObjectId(store: Pick<SymbolStore, 'manifestsAfter'>, idOrPrefix: string): string {
  const id = idOrPrefix.toLowerCase();
  if (!/^[0-9a-f]+$/.test(id)) throw new MeshError('MESH_BAD_ID', `not an object id: ${idOrPrefix}`);
  if (id.length === 64) return id;
  if (id.length < MIN_PREFIX || id.length > 64) throw new MeshError('MESH_BAD_ID', `an object id is 64 hex digits, or a unique prefix of at least ${MIN_PREFIX} (got ${id.length})`);
  const hits = idsWithPrefix(store, id);
  if (hits.length === 1) return hits[0]!;
  if (hits.length === 0) throw new MeshError('MESH_NOT_FOUND', `no object on this device starts with ${id}; give the full id to look on other devices`);
  throw new MeshError('MESH_BAD_ID', `${countOf(hits)} objects start with ${id}; give more digits`);
}

const HITS_SHOWN = 3;

/**
 * Ids of manifests held here that start with `prefix` (hex), at most HITS_SHOWN: ids sort as
 * bytes, so they follow the prefix padded with zeros; read from just below it, a few entries.
 */
export function idsWithPrefix(store: Pick<SymbolStore, 'manifestsAfter'>, prefix: string): string[] {
  const low = Buffer.from(prefix.padEnd(64, '0'), 'hex');
  const below = predecessor(low);
  return store
    .manifestsAfter(below, HITS_SHOWN)
    .map((m) => Buffer.from(m.objectId).toString('hex'))
    .filter((h) => h.startsWith(prefix));
}

/** "2", or "3 or more" when the lookup stopped at its bound. */
export function countOf(hits: string[]): string {
  return hits.length >= HITS_SHOWN ? `${HITS_SHOWN} or more` : String(hits.length);
}

/** The 32-byte id just below `id`, or undefined for all zeros (nothing is below it). */
function predecessor(id: Buffer): Uint8Array | undefined {
  const out = Buffer.from(id);
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i]! > 0) {
      out[i]!--;
      return out;
    }
    out[i] = 0xff;
  }
  return undefined;
}
