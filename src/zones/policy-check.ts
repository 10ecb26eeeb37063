// Offline checker for Tailscale policy files: validates the parts that
// govern network access (tagOwners, groups, hosts, acls, grants, nodeAttrs,
// tests) and evaluates every `tests` entry against the acls and grants,
// reporting line and field for each problem.
import { HuJsonSyntaxError, joinPath, parseHuJson, type HuDocument, type HuValue } from './hujson.js';
import {
  DEFAULT_PROTOCOLS,
  cidrContains,
  parseCidr,
  parsePorts,
  parseProtocol,
  parseSelector,
  splitHostPort,
  type PortRange,
  type Selector,
  type SelectorContext,
} from './policy-syntax.js';

/** Devices and users to evaluate tests against; without one, tags and users are evaluated symbolically. */
export interface PolicyTopology {
  users?: string[];
  nodes?: Array<{ name: string; tags?: string[]; ips?: string[]; user?: string }>;
}

export interface PolicyIssue {
  path: string;
  line: number;
  column: number;
  message: string;
}

export interface PolicyTestOutcome {
  /** Index of the entry in `tests`. */
  index: number;
  path: string;
  line: number;
  column: number;
  src: string;
  proto: string;
  expect: 'accept' | 'deny';
  dst: string;
  passed: boolean;
  message: string;
}

export interface PolicyCheckResult {
  /** No errors and every test passed. */
  ok: boolean;
  errors: PolicyIssue[];
  tests: PolicyTestOutcome[];
  passed: number;
  failed: number;
}

const TOP_LEVEL = [
  'acls',
  'grants',
  'groups',
  'hosts',
  'tagOwners',
  'tests',
  'sshTests',
  'ssh',
  'nodeAttrs',
  'autoApprovers',
  'postures',
  'defaultSrcPosture',
  'ipsets',
  'derpMap',
  'disableIPv4',
  'OneCGNATRoute',
  'randomizeClientPort',
  'attrConfig',
];

interface Grant {
  src: Selector[];
  dst: Selector[];
  /** Protocols (or 'all') with their ports. */
  allow: Array<{ protocols: readonly number[] | 'all'; ports: PortRange[] }>;
}

/** A source or destination as the policy sees it: a user, tags and addresses. */
export interface PolicyIdentity {
  user?: string;
  tags: string[];
  ips: string[];
}

type Issue = (path: string, message: string) => void;

function isRecord(v: HuValue | undefined): v is { [key: string]: HuValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringList(v: HuValue | undefined, path: string, issue: Issue, what: string): string[] {
  if (!Array.isArray(v)) {
    issue(path, `must be an array of ${what}`);
    return [];
  }
  const out: string[] = [];
  v.forEach((item, i) => {
    if (typeof item !== 'string') issue(joinPath(path, i), `must be a string (${what})`);
    else out.push(item);
  });
  return out;
}

function unknownKeys(obj: { [key: string]: HuValue }, allowed: readonly string[], path: string, issue: Issue): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) issue(joinPath(path, key), `unknown field "${key}"; expected one of ${allowed.join(', ')}`);
  }
}

/** A parsed, validated policy that answers access questions. */
export class CompiledPolicy {
  private constructor(
    readonly ctx: SelectorContext,
    private readonly grants: Grant[],
    readonly topology: PolicyTopology | undefined,
  ) {}

  /** Internal: use compilePolicy(). */
  static create(ctx: SelectorContext, grants: Grant[], topology: PolicyTopology | undefined): CompiledPolicy {
    return new CompiledPolicy(ctx, grants, topology);
  }

  /** Does some acl or grant let `src` reach `dst` on this port and protocol? */
  allows(src: PolicyIdentity, dst: PolicyIdentity, port: number, protocol: number): boolean {
    return this.grants.some(
      (g) =>
        g.src.some((s) => this.matches(s, src, undefined)) &&
        g.dst.some((d) => this.matches(d, dst, src)) &&
        g.allow.some(
          (a) => (a.protocols === 'all' || a.protocols.includes(protocol)) && a.ports.some(([lo, hi]) => port >= lo && port <= hi),
        ),
    );
  }

  private matches(sel: Selector, id: PolicyIdentity, self: PolicyIdentity | undefined): boolean {
    const tagged = id.tags.length > 0;
    switch (sel.kind) {
      case 'any':
        return true;
      case 'tag':
        return id.tags.includes(sel.tag);
      case 'group':
        return !tagged && id.user !== undefined && (this.ctx.groups[sel.group] ?? []).includes(id.user);
      case 'user':
        return !tagged && id.user === sel.user;
      case 'host':
      case 'cidr':
        return id.ips.some((ip) => cidrContains(sel.cidr, ip));
      case 'autogroup':
        if (sel.name === 'member') return !tagged && id.user !== undefined;
        if (sel.name === 'tagged') return tagged;
        if (sel.name === 'self') return self !== undefined && self.tags.length === 0 && !tagged && id.user !== undefined && id.user === self.user;
        return false;
    }
  }

  /** The identity of a tag: devices carrying it in the topology, or a symbolic device. */
  tagIdentity(tag: string): PolicyIdentity {
    const ips = (this.topology?.nodes ?? []).filter((n) => (n.tags ?? []).includes(tag)).flatMap((n) => n.ips ?? []);
    return { tags: [tag], ips };
  }

  userIdentity(user: string): PolicyIdentity {
    const ips = (this.topology?.nodes ?? []).filter((n) => n.user === user && (n.tags ?? []).length === 0).flatMap((n) => n.ips ?? []);
    return { user, tags: [], ips };
  }

  ipIdentity(ip: string): PolicyIdentity {
    const self = parseCidr(ip);
    const node = self ? (this.topology?.nodes ?? []).find((n) => (n.ips ?? []).some((x) => cidrContains(self, x))) : undefined;
    if (!node) return { tags: [], ips: [ip] };
    const id: PolicyIdentity = { tags: [...(node.tags ?? [])], ips: [ip] };
    if (node.user !== undefined) id.user = node.user;
    return id;
  }
}

/** Parses and validates a policy; errors (with line and field) are returned, never thrown. */
export function compilePolicy(text: string, opts: { topology?: PolicyTopology } = {}): { policy?: CompiledPolicy; doc?: HuDocument; errors: PolicyIssue[] } {
  let doc: HuDocument;
  try {
    doc = parseHuJson(text);
  } catch (err) {
    if (err instanceof HuJsonSyntaxError) return { errors: [{ path: '', line: err.line, column: err.column, message: err.message.replace(/^line \d+, column \d+: /, '') }] };
    throw err;
  }
  const errors: PolicyIssue[] = [];
  const issue: Issue = (path, message) => {
    const at = doc.positionOf(path);
    errors.push({ path, line: at.line, column: at.column, message });
  };
  const root = doc.value;
  if (!isRecord(root)) {
    issue('', 'a policy file must be a JSON object');
    return { doc, errors };
  }
  unknownKeys(root, TOP_LEVEL, '', issue);

  const tagOwners: Record<string, unknown> = {};
  const rawTagOwners = root['tagOwners'];
  if (rawTagOwners !== undefined) {
    if (!isRecord(rawTagOwners)) issue('tagOwners', 'must be an object mapping tags to owners');
    else {
      for (const [tag, owners] of Object.entries(rawTagOwners)) {
        const path = joinPath('tagOwners', tag);
        if (!/^tag:[A-Za-z][A-Za-z0-9-]*$/.test(tag)) issue(path, `"${tag}" is not a valid tag name (tag:letters-digits-dashes)`);
        stringList(owners, path, issue, 'owners');
        tagOwners[tag] = owners;
      }
    }
  }
  const groups: Record<string, string[]> = {};
  const rawGroups = root['groups'];
  if (rawGroups !== undefined) {
    if (!isRecord(rawGroups)) issue('groups', 'must be an object mapping group:name to users');
    else {
      for (const [name, members] of Object.entries(rawGroups)) {
        const path = joinPath('groups', name);
        if (!name.startsWith('group:')) issue(path, `group names start with "group:", got "${name}"`);
        groups[name] = stringList(members, path, issue, 'user logins');
      }
    }
  }
  const hosts: Record<string, string> = {};
  const rawHosts = root['hosts'];
  if (rawHosts !== undefined) {
    if (!isRecord(rawHosts)) issue('hosts', 'must be an object mapping names to IPs or prefixes');
    else {
      for (const [name, value] of Object.entries(rawHosts)) {
        if (typeof value !== 'string') issue(joinPath('hosts', name), 'must be an IP address or prefix string');
        else hosts[name] = value;
      }
    }
  }
  const ctx: SelectorContext = { tagOwners, groups, hosts };

  const selectors = (list: string[], path: string, role: 'src' | 'dst'): Selector[] => {
    const out: Selector[] = [];
    list.forEach((raw, i) => {
      const sel = parseSelector(raw, ctx);
      if (typeof sel === 'string') return issue(joinPath(path, i), sel);
      if (role === 'src' && sel.kind === 'autogroup' && (sel.name === 'internet' || sel.name === 'self')) {
        return issue(joinPath(path, i), `${raw} is only valid as a destination`);
      }
      out.push(sel);
    });
    return out;
  };

  const grants: Grant[] = [];
  const acls = root['acls'];
  if (acls !== undefined) {
    if (!Array.isArray(acls)) issue('acls', 'must be an array of rules');
    else
      acls.forEach((rule, i) => {
        const path = joinPath('acls', i);
        if (!isRecord(rule)) return issue(path, 'must be an object with action, src and dst');
        unknownKeys(rule, ['action', 'src', 'dst', 'proto', 'srcPosture'], path, issue);
        if (rule['action'] !== 'accept') issue(joinPath(path, 'action'), 'must be "accept" (the only action Tailscale supports)');
        const src = selectors(stringList(rule['src'], joinPath(path, 'src'), issue, 'sources'), joinPath(path, 'src'), 'src');
        let protocols: readonly number[] = DEFAULT_PROTOCOLS;
        if (rule['proto'] !== undefined) {
          const p = typeof rule['proto'] === 'string' ? parseProtocol(rule['proto']) : 'must be a protocol name or number string';
          if (typeof p === 'string') issue(joinPath(path, 'proto'), p);
          else protocols = [p];
        }
        stringList(rule['dst'], joinPath(path, 'dst'), issue, '"destination:ports" entries').forEach((raw, j) => {
          const dpath = joinPath(joinPath(path, 'dst'), j);
          const hp = splitHostPort(raw);
          if (!hp) return issue(dpath, `"${raw}" must be "destination:ports", e.g. "tag:server:443" or "*:*"`);
          const ports = parsePorts(hp.ports);
          if (typeof ports === 'string') return issue(dpath, `${ports} (destinations are written "destination:ports", e.g. "tag:server:443")`);
          const dst = parseSelector(hp.host, ctx);
          if (typeof dst === 'string') return issue(dpath, dst);
          if (src.length > 0) grants.push({ src, dst: [dst], allow: [{ protocols, ports }] });
        });
      });
  }
  const rawGrants = root['grants'];
  if (rawGrants !== undefined) {
    if (!Array.isArray(rawGrants)) issue('grants', 'must be an array of grants');
    else
      rawGrants.forEach((g, i) => {
        const path = joinPath('grants', i);
        if (!isRecord(g)) return issue(path, 'must be an object with src, dst and ip (or app)');
        unknownKeys(g, ['src', 'dst', 'ip', 'app', 'via', 'srcPosture'], path, issue);
        const src = selectors(stringList(g['src'], joinPath(path, 'src'), issue, 'sources'), joinPath(path, 'src'), 'src');
        const dstPath = joinPath(path, 'dst');
        const dst = selectors(stringList(g['dst'], dstPath, issue, 'destinations'), dstPath, 'dst');
        if (g['ip'] === undefined && g['app'] === undefined) issue(path, 'a grant needs "ip" (network access) or "app" (capabilities)');
        if (g['app'] !== undefined && !isRecord(g['app'])) issue(joinPath(path, 'app'), 'must be an object of capabilities');
        if (g['ip'] === undefined) return;
        const allow: Grant['allow'] = [];
        stringList(g['ip'], joinPath(path, 'ip'), issue, 'protocol:ports entries').forEach((raw, j) => {
          const ipath = joinPath(joinPath(path, 'ip'), j);
          if (raw === '*') return allow.push({ protocols: 'all', ports: [[0, 65535]] });
          const cut = raw.indexOf(':');
          let protocols: readonly number[] = DEFAULT_PROTOCOLS;
          let portText = raw;
          if (cut >= 0) {
            const p = parseProtocol(raw.slice(0, cut));
            if (typeof p === 'string') return issue(ipath, p);
            protocols = [p];
            portText = raw.slice(cut + 1);
          }
          const ports = parsePorts(portText);
          if (typeof ports === 'string') return issue(ipath, ports);
          allow.push({ protocols, ports });
        });
        if (src.length > 0 && dst.length > 0 && allow.length > 0) grants.push({ src, dst, allow });
      });
  }
  const nodeAttrs = root['nodeAttrs'];
  if (nodeAttrs !== undefined) {
    if (!Array.isArray(nodeAttrs)) issue('nodeAttrs', 'must be an array');
    else
      nodeAttrs.forEach((entry, i) => {
        const path = joinPath('nodeAttrs', i);
        if (!isRecord(entry)) return issue(path, 'must be an object with target and attr');
        unknownKeys(entry, ['target', 'attr', 'app', 'ipPool'], path, issue);
        selectors(stringList(entry['target'], joinPath(path, 'target'), issue, 'targets'), joinPath(path, 'target'), 'dst');
        if (entry['attr'] !== undefined) stringList(entry['attr'], joinPath(path, 'attr'), issue, 'attributes');
      });
  }
  return { policy: CompiledPolicy.create(ctx, grants, opts.topology), doc, errors };
}

interface ParsedTarget {
  identity: PolicyIdentity;
  port: number;
}

/** Checks a policy file and evaluates its `tests`. */
export function checkPolicy(text: string, opts: { topology?: PolicyTopology } = {}): PolicyCheckResult {
  const { policy, doc, errors } = compilePolicy(text, opts);
  const outcomes: PolicyTestOutcome[] = [];
  const root = doc?.value;
  if (policy && doc && isRecord(root) && root['tests'] !== undefined) {
    const issue: Issue = (path, message) => {
      const at = doc.positionOf(path);
      errors.push({ path, line: at.line, column: at.column, message });
    };
    const tests = root['tests'];
    if (!Array.isArray(tests)) issue('tests', 'must be an array of tests');
    else tests.forEach((t, i) => runTest(policy, doc, t, i, opts.topology, issue, outcomes));
  }
  const failed = outcomes.filter((o) => !o.passed).length;
  return { ok: errors.length === 0 && failed === 0, errors, tests: outcomes, passed: outcomes.length - failed, failed };
}

function runTest(
  policy: CompiledPolicy,
  doc: HuDocument,
  t: HuValue,
  index: number,
  topology: PolicyTopology | undefined,
  issue: Issue,
  outcomes: PolicyTestOutcome[],
): void {
  const path = joinPath('tests', index);
  if (!isRecord(t)) return issue(path, 'must be an object with src and accept and/or deny');
  unknownKeys(t, ['src', 'proto', 'accept', 'deny', 'srcPostureAttrs'], path, issue);
  const src = t['src'];
  if (typeof src !== 'string' || src === '') return issue(joinPath(path, 'src'), 'a test needs a non-empty "src"');
  if (t['accept'] === undefined && t['deny'] === undefined) return issue(path, 'a test needs "accept" and/or "deny"');
  const principals = testPrincipals(policy, src, topology);
  if (typeof principals === 'string') return issue(joinPath(path, 'src'), principals);
  let protocol = 6;
  let protoText = 'tcp';
  if (t['proto'] !== undefined) {
    const p = typeof t['proto'] === 'string' ? parseProtocol(t['proto']) : 'must be a protocol name or number string';
    if (typeof p === 'string') return issue(joinPath(path, 'proto'), p);
    protocol = p;
    protoText = String(t['proto']);
  }
  for (const expect of ['accept', 'deny'] as const) {
    if (t[expect] === undefined) continue;
    const listPath = joinPath(path, expect);
    stringList(t[expect], listPath, issue, '"destination:port" entries').forEach((dst, j) => {
      const dpath = joinPath(listPath, j);
      const target = testTarget(policy, dst, topology);
      if (typeof target === 'string') return issue(dpath, target);
      const allowed = principals.map((p) => policy.allows(p, target.identity, target.port, protocol));
      const passed = expect === 'accept' ? allowed.every(Boolean) : !allowed.some(Boolean);
      const at = doc.positionOf(dpath);
      const verdict = allowed.some(Boolean) ? 'allowed' : 'not allowed by any acl or grant';
      outcomes.push({
        index,
        path: dpath,
        line: at.line,
        column: at.column,
        src,
        proto: protoText,
        expect,
        dst,
        passed,
        message: passed ? `${src} -> ${dst} (${protoText}): ${expect} as expected` : `${src} -> ${dst} (${protoText}): expected ${expect}, but ${verdict}`,
      });
    });
  }
}

function testPrincipals(policy: CompiledPolicy, src: string, topology: PolicyTopology | undefined): PolicyIdentity[] | string {
  const sel = parseSelector(src, policy.ctx);
  if (typeof sel === 'string') return sel;
  switch (sel.kind) {
    case 'tag':
      return [policy.tagIdentity(sel.tag)];
    case 'user':
      if (topology?.users && !topology.users.includes(sel.user)) return `user "${sel.user}" is not in the tailnet`;
      return [policy.userIdentity(sel.user)];
    case 'group': {
      const members = policy.ctx.groups[sel.group] ?? [];
      if (members.length === 0) return `group "${sel.group}" has no members to test with`;
      return members.map((m) => policy.userIdentity(m));
    }
    case 'host':
    case 'cidr':
      if (src.includes('/') || !isSingle(sel)) return `test source "${src}" must be a single address, not a prefix`;
      return [policy.ipIdentity(sel.kind === 'host' ? (policy.ctx.hosts[sel.host] ?? '') : src)];
    default:
      return `test source "${src}" must be a user, group, tag, host or IP address`;
  }
}

function isSingle(sel: Selector): boolean {
  return (sel.kind === 'host' || sel.kind === 'cidr') && sel.cidr.bits === (sel.cidr.version === 4 ? 32 : 128);
}

function testTarget(policy: CompiledPolicy, dst: string, topology: PolicyTopology | undefined): ParsedTarget | string {
  const hp = splitHostPort(dst);
  if (!hp) return `"${dst}" must be "destination:port", e.g. "tag:server:443"`;
  if (!/^\d{1,5}$/.test(hp.ports) || Number(hp.ports) > 65535) {
    return `test destinations need one port 0-65535, got "${hp.ports}" (lists, ranges and "*" are not allowed in tests)`;
  }
  const port = Number(hp.ports);
  const sel = parseSelector(hp.host, policy.ctx);
  if (typeof sel === 'string') return sel;
  switch (sel.kind) {
    case 'tag':
      return { identity: policy.tagIdentity(sel.tag), port };
    case 'user':
      if (topology?.users && !topology.users.includes(sel.user)) return `user "${sel.user}" is not in the tailnet`;
      return { identity: policy.userIdentity(sel.user), port };
    case 'host':
    case 'cidr': {
      if (hp.host.includes('/') || !isSingle(sel)) return `test destination "${hp.host}" must be a single address, not a prefix`;
      const ip = sel.kind === 'host' ? (policy.ctx.hosts[sel.host] ?? '') : hp.host;
      return { identity: policy.ipIdentity(ip), port };
    }
    default:
      return `test destination "${hp.host}" must be a user, tag, host or IP address`;
  }
}
