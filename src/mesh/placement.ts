// Placement: how many symbols an object's source block gets and which device holds which ESI.
// Pure functions; the mesh node feeds them the eligible, reachable devices ranked best first.
import type { PlacementPolicy as ManifestPlacement } from '../crypto/index.js';
import { MeshError } from './errors.js';

export interface PlacementPolicy {
  /** Symbols per block as a multiple of K (default 1.5). */
  overhead: number;
  /** Devices that may be lost while every block still has enough symbols (default 1). */
  tolerate: number;
  /** Fewest distinct devices that must hold symbols (default 1). */
  minDevices: number;
  /** Largest fraction of a block's symbols that one device may hold (default 1). */
  maxShare: number;
}

export const DEFAULT_POLICY: PlacementPolicy = { overhead: 1.5, tolerate: 1, minDevices: 1, maxShare: 1 };

/** Symbols beyond K that a decoder is given so that failure is below about 1e-6 (RFC 6330 annex). */
export const DECODE_MARGIN = 2;

export function resolvePolicy(partial?: Partial<PlacementPolicy>): PlacementPolicy {
  const p = { ...DEFAULT_POLICY, ...(partial ?? {}) };
  if (!(p.overhead >= 1) || !Number.isFinite(p.overhead)) throw new MeshError('MESH_BAD_POLICY', `overhead must be >= 1, got ${p.overhead}`);
  if (!Number.isInteger(p.tolerate) || p.tolerate < 0) throw new MeshError('MESH_BAD_POLICY', `tolerate must be a whole number >= 0, got ${p.tolerate}`);
  if (!Number.isInteger(p.minDevices) || p.minDevices < 1) throw new MeshError('MESH_BAD_POLICY', `minDevices must be a whole number >= 1, got ${p.minDevices}`);
  if (!(p.maxShare > 0 && p.maxShare <= 1)) throw new MeshError('MESH_BAD_POLICY', `maxShare must be in (0, 1], got ${p.maxShare}`);
  return p;
}

/**
 * Number of symbols n for a block of K source symbols spread round-robin over `devices` devices,
 * so that after losing the `tolerate` fullest devices at least K + DECODE_MARGIN remain.
 */
export function symbolCount(k: number, devices: number, policy: PlacementPolicy): number {
  checkDeviceCount(devices, policy);
  const need = k + DECODE_MARGIN;
  let n = Math.max(Math.ceil(k * policy.overhead), need);
  // Round-robin gives each device ceil(n/D) at most; grow n until the worst loss leaves enough.
  while (n - policy.tolerate * Math.ceil(n / devices) < need) n++;
  // Keep every device under maxShare by spreading more symbols if needed (only possible when 1/D <= maxShare).
  while (Math.ceil(n / devices) / n > policy.maxShare) n++;
  return n;
}

export function checkDeviceCount(devices: number, policy: PlacementPolicy): void {
  if (devices < policy.minDevices) {
    throw new MeshError('MESH_TOO_FEW_DEVICES', `placement needs at least ${policy.minDevices} eligible reachable devices, ${devices} available`);
  }
  if (devices <= policy.tolerate) {
    throw new MeshError('MESH_TOO_FEW_DEVICES', `tolerating the loss of ${policy.tolerate} device(s) needs more than ${policy.tolerate} eligible reachable devices, ${devices} available`);
  }
  if (1 / devices > policy.maxShare + 1e-12) {
    throw new MeshError('MESH_TOO_FEW_DEVICES', `maxShare ${policy.maxShare} needs at least ${Math.ceil(1 / policy.maxShare)} devices, ${devices} available`);
  }
}

/** Device index (into the ranked device list) that holds a given ESI of a block. */
export function holderOf(esi: number, devices: number): number {
  return esi % devices;
}

/** ESIs 0..n-1 grouped by holder: result[d] lists device d's ESIs in ascending order. */
export function assign(n: number, devices: number): number[][] {
  const out: number[][] = Array.from({ length: devices }, () => []);
  for (let esi = 0; esi < n; esi++) out[holderOf(esi, devices)]!.push(esi);
  return out;
}

/** The policy a manifest carries (its `target` is the overhead). */
export function policyOf(placement: ManifestPlacement): PlacementPolicy {
  return resolvePolicy({ overhead: placement.target, tolerate: placement.tolerate, minDevices: placement.minDevices, maxShare: placement.maxShare });
}

/** The placement record written into a manifest for a policy. */
export function placementOf(policy: PlacementPolicy): ManifestPlacement {
  return { target: policy.overhead, minDevices: policy.minDevices, maxShare: policy.maxShare, tolerate: policy.tolerate };
}

/** Symbols per `symbols`/`store` frame are capped by bytes so frames stay well under the frame limit. */
export const BATCH_BYTES = 512 * 1024;

/** Splits symbols into batches of about `batchBytes` of envelopes, one frame each. */
export function batchesOf<T extends { env: Uint8Array }>(symbols: readonly T[], batchBytes: number): T[][] {
  const out: T[][] = [];
  let batch: T[] = [];
  let bytes = 0;
  for (const s of symbols) {
    batch.push(s);
    bytes += s.env.length;
    if (bytes >= batchBytes) {
      out.push(batch);
      batch = [];
      bytes = 0;
    }
  }
  if (batch.length > 0) out.push(batch);
  return out;
}
