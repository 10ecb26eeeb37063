// The dashboard's view of the mesh for a viewer: one authorize('dashboard.view') when a view is
// opened, then snapshots read from the mesh as often as the page is live (a snapshot is not a
// new decision, so a page left open does not fill the audit log); repair and scrub are
// owner-only actions, each authorized. Secrets appear by name, k-of-n and shares online: never
// a value.
import { NODE, inZone, type Authorizer, type Principal } from '../authz/index.js';
import type { AuditRecorder, VerifyReport } from '../audit/index.js';
import { inspectObject, type MeshNode, type ObjectHealth, type RepairOutcome, type RepairStats } from '../mesh/index.js';
import type { SecretListing } from '../secrets/index.js';
import { FcpError } from '../errors/index.js';

export class DashboardServiceError extends FcpError {}

/** Objects shown with their placement map: the newest this many (each costs a `have` per holder). */
const MAX_OBJECTS = 24;
const OBJECT_CONCURRENCY = 6;
/** Audit verification reads every log: at most this often. */
const VERIFY_EVERY_MS = 10_000;
const RECENT_AUDIT = 25;
const RECENT_INVOKES = 10;
const ACTIVITY_KEPT = 20;
const MAX_NAMES = 40;

type NodeParts = Pick<MeshNode, 'status' | 'store' | 'zones' | 'eligibility' | 'marks' | 'repair' | 'self'>;

export interface DashboardDevice {
  hostName: string;
  address: string;
  self: boolean;
  /** Tailscale says the node is online. */
  online: boolean;
  /** Its fcpd answered this device just now. */
  member: boolean;
  path: string;
  latencyMs: number | null;
  zones: string[];
  profile?: unknown;
  runs: string[];
}

export interface DashboardActivity {
  at: number;
  kind: 'repair' | 'scrub' | 'revoke' | 'move';
  by: string;
  state: 'running' | 'done' | 'failed';
  summary: string;
}

export interface DashboardSnapshot {
  at: number;
  self: { hostName: string; address: string; zones: string[] };
  devices: DashboardDevice[];
  objects: ObjectHealth[];
  objectCount: number;
  repair: RepairStats;
  activity: DashboardActivity[];
  secrets: Array<Pick<SecretListing, 'name' | 'zone' | 'k' | 'n' | 'version' | 'holders' | 'available'>>;
  connectors: Array<{ id: string; zone: string; runningOn?: string; preferred?: string; leaseSeq: number; healthy: boolean }>;
  invokes: Array<{ at: number; principal: string; subject?: string; allow?: boolean }>;
  /** Names per zone the viewer may read (the first MAX_NAMES of each, in path order). */
  names: Array<{ zone: string; total: number; entries: Array<{ path: string; kind: 'file' | 'dir'; size: number; mtime: number; by: string }> }>;
  /** Capability tokens minted on this device (never their bytes), and whether each is revoked. */
  tokens: Array<{ id: string; name: string; connector: string; ops: string[]; expires: number; revoked: boolean }>;
  audit: { recent: Array<{ at: number; zone: string; kind: string; principal: string; action?: string; allow?: boolean; reason?: string }>; verified: { at: number; ok: boolean; logs: Array<{ origin: string; entries: number; problems: number }> } | null };
  /** What this viewer may do. */
  viewer: { name: string; owner: boolean };
}

export interface DashboardDeps {
  node: NodeParts;
  authz: Authorizer;
  /** Secret listings (names, k-of-n, holders online): never values. */
  listSecrets: () => Promise<SecretListing[]>;
  recorder: Pick<AuditRecorder, 'entries' | 'verify'>;
  /** The hub across devices (MeshHub): where connectors run and each device's profile. */
  hub: {
    placements(): Array<{ id: string; zone: string; preferred?: string; runningOn?: string; leaseSeq: number }>;
    deviceListing(): Array<{ hostName: string; profile?: unknown; runs: string[] }>;
  };
  /** The names kept in a zone (this device's view of its namespace), for zones the viewer may read. */
  listNames?: (zone: string) => Promise<Array<{ path: string; kind: 'file' | 'dir'; size: number; mtime: number; by: string }>>;
  /** Moves a connector to a device (the hub's placement.device; the holder hands it over). */
  moveConnector?: (id: string, device: string) => Promise<unknown>;
  /** Tokens minted here, and their revocation (the owner key signs it). */
  tokens?: {
    records(): Promise<Array<{ id: string; name: string; connector: string; ops: string[]; expires: number }>>;
    isRevoked(id: string): boolean;
    revokeFor(by: string, ids: string[], reason: string): Promise<{ seq: number; told: string[]; notReached: string[] }>;
  };
}

/** A view opened for one authorized viewer: its snapshots need no further decision. */
export interface DashboardView {
  snapshot(): Promise<DashboardSnapshot>;
}

export class DashboardService {
  private readonly activity: DashboardActivity[] = [];
  private verified: DashboardSnapshot['audit']['verified'] = null;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly d: DashboardDeps) {}

  /** Opens a live view for `p`: throws AUTHZ_DENIED unless it may view the dashboard. */
  open(p: Principal): DashboardView {
    this.d.authz.authorize(p, 'dashboard.view', NODE);
    const viewer = { name: viewerName(p), owner: p.kind === 'viewer' ? p.owner : p.kind === 'local' };
    // Which zones' names this viewer sees: decided once per view, at its first snapshot.
    let nameZones: string[] | undefined;
    const zonesOfNames = () => (nameZones ??= this.d.listNames ? this.d.node.zones.all().filter((z) => this.d.authz.check(p, 'dashboard.names', inZone(z)).allow).map((z) => z.id) : []);
    return { snapshot: () => this.snapshot(viewer, zonesOfNames()) };
  }

  /** Called whenever the dashboard's own activity changes (a repair starts or ends). */
  onActivity(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** A repair pass now (owners only). */
  async repair(p: Principal): Promise<{ outcomes: Record<string, number>; stats: RepairStats }> {
    this.d.authz.authorize(p, 'dashboard.repair', NODE);
    return this.track('repair', p, async () => {
      const outcomes = await this.d.node.repair.pass();
      const counts: Partial<Record<RepairOutcome, number>> = {};
      for (const o of outcomes.values()) counts[o] = (counts[o] ?? 0) + 1;
      const summary = Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(', ') || 'nothing to do';
      return { result: { outcomes: counts, stats: this.d.node.repair.stats }, summary };
    });
  }

  /** A scrub step over up to `symbols` stored symbols (owners only). */
  /** Moves a connector to another device (owners only). */
  async moveConnector(p: Principal, id: string, device: string): Promise<{ id: string; device: string }> {
    this.d.authz.authorize(p, 'dashboard.move-connector', NODE, `${id} -> ${device}`);
    const move = this.d.moveConnector;
    if (!move) throw new DashboardServiceError('DASHBOARD_BAD_REQUEST', 'this device runs no hub');
    if (!this.d.hub.placements().some((c) => c.id === id)) throw new DashboardServiceError('DASHBOARD_NOT_FOUND', `no connector ${id} is installed`);
    if (!this.d.hub.deviceListing().some((d) => d.hostName === device)) throw new DashboardServiceError('DASHBOARD_NOT_FOUND', `no device ${device} in the mesh`);
    return this.track('move', p, async () => {
      await move(id, device);
      return { result: { id, device }, summary: `${id} moved to ${device}` };
    });
  }

  /** Revokes a token minted on this device: owners only, signed by the owner key, spread at once. */
  async revokeToken(p: Principal, id: string): Promise<{ seq: number; told: string[]; notReached: string[] }> {
    this.d.authz.authorize(p, 'dashboard.revoke-token', NODE, id);
    const tokens = this.d.tokens;
    if (!tokens) throw new DashboardServiceError('DASHBOARD_BAD_REQUEST', 'this device mints no tokens');
    if (!(await tokens.records()).some((t) => t.id === id)) throw new DashboardServiceError('DASHBOARD_NOT_FOUND', `no token ${id.slice(0, 12)} was minted on this device`);
    return this.track('revoke', p, async () => {
      const result = await tokens.revokeFor(`dashboard viewer ${viewerName(p)}`, [id], 'revoked from the dashboard');
      return { result, summary: `token ${id.slice(0, 12)} revoked (revocation ${result.seq}); told ${result.told.join(', ') || 'no other device'}` };
    });
  }

  async scrub(p: Principal, symbols = 100_000): Promise<{ corrupt: number; stats: RepairStats }> {
    this.d.authz.authorize(p, 'dashboard.scrub', NODE);
    return this.track('scrub', p, async () => {
      const corrupt = await this.d.node.repair.scrubStep(symbols);
      return { result: { corrupt, stats: this.d.node.repair.stats }, summary: `${corrupt} corrupt symbol${corrupt === 1 ? '' : 's'} found` };
    });
  }

  private async track<T>(kind: DashboardActivity['kind'], p: Principal, run: () => Promise<{ result: T; summary: string }>): Promise<T> {
    const entry: DashboardActivity = { at: Date.now(), kind, by: viewerName(p), state: 'running', summary: `${kind} running` };
    this.activity.unshift(entry);
    this.activity.length = Math.min(this.activity.length, ACTIVITY_KEPT);
    this.notify();
    try {
      const { result, summary } = await run();
      Object.assign(entry, { state: 'done', summary });
      return result;
    } catch (err) {
      Object.assign(entry, { state: 'failed', summary: (err as Error).message });
      throw err;
    } finally {
      this.notify();
    }
  }

  private notify(): void {
    for (const fn of this.listeners) fn();
  }

  private async snapshot(viewer: DashboardSnapshot['viewer'], nameZones: string[]): Promise<DashboardSnapshot> {
    const { node } = this.d;
    const [status, objects, secrets, tokens, names] = await Promise.all([node.status(), this.objects(), this.d.listSecrets().catch(() => []), this.d.tokens?.records().catch(() => []) ?? [], this.names(nameZones)]);
    const listing = new Map(this.d.hub.deviceListing().map((l) => [l.hostName, l]));
    const self = node.self;
    type Peer = { hostName: string; address: string; online: boolean; member: boolean; path: string; latencyMs: number | null; zones: string[] };
    const peers = (status.peers as Peer[]).filter((p) => p.zones.length > 0);
    const devices: DashboardDevice[] = [
      { hostName: self.hostName, address: self.address, self: true, online: true, member: true, path: 'self', latencyMs: 0, zones: self.zones, ...profileOf(listing.get(self.hostName)), runs: listing.get(self.hostName)?.runs ?? [] },
      ...peers
        .map((p) => ({ hostName: p.hostName, address: p.address, self: false, online: p.online, member: p.member, path: p.path, latencyMs: p.latencyMs ?? null, zones: p.zones, ...profileOf(listing.get(p.hostName)), runs: listing.get(p.hostName)?.runs ?? [] }))
        .sort((a, b) => (a.hostName < b.hostName ? -1 : 1)),
    ];
    const live = new Set(devices.filter((d) => d.member).map((d) => d.hostName));
    const recent = this.d.recorder.entries({ limit: 400 });
    return {
      at: Date.now(),
      self: { hostName: self.hostName, address: self.address, zones: self.zones },
      devices,
      objects: objects.shown,
      objectCount: objects.count,
      repair: { ...node.repair.stats },
      activity: this.activity.map((a) => ({ ...a })),
      secrets: secrets.map((s) => ({ name: s.name, zone: s.zone, k: s.k, n: s.n, version: s.version, holders: s.holders, available: s.available })),
      connectors: this.d.hub.placements().map((c) => ({ id: c.id, zone: c.zone, leaseSeq: c.leaseSeq, ...(c.runningOn ? { runningOn: c.runningOn } : {}), ...(c.preferred ? { preferred: c.preferred } : {}), healthy: c.runningOn !== undefined && live.has(c.runningOn) })),
      names,
      tokens: tokens.map((t) => ({ id: t.id, name: t.name, connector: t.connector, ops: t.ops, expires: t.expires, revoked: this.d.tokens?.isRevoked(t.id) ?? false })),
      invokes: recent
        .filter((e) => e.event.action === 'hub.invoke')
        .slice(-RECENT_INVOKES)
        .reverse()
        .map((e) => ({ at: e.event.at, principal: e.event.principal, ...(e.event.subject ? { subject: e.event.subject } : {}), ...(e.event.allow !== undefined ? { allow: e.event.allow } : {}) })),
      audit: {
        recent: recent
          .slice(-RECENT_AUDIT)
          .reverse()
          .map((e) => ({ at: e.event.at, zone: e.zone, kind: e.event.kind, principal: e.event.principal, ...(e.event.action ? { action: e.event.action } : {}), ...(e.event.allow !== undefined ? { allow: e.event.allow } : {}), ...(e.event.reason ? { reason: e.event.reason } : {}) })),
        verified: this.verify(),
      },
      viewer,
    };
  }

  private verify(): DashboardSnapshot['audit']['verified'] {
    if (this.verified && Date.now() - this.verified.at < VERIFY_EVERY_MS) return this.verified;
    const reports: VerifyReport[] = this.d.recorder.verify();
    this.verified = { at: Date.now(), ok: reports.every((r) => r.problems.length === 0), logs: reports.map((r) => ({ origin: r.origin, entries: r.entries, problems: r.problems.length })) };
    return this.verified;
  }

  /** The names of each zone (zones this device holds no namespace of are left out). */
  private async names(zones: string[]): Promise<DashboardSnapshot['names']> {
    const list = this.d.listNames;
    if (!list) return [];
    const out: DashboardSnapshot['names'] = [];
    for (const zone of zones) {
      const entries = await list(zone).catch(() => null);
      if (!entries || entries.length === 0) continue;
      out.push({ zone, total: entries.length, entries: entries.slice(0, MAX_NAMES) });
    }
    return out;
  }

  /** The newest objects with their health and symbols per device per block. */
  private async objects(): Promise<{ shown: ObjectHealth[]; count: number }> {
    const { node } = this.d;
    const all = node.store.listManifests().filter((m) => node.zones.has(m.zone));
    const newest = [...all].sort((a, b) => b.created - a.created).slice(0, MAX_OBJECTS);
    const shown: ObjectHealth[] = new Array(newest.length);
    let next = 0;
    const lane = async () => {
      while (next < newest.length) {
        const i = next++;
        const m = newest[i]!;
        shown[i] = await inspectObject(m, node.zones.get(m.zone), node.eligibility, node.marks);
      }
    };
    await Promise.all(Array.from({ length: OBJECT_CONCURRENCY }, lane));
    return { shown, count: all.length };
  }
}

function profileOf(l: { profile?: unknown } | undefined): { profile?: unknown } {
  return l?.profile !== undefined ? { profile: l.profile } : {};
}

function viewerName(p: Principal): string {
  if (p.kind === 'viewer') return p.login ?? p.device?.hostName ?? 'unknown';
  if (p.kind === 'device') return p.hostName;
  if (p.kind === 'connector') return p.connectorId;
  return `local ${p.via}`;
}
