// Data-flow rules between zones (FCP V2 section 5.1), as pure functions.
import type { Zone } from './zone.js';

/**
 * May a device belonging to `deviceZones` hold or receive data of `dataZone`?
 * Only if one of its zones is at least as confidential as the data.
 */
export function mayHold(deviceZones: readonly Zone[], dataZone: Zone): boolean {
  return deviceZones.some((z) => z.confidentiality >= dataZone.confidentiality);
}

export interface WriteDecision {
  allowed: boolean;
  /** True when the write raises integrity and was allowed by explicit elevation: mark the data. */
  elevated: boolean;
  reason?: string;
}

/**
 * Integrity check for data written from zone `from` into zone `to`. Writing
 * down (or level) is free; writing from a lower-integrity zone into a higher
 * one is refused unless `elevated` is given, and the result then says so.
 */
export function checkWrite(from: Zone, to: Zone, opts: { elevated?: boolean } = {}): WriteDecision {
  if (from.integrity >= to.integrity) return { allowed: true, elevated: false };
  const gap = `${from.id} (integrity ${from.integrity}) into ${to.id} (integrity ${to.integrity})`;
  if (opts.elevated === true) {
    return { allowed: true, elevated: true, reason: `integrity elevated: ${gap}; mark the data as elevated` };
  }
  return { allowed: false, elevated: false, reason: `refused: ${gap} raises integrity and needs explicit elevation` };
}

export interface FlowDecision extends WriteDecision {
  /** True when the flow lowers confidentiality and was allowed by explicit declassification. */
  declassified: boolean;
}

/**
 * Both axes at once: integrity (as checkWrite) and confidentiality, where
 * moving data into a less confidential zone needs explicit declassification.
 */
export function checkFlow(from: Zone, to: Zone, opts: { elevated?: boolean; declassified?: boolean } = {}): FlowDecision {
  const write = checkWrite(from, to, opts);
  if (!write.allowed) return { ...write, declassified: false };
  if (from.confidentiality <= to.confidentiality) return { ...write, declassified: false };
  const gap = `${from.id} (confidentiality ${from.confidentiality}) into ${to.id} (confidentiality ${to.confidentiality})`;
  if (opts.declassified === true) {
    const reason = [write.reason, `declassified: ${gap}; mark the data as declassified`].filter(Boolean).join('; ');
    return { allowed: true, elevated: write.elevated, declassified: true, reason };
  }
  return { allowed: false, elevated: false, declassified: false, reason: `refused: ${gap} lowers confidentiality and needs explicit declassification` };
}
