// A one-line progress indicator on stderr for long transfers (only when stderr is a terminal).
export class Progress {
  private last = 0;
  private readonly enabled: boolean;

  constructor(private readonly label: string, private readonly total: number | null) {
    this.enabled = Boolean(process.stderr.isTTY) && (total === null || total >= 4 * 1024 * 1024);
  }

  update(done: number, total: number | null = this.total): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 100 && done !== total) return;
    this.last = now;
    const mb = (n: number) => (n / (1024 * 1024)).toFixed(1);
    const pct = total ? ` ${Math.floor((done / total) * 100)}%` : '';
    process.stderr.write(`\r${this.label}: ${mb(done)}${total ? `/${mb(total)}` : ''} MiB${pct}   `);
  }

  done(): void {
    if (this.enabled) process.stderr.write('\n');
  }
}
