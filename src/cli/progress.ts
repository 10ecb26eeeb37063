// A one-line progress indicator on stderr for long transfers (only when stderr is a terminal
// and not --quiet): bytes done (of the total, when known), rate and time left.

/** Bytes in the largest binary unit that keeps the number at least 1. */
export function humanBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} bytes` : `${v.toFixed(1)} ${units[u]}`;
}

/** Seconds as "45s", "3m05s" or "2h04m". */
export function humanDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The progress line for `done` of `total` bytes after `elapsedMs`. */
export function progressLine(label: string, done: number, total: number | null, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? (done / elapsedMs) * 1000 : 0;
  const parts = [`${label}: ${humanBytes(done)}${total !== null ? ` of ${humanBytes(total)} (${total > 0 ? Math.floor((done / total) * 100) : 100}%)` : ''}`];
  if (rate > 0) parts.push(`${humanBytes(rate)}/s`);
  if (total !== null && rate > 0 && done < total) parts.push(`${humanDuration((total - done) / rate)} left`);
  return parts.join('  ');
}

export class Progress {
  private last = 0;
  private readonly started = Date.now();
  private readonly enabled: boolean;
  private shown = false;

  constructor(
    private readonly label: string,
    private readonly total: number | null,
    opts: { quiet?: boolean } = {},
  ) {
    this.enabled = !opts.quiet && Boolean(process.stderr.isTTY) && (total === null || total >= 4 * 1024 * 1024);
  }

  update(done: number, total: number | null = this.total): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 100 && done !== total) return;
    this.last = now;
    this.shown = true;
    process.stderr.write(`\r${progressLine(this.label, done, total, now - this.started)}\x1b[K`);
  }

  done(): void {
    if (this.enabled && this.shown) process.stderr.write('\n');
    this.shown = false;
  }
}
