// Reading an object: find its manifest, then rebuild it from any holders' symbols. Source
// symbols first (with all K of a block nothing is solved), then whatever else holders have;
// a solve waits for a decode margin; a holder that stalls is hedged around.
import type { Logger } from 'pino';
import { bytesEqual, computeObjectId, objectIdFromHex, type Manifest, type ZoneKey } from '../crypto/index.js';
import type { SymbolStore } from '../store/index.js';
import type { Zone } from '../zones/index.js';
import { MeshError } from './errors.js';
import type { Eligibility } from './eligibility.js';
import { Gathering } from './gathering.js';
import type { Holder } from './holder.js';
import type { HolderMarks } from './marks.js';
import type { MeshMetrics } from './metrics.js';
import { ObjectAssembler } from './objects.js';

export interface ReaderDeps {
  store: SymbolStore;
  eligibility: Eligibility;
  marks: HolderMarks;
  log: Logger;
  metrics: MeshMetrics;
  /** Silence after which a read stops waiting for holders still streaming (ms). */
  hedgeMs?: number;
}

const DEFAULT_HEDGE_MS = 300;

export class ObjectReader {
  constructor(private readonly d: ReaderDeps) {}

  /** Finds the manifest locally or on any fcp peer (each peer decides whether to show it). */
  async findManifest(idHex: string): Promise<Manifest> {
    const objectId = objectIdFromHex(idHex);
    const local = this.d.store.getManifest(objectId);
    if (local) return local;
    let refused: Error | null = null;
    for (const peer of this.d.eligibility.anyPeers()) {
      try {
        const m = await peer.getManifest(objectId);
        if (m) return m;
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'AUTHZ_DENIED' || code === 'MESH_REFUSED') refused = err as Error;
      }
    }
    if (refused) throw refused;
    throw new MeshError('MESH_NOT_FOUND', `object ${idHex} is not known to this device or any reachable peer`);
  }

  /**
   * Rebuilds an object. Every symbol is authenticated (AEAD bound to object, zone, position and
   * key); with `verify` the content is also hashed and must give back its ObjectId, which guards
   * against a zone-key holder that sealed other content under this id.
   */
  async read(manifest: Manifest, zone: Zone, zk: ZoneKey, opts: { verify?: boolean; output?: Uint8Array } = {}): Promise<Uint8Array> {
    const started = performance.now();
    await this.d.eligibility.confirmPaths(zone);
    const assembler = await this.assemble(manifest, zone, zk, this.d.eligibility.readersFor(zone), undefined, opts.output);
    const data = assembler.done;
    if (assembler.rejected > 0) this.d.metrics.symbolAuthFailures.inc(assembler.rejected);
    if (!data) {
      this.d.metrics.decodeFailures.inc();
      throw new MeshError('MESH_UNAVAILABLE', `object cannot be rebuilt now: ${assembler.added} valid symbols reachable, not enough to decode (${assembler.rejected} rejected)`);
    }
    if (opts.verify) {
      const check = await computeObjectId(zk.objectIdKey, manifest.zone, manifest.schema, data);
      if (!bytesEqual(check, manifest.objectId)) {
        this.d.metrics.decodeFailures.inc();
        throw new MeshError('MESH_DECODE_FAILED', 'object decoded to content with another id');
      }
    }
    this.d.metrics.retrieveSeconds.observe((performance.now() - started) / 1000);
    return data;
  }

  /**
   * Streams symbols from `holders` into an assembler until the object is whole or nothing more
   * can come. Round 1 asks every holder for the source symbols still missing; round 2 (when
   * round 1 is over, or went quiet) asks the holders not busy for everything they have.
   * `output`: where to rebuild it (see ObjectAssembler).
   */
  async assemble(manifest: Manifest, zone: Zone, zk: ZoneKey, holders: Holder[], plan?: Map<string, Array<[number, number]>>, output?: Uint8Array): Promise<ObjectAssembler> {
    const assembler = new ObjectAssembler(manifest, zk, output);
    if (assembler.done) return assembler;
    const g = new Gathering(assembler, this.d.marks, this.d.log, manifest.objectId, zone.id);
    const hedgeMs = this.d.hedgeMs ?? DEFAULT_HEDGE_MS;
    const sources = assembler.missingSourceKeys();
    for (const h of holders) {
      const want = plan ? plan.get(h.stableId) : sources;
      if (want === undefined || want.length > 0) g.start(h, want);
    }
    let round = 1;
    const nextRound = () => {
      round = 2;
      for (const h of holders) g.start(h);
    };
    try {
      while (!assembler.done) {
        if (assembler.ready) {
          await assembler.solve();
          continue;
        }
        if (g.settled) {
          if (round === 1) {
            nextRound();
            continue;
          }
          if (g.stragglers().length === 0 || g.stragglers().every((h) => this.d.marks.isSlow(h.stableId))) {
            // Nothing more is coming from a brisk holder: one last try with what arrived.
            if (assembler.canTry && (await assembler.solve({ final: true }))) continue;
            if (g.stragglers().length === 0) break;
          }
        }
        const e = await g.next(hedgeMs);
        if (e === 'quiet' && g.anyEnded && g.stragglers().length > 0) {
          for (const h of g.stragglers()) this.d.marks.markSlow(h.stableId);
          if (round === 1) nextRound();
        }
      }
    } finally {
      g.stopAll();
    }
    return assembler;
  }
}
