// Zones: the integrity / confidentiality lattice of FCP V2 (section 5.1) and
// their typed errors.
import { FcpError } from '../errors/index.js';

export interface Zone {
  /** "z:owner", "z:private", ... or a custom "z:<name>". */
  id: string;
  /** Input trust, 0..255 (built-ins use 0..100). Higher = more trusted. */
  integrity: number;
  /** Data secrecy, 0..255 (built-ins use 0..100). Higher = more secret. */
  confidentiality: number;
  /** The Tailscale tag whose devices belong to this zone. */
  tag: string;
  /** True for the five zones of FCP V2. */
  builtin: boolean;
}

export type ZoneErrorCode = 'ZONE_CONFIG' | 'ZONE_UNKNOWN';

export class ZoneError extends FcpError {
  declare readonly code: ZoneErrorCode;
  constructor(code: ZoneErrorCode, message: string) {
    super(code, message);
  }
}

/** A zone config that cannot be used; the message names the field. */
export class ZoneConfigError extends ZoneError {
  readonly field: string;
  constructor(field: string, message: string) {
    super('ZONE_CONFIG', `zone config ${field}: ${message}`);
    this.name = 'ZoneConfigError';
    this.field = field;
  }
}

export class UnknownZoneError extends ZoneError {
  readonly zoneId: string;
  constructor(zoneId: string, known: readonly string[]) {
    const near = nearestZone(zoneId, known);
    super('ZONE_UNKNOWN', `unknown zone "${zoneId}"${near ? `; did you mean ${near}?` : ''} known zones: ${known.join(', ')} (custom zones go in the zone config)`);
    this.name = 'UnknownZoneError';
    this.zoneId = zoneId;
  }
}

/** Edit distance (insertions, deletions, substitutions, adjacent swaps) between two short strings. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The known zone a mistyped id most likely meant (at most two edits away, `z:` optional), or null. */
export function nearestZone(zoneId: string, known: readonly string[]): string | null {
  if (zoneId.length > 64) return null;
  const wanted = zoneId.startsWith('z:') ? zoneId : `z:${zoneId}`;
  let best: string | null = null;
  let bestDistance = 3;
  for (const k of known) {
    const dist = editDistance(wanted.toLowerCase(), k);
    if (dist < bestDistance) [best, bestDistance] = [k, dist];
  }
  return best;
}

/** The built-in zones of FCP V2 with their levels; tags follow the `tag:fcp-<name>` convention. */
export const BUILTIN_ZONES: readonly Zone[] = Object.freeze([
  { id: 'z:owner', integrity: 100, confidentiality: 100, tag: 'tag:fcp-owner', builtin: true },
  { id: 'z:private', integrity: 80, confidentiality: 90, tag: 'tag:fcp-private', builtin: true },
  { id: 'z:work', integrity: 60, confidentiality: 70, tag: 'tag:fcp-work', builtin: true },
  { id: 'z:community', integrity: 40, confidentiality: 40, tag: 'tag:fcp-community', builtin: true },
  { id: 'z:public', integrity: 20, confidentiality: 10, tag: 'tag:fcp-public', builtin: true },
].map((z) => Object.freeze(z)));

/** Confidentiality of z:private: DERP may carry this level and below; zones at this level or above may use higher devices. */
export const PRIVATE_CONFIDENTIALITY = 90;
/** Confidentiality of z:community: Funnel may carry this level and below, and devices at this level are reached only through Funnel. */
export const COMMUNITY_CONFIDENTIALITY = 40;
/** Confidentiality of z:public: the only level allowed on the open internet. */
export const PUBLIC_CONFIDENTIALITY = 10;

/** The FCP port every grant opens. */
export const FCP_PORT = 9473;

export const ZONE_ID_RE = /^z:[a-z0-9][a-z0-9._:-]{0,62}$/;
/** Tailscale tag names: letters, digits and dashes after "tag:", starting with a letter. */
export const TAG_RE = /^tag:[A-Za-z][A-Za-z0-9-]{0,62}$/;

/** The conventional tag of a zone id: z:project:x -> tag:fcp-project-x. */
export function defaultTagFor(zoneId: string, prefix = 'tag:fcp-'): string {
  return prefix + zoneId.replace(/^z:/, '').replace(/[^A-Za-z0-9-]+/g, '-');
}
