// fcp put / fcp get: files of any size streamed through the daemon's content API. Nothing is
// buffered whole: put streams the file (or stdin) into POST /v1/content, get streams
// GET /v1/content/:id into a temporary file that is renamed into place only when complete.
import type { Command } from 'commander';
import { ControlError, parseJsonReply, type ControlClient } from '../../daemon/control-client.js';
import { OutputFile, openInput } from '../local-files.js';
import { Progress, humanBytes } from '../progress.js';
import { getNamed, isIdLike, putNamed } from './files.js';
import { downloadContent } from '../download.js';

interface PutReply {
  id: string;
  size: number;
  chunks: number;
  storedBytes: number;
  dedupBytes: number;
  zone: string;
}

/** Exit code of a command ended by Ctrl-C (128 + SIGINT). */
const EXIT_INTERRUPTED = 130;

function printJson(obj: unknown): void {
  process.stdout.write(`${JSON.stringify(obj, null, 2)}\n`);
}

/** Ends the command as interrupted: the message on stderr (JSON with --json), exit 130. */
function endInterrupted(json: boolean, message: string, extra: Record<string, unknown> = {}): never {
  process.stderr.write(json ? `${JSON.stringify({ error: { code: 'INTERRUPTED', message, exit: EXIT_INTERRUPTED }, ...extra })}\n` : `${message}\n`);
  process.exit(EXIT_INTERRUPTED);
}

async function put(client: ControlClient, file: string, opts: { zone: string; tolerate?: string; json?: boolean; quiet?: boolean }): Promise<void> {
  const json = Boolean(opts.json);
  const input = file === '-' ? { stream: process.stdin, size: -1 } : await openInput(file);
  const size = input.size >= 0 ? input.size : null;
  const progress = new Progress(`put ${file === '-' ? 'stdin' : file}`, size, { quiet: Boolean(opts.quiet) });
  const q = new URLSearchParams({ zone: opts.zone, ...(opts.tolerate ? { tolerate: opts.tolerate } : {}) });
  const ac = new AbortController();
  let uploaded = false;
  let interrupts = 0;
  // Ctrl-C while bytes still flow: cancel (the daemon stops and stores no file object). Once all
  // bytes are sent the daemon is placing the last chunks: say so and wait; a second Ctrl-C cancels.
  const onSigint = () => {
    interrupts++;
    if (!uploaded || interrupts > 1) ac.abort();
    else process.stderr.write('\nfinishing: the daemon is storing the last chunks (Ctrl-C again to cancel)\n');
  };
  process.on('SIGINT', onSigint);
  try {
    const res = await client.request(`/v1/content?${q}`, {
      method: 'POST',
      body: input.stream,
      ...(size !== null ? { contentLength: size } : {}),
      onUpload: (n) => progress.update(n),
      onUploadEnd: () => (uploaded = true),
      signal: ac.signal,
    });
    progress.done();
    const r = parseJsonReply<PutReply>(res);
    if (interrupts > 0) {
      process.stdout.write(json ? `${JSON.stringify(r)}\n` : `${r.id}\n`);
      endInterrupted(json, `finishing: ${r.id}`, { result: r });
    }
    if (json) printJson(r);
    else {
      process.stdout.write(`${r.id}\n`);
      if (!opts.quiet) {
        process.stderr.write(`stored ${humanBytes(r.size)} in ${r.chunks} chunk${r.chunks === 1 ? '' : 's'} (${humanBytes(r.storedBytes)} new, ${humanBytes(r.dedupBytes)} already in ${r.zone})\n`);
      }
    }
  } catch (err) {
    progress.done();
    if (ac.signal.aborted) endInterrupted(json, 'cancelled: nothing named was stored');
    throw err;
  } finally {
    process.off('SIGINT', onSigint);
    if (file !== '-') (input.stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
  }
}

async function get(client: ControlClient, id: string, opts: { out?: string; verify?: boolean; json?: boolean; quiet?: boolean }): Promise<void> {
  const toStdout = opts.out === '-' || opts.out === undefined;
  if (opts.out === undefined && process.stdout.isTTY) {
    throw new ControlError('OUTPUT_IS_TERMINAL', 'stdout is a terminal: give -o FILE (or -o - to write the bytes here anyway)');
  }
  // The target is checked (and its temporary file opened) before anything is fetched.
  const target = toStdout ? null : await OutputFile.prepare(opts.out!);
  const ac = new AbortController();
  const onSigint = () => ac.abort();
  process.on('SIGINT', onSigint);
  try {
    const { bytes: got, objectId } = await downloadContent(client, id, target, `get ${id.slice(0, 12)}`, { quiet: Boolean(opts.quiet), signal: ac.signal, verify: Boolean(opts.verify) });
    await target?.commit();
    if (opts.json && target) printJson({ id: objectId, bytes: got, out: opts.out });
    else if (target && !opts.quiet) process.stderr.write(`wrote ${humanBytes(got)} to ${opts.out}\n`);
  } catch (err) {
    await target?.abort();
    if (ac.signal.aborted) endInterrupted(Boolean(opts.json), 'cancelled: nothing was written');
    throw err;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

export function registerContentCommands(program: Command, control: (cmd: Command) => ControlClient): void {
  program
    .command('put <file> [dest]')
    .description('store a file (or stdin with "-") of any size, streamed and chunked; prints its id. With DEST: name it (a directory recursively) in the zone\'s namespace')
    .option('--zone <zone>', 'zone of the data, e.g. z:private (with DEST: default z:private when this device holds it)')
    .option('--tolerate <n>', 'devices that may be lost while the file stays readable')
    .option('--json', 'print JSON (errors too)')
    .option('-q, --quiet', 'no progress or summary on stderr')
    .addHelpText(
      'after',
      '\nExamples:\n  fcp put photo.jpg --zone z:private\n  tar c ./notes | fcp put - --zone z:owner\n  fcp put ./photos photos/2026/     # the tree, by name (its contents under photos/2026/)\n  fcp put report.pdf docs/          # named docs/report.pdf\n',
    )
    .action(async (file: string, dest: string | undefined, opts: { zone?: string; tolerate?: string; json?: boolean; quiet?: boolean }, cmd: Command) => {
      if (dest !== undefined) return putNamed(control(cmd), file, dest, opts);
      if (!opts.zone) throw new ControlError('CONTROL_BAD_USAGE', 'give --zone to store by id, or a DEST path to name the file (fcp put FILE DEST)');
      await put(control(cmd), file, { ...opts, zone: opts.zone });
    });

  program
    .command('get <idOrPath>')
    .description('rebuild a stored file by id (or unique prefix of 8+ hex digits), or by name: PATH[@N] (a directory restores the whole tree with -o DIR)')
    .option('--zone <zone>', 'zone of a PATH (default z:private when this device holds it)')
    .option('-o, --out <file>', 'where to write it ("-" for stdout; the default when stdout is not a terminal)')
    .option('--verify', 'also re-hash every chunk against its id')
    .option('--json', 'print JSON (errors too)')
    .option('-q, --quiet', 'no progress or summary on stderr')
    .addHelpText('after', '\nExamples:\n  fcp get 3f2a9c01d4e5 -o photo.jpg\n  fcp get 3f2a9c01d4e5 | tar x\n  fcp get photos/2026/a.jpg -o a.jpg\n  fcp get notes/todo.md@3 -           # the file as snapshot 3 had it\n  fcp get photos/ -o ./restore        # the whole tree\n')
    .action(async (arg: string, opts: { out?: string; verify?: boolean; json?: boolean; quiet?: boolean; zone?: string }, cmd: Command) => {
      // Hex is tried as an id first (8 to 64 digits name an object); a path otherwise, or when
      // no object has that id and a name does.
      if (!isIdLike(arg) || opts.zone) return getNamed(control(cmd), arg, opts);
      try {
        await get(control(cmd), arg, opts);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code !== 'MESH_NOT_FOUND' && code !== 'MESH_BAD_ID') throw err;
        // Not an object: perhaps a name that looks like hex. If it is no name either, the
        // id's own error says best what was asked.
        await getNamed(control(cmd), arg, opts).catch((named: unknown) => {
          const code = (named as { code?: string }).code;
          throw code === 'FILES_NOT_FOUND' || code === 'FILES_NEED_ZONE' ? err : named;
        });
      }
    });
}
