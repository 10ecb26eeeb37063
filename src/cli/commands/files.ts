// Named files: `fcp put SRC DEST`, `fcp ls PATH`, `fcp get PATH[@N]`, `fcp mv`, `fcp rm [-r]`,
// `fcp log [PATH]`, `fcp forget --keep-last N`, `fcp gc`. Content streams through the content
// API (POST /v1/content, GET /v1/content/:id) one file at a time; the names of a whole tree are
// then committed in one request, so a put is one snapshot. A directory restores byte-identical,
// with modes and modification times, every file written through a temporary file.
import type { Command } from 'commander';
import { lstat, mkdir, opendir, chmod, utimes } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { basename, join } from 'node:path';
import { ControlError, parseJsonReply, type ControlClient } from '../../daemon/control-client.js';
import { OutputFile, fileError, openInput } from '../local-files.js';
import { Progress, humanBytes } from '../progress.js';
import { downloadContent } from '../download.js';

interface Listed {
  path: string;
  name: string;
  kind: 'file' | 'dir';
  ref: string;
  size: number;
  mtime: number;
  mode: number;
  by: string;
}
interface ListResult {
  zone: string;
  path: string;
  snapshot: number | null;
  kind: 'file' | 'dir';
  entries: Listed[];
  /** False: this device never synced the zone's names with a peer (names-service.ts). */
  synced?: boolean;
}
interface PutEntry {
  path: string;
  kind: 'file' | 'dir';
  ref?: string;
  size?: number;
  mtime?: number;
  mode?: number;
}

/** Entries of a local tree walked at most (a runaway walk, e.g. a bind-mount loop, stops). */
const MAX_LOCAL_ENTRIES = 10_000_000;

const zoneHelp = 'zone of the names (default: z:private when this device holds it)';

export interface NamedOptions {
  zone?: string;
  json?: boolean;
  quiet?: boolean;
}

function out(obj: unknown, json: boolean | undefined, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(obj, null, 2)}\n` : `${human()}\n`);
}

const q = (params: Record<string, string | undefined>) => new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined)).toString();

async function post<T>(client: ControlClient, path: string, body: unknown): Promise<T> {
  const bytes = Buffer.from(JSON.stringify(body));
  return client.json<T>(path, { method: 'POST', body: bytes, contentLength: bytes.length });
}

/** An argument that may be an object id (hex, no `/` or `@`): tried as one before as a name. */
export function isIdLike(arg: string): boolean {
  return /^[0-9a-fA-F]{1,64}$/.test(arg);
}

/** Joins namespace paths. */
const under = (dest: string, rel: string) => (dest === '' ? rel : rel === '' ? dest : `${dest.replace(/\/+$/, '')}/${rel}`);

/** Walks a local tree: directories before what is in them; symlinks and specials are skipped (said on stderr). */
async function walkLocal(root: string, quiet: boolean): Promise<Array<{ rel: string; abs: string; kind: 'file' | 'dir'; size: number; mtime: number; mode: number }>> {
  const found: Array<{ rel: string; abs: string; kind: 'file' | 'dir'; size: number; mtime: number; mode: number }> = [];
  const visit = async (abs: string, rel: string): Promise<void> => {
    let dir;
    try {
      dir = await opendir(abs);
    } catch (err) {
      throw fileError(err, abs, 'input');
    }
    const names: string[] = [];
    for await (const d of dir) names.push(d.name);
    names.sort();
    for (const name of names) {
      if (found.length >= MAX_LOCAL_ENTRIES) throw new ControlError('INPUT_TOO_LARGE', `more than ${MAX_LOCAL_ENTRIES} entries under ${root}`);
      const a = join(abs, name);
      const r = rel === '' ? name : `${rel}/${name}`;
      let st;
      try {
        st = await lstat(a);
      } catch (err) {
        throw fileError(err, a, 'input');
      }
      if (st.isDirectory()) {
        found.push({ rel: r, abs: a, kind: 'dir', size: 0, mtime: Math.floor(st.mtimeMs), mode: st.mode & 0o7777 });
        await visit(a, r);
      } else if (st.isFile()) found.push({ rel: r, abs: a, kind: 'file', size: st.size, mtime: Math.floor(st.mtimeMs), mode: st.mode & 0o7777 });
      else if (!quiet) process.stderr.write(`skipped ${a}: ${st.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}\n`);
    }
  };
  await visit(root, '');
  return found;
}

/** Streams one local file into the zone; returns its file object id and size. */
async function upload(client: ControlClient, zone: string, session: string, abs: string, label: string, quiet: boolean, signal: AbortSignal): Promise<{ id: string; size: number }> {
  const input = await openInput(abs);
  const progress = new Progress(label, input.size >= 0 ? input.size : null, { quiet });
  try {
    const res = await client.request(`/v1/content?${q({ zone, session })}`, { method: 'POST', body: input.stream, ...(input.size >= 0 ? { contentLength: input.size } : {}), onUpload: (n) => progress.update(n), signal });
    return parseJsonReply<{ id: string; size: number }>(res);
  } finally {
    progress.done();
    input.stream.destroy();
  }
}

/**
 * `fcp put SRC DEST`: a file goes to DEST (into DEST when it ends with "/"); a directory's
 * contents go under DEST, recursively. One snapshot for the whole put.
 */
export async function putNamed(client: ControlClient, src: string, dest: string, opts: NamedOptions): Promise<void> {
  const quiet = Boolean(opts.quiet);
  const { zone } = await client.json<{ zone: string }>(`/v1/files/zone?${q({ zone: opts.zone })}`);
  let st;
  try {
    st = await lstat(src);
  } catch (err) {
    throw fileError(err, src, 'input');
  }
  const ac = new AbortController();
  const onSigint = () => ac.abort();
  process.on('SIGINT', onSigint);
  const entries: PutEntry[] = [];
  // One upload session: the daemon keeps what it stores pinned until the names are committed.
  const session = randomUUID();
  let bytes = 0;
  try {
    if (st.isDirectory()) {
      const base = dest.replace(/\/+$/, '');
      if (base !== '') entries.push({ path: base, kind: 'dir', mtime: Math.floor(st.mtimeMs), mode: st.mode & 0o7777 });
      const local = await walkLocal(src, quiet);
      for (const f of local) {
        const path = under(base, f.rel);
        if (f.kind === 'dir') {
          entries.push({ path, kind: 'dir', mtime: f.mtime, mode: f.mode });
          continue;
        }
        const r = await upload(client, zone, session, f.abs, `put ${path}`, quiet, ac.signal);
        bytes += r.size;
        entries.push({ path, kind: 'file', ref: r.id, size: r.size, mtime: f.mtime, mode: f.mode });
      }
      if (entries.length === 0) throw new ControlError('INPUT_EMPTY', `${src} is an empty directory and DEST is the root: nothing to name`);
    } else if (st.isFile()) {
      const path = dest === '' || dest.endsWith('/') ? under(dest, basename(src)) : dest;
      const r = await upload(client, zone, session, src, `put ${path}`, quiet, ac.signal);
      bytes += r.size;
      entries.push({ path, kind: 'file', ref: r.id, size: r.size, mtime: Math.floor(st.mtimeMs), mode: st.mode & 0o7777 });
    } else throw new ControlError('INPUT_NOT_A_FILE', `${src} is not a regular file or directory`);
  } catch (err) {
    if (ac.signal.aborted) {
      process.stderr.write('cancelled: nothing was named; what was uploaded is collected once its upload session has been idle an hour and the grace period is over\n');
      process.exit(130);
    }
    throw err;
  } finally {
    process.off('SIGINT', onSigint);
  }
  const r = await post<{ commit: string | null; changed: boolean; files: number; dirs: number }>(client, '/v1/files', { zone, entries, session, message: `put ${dest || '/'}` });
  out({ zone, ...r, bytes, entries: entries.map((e) => e.path) }, opts.json, () =>
    `${r.changed ? 'named' : 'unchanged:'} ${r.files} file${r.files === 1 ? '' : 's'}${r.dirs ? ` and ${r.dirs} director${r.dirs === 1 ? 'y' : 'ies'}` : ''} (${humanBytes(bytes)}) in ${zone}${r.commit ? `, snapshot ${r.commit.slice(0, 12)}` : ''}`,
  );
}

function listLine(e: Listed): string {
  const when = new Date(e.mtime).toISOString().replace('T', ' ').slice(0, 19);
  return `${e.kind === 'dir' ? 'd' : '-'}${modeString(e.mode)} ${humanBytes(e.size).padStart(10)}  ${when}  ${e.ref.slice(0, 12)}  ${e.kind === 'dir' ? `${e.path}/` : e.path}`;
}

function modeString(mode: number): string {
  return [6, 3, 0].map((s) => `${mode & (4 << s) ? 'r' : '-'}${mode & (2 << s) ? 'w' : '-'}${mode & (1 << s) ? 'x' : '-'}`).join('');
}

/** `fcp ls PATH[@N]`. */
export async function lsNamed(client: ControlClient, spec: string, opts: NamedOptions & { recursive?: boolean }): Promise<void> {
  const path = spec === '/' ? '' : spec;
  const r = await client.json<ListResult>(`/v1/files?${q({ path, zone: opts.zone, recursive: opts.recursive ? '1' : undefined })}`);
  // Never synced (a device just reset, no peer reached yet): said, so an empty list is not taken for data loss.
  if (r.synced === false) process.stderr.write(`warning: not yet synced: this device has not reached any other device of ${r.zone} since it was set up; names written elsewhere are missing from this listing (--json: "synced": false)\n`);
  out(r, opts.json, () => (r.entries.length === 0 ? `${r.path || '/'} is empty (${r.zone})${r.synced === false ? ' as far as this device knows (not yet synced)' : ''}` : r.entries.map(listLine).join('\n')));
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * `fcp get PATH[@N]`: a file to -o FILE (into -o DIR, or to stdout); a directory into -o DIR,
 * the whole tree with modes and times.
 */
export async function getNamed(client: ControlClient, spec: string, opts: NamedOptions & { out?: string; verify?: boolean }): Promise<void> {
  const quiet = Boolean(opts.quiet);
  const r = await client.json<ListResult>(`/v1/files?${q({ path: spec === '/' ? '' : spec, zone: opts.zone, recursive: '1' })}`);
  const ac = new AbortController();
  const onSigint = () => ac.abort();
  process.on('SIGINT', onSigint);
  try {
    if (r.kind === 'file') {
      const e = r.entries[0]!;
      const toStdout = opts.out === '-' || opts.out === undefined;
      if (opts.out === undefined && process.stdout.isTTY) throw new ControlError('OUTPUT_IS_TERMINAL', 'stdout is a terminal: give -o FILE (or -o - to write the bytes here anyway)');
      const path = toStdout ? null : (await isDir(opts.out!)) ? join(opts.out!, e.name) : opts.out!;
      const target = path ? await OutputFile.prepare(path) : null;
      try {
        const got = (await downloadContent(client, e.ref, target, `get ${e.path}`, { quiet, signal: ac.signal, verify: Boolean(opts.verify) })).bytes;
        await target?.commit();
        if (path) await utimes(path, new Date(e.mtime), new Date(e.mtime)).catch(() => undefined);
        if (path) out({ zone: r.zone, path: e.path, bytes: got, out: path }, opts.json, () => (quiet ? '' : `wrote ${humanBytes(got)} to ${path}`));
      } catch (err) {
        await target?.abort();
        throw err;
      }
      return;
    }
    if (!opts.out || opts.out === '-') throw new ControlError('OUTPUT_IS_DIRECTORY_USAGE', `${r.path || '/'} is a directory: give -o DIR to restore it there`);
    const root = opts.out;
    await mkdir(root, { recursive: true }).catch((err: unknown) => {
      throw fileError(err, root, 'output');
    });
    const prefix = r.path === '' ? '' : `${r.path}/`;
    const local = (p: string) => join(root, ...p.slice(prefix.length).split('/'));
    let bytes = 0;
    let files = 0;
    for (const e of r.entries) {
      if (e.kind === 'dir') {
        await mkdir(local(e.path), { recursive: true }).catch((err: unknown) => {
          throw fileError(err, local(e.path), 'output');
        });
        continue;
      }
      const target = await OutputFile.prepare(local(e.path));
      try {
        bytes += (await downloadContent(client, e.ref, target, `get ${e.path}`, { quiet, signal: ac.signal, verify: Boolean(opts.verify) })).bytes;
        await target.commit();
      } catch (err) {
        await target.abort();
        throw err;
      }
      await chmod(local(e.path), e.mode & 0o7777).catch(() => undefined);
      await utimes(local(e.path), new Date(e.mtime), new Date(e.mtime)).catch(() => undefined);
      files++;
    }
    // Directory modes and times last (writing into them changed their times), deepest first.
    for (const e of [...r.entries].reverse()) {
      if (e.kind !== 'dir') continue;
      await chmod(local(e.path), e.mode & 0o7777).catch(() => undefined);
      await utimes(local(e.path), new Date(e.mtime), new Date(e.mtime)).catch(() => undefined);
    }
    out({ zone: r.zone, path: r.path, files, bytes, out: root }, opts.json, () => `restored ${files} file${files === 1 ? '' : 's'} (${humanBytes(bytes)}) from ${r.path || '/'} into ${root}`);
  } catch (err) {
    if (ac.signal.aborted) {
      process.stderr.write('cancelled: files not yet complete were not written\n');
      process.exit(130);
    }
    throw err;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** `30s`, `10m`, `1h`, `2d` or plain milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new ControlError('CONTROL_BAD_DURATION', `not a duration: ${text} (e.g. 0, 30s, 10m, 1h)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? 'ms']!;
  return Math.round(Number(m[1]) * unit);
}

export function registerFileCommands(program: Command, control: (cmd: Command) => ControlClient): void {
  program
    .command('mv <from> <to>')
    .description('rename or move a file or directory (into TO when it is a directory or ends with "/")')
    .option('--zone <zone>', zoneHelp)
    .option('--json', 'print JSON (errors too)')
    .addHelpText('after', '\nExamples:\n  fcp mv notes/todo.md notes/done.md\n  fcp mv photos/2025 archive/\n')
    .action(async (from: string, to: string, opts: NamedOptions, cmd: Command) => {
      const r = await post<{ commit: string | null; to: string }>(control(cmd), '/v1/files/mv', { from, to, zone: opts.zone });
      out(r, opts.json, () => `moved ${from} to ${r.to}`);
    });

  program
    .command('rm <path>')
    .description('remove a name (its content is collected once no kept snapshot has it: see fcp forget, fcp gc)')
    .option('-r, --recursive', 'remove a directory and everything in it')
    .option('--zone <zone>', zoneHelp)
    .option('--json', 'print JSON (errors too)')
    .addHelpText('after', '\nExamples:\n  fcp rm notes/old.md\n  fcp rm -r photos/tmp\n')
    .action(async (path: string, opts: NamedOptions & { recursive?: boolean }, cmd: Command) => {
      const r = await post<{ commit: string | null; removed: Listed }>(control(cmd), '/v1/files/rm', { path, recursive: Boolean(opts.recursive), zone: opts.zone });
      out(r, opts.json, () => `removed ${r.removed.path}${r.removed.kind === 'dir' ? '/' : ''}`);
    });

  program
    .command('log [path]')
    .description('versions: the snapshots in which PATH changed (every snapshot without PATH); read one with PATH@N')
    .option('--zone <zone>', zoneHelp)
    .option('--json', 'print JSON (errors too)')
    .addHelpText('after', '\nExamples:\n  fcp log notes/todo.md\n  fcp get notes/todo.md@3 -o todo-then.md\n')
    .action(async (path: string | undefined, opts: NamedOptions, cmd: Command) => {
      const r = await control(cmd).json<Array<{ snapshot: number; commit: string; time: number; host: string; message: string; entry: Listed | null }>>(`/v1/files/log?${q({ path: path ?? '', zone: opts.zone })}`);
      out(r, opts.json, () =>
        r.map((v) => `@${String(v.snapshot).padEnd(5)} ${new Date(v.time).toISOString().replace('T', ' ').slice(0, 19)}  ${v.host.padEnd(12)} ${v.commit.slice(0, 12)}  ${v.entry ? `${v.entry.kind === 'dir' ? 'dir ' : ''}${humanBytes(v.entry.size)}` : '(removed)'}  ${v.message}`).join('\n') || 'no snapshots yet',
      );
    });

  program
    .command('forget')
    .description('drop old snapshots, keeping the newest N (and every device\'s latest), so deleted data can be collected')
    .requiredOption('--keep-last <n>', 'snapshots to keep')
    .option('--zone <zone>', zoneHelp)
    .option('--json', 'print JSON (errors too)')
    .addHelpText('after', '\nExample:\n  fcp forget --keep-last 10 && fcp gc\n')
    .action(async (opts: NamedOptions & { keepLast: string }, cmd: Command) => {
      const n = Number(opts.keepLast);
      if (!Number.isSafeInteger(n) || n < 1) throw new ControlError('CONTROL_BAD_USAGE', `--keep-last must be a whole number >= 1, got ${opts.keepLast}`);
      const r = await post<{ zone: string; kept: number; forgotten: number }>(control(cmd), '/v1/files/forget', { keepLast: n, zone: opts.zone });
      out(r, opts.json, () => `${r.zone}: kept ${r.kept} snapshot${r.kept === 1 ? '' : 's'}, forgot ${r.forgotten}; run fcp gc to free their space`);
    });

  program
    .command('gc')
    .description('collect now: content no kept snapshot names, older than the grace period, is erased on every device')
    .option('--grace <duration>', 'leave alone what was stored less than this long ago (default 1h)')
    .option('--zone <zone>', zoneHelp)
    .option('--json', 'print JSON (errors too)')
    .addHelpText('after', '\nExamples:\n  fcp gc\n  fcp gc --grace 0      # also uploads that were never named (interrupted puts)\n')
    .action(async (opts: NamedOptions & { grace?: string }, cmd: Command) => {
      const r = await post<{ zone: string; marked: number; candidates: number; collected: number; bytes: number; unreachable: string[] }>(control(cmd), '/v1/files/gc', {
        zone: opts.zone,
        ...(opts.grace !== undefined ? { graceMs: parseDuration(opts.grace) } : {}),
      });
      out(r, opts.json, () =>
        `${r.zone}: collected ${r.collected} object${r.collected === 1 ? '' : 's'} (${humanBytes(r.bytes)}); ${r.marked} in use${r.unreachable.length ? `; not reached now: ${r.unreachable.join(', ')} (they erase their copies when they return)` : ''}`,
      );
    });
}
