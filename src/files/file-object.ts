// The file object (schema fcp.file.v1) and its chunk-list pages (fcp.chunk-list.v1), canonical
// CBOR (cborg; map keys sorted as RFC 8949 §4.2.1 asks):
//   file:  { v: 1, size, chunks: [[chunkId, length], ...] }          up to PAGE_ENTRIES chunks
//     or   { v: 1, size, pages: [[pageId, chunkCount, bytes], ...] } more than that
//   page:  { v: 1, chunks: [[chunkId, length], ...] }                1..PAGE_ENTRIES chunks
// chunkId/pageId are 32-byte ObjectIds of mesh objects in the file's zone. The decoders accept
// only the exact canonical encoding of a valid value: anything else is FILES_BAD_OBJECT.
import { STRICT_CBOR_DECODE } from '../wire/index.js';
import { decode, encode } from 'cborg';
import { bytesEqual } from '../crypto/index.js';
import { CHUNK_PARAMS } from './chunker.js';
import { FilesError } from './errors.js';

export const FILE_SCHEMA = 'fcp.file.v1';
export const CHUNK_LIST_SCHEMA = 'fcp.chunk-list.v1';
export const CHUNK_SCHEMA = 'fcp.chunk.v1';

/** Chunk entries per file object or page (8192 × ~1 MiB ≈ 8 GiB per page). */
export const PAGE_ENTRIES = 8192;
/** Pages per file object: with max-size chunks, 8192 × 8192 × 4 MiB = 256 TiB per file. */
export const MAX_PAGES = 8192;

export type ChunkEntry = [id: Uint8Array, length: number];
export type PageEntry = [id: Uint8Array, chunks: number, bytes: number];

export type FileObject = { v: 1; size: number; chunks: ChunkEntry[] } | { v: 1; size: number; pages: PageEntry[] };
export interface ChunkListPage {
  v: 1;
  chunks: ChunkEntry[];
}


function bad(message: string): FilesError {
  return new FilesError('FILES_BAD_OBJECT', message);
}

export function encodeFileObject(f: FileObject): Uint8Array {
  return encode(f);
}

export function encodePage(p: ChunkListPage): Uint8Array {
  return encode(p);
}

function decodeCanonical(bytes: Uint8Array, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = decode(bytes, STRICT_CBOR_DECODE);
  } catch (err) {
    throw bad(`${what} is not valid CBOR: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array) throw bad(`${what} is not a CBOR map`);
  // Canonical only: the same value has one encoding, so an object's id names one value.
  if (!bytesEqual(encode(value), bytes)) throw bad(`${what} is not in canonical CBOR form`);
  return value as Record<string, unknown>;
}

function keysAre(o: Record<string, unknown>, keys: string[], what: string): void {
  const got = Object.keys(o).sort();
  if (got.length !== keys.length || got.some((k, i) => k !== [...keys].sort()[i])) throw bad(`${what} has fields ${got.join(', ')}; expected ${keys.join(', ')}`);
  if (o.v !== 1) throw bad(`${what} has version ${String(o.v)}; this fcp reads version 1`);
}

function count(x: unknown, what: string, min: number, max: number): number {
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < min || x > max) throw bad(`${what} must be a whole number in ${min}..${max}, got ${String(x)}`);
  return x;
}

function id(x: unknown, what: string): Uint8Array {
  if (!(x instanceof Uint8Array) || x.length !== 32) throw bad(`${what} must be a 32-byte object id`);
  return x;
}

function chunkEntries(x: unknown, what: string, min: number): ChunkEntry[] {
  if (!Array.isArray(x)) throw bad(`${what} chunks must be a list`);
  count(x.length, `${what} chunk count`, min, PAGE_ENTRIES);
  return x.map((e: unknown, i) => {
    if (!Array.isArray(e) || e.length !== 2) throw bad(`${what} chunk ${i} must be [id, length]`);
    return [id(e[0], `${what} chunk ${i} id`), count(e[1], `${what} chunk ${i} length`, 1, CHUNK_PARAMS.max)];
  });
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

export function decodeFileObject(bytes: Uint8Array): FileObject {
  const o = decodeCanonical(bytes, 'file object');
  const size = (v: unknown) => count(v, 'file size', 0, Number.MAX_SAFE_INTEGER);
  if ('pages' in o) {
    keysAre(o, ['v', 'size', 'pages'], 'file object');
    if (!Array.isArray(o.pages)) throw bad('file object pages must be a list');
    count(o.pages.length, 'file object page count', 2, MAX_PAGES);
    const pages = o.pages.map((e: unknown, i): PageEntry => {
      if (!Array.isArray(e) || e.length !== 3) throw bad(`file object page ${i} must be [id, chunks, bytes]`);
      const chunks = count(e[1], `page ${i} chunk count`, 1, PAGE_ENTRIES);
      return [id(e[0], `page ${i} id`), chunks, count(e[2], `page ${i} bytes`, chunks, chunks * CHUNK_PARAMS.max)];
    });
    const s = size(o.size);
    if (sum(pages.map((p) => p[2])) !== s) throw bad('file object pages do not add up to its size');
    return { v: 1, size: s, pages };
  }
  keysAre(o, ['v', 'size', 'chunks'], 'file object');
  const chunks = chunkEntries(o.chunks, 'file object', 0);
  const s = size(o.size);
  if (sum(chunks.map((c) => c[1])) !== s) throw bad('file object chunks do not add up to its size');
  return { v: 1, size: s, chunks };
}

export function decodePage(bytes: Uint8Array): ChunkListPage {
  const o = decodeCanonical(bytes, 'chunk-list page');
  keysAre(o, ['v', 'chunks'], 'chunk-list page');
  return { v: 1, chunks: chunkEntries(o.chunks, 'chunk-list page', 1) };
}
