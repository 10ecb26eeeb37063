// Symbol streams from several holders feeding one assembler. The reader waits on events (a batch
// arrived, a stream ended) or on a short hedge timer, never on the slowest holder: any symbols
// will do, so a holder that stalls is passed over and marked slow.
import type { SymbolKey } from '../wire/index.js';
import type { Logger } from 'pino';
import type { Holder, SymbolStream } from './holder.js';
import type { HolderMarks } from './marks.js';
import type { ObjectAssembler } from './objects.js';

interface Running {
  holder: Holder;
  stream: SymbolStream;
  ended: boolean;
}

export class Gathering {
  private readonly runs: Running[] = [];
  private wake: (() => void) | null = null;

  constructor(
    private readonly assembler: ObjectAssembler,
    private readonly marks: HolderMarks,
    private readonly log: Logger,
    private readonly objectId: Uint8Array,
    private readonly zone: string,
  ) {}

  /** Starts a stream from `holder` unless one from it is still running. */
  start(holder: Holder, want?: SymbolKey[]): void {
    if (this.isRunning(holder.stableId)) return;
    const stream = holder.fetch(this.objectId, this.zone, want, (batch) => {
      // Every symbol that arrived is offered (and counted as read), even after the object is whole.
      for (const s of batch) this.assembler.add(s);
      this.notify();
    });
    const run: Running = { holder, ended: false, stream };
    this.runs.push(run);
    run.stream.done.then(
      () => this.marks.clearSlow(holder.stableId),
      (err: Error & { code?: string }) => {
        if (err.code === 'MESH_TIMEOUT') this.marks.markSlow(holder.stableId);
        this.log.debug({ peer: holder.hostName, err: err.message }, 'fetch failed');
      },
    ).finally(() => {
      run.ended = true;
      this.notify();
    });
  }

  isRunning(stableId: string): boolean {
    return this.runs.some((r) => !r.ended && r.holder.stableId === stableId);
  }

  /** Every stream has ended, not counting holders already known to be slow. */
  get settled(): boolean {
    return this.runs.every((r) => r.ended || this.marks.isSlow(r.holder.stableId));
  }

  get anyEnded(): boolean {
    return this.runs.some((r) => r.ended);
  }

  /** Holders whose stream still runs: after a hedge they are marked slow. */
  stragglers(): Holder[] {
    return this.runs.filter((r) => !r.ended).map((r) => r.holder);
  }

  /** Resolves at the next batch or stream end ('event'), or after `ms` of silence ('quiet'). */
  next(ms: number): Promise<'event' | 'quiet'> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve('quiet');
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = null;
        resolve('event');
      };
    });
  }

  stopAll(): void {
    for (const r of this.runs) if (!r.ended) r.stream.stop();
  }

  private notify(): void {
    this.wake?.();
  }
}
