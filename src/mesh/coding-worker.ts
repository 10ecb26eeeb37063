// Worker thread entry for coding large objects (see coding.ts).
import { parentPort } from 'node:worker_threads';
import { codeSymbols, type SymbolRequest } from './coding-core.js';

parentPort!.on('message', (msg: { id: number; data: Uint8Array; oti: Uint8Array; requests: SymbolRequest[] }) => {
  try {
    const result = codeSymbols(msg.data, msg.oti, msg.requests);
    parentPort!.postMessage({ id: msg.id, result }, [result.bytes.buffer as ArrayBuffer, result.sbns.buffer as ArrayBuffer, result.esis.buffer as ArrayBuffer]);
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, error: (err as Error).message });
  }
});
