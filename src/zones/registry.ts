// The set of zones in force: the five built-ins plus custom zones from a
// config file, each mapped to its Tailscale tag.
import type { Peer } from '../tailscale/index.js';
import { mayHold } from './flow.js';
import { mayConnect } from './reach.js';
import { mayUsePeer } from './transport.js';
import {
  BUILTIN_ZONES,
  FCP_PORT,
  TAG_RE,
  UnknownZoneError,
  ZONE_ID_RE,
  ZoneConfigError,
  defaultTagFor,
  type Zone,
} from './zone.js';

/** Funnel serves only these public ports. */
export const FUNNEL_PORTS: readonly number[] = [443, 8443, 10000];

export interface FunnelSettings {
  enabled: boolean;
  /** Tag of the gateway devices that may use Funnel. */
  gatewayTag: string;
  /** Public port the gateway serves on: 443, 8443 or 10000. */
  port: number;
}

/** The zone config file (zones.json), as accepted by ZoneRegistry.fromConfig. */
export interface ZoneConfigInput {
  /** Prefix of the default tags; default "tag:fcp-". */
  tagPrefix?: string;
  /** Who may apply the zone tags (tagOwners); default ["autogroup:admin"]. */
  tagOwners?: string[];
  /** Custom zones, and tag overrides for built-in zones ({"id": "z:owner", "tag": "tag:home"}). */
  zones?: Array<{ id: string; integrity?: number; confidentiality?: number; tag?: string }>;
  funnel?: { enabled?: boolean; gatewayTag?: string; port?: number };
}

const TAG_OWNER_RE = /^(autogroup:(admin|owner|member|it-admin|network-admin)|group:[A-Za-z0-9._-]+|tag:[A-Za-z][A-Za-z0-9-]*|[^\s@]+@[^\s@]+)$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(obj: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) throw new ZoneConfigError(`${where}.${key}`, `unknown field; expected one of ${allowed.join(', ')}`);
  }
}

function level(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 255) {
    throw new ZoneConfigError(field, `must be an integer level 0..255, got ${JSON.stringify(v)}`);
  }
  return v;
}

export class ZoneRegistry {
  private readonly byId: Map<string, Zone>;
  private readonly byTag: Map<string, Zone>;
  readonly tagOwners: readonly string[];
  readonly funnel: Readonly<FunnelSettings>;
  readonly port = FCP_PORT;

  private constructor(zones: Zone[], tagOwners: string[], funnel: FunnelSettings) {
    // Most confidential first, then most trusted: the order policies are written in.
    const sorted = [...zones].sort((a, b) => b.confidentiality - a.confidentiality || b.integrity - a.integrity || a.id.localeCompare(b.id));
    this.byId = new Map(sorted.map((z) => [z.id, Object.freeze({ ...z })]));
    this.byTag = new Map([...this.byId.values()].map((z) => [z.tag, z]));
    this.tagOwners = Object.freeze([...tagOwners]);
    this.funnel = Object.freeze({ ...funnel });
  }

  static builtin(): ZoneRegistry {
    return new ZoneRegistry([...BUILTIN_ZONES], ['autogroup:admin'], { enabled: false, gatewayTag: 'tag:fcp-gateway', port: 443 });
  }

  /** Builds a registry from an untrusted config object; every problem is a ZoneConfigError naming the field. */
  static fromConfig(json: unknown): ZoneRegistry {
    if (!isRecord(json)) throw new ZoneConfigError('(root)', 'must be a JSON object');
    checkKeys(json, ['tagPrefix', 'tagOwners', 'zones', 'funnel', '$schema', 'description'], 'config');
    let prefix = 'tag:fcp-';
    if (json['tagPrefix'] !== undefined) {
      const p = json['tagPrefix'];
      if (typeof p !== 'string' || !/^tag:[A-Za-z][A-Za-z0-9-]*$/.test(p)) {
        throw new ZoneConfigError('tagPrefix', 'must look like "tag:fcp-" (letters, digits, dashes)');
      }
      prefix = p;
    }
    const zones = new Map<string, Zone>(BUILTIN_ZONES.map((z) => [z.id, { ...z, tag: defaultTagFor(z.id, prefix) }]));
    let tagOwners = ['autogroup:admin'];
    if (json['tagOwners'] !== undefined) {
      const owners = json['tagOwners'];
      if (!Array.isArray(owners) || owners.length === 0) throw new ZoneConfigError('tagOwners', 'must be a non-empty array such as ["autogroup:admin"]');
      owners.forEach((o, i) => {
        if (typeof o !== 'string' || !TAG_OWNER_RE.test(o)) {
          throw new ZoneConfigError(`tagOwners[${i}]`, `must be autogroup:admin, a group:, a tag: or a user email, got ${JSON.stringify(o)}`);
        }
      });
      tagOwners = owners as string[];
    }
    const custom = json['zones'];
    if (custom !== undefined) {
      if (!Array.isArray(custom)) throw new ZoneConfigError('zones', 'must be an array');
      const seen = new Set<string>();
      custom.forEach((entry, i) => {
        const where = `zones[${i}]`;
        if (!isRecord(entry)) throw new ZoneConfigError(where, 'must be an object with "id"');
        checkKeys(entry, ['id', 'integrity', 'confidentiality', 'tag', 'description'], where);
        const id = entry['id'];
        if (typeof id !== 'string' || !ZONE_ID_RE.test(id)) {
          throw new ZoneConfigError(`${where}.id`, `must look like "z:project-x" (lower case), got ${JSON.stringify(id)}`);
        }
        if (seen.has(id)) throw new ZoneConfigError(`${where}.id`, `"${id}" appears twice`);
        seen.add(id);
        const tag = entry['tag'] === undefined ? defaultTagFor(id, prefix) : entry['tag'];
        if (typeof tag !== 'string' || !TAG_RE.test(tag)) {
          throw new ZoneConfigError(`${where}.tag`, `must be a Tailscale tag such as "tag:fcp-project-x", got ${JSON.stringify(tag)}`);
        }
        const existing = zones.get(id);
        if (existing?.builtin) {
          if (entry['integrity'] !== undefined || entry['confidentiality'] !== undefined) {
            throw new ZoneConfigError(where, `the levels of built-in zone ${id} are fixed by FCP V2; only its tag may change`);
          }
          zones.set(id, { ...existing, tag });
          return;
        }
        zones.set(id, {
          id,
          integrity: level(entry['integrity'], `${where}.integrity`),
          confidentiality: level(entry['confidentiality'], `${where}.confidentiality`),
          tag,
          builtin: false,
        });
      });
    }
    const tags = new Map<string, string>();
    for (const z of zones.values()) {
      const other = tags.get(z.tag);
      if (other !== undefined) throw new ZoneConfigError('zones', `zones ${other} and ${z.id} both use tag ${z.tag}; each zone needs its own tag`);
      tags.set(z.tag, z.id);
    }
    const funnel: FunnelSettings = { enabled: false, gatewayTag: `${prefix}gateway`, port: 443 };
    const f = json['funnel'];
    if (f !== undefined) {
      if (!isRecord(f)) throw new ZoneConfigError('funnel', 'must be an object such as {"enabled": true}');
      checkKeys(f, ['enabled', 'gatewayTag', 'port'], 'funnel');
      if (f['enabled'] !== undefined) {
        if (typeof f['enabled'] !== 'boolean') throw new ZoneConfigError('funnel.enabled', 'must be true or false');
        funnel.enabled = f['enabled'];
      }
      if (f['gatewayTag'] !== undefined) {
        if (typeof f['gatewayTag'] !== 'string' || !TAG_RE.test(f['gatewayTag'])) {
          throw new ZoneConfigError('funnel.gatewayTag', 'must be a Tailscale tag such as "tag:fcp-gateway"');
        }
        funnel.gatewayTag = f['gatewayTag'];
      }
      if (f['port'] !== undefined) {
        if (typeof f['port'] !== 'number' || !FUNNEL_PORTS.includes(f['port'])) {
          throw new ZoneConfigError('funnel.port', `Funnel serves only ports ${FUNNEL_PORTS.join(', ')}, got ${JSON.stringify(f['port'])}`);
        }
        funnel.port = f['port'];
      }
    }
    if (tags.has(funnel.gatewayTag)) {
      throw new ZoneConfigError('funnel.gatewayTag', `${funnel.gatewayTag} is already the tag of zone ${tags.get(funnel.gatewayTag) ?? ''}; the gateway needs its own tag`);
    }
    return new ZoneRegistry([...zones.values()], tagOwners, funnel);
  }

  get(id: string): Zone {
    const z = this.byId.get(id);
    if (!z) throw new UnknownZoneError(id, [...this.byId.keys()]);
    return z;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** Every zone, most confidential first. */
  all(): Zone[] {
    return [...this.byId.values()];
  }

  /** The zones a device with these tags belongs to (tags of no zone are ignored), most confidential first. */
  zonesForTags(tags: readonly string[]): Zone[] {
    const set = new Set(tags);
    return this.all().filter((z) => set.has(z.tag));
  }

  tagFor(zoneId: string): string {
    return this.get(zoneId).tag;
  }

  zoneForTag(tag: string): Zone | undefined {
    return this.byTag.get(tag);
  }

  /** May a device with `fromTags` open the FCP port on a device with `toTags`, under the generated policy? */
  mayDevicesConnect(fromTags: readonly string[], toTags: readonly string[]): boolean {
    const to = this.zonesForTags(toTags);
    return this.zonesForTags(fromTags).some((f) => to.some((t) => mayConnect(f, t)));
  }

  /**
   * May symbols of `dataZone` be placed on this peer now? It must be online
   * on a path the zone may use, belong to a zone allowed to hold the data,
   * and be reachable from this device's tags.
   */
  mayPlaceOn(dataZone: Zone, peer: Pick<Peer, 'path' | 'tags'>, selfTags?: readonly string[]): boolean {
    if (!mayUsePeer(dataZone, peer)) return false;
    if (!mayHold(this.zonesForTags(peer.tags), dataZone)) return false;
    return selfTags === undefined || this.mayDevicesConnect(selfTags, peer.tags);
  }
}
