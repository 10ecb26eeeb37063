// Zones: the integrity / confidentiality lattice of FCP V2 (section 5.1) and
// their typed errors.
import { closest, distance } from 'fastest-levenshtein';
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

/**
 * The known zone a mistyped id most likely meant: the id with its missing `z:` prefix, or the
 * closest by edit distance when at most about a third of it differs; null when none is close.
 */
export function closestZone(id: string, known: readonly string[]): string | null {
  if (known.length === 0) return null;
  if (!id.startsWith('z:') && known.includes(`z:${id}`)) return `z:${id}`;
  const lower = id.toLowerCase();
  if (lower !== id && known.includes(lower)) return lower;
  const best = closest(lower, [...known]);
  return distance(lower, best) <= Math.max(2, Math.floor(best.length / 3)) ? best : null;
}

export class UnknownZoneError extends ZoneError {
  readonly zoneId: string;
  /** The zone it probably meant, if one is close. */
  readonly suggestion: string | null;
  readonly known: readonly string[];
  constructor(zoneId: string, known: readonly string[]) {
    const suggestion = closestZone(zoneId, known);
    const list = `${known.join(', ')} (custom zones go in the zone config)`;
    const hint = suggestion ? `; did you mean ${suggestion}? Known zones: ${list}` : `; known zones: ${list}`;
    super('ZONE_UNKNOWN', `unknown zone "${zoneId}"${hint}`);
    this.name = 'UnknownZoneError';
    this.zoneId = zoneId;
    this.suggestion = suggestion;
    this.known = known;
  }
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
/** Integrity of z:community: operations exposed to community callers need input of at least this level. */
export const COMMUNITY_INTEGRITY = 40;
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
