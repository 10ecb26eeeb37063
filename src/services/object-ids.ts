// Object ids as users type them: the full 64 hex digits, or a unique prefix (at least 8) of an
// object whose manifest this device holds.
import { MeshError } from '../mesh/index.js';
import type { SymbolStore } from '../store/index.js';

export const MIN_PREFIX = 8;

export function resolveObjectId(store: Pick<SymbolStore, 'listManifests'>, idOrPrefix: string): string {
  const id = idOrPrefix.toLowerCase();
  if (!/^[0-9a-f]+$/.test(id)) throw new MeshError('MESH_BAD_ID', `not an object id: ${idOrPrefix}`);
  if (id.length === 64) return id;
  if (id.length < MIN_PREFIX || id.length > 64) throw new MeshError('MESH_BAD_ID', `an object id is 64 hex digits, or a unique prefix of at least ${MIN_PREFIX} (got ${id.length})`);
  const hits = store.listManifests().map((m) => Buffer.from(m.objectId).toString('hex')).filter((h) => h.startsWith(id));
  if (hits.length === 1) return hits[0]!;
  if (hits.length === 0) throw new MeshError('MESH_NOT_FOUND', `no object on this device starts with ${id}; give the full id to look on other devices`);
  throw new MeshError('MESH_BAD_ID', `${hits.length} objects start with ${id}; give more digits`);
}
