// Iterating a source so that an AbortSignal ends the wait at once (a stalled upload does not
// hold a cancelled put), and the source is closed either way.
import { cancelled } from './errors.js';

export async function* abortable<T>(source: AsyncIterable<T>, signal: AbortSignal | undefined, what: string): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  if (!signal) {
    try {
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield r.value;
      }
    } finally {
      await it.return?.();
    }
  }
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(cancelled(what));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  try {
    for (;;) {
      let r: IteratorResult<T>;
      try {
        r = await Promise.race([it.next(), aborted]);
      } catch (err) {
        // A source that fails because its caller went away (an aborted upload) is a cancel too.
        if (signal.aborted) throw cancelled(what);
        throw err;
      }
      if (r.done) return;
      yield r.value;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    // Not awaited when aborted: a source blocked in next() may never settle its return().
    const closing = it.return?.();
    if (!signal.aborted) await closing;
    else void Promise.resolve(closing).catch(() => undefined);
  }
}
