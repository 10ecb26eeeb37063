// Messages between the worker pool and its worker threads. Packets travel packed in one
// ArrayBuffer (transferred, not copied) rather than as thousands of small buffers.

import type { EncoderOptions } from './encoder.js';
import type { RaptorQErrorCode } from './errors.js';

export type EncodeSettings = EncoderOptions | { readonly mtu: number };

export interface EncodeRequest {
  readonly id: number;
  readonly kind: 'encode';
  readonly data: Uint8Array;
  readonly settings: EncodeSettings;
  /** Repair packets per block, at ESIs K, K+1, ... */
  readonly repairPerBlock: number;
}

export interface DecodeRequest {
  readonly id: number;
  readonly kind: 'decode';
  readonly oti: Uint8Array;
  /** Packets back to back, each packetLength bytes. */
  readonly packed: Uint8Array;
  readonly packetLength: number;
}

export type WorkerRequest = EncodeRequest | DecodeRequest;

export type WorkerResponse =
  | { readonly id: number; readonly ok: true; readonly kind: 'encode'; readonly oti: Uint8Array; readonly packed: Uint8Array; readonly packetLength: number }
  | { readonly id: number; readonly ok: true; readonly kind: 'decode'; readonly data: Uint8Array | null }
  | { readonly id: number; readonly ok: false; readonly code: RaptorQErrorCode | null; readonly message: string };

/** Packs equally long packets into one buffer. */
export function packPackets(packets: readonly Uint8Array[], packetLength: number): Uint8Array {
  const out = new Uint8Array(packets.length * packetLength);
  packets.forEach((p, i) => out.set(p, i * packetLength));
  return out;
}

/** Views (no copies) of the packets in a packed buffer. */
export function unpackPackets(packed: Uint8Array, packetLength: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at + packetLength <= packed.length; at += packetLength) out.push(packed.subarray(at, at + packetLength));
  return out;
}
