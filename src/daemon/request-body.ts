// A request body as an async iterable that pulls as it is consumed (the socket's backpressure
// holds the client) and, unlike Readable's own iterator, does not destroy the request when the
// consumer stops early: the connection must stay up to carry the error reply.
import type http from 'node:http';

function readNext(req: http.IncomingMessage): Promise<IteratorResult<Uint8Array>> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      req.off('readable', onReadable);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onReadable = () => {
      const c = req.read() as Buffer | null;
      if (c !== null) {
        cleanup();
        resolve({ done: false, value: c });
      }
    };
    const onEnd = () => {
      cleanup();
      resolve({ done: true, value: undefined });
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onClose = () => {
      if (req.readableEnded) return onEnd();
      cleanup();
      reject(new Error('the client closed the request before its body ended'));
    };
    if (req.readableEnded) return resolve({ done: true, value: undefined });
    const c = req.read() as Buffer | null;
    if (c !== null) return resolve({ done: false, value: c });
    req.on('readable', onReadable);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

export function requestBody(req: http.IncomingMessage): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]: () => ({
      next: () => readNext(req),
      return: async () => ({ done: true, value: undefined }),
    }),
  };
}
