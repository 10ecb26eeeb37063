// Files layer (public face): chunking, the file object format, streaming put and get.
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
