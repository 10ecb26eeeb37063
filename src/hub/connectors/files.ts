// The `files` connector: list, read, write and search under one root directory of its device.
// Every path is relative to the root; `..`, absolute paths and symlinks that lead outside the
// root are refused (the real path of what is touched must lie under the real root, and the
// final component is opened with O_NOFOLLOW so a symlink swapped in afterwards is not followed).
import { constants } from 'node:fs';
import { lstat, open, readdir, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ConnectorError, runConnector } from '../connector-sdk.js';

const MAX_READ = 1024 * 1024;
const MAX_WRITE = 4 * 1024 * 1024;
const MAX_LIST = 1000;
const MAX_SEARCH_FILES = 5000;
const MAX_SEARCH_HITS = 200;

let root = '';

function inside(realRoot: string, p: string): boolean {
  return p === realRoot || p.startsWith(realRoot + sep);
}

/** The checked absolute path of `rel` (which need not exist yet when `forWrite`). */
async function safePath(rel: unknown, forWrite = false): Promise<string> {
  if (!root) throw new ConnectorError('CONNECTOR_BAD_CONFIG', 'files has no root directory (config.root)');
  if (typeof rel !== 'string') throw new ConnectorError('CONNECTOR_BAD_INPUT', 'path must be a string');
  if (rel.includes('\0')) throw new ConnectorError('CONNECTOR_BAD_INPUT', 'path has a NUL byte');
  if (isAbsolute(rel)) throw new ConnectorError('CONNECTOR_REFUSED', `absolute path ${rel} refused: paths are relative to the root`);
  const target = resolve(root, rel);
  if (!inside(root, target)) throw new ConnectorError('CONNECTOR_REFUSED', `${rel} leads outside the root`);
  let real: string;
  try {
    real = await realpath(forWrite ? dirname(target) : target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ConnectorError('CONNECTOR_NOT_FOUND', `${rel} does not exist`);
    throw err;
  }
  if (!inside(root, real)) throw new ConnectorError('CONNECTOR_REFUSED', `${rel} leads outside the root (through a symlink)`);
  if (!forWrite) return real;
  const final = join(real, relative(dirname(target), target));
  try {
    const st = await lstat(final);
    if (st.isSymbolicLink()) throw new ConnectorError('CONNECTOR_REFUSED', `${rel} is a symlink; files does not write through links`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return final;
}

async function readText(abs: string, max: number): Promise<{ text: string; truncated: boolean; size: number }> {
  const fh = await open(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new ConnectorError('CONNECTOR_BAD_INPUT', 'not a regular file');
    const n = Math.min(st.size, max);
    const buf = Buffer.alloc(n);
    await fh.read(buf, 0, n, 0);
    return { text: buf.toString('utf8'), truncated: st.size > max, size: st.size };
  } finally {
    await fh.close();
  }
}

runConnector({
  id: 'files',
  version: '1.0.0',
  description: 'Files under one root directory of this device',
  configure: async ({ config }) => {
    if (typeof config.root !== 'string' || !isAbsolute(config.root)) throw new ConnectorError('CONNECTOR_BAD_CONFIG', 'config.root must be an absolute directory path');
    root = await realpath(config.root);
    if (!(await stat(root)).isDirectory()) throw new ConnectorError('CONNECTOR_BAD_CONFIG', `${config.root} is not a directory`);
  },
  operations: {
    list: {
      description: 'List a directory under the root',
      handler: async (input) => {
        const abs = await safePath((input as { path?: string }).path ?? '.');
        const entries = await readdir(abs, { withFileTypes: true });
        return {
          entries: entries.slice(0, MAX_LIST).map((e) => ({ name: e.name, type: e.isDirectory() ? 'dir' : e.isSymbolicLink() ? 'link' : e.isFile() ? 'file' : 'other' })),
          truncated: entries.length > MAX_LIST,
        };
      },
    },
    read: {
      description: 'Read a text file under the root',
      handler: async (input) => {
        const i = input as { path: string; max_bytes?: number };
        const abs = await safePath(i.path);
        return readText(abs, Math.min(i.max_bytes ?? MAX_READ, MAX_READ));
      },
    },
    write: {
      description: 'Write a text file under the root (replacing it)',
      handler: async (input) => {
        const i = input as { path: string; text: string };
        const data = Buffer.from(i.text, 'utf8');
        if (data.length > MAX_WRITE) throw new ConnectorError('CONNECTOR_BAD_INPUT', `at most ${MAX_WRITE} bytes`);
        const abs = await safePath(i.path, true);
        const fh = await open(abs, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600);
        try {
          await fh.write(data);
        } finally {
          await fh.close();
        }
        return { path: relative(root, abs), bytes: data.length };
      },
    },
    search: {
      description: 'Find lines containing a text in files under the root',
      handler: async (input) => {
        const i = input as { query: string; path?: string };
        const start = await safePath(i.path ?? '.');
        const hits: Array<{ path: string; line: number; text: string }> = [];
        const queue = [start];
        let files = 0;
        const needle = i.query.toLowerCase();
        while (queue.length && files < MAX_SEARCH_FILES && hits.length < MAX_SEARCH_HITS) {
          const dir = queue.shift()!;
          for (const e of await readdir(dir, { withFileTypes: true })) {
            const abs = join(dir, e.name);
            if (e.isDirectory()) queue.push(abs);
            else if (e.isFile()) {
              if (++files > MAX_SEARCH_FILES) break;
              const { text } = await readText(abs, MAX_READ).catch(() => ({ text: '' }));
              text.split('\n').forEach((line, n) => {
                if (hits.length < MAX_SEARCH_HITS && line.toLowerCase().includes(needle)) hits.push({ path: relative(root, abs), line: n + 1, text: line.slice(0, 300) });
              });
            } // symlinks are not followed while searching
          }
        }
        return { hits, truncated: hits.length >= MAX_SEARCH_HITS || files >= MAX_SEARCH_FILES };
      },
    },
  },
});
