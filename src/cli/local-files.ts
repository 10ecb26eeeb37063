// The CLI's own files: what `fcp put` reads and `fcp get` writes. A restore must never claim
// success it did not have: output goes to a temporary file beside the target, is fsynced and
// renamed over the target only when every byte is written; any failure removes it. Every
// failure is a typed error with a stable code, never a raw Node stack trace.
import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import type { ReadStream } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { FcpError } from '../errors/index.js';

/** A local input or output file the CLI could not use. */
export class LocalFileError extends FcpError {}

/** Maps an fs error on `path` to a typed error; `what` is "input" or "output". */
export function fileError(err: unknown, path: string, what: 'input' | 'output'): FcpError {
  if (err instanceof FcpError) return err;
  const e = err as NodeJS.ErrnoException;
  const p = what === 'input' ? 'INPUT' : 'OUTPUT';
  switch (e.code) {
    case 'ENOENT':
      return new LocalFileError(`${p}_NOT_FOUND`, what === 'input' ? `no such file: ${path}` : `cannot write ${path}: its directory ${dirname(path)} does not exist`, { cause: err });
    case 'ENOTDIR':
      return new LocalFileError(`${p}_NOT_FOUND`, `cannot use ${path}: a part of the path is not a directory`, { cause: err });
    case 'EISDIR':
      return new LocalFileError(`${p}_IS_DIRECTORY`, `${path} is a directory${what === 'input' ? '; give a file (or "-" for stdin)' : '; give a file name to write'}`, { cause: err });
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new LocalFileError(`${p}_DENIED`, `permission denied: cannot ${what === 'input' ? 'read' : 'write'} ${path}`, { cause: err });
    case 'EEXIST':
      return new LocalFileError(`${p}_EXISTS`, `${path} exists already; it is left as it is (give another name, or remove it first)`, { cause: err });
    case 'ENOSPC':
    case 'EDQUOT':
      return new LocalFileError(`${p}_FULL`, `no space left writing ${path}; nothing was kept`, { cause: err });
    default:
      return new LocalFileError(`${p}_IO`, `cannot ${what === 'input' ? 'read' : 'write'} ${path}: ${e.message ?? String(err)}`, { cause: err });
  }
}

/** Opens a regular file for reading, with typed errors; its size is known up front. */
export async function openInput(path: string): Promise<{ stream: ReadStream; size: number }> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw fileError(err, path, 'input');
  }
  try {
    const st = await handle.stat();
    if (st.isDirectory()) throw new LocalFileError('INPUT_IS_DIRECTORY', `${path} is a directory; give a file (or "-" for stdin)`);
    const stream = handle.createReadStream({ highWaterMark: 1024 * 1024 });
    return { stream, size: st.isFile() ? st.size : -1 };
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw fileError(err, path, 'input');
  }
}

/**
 * Where `fcp get -o PATH` writes. `prepare()` checks the target and opens the temporary file
 * (so bad targets fail before anything is fetched); `write()` appends; `commit()` fsyncs and
 * renames; `abort()` removes the temporary file. A target that exists but is not a regular file
 * (a device such as /dev/null or /dev/full, a FIFO) is written in place: nothing can be renamed
 * over it.
 */
export class OutputFile {
  private handle: FileHandle | null = null;
  private tempPath: string | null = null;
  private written = 0;

  private constructor(readonly path: string) {}

  static async prepare(path: string): Promise<OutputFile> {
    const out = new OutputFile(path);
    let existing: Awaited<ReturnType<typeof stat>> | null = null;
    try {
      existing = await stat(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError(err, path, 'output');
    }
    try {
      if (existing?.isDirectory()) throw new LocalFileError('OUTPUT_IS_DIRECTORY', `${path} is a directory; give a file name to write`);
      if (existing && !existing.isFile()) {
        out.handle = await open(path, 'w');
        return out;
      }
      // A read-only file is not replaced (even for root, whom the kernel would let through).
      if (existing && (existing.mode & 0o222) === 0) throw new LocalFileError('OUTPUT_DENIED', `${path} is read-only; not overwriting it`);
      out.tempPath = join(dirname(path), `.${basename(path)}.fcp-partial-${process.pid}-${randomBytes(4).toString('hex')}`);
      out.handle = await open(out.tempPath, 'wx', existing ? existing.mode & 0o777 : 0o644);
      return out;
    } catch (err) {
      await out.abort();
      throw fileError(err, path, 'output');
    }
  }

  get bytes(): number {
    return this.written;
  }

  async write(chunk: Uint8Array): Promise<void> {
    try {
      let off = 0;
      while (off < chunk.length) {
        const { bytesWritten } = await this.handle!.write(chunk, off, chunk.length - off);
        off += bytesWritten;
      }
      this.written += chunk.length;
    } catch (err) {
      throw fileError(err, this.path, 'output');
    }
  }

  /** Durable, then visible under its name. */
  async commit(): Promise<void> {
    try {
      if (this.tempPath) await this.handle!.sync();
      await this.handle!.close();
      this.handle = null;
      if (this.tempPath) {
        await rename(this.tempPath, this.path);
        this.tempPath = null;
        // The rename itself is durable once the directory is synced.
        const dir = await open(dirname(this.path), 'r');
        await dir.sync().catch(() => undefined);
        await dir.close();
      }
    } catch (err) {
      await this.abort();
      throw fileError(err, this.path, 'output');
    }
  }

  /** Leaves nothing partial behind. */
  async abort(): Promise<void> {
    const h = this.handle;
    this.handle = null;
    await h?.close().catch(() => undefined);
    if (this.tempPath) await rm(this.tempPath, { force: true }).catch(() => undefined);
    this.tempPath = null;
  }
}
