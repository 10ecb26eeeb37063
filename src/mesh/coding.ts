// Making an object's symbols, off the event loop for large objects: the daemon keeps serving
// requests while it encodes. Small objects are coded inline (a worker round trip costs more).
import { Worker } from 'node:worker_threads';
import { MeshError } from './errors.js';
import type { SealRun } from '../crypto/index.js';
import { codeAndSeal, codeSymbols, decodeSymbols, envelopeBytes, type SymbolRequest, type CodedSymbols, type SealedSymbols } from './coding-core.js';
import { SharedBufferPool } from './shared-buffers.js';

export type { SymbolRequest, CodedSymbols, SealedSymbols };

/** Objects at least this large are coded in the worker. */
export const WORKER_THRESHOLD = 1 << 20;

interface JobResult {
  result?: CodedSymbols;
  sealed?: SealedSymbols;
  decoded?: Uint8Array | null;
}

interface Job {
  resolve: (r: JobResult) => void;
  reject: (e: Error) => void;
}

/** One coding worker per process, started on first use; it does not keep the process alive. */
class CodingWorker {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly jobs = new Map<number, Job>();

  run(job: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<JobResult> {
    const worker = this.ensure();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.jobs.set(id, { resolve, reject });
      if (this.jobs.size === 1) worker.ref();
      worker.postMessage({ ...job, id }, transfer);
    });
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./coding-worker.js', import.meta.url));
    worker.unref();
    worker.on('message', (msg: JobResult & { id: number; error?: string }) => {
      const job = this.jobs.get(msg.id);
      if (!job) return;
      this.jobs.delete(msg.id);
      if (this.jobs.size === 0) worker.unref();
      if (msg.error === undefined) job.resolve(msg);
      else job.reject(new MeshError('MESH_STORE_FAILED', `coding worker: ${msg.error}`));
    });
    const failAll = (err: Error) => {
      this.worker = null;
      for (const job of this.jobs.values()) job.reject(new MeshError('MESH_STORE_FAILED', `coding worker died: ${err.message}`));
      this.jobs.clear();
    };
    worker.on('error', failAll);
    worker.on('exit', (code) => failAll(new Error(`exit code ${code}`)));
    this.worker = worker;
    return worker;
  }
}

const shared = new CodingWorker();

/** Symbols of `data` (encoded with `oti`) at the requested ESIs of each block. */
export async function makeSymbols(data: Uint8Array, oti: Uint8Array, requests: SymbolRequest[]): Promise<CodedSymbols> {
  if (data.length < WORKER_THRESHOLD) return codeSymbols(data, oti, requests);
  return (await shared.run({ op: 'encode', data, oti, requests })).result!;
}

/**
 * The buffers large stores' envelopes are sealed into (the worker writes them in place). A few
 * chunks' worth stay for reuse: a store in flight holds at most 4 MiB x its overhead.
 */
const envelopeBuffers = new SharedBufferPool(24 * 1024 * 1024);

/**
 * Symbols of `data` at the requested ESIs, coded and sealed (in the worker when large: sealing
 * costs as much as coding, and both then run beside the daemon's event loop). Give the envelopes
 * back with releaseEnvelopes once nothing refers to them.
 */
export async function makeSealedSymbols(data: Uint8Array, oti: Uint8Array, requests: SymbolRequest[], run: SealRun): Promise<SealedSymbols> {
  try {
    if (data.length < WORKER_THRESHOLD) return codeAndSeal(data, oti, requests, run);
    const into = envelopeBuffers.take(envelopeBytes(oti, requests));
    const sealed = (await shared.run({ op: 'encode-seal', data, oti, requests, run, into })).sealed!;
    return { ...sealed, envelopes: into };
  } finally {
    run.subkey.fill(0);
  }
}

/** Lets a later store reuse the buffer of envelopes nothing refers to any more (a no-op for small ones). */
export function releaseEnvelopes(envelopes: Uint8Array): void {
  envelopeBuffers.give(envelopes);
}

/** Solves an object from symbols (in the worker when large); null when they do not suffice. */
export async function solveSymbols(oti: Uint8Array, transferLength: number, symbols: CodedSymbols): Promise<Uint8Array | null> {
  if (transferLength < WORKER_THRESHOLD) return decodeSymbols(oti, symbols);
  const transfer = [symbols.bytes.buffer as ArrayBuffer, symbols.sbns.buffer as ArrayBuffer, symbols.esis.buffer as ArrayBuffer];
  return (await shared.run({ op: 'decode', oti, symbols }, transfer)).decoded ?? null;
}
