// One streamed download from the daemon's content route, to a prepared file or stdout, with
// progress; a body that ends short of its content-length is FCPD_STREAM_BROKEN.
import { ControlError, type ControlClient } from '../daemon/control-client.js';
import type { OutputFile } from './local-files.js';
import { Progress } from './progress.js';

export interface Downloaded {
  bytes: number;
  /** The id the daemon resolved (a prefix becomes the full id). */
  objectId: string;
}

export async function downloadContent(
  client: ControlClient,
  ref: string,
  target: OutputFile | null,
  label: string,
  opts: { quiet: boolean; signal: AbortSignal; verify: boolean },
): Promise<Downloaded> {
  const r = await client.stream(`/v1/content/${encodeURIComponent(ref)}${opts.verify ? '?verify=1' : ''}`, { signal: opts.signal });
  const total = Number(r.headers['content-length'] ?? NaN);
  const progress = new Progress(label, Number.isFinite(total) ? total : null, { quiet: opts.quiet });
  let got = 0;
  try {
    for await (const c of r.body) {
      const chunk = c as Buffer;
      if (target) await target.write(chunk);
      else if (!process.stdout.write(chunk)) await new Promise<void>((resolve) => process.stdout.once('drain', resolve));
      got += chunk.length;
      progress.update(got);
    }
  } catch (err) {
    if (opts.signal.aborted) throw new ControlError('INTERRUPTED', 'interrupted');
    if ((err as { code?: string }).code?.startsWith('OUTPUT_')) throw err;
    // The daemon hit an error after the headers: the body ends short.
  } finally {
    progress.done();
  }
  if (Number.isFinite(total) && got !== total) throw new ControlError('FCPD_STREAM_BROKEN', `fcpd stopped sending ${label} after ${got} of ${total} bytes (its log says why); nothing was written`);
  return { bytes: got, objectId: String(r.headers['x-fcp-object-id'] ?? ref) };
}
