// Witnessing over FCP: after this device signs a checkpoint of one of its logs, it sends it to the
// zone's other online devices (`audit_cosign`) with a consistency proof from the size each one
// last cosigned, and keeps the cosignatures they answer next to the checkpoint. One round per log
// at a time; a checkpoint signed while a round runs waits, and only the newest waiting one is sent.
import type { Logger } from 'pino';
import type { Outgoing } from '../mesh/index.js';
import type { Message } from '../wire/index.js';
import type { ZoneLog } from './log.js';
import { AuditError } from './errors.js';
import { formatVerifierKey, parseVerifierKey, signatureValid, SIG_COSIGNATURE_V1, type NoteSignature } from './note.js';
import { parseNote } from './note.js';

/** The key name a device witnesses under. */
export const witnessName = (stableId: string): string => `fcp-witness/${stableId}`;

export interface WitnessingDeps {
  /** The online fcp devices that may witness this device's log of `zone` (`device`: any). */
  witnessesOf(zone: string): string[];
  call(stableId: string, msg: Outgoing, timeoutMs: number): Promise<Message>;
  log: Logger;
  /** How long one witness may take to answer (ms). */
  timeoutMs?: number;
}

export interface RoundResult {
  size: number;
  cosigned: string[];
  refused: Array<{ witness: string; code: string; message: string }>;
}

interface Pending {
  log: ZoneLog;
  size: number;
  note: string;
  index?: string;
}

export class Witnessing {
  /** `${origin} ${witness}` → the size that witness last cosigned (learned from its answers). */
  private readonly cosignedSize = new Map<string, number>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly waiting = new Map<string, Pending>();
  private readonly listeners = new Set<(origin: string, r: RoundResult) => void>();

  constructor(private readonly d: WitnessingDeps) {}

  /** Called with the result of every round (tests and benches wait on it). */
  onRound(fn: (origin: string, r: RoundResult) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Queues the checkpoint of `size` of `log` (zone `zone`) for witnessing. */
  submit(zone: string, log: ZoneLog, size: number, note: string, index?: string): void {
    this.waiting.set(log.origin, { log, size, note, ...(index ? { index } : {}) });
    if (!this.running.has(log.origin)) this.drain(zone, log.origin);
  }

  /** Resolves when no round of any log is running or waiting. */
  async idle(): Promise<void> {
    for (let i = 0; i < 100 && this.running.size > 0; i++) await Promise.allSettled([...this.running.values()]);
  }

  private drain(zone: string, origin: string): void {
    const next = this.waiting.get(origin);
    if (!next) return;
    this.waiting.delete(origin);
    const p = this.round(zone, next)
      .then((r) => {
        for (const fn of this.listeners) fn(origin, r);
      })
      .catch((err) => this.d.log.warn({ err: (err as Error).message, origin }, 'audit witnessing round failed'))
      .finally(() => {
        this.running.delete(origin);
        this.drain(zone, origin);
      });
    this.running.set(origin, p);
  }

  /** One round: every witness of the zone asked in parallel; answers checked, cosignatures kept. */
  async round(zone: string, p: Pending): Promise<RoundResult> {
    const result: RoundResult = { size: p.size, cosigned: [], refused: [] };
    const sigs: NoteSignature[] = [];
    await Promise.all(
      this.d.witnessesOf(zone).map(async (w) => {
        try {
          const sig = await this.askOne(w, p);
          sigs.push(sig);
          result.cosigned.push(w);
        } catch (err) {
          const code = (err as { details?: { peerCode?: string } }).details?.peerCode ?? (err as { code?: string }).code ?? 'ERROR';
          result.refused.push({ witness: w, code, message: (err as Error).message });
          const level = code === 'AUDIT_FORK' || code === 'AUDIT_ROLLBACK' ? 'error' : 'warn';
          this.d.log[level]({ origin: p.log.origin, witness: w, code, err: (err as Error).message }, 'audit checkpoint not cosigned');
        }
      }),
    );
    if (sigs.length > 0) p.log.addCosignatures(p.size, sigs);
    this.d.log.debug({ origin: p.log.origin, size: p.size, cosigned: result.cosigned.length, refused: result.refused.length }, 'audit witnessing round');
    return result;
  }

  private async askOne(w: string, p: Pending): Promise<NoteSignature> {
    const key = `${p.log.origin} ${w}`;
    let from = Math.min(this.cosignedSize.get(key) ?? 0, p.size);
    // At most two requests: a witness that last cosigned another size than assumed says which.
    for (let attempt = 0; attempt < 2; attempt++) {
      const reply = await this.d.call(
        w,
        { t: 'audit_cosign', key: formatVerifierKey(p.log.key), note: p.note, from, proof: from > 0 ? p.log.consistencyProof(from, p.size) : [], ...(p.index ? { index: p.index } : {}) },
        this.d.timeoutMs ?? 5_000,
      );
      if (reply.t !== 'audit_cosign_result') throw new AuditError('AUDIT_BAD_PROOF', `witness ${w} answered ${reply.t}`);
      if (reply.need !== undefined) {
        if (reply.need > p.size) throw new AuditError('AUDIT_ROLLBACK', `witness ${w} cosigned size ${reply.need} of ${p.log.origin}; this log has ${p.size}`);
        from = reply.need;
        continue;
      }
      if (!reply.signature) throw new AuditError('AUDIT_BAD_SIGNATURE', `witness ${w} sent no cosignature`);
      const wk = parseVerifierKey(reply.witness);
      if (wk.name !== witnessName(w) || wk.type !== SIG_COSIGNATURE_V1) throw new AuditError('AUDIT_BAD_KEY', `witness ${w} answered with key ${wk.name}`);
      const sig: NoteSignature = { name: wk.name, keyId: reply.signature.subarray(0, 4), body: reply.signature.subarray(4) };
      if (!signatureValid(parseNote(p.note).text, sig, wk)) throw new AuditError('AUDIT_BAD_SIGNATURE', `witness ${w} sent a cosignature that does not verify`);
      this.cosignedSize.set(key, p.size);
      return sig;
    }
    throw new AuditError('AUDIT_BAD_PROOF', `witness ${w} asked twice for another starting size`);
  }
}
