// Streaming get of a file: read its file object (and chunk-list pages, one at a time), then
// yield its chunks in order while the next one or two are already being fetched.
import { cancelled, FilesError } from './errors.js';
import { CHUNK_LIST_SCHEMA, CHUNK_SCHEMA, FILE_SCHEMA, decodeFileObject, decodePage, type ChunkEntry, type FileObject } from './file-object.js';

export interface ObjectGetter {
  get(id: string, schema: string, opts?: { verify?: boolean; length?: number; into?: (length: number) => Uint8Array }): Promise<Uint8Array>;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export class FileReader {
  constructor(
    private readonly objects: ObjectGetter,
    /**
     * Chunks fetched ahead of the one being yielded. 6 measured no faster than 2 on a loaded
     * 2-core machine (the reads are CPU-bound there) and held more memory.
     */
    private readonly prefetch = 2,
  ) {}

  async open(fileId: string, opts: { verify?: boolean } = {}): Promise<FileObject> {
    return decodeFileObject(await this.objects.get(fileId, FILE_SCHEMA, opts));
  }

  /** The chunk entries in file order, reading one page at a time. */
  async *entries(file: FileObject, opts: { verify?: boolean } = {}): AsyncGenerator<ChunkEntry> {
    if ('chunks' in file) {
      yield* file.chunks;
      return;
    }
    for (const [pageId, count] of file.pages) {
      const page = decodePage(await this.objects.get(hex(pageId), CHUNK_LIST_SCHEMA, opts));
      if (page.chunks.length !== count) throw new FilesError('FILES_BAD_OBJECT', `chunk-list page ${hex(pageId).slice(0, 16)}… has ${page.chunks.length} chunks; the file lists ${count}`);
      yield* page.chunks;
    }
  }

  /** Every mesh object the file object references: its pages, then its chunks (each once). */
  async references(file: FileObject): Promise<string[]> {
    const out = new Set<string>();
    if ('pages' in file) for (const [id] of file.pages) out.add(hex(id));
    for await (const [id] of this.entries(file)) out.add(hex(id));
    return [...out];
  }

  /**
   * The file's bytes in order; a chunk of the wrong length or kind is FILES_BAD_OBJECT. With
   * `into`, chunks are rebuilt in the buffers it gives (so a consumer can reuse them).
   */
  async *bytes(file: FileObject, opts: { verify?: boolean; signal?: AbortSignal; into?: (length: number) => Uint8Array } = {}): AsyncGenerator<Uint8Array> {
    const { signal } = opts;
    const ahead: Array<Promise<Uint8Array>> = [];
    const entries = this.entries(file, opts);
    let exhausted = false;
    const fill = async () => {
      while (!exhausted && ahead.length <= this.prefetch) {
        const next = await entries.next();
        if (next.done) {
          exhausted = true;
          break;
        }
        const [id, length] = next.value;
        const p = this.objects.get(hex(id), CHUNK_SCHEMA, { verify: opts.verify ?? false, length, ...(opts.into ? { into: opts.into } : {}) });
        p.catch(() => undefined);
        ahead.push(p);
      }
    };
    let size = 0;
    try {
      for (;;) {
        if (signal?.aborted) throw cancelled('the get');
        await fill();
        const p = ahead.shift();
        if (!p) break;
        const chunk = await p;
        size += chunk.length;
        yield chunk;
      }
    } finally {
      await entries.return(undefined);
      await Promise.allSettled(ahead);
    }
    if (size !== file.size) throw new FilesError('FILES_BAD_OBJECT', `file chunks gave ${size} bytes; the file object says ${file.size}`);
  }
}
