// Files layer (public face): chunking, the file object format, streaming put and get; names.
export { Chunker, chunkStream, CHUNK_PARAMS, GEAR, GEAR_SEED, type ChunkerParams } from './chunker.js';
export { FilesError, type FilesErrorCode } from './errors.js';
export {
  FILE_SCHEMA,
  CHUNK_SCHEMA,
  CHUNK_LIST_SCHEMA,
  PAGE_ENTRIES,
  MAX_PAGES,
  encodeFileObject,
  decodeFileObject,
  encodePage,
  decodePage,
  type FileObject,
  type ChunkListPage,
  type ChunkEntry,
  type PageEntry,
} from './file-object.js';
export { ZoneObjects, type PutObjectResult, type ZoneObjectsDeps } from './zone-objects.js';
export { FileWriter, type FileWriteResult, type FileWriterOptions, type ObjectPutter } from './file-writer.js';
export { FileReader, type ObjectGetter } from './file-reader.js';
// Names, directories and versions of a zone, and their collection.
export { COMMIT_SCHEMA, TREE_SCHEMA, compareNames, encodeTree, decodeTree, encodeCommit, decodeCommit, type Commit, type Entry, type EntryKind } from './names/codec.js';
export { parsePath, parsePathAt, joinPath, checkName, type NamePath } from './names/path.js';
export { Dir, TreeStore, dirAt, entryAt, type ObjectIO } from './names/tree.js';
export { merge3, conflictName } from './names/merge.js';
export { History, type Snapshot } from './names/history.js';
export { Namespace, type RefIO, type View } from './names/namespace.js';
export { COLLECTED_SCHEMAS, DEFAULT_GC_GRACE_MS, markReachable, sweep, type Candidate } from './names/gc.js';
