// A small pool of worker threads so large objects are encoded and decoded off the event loop.
// Idle workers are unref'd: a process that forgets to close the pool still exits.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import {
  BadOtiError,
  BadPacketError,
  BadParametersError,
  EsiOutOfRangeError,
  SbnOutOfRangeError,
  WorkerFailedError,
  type RaptorQErrorCode,
} from './errors.js';
import type { EncoderOptions } from './encoder.js';
import { parseOti } from './oti.js';
import { PAYLOAD_ID_LENGTH } from './payload-id.js';
import { packPackets, unpackPackets, type EncodeSettings, type WorkerRequest, type WorkerResponse } from './worker-protocol.js';

export interface EncodeResult {
  readonly oti: Uint8Array;
  /**
   * Source packets then repair packets of block 0, then of block 1, ... They are views into
   * one buffer (it crossed the thread boundary without a copy); slice() any kept on its own.
   */
  readonly packets: Uint8Array[];
}

export interface EncodeInWorkerOptions {
  /** Repair packets per block (ESIs K .. K+n-1). Default 0. */
  readonly repairPerBlock?: number;
}

interface PendingJob {
  readonly request: WorkerRequest;
  readonly transfer: ArrayBuffer[];
  readonly resolve: (r: WorkerResponse) => void;
  readonly reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  job: PendingJob | null;
}

function rebuildError(code: RaptorQErrorCode | null, message: string): Error {
  switch (code) {
    case 'RAPTORQ_BAD_OTI':
      return new BadOtiError(message);
    case 'RAPTORQ_BAD_PARAMETERS':
      return new BadParametersError(message);
    case 'RAPTORQ_BAD_PACKET':
      return new BadPacketError(message);
    case 'RAPTORQ_SBN_OUT_OF_RANGE':
      return new SbnOutOfRangeError(message);
    case 'RAPTORQ_ESI_OUT_OF_RANGE':
      return new EsiOutOfRangeError(message);
    default:
      return new WorkerFailedError(message);
  }
}

export class RaptorQWorkerPool {
  readonly size: number;
  private readonly slots: Slot[] = [];
  private readonly queue: PendingJob[] = [];
  private nextId = 1;
  private closed = false;

  constructor(size = Math.max(1, Math.min(4, availableParallelism() - 1))) {
    if (!Number.isInteger(size) || size < 1) throw new BadParametersError(`pool size must be a positive integer, got ${size}`);
    this.size = size;
  }

  /** Encodes `data` in a worker: all source packets plus `repairPerBlock` repair packets per block. */
  async encode(data: Uint8Array, settings: EncoderOptions | { mtu: number }, options: EncodeInWorkerOptions = {}): Promise<EncodeResult> {
    const repairPerBlock = options.repairPerBlock ?? 0;
    if (!Number.isInteger(repairPerBlock) || repairPerBlock < 0) {
      throw new BadParametersError(`repairPerBlock must be a non-negative integer, got ${repairPerBlock}`);
    }
    const request: WorkerRequest = { id: this.nextId++, kind: 'encode', data, settings: { ...settings } as EncodeSettings, repairPerBlock };
    const response = await this.run(request, []);
    if (!response.ok || response.kind !== 'encode') throw new WorkerFailedError('unexpected worker response');
    return { oti: response.oti, packets: unpackPackets(response.packed, response.packetLength) };
  }

  /** Decodes from `packets` in a worker; null when they are not enough to rebuild the object. */
  async decode(oti: Uint8Array, packets: readonly Uint8Array[]): Promise<Uint8Array | null> {
    const packetLength = PAYLOAD_ID_LENGTH + parseOti(oti).symbolSize;
    for (const p of packets) {
      if (p.length !== packetLength) throw new BadPacketError(`a packet of this object is ${packetLength} bytes, got ${p.length}`);
    }
    const packed = packPackets(packets, packetLength);
    const request: WorkerRequest = { id: this.nextId++, kind: 'decode', oti: oti.slice(), packed, packetLength };
    const response = await this.run(request, [packed.buffer as ArrayBuffer]);
    if (!response.ok || response.kind !== 'decode') throw new WorkerFailedError('unexpected worker response');
    return response.data;
  }

  /** Stops every worker; pending jobs fail with RAPTORQ_WORKER_FAILED. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new WorkerFailedError('the worker pool was closed'));
    const slots = this.slots.splice(0);
    await Promise.all(
      slots.map(async (slot) => {
        slot.job?.reject(new WorkerFailedError('the worker pool was closed'));
        slot.job = null;
        await slot.worker.terminate();
      }),
    );
  }

  private run(request: WorkerRequest, transfer: ArrayBuffer[]): Promise<WorkerResponse> {
    if (this.closed) return Promise.reject(new WorkerFailedError('the worker pool is closed; create a new one'));
    return new Promise<WorkerResponse>((resolve, reject) => {
      this.queue.push({
        request,
        transfer,
        resolve: (r) => (r.ok ? resolve(r) : reject(rebuildError(r.code, r.message))),
        reject,
      });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => s.job === null);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      if (!slot) return;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.ref();
      slot.worker.postMessage(job.request, job.transfer);
    }
  }

  private spawn(): Slot {
    const worker = new Worker(new URL('./worker.js', import.meta.url));
    const slot: Slot = { worker, job: null };
    worker.on('message', (response: WorkerResponse) => {
      const job = slot.job;
      slot.job = null;
      worker.unref();
      if (job && job.request.id === response.id) job.resolve(response);
      this.dispatch();
    });
    const fail = (err: Error): void => {
      const job = slot.job;
      slot.job = null;
      const at = this.slots.indexOf(slot);
      if (at >= 0) this.slots.splice(at, 1);
      job?.reject(new WorkerFailedError(`a RaptorQ worker stopped: ${err.message}`));
      if (!this.closed) this.dispatch();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (this.slots.includes(slot)) fail(new Error(`exit code ${code}`));
    });
    this.slots.push(slot);
    return slot;
  }
}

let sharedPool: RaptorQWorkerPool | undefined;

function pool(): RaptorQWorkerPool {
  sharedPool ??= new RaptorQWorkerPool();
  return sharedPool;
}

/** Encodes on the shared worker pool. */
export function encodeInWorker(data: Uint8Array, settings: EncoderOptions | { mtu: number }, options?: EncodeInWorkerOptions): Promise<EncodeResult> {
  return pool().encode(data, settings, options);
}

/** Decodes on the shared worker pool; null when the packets are not enough. */
export function decodeInWorker(oti: Uint8Array, packets: readonly Uint8Array[]): Promise<Uint8Array | null> {
  return pool().decode(oti, packets);
}

/** Closes the shared pool (a new one starts on the next call). */
export async function closeSharedWorkerPool(): Promise<void> {
  const p = sharedPool;
  sharedPool = undefined;
  await p?.close();
}
