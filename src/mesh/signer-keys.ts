// The node signing keys of the other devices, pinned: what verifies their heads and tombstones.
// A device's key is learned from the device itself, over FCP (`info`, the message that already
// carries its X25519 key for secrets), never from a third device: a member relaying "X's key"
// could then forge X's records. The first key a device presents is pinned (trust on first use,
// as the audit witness pins a log's key, src/audit/witness.ts): the tailnet has already
// authenticated the connection as that device (WireGuard key, whois). A later, different key for
// a pinned device is refused and logged, with two ways to renew it (a device that was reset: a new
// data dir, so a new node key):
// - the device presents, with its new key, an owner-signed device grant binding its stable id to
//   that key (`vouch`, checked by the services layer against the owner key and revocations): the
//   pin is replaced at once, logged and reported (`onRenewed`, the audit log);
// - the local user runs `fcp device trust NAME` (`replace`), having compared fingerprints.
// A replaced pin is not forgotten: it moves to the device's former keys, with the time it was
// superseded (a key history). Records the device signed with it before then (heads, tombstones,
// hub state kept on other devices) still verify; records signed with it later, or by a key never
// pinned here, do not. A reset device learns its own former keys from the member that lets it
// join again (`join_result`; the same member it takes its zone keys from): its old key is gone
// with its data dir, yet the tombstones and hub state it signed with it are still its own.
// The time is the record's own (the signer's clock): it stops a superseded key from making new
// records by accident, not a thief holding it from backdating them (a removed device, not a reset
// one, is the answer to a stolen key: `fcp device remove`).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { bytesEqual } from '../crypto/index.js';
import { MeshError } from './errors.js';

export interface SignerKeysDeps {
  /** Where the pins are kept (JSON: stable id → base64 key). */
  path: string;
  self: { stableId: string; signingPublicKey: Uint8Array };
  /** Asks the device itself for its signing key (FCP `info`, with its owner grant if any); throws when it cannot be reached. */
  ask: (stableId: string) => Promise<Uint8Array | Presented>;
  log: Logger;
  now?: () => number;
}

/** What a device presents of itself: its node signing key and, if the owner key granted it, its grant. */
export interface Presented {
  key: Uint8Array;
  grant?: Uint8Array;
}

const presentedOf = (v: Uint8Array | Presented): Presented => (v instanceof Uint8Array ? { key: v } : v);

export type Offer = 'pinned' | 'known' | 'changed' | 'renewed';

/** Why a pin was replaced: an owner grant the device presented, or the local user (`fcp device trust`). */
export type RenewedBy = 'owner-grant' | 'local-user';

export interface Renewal {
  stableId: string;
  oldFingerprint: string;
  newFingerprint: string;
  by: RenewedBy;
}

/** Checks that `grant` binds device `stableId` to `key` (owner-signed, valid now, not revoked). */
export type Voucher = (stableId: string, key: Uint8Array, grant: Uint8Array) => boolean;

/** A key as people compare it: the first 16 bytes of SHA-256 over it, hex in groups of four. */
export function keyFingerprint(key: Uint8Array): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 32).replace(/(.{4})(?=.)/g, '$1:');
}

/** How often a device whose record failed the check under its pin is asked for its key again. */
const RECHECK_MS = 10_000;

/** The pins file in a data dir. */
export const SIGNER_KEYS_FILE = 'signer-keys.json';

/** Clock difference between devices tolerated when a record of a former key is dated (ms). */
export const FORMER_KEY_SKEW_MS = 10 * 60_000;

/** A key a device had before its current one, and when it stopped being its key (ms since epoch). */
export interface FormerKey {
  key: Uint8Array;
  until: number;
}

/** The pins file: current pins, and former keys per device (older files hold the pins alone). */
interface PinsFile {
  pins: Record<string, string>;
  former?: Record<string, Array<{ key: string; until: number }>>;
}

function readPinsFile(path: string): { pins: Map<string, Uint8Array>; former: Map<string, FormerKey[]> } {
  const pins = new Map<string, Uint8Array>();
  const former = new Map<string, FormerKey[]>();
  if (!existsSync(path)) return { pins, former };
  const raw = JSON.parse(readFileSync(path, 'utf8')) as PinsFile | Record<string, string>;
  const file: PinsFile = typeof raw.pins === 'object' && raw.pins !== null ? (raw as PinsFile) : { pins: raw as Record<string, string> };
  for (const [id, b64] of Object.entries(file.pins)) {
    const key = new Uint8Array(Buffer.from(b64, 'base64'));
    if (key.length === 32) pins.set(id, key);
  }
  for (const [id, list] of Object.entries(file.former ?? {})) {
    const keys = list.map((f) => ({ key: new Uint8Array(Buffer.from(f.key, 'base64')), until: f.until })).filter((f) => f.key.length === 32 && Number.isFinite(f.until));
    if (keys.length > 0) former.set(id, keys);
  }
  return { pins, former };
}

function writePinsFile(path: string, pins: Map<string, Uint8Array>, former: Map<string, FormerKey[]>): void {
  const out: PinsFile = { pins: {}, former: {} };
  for (const [id, key] of pins) out.pins[id] = Buffer.from(key).toString('base64');
  for (const [id, list] of former) out.former![id] = list.map((f) => ({ key: Buffer.from(f.key).toString('base64'), until: f.until }));
  writeFileSync(`${path}.tmp`, JSON.stringify(out), { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

/** Adds `key` to a list of former keys (a key already there keeps the later `until`). */
function addFormer(list: FormerKey[], key: Uint8Array, until: number): FormerKey[] {
  const same = list.find((f) => bytesEqual(f.key, key));
  if (same) same.until = Math.max(same.until, until);
  else list.push({ key: Uint8Array.from(key), until });
  return list;
}

/**
 * Written by `fcp join` before the daemon starts: the keys this device had before it was reset
 * (its previous pin and former keys as the inviting member holds them), kept as its own former keys.
 */
export function recordOwnFormerKeys(path: string, selfId: string, keys: readonly FormerKey[], current: Uint8Array): void {
  const { pins, former } = readPinsFile(path);
  const list = former.get(selfId) ?? [];
  for (const f of keys) if (f.key.length === 32 && !bytesEqual(f.key, current)) addFormer(list, f.key, f.until);
  if (list.length === 0) return;
  former.set(selfId, list);
  writePinsFile(path, pins, former);
}

export class SignerKeys {
  private readonly pins: Map<string, Uint8Array>;
  /** Keys each device had before its pin (this device's own included), with when they were superseded. */
  private readonly former: Map<string, FormerKey[]>;
  /** One question per device at a time (many records of one device arrive in one pull). */
  private readonly asking = new Map<string, Promise<Presented>>();
  private readonly rechecked = new Map<string, number>();
  /** The changed key last warned about per device (each poll offers it again: warned once). */
  private readonly warned = new Map<string, string>();
  private voucher: Voucher | null = null;
  /** Told of every replaced pin (the audit log). */
  onRenewed: ((r: Renewal) => void) | null = null;

  constructor(private readonly d: SignerKeysDeps) {
    const file = readPinsFile(d.path);
    this.pins = file.pins;
    this.former = file.former;
  }

  /** The former keys of a device (this device's own: those it had before it was reset). */
  formerKeys(stableId: string): FormerKey[] {
    return (this.former.get(stableId) ?? []).map((f) => ({ key: f.key, until: f.until }));
  }

  /**
   * The former keys of a device that were still its key at `signedAt` (a record's own time):
   * what else verifies a record dated then, besides the pin.
   */
  formerKeysAt(stableId: string, signedAt: number): Uint8Array[] {
    return (this.former.get(stableId) ?? []).filter((f) => signedAt <= f.until + FORMER_KEY_SKEW_MS).map((f) => f.key);
  }

  /** Every key that verifies a record of `stableId` dated `signedAt`: the pin, then former keys valid then. */
  keysAt(stableId: string, signedAt: number): Uint8Array[] {
    const pin = this.pinned(stableId);
    return [...(pin ? [pin] : []), ...this.formerKeysAt(stableId, signedAt)];
  }

  /**
   * What a member hands a device that joins again (`join_result`): the key pinned here for it and
   * its former keys, as superseded now (the device joining has new keys; these are its past).
   */
  historyFor(stableId: string): FormerKey[] {
    const now = (this.d.now ?? Date.now)();
    const pin = stableId === this.d.self.stableId ? undefined : this.pins.get(stableId);
    return [...(pin ? [{ key: pin, until: now }] : []), ...this.formerKeys(stableId)];
  }

  /** The pinned key of a device (this device's own from its keyring), if any. */
  pinned(stableId: string): Uint8Array | undefined {
    if (stableId === this.d.self.stableId) return this.d.self.signingPublicKey;
    return this.pins.get(stableId);
  }

  /** Installs the owner-grant check (the services layer knows the owner key and revocations). */
  vouchWith(v: Voucher | null): void {
    this.voucher = v;
  }

  /**
   * A key the device itself presented (its `info` answer, with its owner grant if it has one):
   * pinned if it is the first, compared with the pin otherwise. A different key replaces the pin
   * only when `grant` binds this device to it (`vouch`); otherwise it is refused (the pin stays)
   * and logged.
   */
  offer(stableId: string, key: Uint8Array, grant?: Uint8Array): Offer {
    const known = this.pinned(stableId);
    if (key.length !== 32) return 'changed';
    if (known) {
      if (bytesEqual(known, key)) return 'known';
      if (stableId !== this.d.self.stableId && grant && this.voucher) {
        let ok = false;
        try {
          ok = this.voucher(stableId, key, grant);
        } catch {
          ok = false;
        }
        if (ok) {
          this.replace(stableId, key, 'owner-grant');
          return 'renewed';
        }
      }
      const presented = keyFingerprint(key);
      if (this.warned.get(stableId) === presented) return 'changed';
      this.warned.set(stableId, presented);
      this.d.log.warn({ device: stableId, pinned: keyFingerprint(known), presented }, 'a device presented another node signing key than the one pinned for it; its heads and tombstones stay refused until it presents an owner grant for the new key or `fcp device trust` renews the pin');
      return 'changed';
    }
    this.pins.set(stableId, Uint8Array.from(key));
    this.save();
    this.d.log.info({ device: stableId, key: keyFingerprint(key) }, 'node signing key pinned (first use)');
    return 'pinned';
  }

  /**
   * Replaces the pin of a device with `key` (an owner grant vouched for it, or the local user
   * confirmed it): written at once, logged, reported to `onRenewed`. Returns the old pin.
   */
  replace(stableId: string, key: Uint8Array, by: RenewedBy): Uint8Array | undefined {
    if (stableId === this.d.self.stableId) throw new MeshError('MESH_REFUSED', 'this device\'s own key comes from its keyring; it has no pin to replace');
    if (key.length !== 32) throw new MeshError('MESH_REFUSED', 'a node signing key is 32 bytes');
    const old = this.pins.get(stableId);
    this.pins.set(stableId, Uint8Array.from(key));
    // The old key stays a former key: what it signed until now still verifies.
    if (old && !bytesEqual(old, key)) this.former.set(stableId, addFormer(this.former.get(stableId) ?? [], old, (this.d.now ?? Date.now)()));
    const stillFormer = this.former.get(stableId)?.filter((f) => !bytesEqual(f.key, key));
    if (stillFormer) this.former.set(stableId, stillFormer);
    this.save();
    this.rechecked.delete(stableId);
    this.warned.delete(stableId);
    const r: Renewal = { stableId, oldFingerprint: old ? keyFingerprint(old) : 'none', newFingerprint: keyFingerprint(key), by };
    this.d.log.warn(r, by === 'owner-grant' ? 'node signing key of a device renewed: it presented an owner grant for its new key' : 'node signing key of a device renewed by the local user (fcp device trust)');
    try {
      this.onRenewed?.(r);
    } catch {
      // the report is best effort; the pin is what counts
    }
    return old;
  }

  /** Asks the device itself for the key it presents now (FCP `info`); never pins or replaces. */
  async presented(stableId: string): Promise<Presented> {
    return presentedOf(await this.d.ask(stableId));
  }

  /**
   * A record of `stableId` failed its check under the pin: perhaps the device was reset and now
   * has an owner grant for a new key. Asks it again (at most every 10 s per device; the answer
   * goes through `offer`, so only a vouched key replaces the pin) and returns the key pinned then.
   */
  async recheck(stableId: string): Promise<Uint8Array | undefined> {
    const now = (this.d.now ?? Date.now)();
    if (stableId === this.d.self.stableId || now - (this.rechecked.get(stableId) ?? -Infinity) < RECHECK_MS) return this.pinned(stableId);
    this.rechecked.set(stableId, now);
    const p = await this.presented(stableId).catch(() => undefined);
    if (p) this.offer(stableId, p.key, p.grant);
    return this.pinned(stableId);
  }

  /**
   * The key that verifies `stableId`'s records: the pin, or asked of the device now and pinned.
   * MESH_SIGNER_UNKNOWN when the device cannot be asked (offline, not a member): its records
   * wait until it has been reached once. MESH_SIGNER_CHANGED when it presents another key.
   */
  async keyOf(stableId: string): Promise<Uint8Array> {
    const known = this.pinned(stableId);
    if (known) return known;
    let q = this.asking.get(stableId);
    if (!q) {
      q = this.presented(stableId).finally(() => this.asking.delete(stableId));
      this.asking.set(stableId, q);
    }
    let got: Presented;
    try {
      got = await q;
    } catch (err) {
      throw new MeshError('MESH_SIGNER_UNKNOWN', `the node signing key of ${stableId} is not known here and it could not be asked (${(err as Error).message}); its records are taken once it has been reached`);
    }
    if (this.offer(stableId, got.key, got.grant) === 'changed') throw new MeshError('MESH_SIGNER_CHANGED', `${stableId} presents another node signing key than the one pinned for it`);
    return this.pinned(stableId)!;
  }

  /** Written at once (a pin is rare, and must survive a crash to mean anything). */
  private save(): void {
    writePinsFile(this.d.path, this.pins, this.former);
  }
}
