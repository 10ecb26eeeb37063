// Paths in a zone's namespace: `/`-separated names, no empty, `.` or `..` parts, no NUL, each
// name at most 255 UTF-8 bytes (what file systems restore). A trailing `/` means "a directory".
// `PATH@N` names the Nth snapshot (numbers as `fcp log` shows them).
import { FilesError } from '../errors.js';

export const MAX_NAME_BYTES = 255;
export const MAX_PATH_BYTES = 4096;

/** A checked path: its names from the root (empty for the root itself). */
export type NamePath = readonly string[];

export function checkName(name: string): string {
  if (name.length === 0 || name === '.' || name === '..') throw new FilesError('FILES_BAD_PATH', `"${name}" is not a file name`);
  if (name.includes('/') || name.includes('\0')) throw new FilesError('FILES_BAD_PATH', `a file name may not contain "/" or NUL: ${JSON.stringify(name)}`);
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) throw new FilesError('FILES_BAD_PATH', `a file name is at most ${MAX_NAME_BYTES} bytes (got ${Buffer.byteLength(name)})`);
  return name;
}

/** Splits and checks a path; `""`, `/` and `.` are the root. Leading and trailing `/` are ignored. */
export function parsePath(path: string): NamePath {
  if (typeof path !== 'string') throw new FilesError('FILES_BAD_PATH', 'a path must be a string');
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) throw new FilesError('FILES_BAD_PATH', `a path is at most ${MAX_PATH_BYTES} bytes`);
  const parts = path.split('/').filter((p, i, all) => !(p === '' && (i === 0 || i === all.length - 1)));
  if (parts.length === 1 && parts[0] === '.') return [];
  for (const p of parts) {
    if (p === '') throw new FilesError('FILES_BAD_PATH', `empty name in path ${JSON.stringify(path)} (two "/" in a row)`);
    checkName(p);
  }
  return parts;
}

export const joinPath = (p: NamePath): string => p.join('/');

/** `photos/a.jpg@3` → the path and snapshot 3; a path without a trailing `@N` has no snapshot. */
export function parsePathAt(spec: string): { path: NamePath; snapshot: number | null } {
  const m = /^(.*)@(\d{1,9})$/.exec(spec);
  if (!m) return { path: parsePath(spec), snapshot: null };
  const n = Number(m[2]);
  if (n < 1) throw new FilesError('FILES_BAD_SNAPSHOT', `snapshots are numbered from 1 (got @${m[2]}); see \`fcp log\``);
  return { path: parsePath(m[1]!), snapshot: n };
}
