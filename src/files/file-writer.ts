// Streaming put of a file: chunk the source (FastCDC), store each chunk as a mesh object
// (content-addressed: a chunk the zone already has is not stored again), then the chunk-list
// pages and the file object. At most `inflight` chunks are being placed at once, and the source
// is not read further until one finishes: memory is bounded whatever the file's size.
import { type ChunkerParams, CHUNK_PARAMS, chunkStream } from './chunker.js';
import { abortable } from './abortable.js';
import { SharedBufferPool } from '../mesh/shared-buffers.js';
import { cancelled } from './errors.js';
import { CHUNK_LIST_SCHEMA, CHUNK_SCHEMA, FILE_SCHEMA, PAGE_ENTRIES, encodeFileObject, encodePage, type ChunkEntry, type FileObject, type PageEntry } from './file-object.js';
import type { PutObjectResult } from './zone-objects.js';

export interface ObjectPutter {
  /** Stores `bytes`, which it must not keep once the promise resolves (the writer reuses them). */
  put(bytes: Uint8Array, schema: string): Promise<PutObjectResult>;
}

/** Buffers of chunks stored, reused by the next (a few of the largest stay idle at most). */
const chunkBuffers = new SharedBufferPool(3 * CHUNK_PARAMS.max);
const takeChunkBuffer = (n: number) => chunkBuffers.take(n);

export interface FileWriteResult {
  /** Hex id of the file object. */
  id: string;
  size: number;
  chunks: number;
  /** Bytes of chunks that were new to the zone. */
  storedBytes: number;
  /** Bytes of chunks the zone already had. */
  dedupBytes: number;
}

export interface FileWriterOptions {
  /**
   * Chunks being placed at once. Each placement mostly waits (holders' durable commits, round
   * trips), and holders fold concurrent writes into one commit, so 8 keeps the devices busy;
   * with `inflightBytes` bounding memory whatever the chunk sizes.
   */
  inflight?: number;
  /** Bytes of chunks being placed at once (by default 3 of the chunker's largest chunks). */
  inflightBytes?: number;
  params?: ChunkerParams;
  /** Entries per chunk-list page (PAGE_ENTRIES; smaller only in tests). */
  pageEntries?: number;
}

export const DEFAULT_INFLIGHT = 8;

const hexToBytes = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'));

export class FileWriter {
  constructor(
    private readonly objects: ObjectPutter,
    private readonly opts: FileWriterOptions = {},
  ) {}

  async write(source: AsyncIterable<Uint8Array>, opts: { signal?: AbortSignal } = {}): Promise<FileWriteResult> {
    const { signal } = opts;
    const inflight = Math.max(1, this.opts.inflight ?? DEFAULT_INFLIGHT);
    const pageEntries = Math.min(PAGE_ENTRIES, this.opts.pageEntries ?? PAGE_ENTRIES);
    const result = { size: 0, chunks: 0, storedBytes: 0, dedupBytes: 0 };
    let current: ChunkEntry[] = [];
    const pages: PageEntry[] = [];

    const flushPage = async () => {
      const page = await this.objects.put(encodePage({ v: 1, chunks: current }), CHUNK_LIST_SCHEMA);
      pages.push([hexToBytes(page.id), current.length, current.reduce((a, c) => a + c[1], 0)]);
      current = [];
    };
    const record = async (placed: PutObjectResult & { length: number }) => {
      if (current.length === pageEntries) await flushPage();
      current.push([hexToBytes(placed.id), placed.length]);
      result.chunks++;
      if (placed.created) result.storedBytes += placed.length;
      else result.dedupBytes += placed.length;
    };

    const params = this.opts.params ?? CHUNK_PARAMS;
    const maxBytes = Math.max(1, this.opts.inflightBytes ?? 3 * params.max);
    const window: Array<Promise<PutObjectResult & { length: number }>> = [];
    let windowBytes = 0;
    const settleOldest = async () => {
      const placed = await window.shift()!;
      windowBytes -= placed.length;
      await record(placed);
    };
    try {
      for await (const chunk of chunkStream(abortable(source, signal, 'the put'), params, takeChunkBuffer)) {
        if (signal?.aborted) throw cancelled('the put');
        result.size += chunk.length;
        // Room first: never more than `inflight` chunks, nor (unless alone) `maxBytes`, at once.
        while (window.length > 0 && (window.length >= inflight || windowBytes + chunk.length > maxBytes)) await settleOldest();
        const p = this.objects.put(chunk, CHUNK_SCHEMA).then((r) => {
          const placed = { ...r, length: chunk.length };
          // Stored: nothing refers to the chunk any more. A failed one is left to the collector.
          chunkBuffers.give(chunk);
          return placed;
        });
        p.catch(() => undefined);
        window.push(p);
        windowBytes += chunk.length;
      }
      while (window.length > 0) await settleOldest();
      if (signal?.aborted) throw cancelled('the put');
      let file: FileObject;
      if (pages.length === 0) file = { v: 1, size: result.size, chunks: current };
      else {
        if (current.length > 0) await flushPage();
        file = { v: 1, size: result.size, pages };
      }
      const stored = await this.objects.put(encodeFileObject(file), FILE_SCHEMA);
      return { id: stored.id, ...result };
    } catch (err) {
      // Let the chunks already on their way land (they are unreferenced, collected later),
      // so nothing of this put is still running when it rejects.
      await Promise.allSettled(window);
      if (signal?.aborted) throw cancelled('the put');
      throw err;
    }
  }
}
