// Fenced leases (FCP V2 §15.1): a singleton connector runs on the device that holds its lease,
// granted by a majority of the devices of the connector's home zone. Every device is a grantor
// (LeaseTable) and may be a claimant (LeaseClaim).
//
// Safety rests on three rules. A grantor grants only when no unexpired lease of another holder
// exists, and remembers the highest fencing sequence it ever granted (on disk), so a stale holder
// is refused. Expiry is measured on monotonic clocks only: the grantor starts its countdown when
// the request arrives, the claimant counts from before it sent the request, so the claimant's
// view always ends first (less a drift margin), and it stops its connector by then. A grantor
// that restarts has forgotten who holds what: for one lease duration it grants no subject it had
// granted before.
import { HubMeshError } from './mesh-errors.js';

export type LeaseOp = 'query' | 'acquire' | 'renew' | 'release';

export interface LeaseRequest {
  subject: string;
  op: LeaseOp;
  /** The fencing sequence claimed (acquire: one above the highest known; renew/release: the held one). */
  seq: number;
  durationMs: number;
}

export interface LeaseReply {
  granted: boolean;
  /** The holder of the unexpired lease this grantor knows, if any. */
  holder?: string;
  /** The highest sequence this grantor has granted for the subject. */
  seq: number;
  /** How long the known lease has left here (ms), 0 when none. */
  remainingMs: number;
}

interface Current {
  holder: string;
  seq: number;
  expiresAt: number;
}

/** Durable highest sequences (so a restarted grantor still refuses stale holders). */
export interface SeqStore {
  load(): Record<string, number>;
  save(highest: Record<string, number>): void;
}

export interface LeaseTableOptions {
  /** Monotonic milliseconds (performance.now in the daemon). */
  now: () => number;
  seqs?: SeqStore;
  /** Grants nothing until this monotonic time (a restarted grantor's quiet period). */
  quietUntil?: number;
}

export class LeaseTable {
  private readonly current = new Map<string, Current>();
  private readonly highest: Record<string, number>;

  constructor(private readonly opts: LeaseTableOptions) {
    this.highest = { ...(opts.seqs?.load() ?? {}) };
  }

  highestSeq(subject: string): number {
    return this.highest[subject] ?? 0;
  }

  /** The unexpired lease here, if any. */
  live(subject: string): Current | undefined {
    const c = this.current.get(subject);
    if (c && c.expiresAt > this.opts.now()) return c;
    return undefined;
  }

  handle(from: string, req: LeaseRequest): LeaseReply {
    const now = this.opts.now();
    const live = this.live(req.subject);
    const refuse = (): LeaseReply => ({
      granted: false,
      ...(live ? { holder: live.holder } : {}),
      seq: this.highestSeq(req.subject),
      remainingMs: live ? Math.ceil(live.expiresAt - now) : 0,
    });
    switch (req.op) {
      case 'query':
        return refuse();
      case 'acquire': {
        if (live && live.holder === from && live.seq === req.seq) return this.grant(from, req, now);
        // The quiet period guards leases this grantor may have granted and forgotten; a subject
        // it never granted (no sequence on disk) has nothing forgotten.
        if (live || (now < (this.opts.quietUntil ?? 0) && this.highestSeq(req.subject) > 0)) return refuse();
        if (req.seq <= this.highestSeq(req.subject)) return refuse();
        this.highest[req.subject] = req.seq;
        this.opts.seqs?.save(this.highest); // durable before the grant is sent
        return this.grant(from, req, now);
      }
      case 'renew': {
        // Only the holder a majority granted renews. A grantor that missed the grant (it was
        // away) or forgot it (it restarted) learns it here; a live lease of another stands.
        if (live && (live.holder !== from || live.seq !== req.seq)) return refuse();
        if (!live && req.seq < this.highestSeq(req.subject)) return refuse();
        if (req.seq > this.highestSeq(req.subject)) {
          this.highest[req.subject] = req.seq;
          this.opts.seqs?.save(this.highest);
        }
        return this.grant(from, req, now);
      }
      case 'release': {
        if (live && live.holder === from && live.seq === req.seq) this.current.delete(req.subject);
        return { granted: true, seq: this.highestSeq(req.subject), remainingMs: 0 };
      }
    }
  }

  private grant(from: string, req: LeaseRequest, now: number): LeaseReply {
    this.current.set(req.subject, { holder: from, seq: req.seq, expiresAt: now + req.durationMs });
    return { granted: true, holder: from, seq: req.seq, remainingMs: req.durationMs };
  }
}

/** The majority of a grantor set: more than half of all of them, online or not. */
export function majorityOf(n: number): number {
  return Math.floor(n / 2) + 1;
}

export interface ClaimTransport {
  /** This device's stable id. */
  self: string;
  /** Every device that grants leases of the subject (all devices of its home zone, this one included). */
  grantors(): string[];
  /** One request to one grantor; rejects when it does not answer. */
  ask(grantor: string, req: LeaseRequest): Promise<LeaseReply>;
  now: () => number;
}

export interface ClaimRound {
  /** Grantors that granted. */
  grants: string[];
  replies: Map<string, LeaseReply>;
  /** Grantors that answered at all (the live ones). */
  answered: string[];
  /** The holder some grantor reported (another device's unexpired lease), if any. */
  holder?: string;
  highestSeq: number;
}

/** What a claimant knows of its lease. */
export interface HeldLease {
  subject: string;
  seq: number;
  /** Monotonic time by which the connector must have stopped unless renewed. */
  validUntil: number;
}

/**
 * A claimant's side of one subject's lease: acquire with a fresh sequence, renew, release; each a
 * round to every grantor, decided by a majority of the whole grantor set.
 */
export class LeaseClaim {
  held: HeldLease | null = null;
  private knownSeq = 0;

  constructor(
    readonly subject: string,
    private readonly t: ClaimTransport,
    private readonly durationMs: number,
    /** Part of the duration kept back for clock-rate drift and for stopping the connector. */
    private readonly marginMs: number,
  ) {
    if (!(marginMs > 0 && marginMs < durationMs)) throw new RangeError('lease margin must be above 0 and below the duration');
  }

  get highestSeq(): number {
    return this.knownSeq;
  }

  /** True while the lease is held and its validity has not run out on this device's clock. */
  isValid(): boolean {
    return this.held !== null && this.t.now() < this.held.validUntil;
  }

  async round(op: LeaseOp, seq: number): Promise<ClaimRound> {
    const grantors = this.t.grantors();
    const req: LeaseRequest = { subject: this.subject, op, seq, durationMs: this.durationMs };
    const replies = new Map<string, LeaseReply>();
    await Promise.all(
      grantors.map(async (g) => {
        try {
          replies.set(g, await this.t.ask(g, req));
        } catch {
          // an unanswered grantor counts as a refusal
        }
      }),
    );
    let highestSeq = this.knownSeq;
    let holder: string | undefined;
    const grants: string[] = [];
    for (const [g, r] of replies) {
      highestSeq = Math.max(highestSeq, r.seq);
      if (r.granted) grants.push(g);
      else if (r.holder !== undefined && r.holder !== this.t.self) holder = r.holder;
    }
    this.knownSeq = highestSeq;
    return { grants, replies, answered: [...replies.keys()], ...(holder !== undefined ? { holder } : {}), highestSeq };
  }

  /** Asks every grantor who holds the lease (no grant); also refreshes the highest known sequence. */
  query(): Promise<ClaimRound> {
    return this.round('query', 0);
  }

  /** Takes the lease with a sequence above any known; a minority of grants is given back. */
  async acquire(): Promise<ClaimRound> {
    const started = this.t.now();
    const seq = this.knownSeq + 1;
    const r = await this.round('acquire', seq);
    if (r.grants.length >= majorityOf(this.t.grantors().length)) {
      this.held = { subject: this.subject, seq, validUntil: started + this.durationMs - this.marginMs };
      this.knownSeq = Math.max(this.knownSeq, seq);
    } else if (r.grants.length > 0) {
      await this.round('release', seq);
    }
    return r;
  }

  /** Extends the held lease; false (and the lease dropped) when a majority did not renew it. */
  async renew(): Promise<boolean> {
    if (!this.held) return false;
    const started = this.t.now();
    const held = this.held;
    const r = await this.round('renew', held.seq);
    if (this.held !== held) return false;
    if (r.grants.length >= majorityOf(this.t.grantors().length)) {
      held.validUntil = Math.max(held.validUntil, started + this.durationMs - this.marginMs);
      return true;
    }
    // Not renewed by a majority: it stays held only until its validity runs out here. (A higher
    // sequence at a minority of grantors proves nothing: a claim that failed leaves one behind.)
    if (!this.isValid()) this.held = null;
    return false;
  }

  async release(): Promise<void> {
    const held = this.held;
    this.held = null;
    if (held) await this.round('release', held.seq);
  }

  /** The fencing sequence of the held lease; throws if there is none or it ran out. */
  requireSeq(): number {
    if (!this.isValid()) throw new HubMeshError('HUB_NOT_HOLDER', `this device does not hold the lease of ${this.subject}`);
    return this.held!.seq;
  }
}
