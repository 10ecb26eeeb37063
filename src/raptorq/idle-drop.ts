// Dropping kept memory once it has gone unused for a while, so an idle process keeps none.

/**
 * Returns `touch()`: call it at each use; `drop` runs once `idleMs` have passed since the last
 * touch. One unref'd timer at most, re-armed only when it fires, so a touch costs a clock read.
 */
export function idleDropper(idleMs: number, drop: () => void): () => void {
  let lastUse = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const arm = (ms: number): void => {
    timer = setTimeout(check, ms);
    (timer as { unref?: () => void }).unref?.();
  };
  const check = (): void => {
    const idle = Date.now() - lastUse;
    if (idle >= idleMs) {
      timer = null;
      drop();
      return;
    }
    arm(idleMs - idle);
  };
  return () => {
    lastUse = Date.now();
    if (timer || typeof setTimeout !== 'function') return;
    arm(idleMs);
  };
}
