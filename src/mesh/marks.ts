// What this device has learnt about holders lately, on a monotonic clock: which are slow (did
// not answer in time) and which failed a symbol challenge. Reads stop waiting for slow holders,
// placement avoids them, and health and repair do not count distrusted ones.
const SLOW_FOR_MS = 30_000;
const DISTRUST_FOR_MS = 10 * 60_000;

export type Clock = () => number;
export const monotonic: Clock = () => performance.now();

export class HolderMarks {
  private readonly slowUntil = new Map<string, number>();
  private readonly distrustUntil = new Map<string, number>();

  constructor(private readonly now: Clock = monotonic) {}

  markSlow(stableId: string): void {
    this.slowUntil.set(stableId, this.now() + SLOW_FOR_MS);
  }
  clearSlow(stableId: string): void {
    this.slowUntil.delete(stableId);
  }
  isSlow(stableId: string): boolean {
    return (this.slowUntil.get(stableId) ?? 0) > this.now();
  }

  distrust(stableId: string): void {
    this.distrustUntil.set(stableId, this.now() + DISTRUST_FOR_MS);
  }
  trust(stableId: string): void {
    this.distrustUntil.delete(stableId);
  }
  isDistrusted(stableId: string): boolean {
    return (this.distrustUntil.get(stableId) ?? 0) > this.now();
  }
}
