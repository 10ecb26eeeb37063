// Iterating a source so that an AbortSignal ends the wait at once (a stalled upload does not
// hold a cancelled put), and the source is closed either way.
//
// Each wait listens on the signal only while it lasts: racing every next() against one
// long-lived "aborted" promise would leave a reaction per step on it, each keeping its piece of
// the stream alive (memory growing with the file).
import { cancelled } from './errors.js';

function nextOrAbort<T>(it: AsyncIterator<T>, signal: AbortSignal, what: string): Promise<IteratorResult<T>> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(cancelled(what));
    const onAbort = () => reject(cancelled(what));
    signal.addEventListener('abort', onAbort, { once: true });
    it.next().then(
      (r) => {
        signal.removeEventListener('abort', onAbort);
        resolve(r);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        // A source that fails because its caller went away (an aborted upload) is a cancel too.
        reject(signal.aborted ? cancelled(what) : err);
      },
    );
  });
}

export async function* abortable<T>(source: AsyncIterable<T>, signal: AbortSignal | undefined, what: string): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  let finished = false;
  try {
    for (;;) {
      const r = signal ? await nextOrAbort(it, signal, what) : await it.next();
      if (r.done) {
        finished = true;
        return;
      }
      yield r.value;
    }
  } finally {
    if (!finished) {
      // Not awaited when aborted: a source blocked in next() may never settle its return().
      const closing = it.return?.();
      if (!signal?.aborted) await closing;
      else void Promise.resolve(closing).catch(() => undefined);
    }
  }
}
