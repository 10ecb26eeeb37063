// Plain data types shared by the wire and store layers (both may import crypto).

export interface PlacementPolicy {
  /** Symbols to keep spread over devices per source block, as a multiple of K (e.g. 1.5). */
  target: number;
  /** Minimum number of distinct devices holding symbols. */
  minDevices: number;
  /** Largest fraction of the symbols one device may hold, in (0, 1]. */
  maxShare: number;
  /** Devices that may be lost while the object stays recoverable. */
  tolerate: number;
}

/** What every device of the zone knows about a stored object. */
export interface Manifest {
  objectId: Uint8Array; // 32 bytes
  zone: string;
  schema: string;
  /** RaptorQ Object Transmission Information, 12 bytes (RFC 6330 §3.3). */
  oti: Uint8Array;
  /** Object length in bytes. */
  length: number;
  /** Zone key id (8 bytes) the symbols are sealed under. */
  keyId: Uint8Array;
  epoch: number;
  /** Creation time, ms since the Unix epoch. */
  created: number;
  /** Node id of the writing device. */
  writer: string;
  placement: PlacementPolicy;
}

/** One sealed symbol as stored and carried: its position and its envelope. */
export interface SymbolEntry {
  sbn: number;
  esi: number;
  env: Uint8Array;
}

/** One number per symbol position (SBN, ESI), for sets and maps: ESIs are below 2^24. */
export function positionKey(sbn: number, esi: number): number {
  return sbn * 0x1000000 + esi;
}

/** The position a positionKey stands for. */
export function positionOf(key: number): [sbn: number, esi: number] {
  return [Math.floor(key / 0x1000000), key % 0x1000000];
}

/**
 * One device's head of a zone's namespace: the commit its latest change made. Each device is the
 * single writer of its own record; a record replaces another only with a higher `seq`.
 */
export interface RefRecord {
  zone: string;
  /** Stable node id of the device whose head this is. */
  device: string;
  seq: number;
  /** ObjectId of the head commit (32 bytes). */
  commit: Uint8Array;
  /** Commits forgotten by this device (`fcp forget`): history walks stop at them. */
  forgotten: Uint8Array[];
  /** Wall ms when the device wrote this record. */
  time: number;
  /**
   * Ed25519 signature of `device`'s node key over every field above (mesh/record-signing.ts).
   * Every record that travels carries one; only records stored before heads were signed lack it.
   */
  sig?: Uint8Array;
}

/**
 * Whether an object of a zone was collected (dead) or stored again after that (alive). The
 * record with the later `at` wins; a dead one stops repair from carrying the object anywhere.
 */
export interface Tombstone {
  objectId: Uint8Array;
  zone: string;
  /** Wall ms of the decision. */
  at: number;
  dead: boolean;
  /** Stable node id of the device that decided (collected or revived) and signed. */
  by?: string;
  /** Ed25519 signature of `by`'s node key over every field above (mesh/record-signing.ts). */
  sig?: Uint8Array;
}
