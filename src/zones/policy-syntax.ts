// The small languages inside a Tailscale policy file: IP addresses and
// prefixes, port lists, protocols and source/destination selectors.
import { isIP } from 'node:net';

export interface Cidr {
  version: 4 | 6;
  base: bigint;
  bits: number;
}

export type PortRange = readonly [number, number];

export type Selector =
  | { kind: 'any' }
  | { kind: 'tag'; tag: string }
  | { kind: 'group'; group: string }
  | { kind: 'user'; user: string }
  | { kind: 'autogroup'; name: string }
  | { kind: 'host'; host: string; cidr: Cidr }
  | { kind: 'cidr'; cidr: Cidr };

/** Autogroups Tailscale knows; the first four affect network access. */
export const AUTOGROUPS = [
  'member',
  'tagged',
  'self',
  'internet',
  'admin',
  'owner',
  'it-admin',
  'network-admin',
  'billing-admin',
  'auditor',
  'nonroot',
  'shared',
  'danger-all',
] as const;

const PROTOCOLS: Record<string, number> = {
  icmp: 1,
  igmp: 2,
  ipv4: 4,
  'ip-in-ip': 4,
  tcp: 6,
  egp: 8,
  igp: 9,
  udp: 17,
  gre: 47,
  esp: 50,
  ah: 51,
  'ipv6-icmp': 58,
  sctp: 132,
};
/** What a rule without a protocol covers. */
export const DEFAULT_PROTOCOLS: readonly number[] = [6, 17, 1, 58];

function ipToBigInt(ip: string): { version: 4 | 6; value: bigint } | undefined {
  const v = isIP(ip);
  if (v === 4) {
    return { version: 4, value: ip.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n) };
  }
  if (v !== 6) return undefined;
  let text = ip;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const four = ipToBigInt(dotted[1] ?? '');
    if (!four) return undefined;
    const hi = Number(four.value >> 16n).toString(16);
    const lo = Number(four.value & 0xffffn).toString(16);
    text = text.slice(0, dotted.index) + `${hi}:${lo}`;
  }
  const [head = '', tail] = text.split('::');
  const headParts = head === '' ? [] : head.split(':');
  const tailParts = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? 0 : 8 - headParts.length - tailParts.length;
  const parts = [...headParts, ...Array<string>(fill).fill('0'), ...tailParts];
  return { version: 6, value: parts.reduce((acc, p) => (acc << 16n) | BigInt(parseInt(p, 16)), 0n) };
}

/** "100.64.0.1", "10.0.0.0/8", "fd7a::1", "fd7a::/48"; undefined if not an address or prefix. */
export function parseCidr(text: string): Cidr | undefined {
  const [addr = '', len, extra] = text.split('/');
  if (extra !== undefined) return undefined;
  const ip = ipToBigInt(addr);
  if (!ip) return undefined;
  const max = ip.version === 4 ? 32 : 128;
  let bits = max;
  if (len !== undefined) {
    if (!/^\d{1,3}$/.test(len) || Number(len) > max) return undefined;
    bits = Number(len);
  }
  const shift = BigInt(max - bits);
  return { version: ip.version, base: (ip.value >> shift) << shift, bits };
}

export function cidrContains(cidr: Cidr, ip: string): boolean {
  const p = ipToBigInt(ip);
  if (!p || p.version !== cidr.version) return false;
  const shift = BigInt((cidr.version === 4 ? 32 : 128) - cidr.bits);
  return (p.value >> shift) << shift === cidr.base;
}

export function isSingleAddress(c: Cidr): boolean {
  return c.bits === (c.version === 4 ? 32 : 128);
}

/** "*", "22", "80,443", "8000-8100", "80,8000-8100"; an error message when malformed. */
export function parsePorts(text: string): PortRange[] | string {
  if (text === '*') return [[0, 65535]];
  const out: PortRange[] = [];
  for (const item of text.split(',')) {
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(item);
    if (!m) return `"${text}" is not a port, a port range or "*"`;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (lo > 65535 || hi > 65535) return `port ${hi > 65535 ? hi : lo} is out of range 0-65535`;
    if (hi < lo) return `port range ${item} runs backwards`;
    out.push([lo, hi]);
  }
  return out;
}

/** "tcp", "udp", "icmp", ... or an IANA protocol number. */
export function parseProtocol(text: string): number | string {
  const lower = text.toLowerCase();
  if (Object.prototype.hasOwnProperty.call(PROTOCOLS, lower)) return PROTOCOLS[lower] as number;
  if (/^\d{1,3}$/.test(text) && Number(text) <= 255) return Number(text);
  return `unknown protocol "${text}"; use tcp, udp, icmp, sctp or an IANA number`;
}

/**
 * Splits "selector:ports" (ACL destinations and test entries). IPv6 may be
 * written "[fd7a::1]:22"; otherwise the last colon separates the ports.
 */
export function splitHostPort(text: string): { host: string; ports: string } | undefined {
  if (text.startsWith('[')) {
    const m = /^\[([^\]]+)\](\/\d+)?:(.+)$/.exec(text);
    return m ? { host: (m[1] ?? '') + (m[2] ?? ''), ports: m[3] ?? '' } : undefined;
  }
  const cut = text.lastIndexOf(':');
  if (cut <= 0 || cut === text.length - 1) return undefined;
  return { host: text.slice(0, cut), ports: text.slice(cut + 1) };
}

export interface SelectorContext {
  tagOwners: Record<string, unknown>;
  groups: Record<string, string[]>;
  hosts: Record<string, string>;
}

/** Classifies a source or destination; an error message when it names nothing the policy defines. */
export function parseSelector(text: string, ctx: SelectorContext): Selector | string {
  if (text === '') return 'empty selector';
  if (text === '*') return { kind: 'any' };
  if (text.startsWith('tag:')) {
    if (!Object.prototype.hasOwnProperty.call(ctx.tagOwners, text)) return `tag "${text}" is not defined in tagOwners`;
    return { kind: 'tag', tag: text };
  }
  if (text.startsWith('group:')) {
    if (!Object.prototype.hasOwnProperty.call(ctx.groups, text)) return `group "${text}" is not defined in groups`;
    return { kind: 'group', group: text };
  }
  if (text.startsWith('autogroup:')) {
    const name = text.slice('autogroup:'.length);
    if (!(AUTOGROUPS as readonly string[]).includes(name)) return `unknown autogroup "${text}"`;
    return { kind: 'autogroup', name };
  }
  if (text.includes('@')) {
    if (!/^[^\s@]*@[^\s@]*$/.test(text)) return `"${text}" is not a user login`;
    return { kind: 'user', user: text };
  }
  const cidr = parseCidr(text);
  if (cidr) return { kind: 'cidr', cidr };
  if (/^[0-9a-fA-F:.]+(\/\d+)?$/.test(text) && /[.:]/.test(text)) return `"${text}" is not a valid IP address or prefix`;
  if (Object.prototype.hasOwnProperty.call(ctx.hosts, text)) {
    const target = parseCidr(ctx.hosts[text] ?? '');
    if (!target) return `host "${text}" does not resolve to an IP address or prefix`;
    return { kind: 'host', host: text, cidr: target };
  }
  return `"${text}" is not a tag, group, user, autogroup, IP, prefix or host defined in hosts`;
}
