// Worker thread entry for coding large objects (see coding.ts).
import { parentPort } from 'node:worker_threads';
import type { SealRun } from '../crypto/index.js';
import { codeAndSeal, codeSymbols, decodeSymbols, type CodedSymbols, type SymbolRequest } from './coding-core.js';

type Job =
  | { id: number; op: 'encode'; data: Uint8Array; oti: Uint8Array; requests: SymbolRequest[] }
  | { id: number; op: 'encode-seal'; data: Uint8Array; oti: Uint8Array; requests: SymbolRequest[]; run: SealRun; into: Uint8Array }
  | { id: number; op: 'decode'; oti: Uint8Array; symbols: CodedSymbols };

parentPort!.on('message', (msg: Job) => {
  try {
    if (msg.op === 'encode') {
      const result = codeSymbols(msg.data, msg.oti, msg.requests);
      parentPort!.postMessage({ id: msg.id, result }, [result.bytes.buffer as ArrayBuffer, result.sbns.buffer as ArrayBuffer, result.esis.buffer as ArrayBuffer]);
    } else if (msg.op === 'encode-seal') {
      // The envelopes are written into the caller's shared buffer; only their positions go back.
      const sealed = codeAndSeal(msg.data, msg.oti, msg.requests, msg.run, msg.into);
      msg.run.subkey.fill(0);
      parentPort!.postMessage({ id: msg.id, sealed: { ...sealed, envelopes: undefined } }, [sealed.sbns.buffer as ArrayBuffer, sealed.esis.buffer as ArrayBuffer]);
    } else {
      const decoded = decodeSymbols(msg.oti, msg.symbols);
      parentPort!.postMessage({ id: msg.id, decoded }, decoded ? [decoded.buffer as ArrayBuffer] : []);
    }
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, error: (err as Error).message });
  }
});
