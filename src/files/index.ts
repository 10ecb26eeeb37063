// Files layer (public face): names, directories and versions of a zone, and their collection.
export { FilesError, type FilesErrorCode } from './names/errors.js';
export { COMMIT_SCHEMA, FILE_SCHEMA, TREE_SCHEMA, compareNames, type Commit, type Entry, type EntryKind } from './names/codec.js';
export { parsePath, parsePathAt, joinPath, checkName, type NamePath } from './names/path.js';
export { Dir, TreeStore, dirAt, entryAt, type ObjectIO } from './names/tree.js';
export { merge3, conflictName } from './names/merge.js';
export { History, type Snapshot } from './names/history.js';
export { Namespace, type RefIO, type View } from './names/namespace.js';
export { COLLECTED_SCHEMAS, DEFAULT_GC_GRACE_MS, markReachable, sweep, type Candidate } from './names/gc.js';
