// Reads the symbols a fetch serves a batch at a time, so a request holds one batch in memory
// (plus what the connection has queued) however many symbols it names.
import { ENVELOPE_OVERHEAD, type SymbolEntry } from '../crypto/index.js';
import { parseOti } from '../raptorq/index.js';
import type { Position } from './want-list.js';

export interface SymbolSource {
  getSymbols(objectId: Uint8Array, want?: Position[], limit?: number): Promise<SymbolEntry[]>;
  symbolKeys(objectId: Uint8Array): Position[];
}

/**
 * Batches of at most about `batchBytes` of envelopes: the positions in `want` (or every position
 * held, in (SBN, ESI) order) that this device has, `max` symbols at most.
 */
export async function* symbolBatches(
  store: SymbolSource,
  manifest: { objectId: Uint8Array; oti: Uint8Array },
  want: Position[] | undefined,
  max: number | undefined,
  batchBytes: number,
): AsyncGenerator<SymbolEntry[]> {
  const positions = want ?? store.symbolKeys(manifest.objectId);
  const perBatch = Math.max(1, Math.floor(batchBytes / (parseOti(manifest.oti).symbolSize + ENVELOPE_OVERHEAD)));
  let left = max ?? Number.POSITIVE_INFINITY;
  for (let at = 0; at < positions.length && left > 0; at += perBatch) {
    const batch = await store.getSymbols(manifest.objectId, positions.slice(at, at + perBatch), Math.min(perBatch, left));
    if (batch.length === 0) continue;
    left -= batch.length;
    yield batch;
  }
}
