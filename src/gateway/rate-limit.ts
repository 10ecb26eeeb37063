// Token buckets per caller (a community key, or a source address): `burst` requests at once,
// refilled at `perMinute`. The table is bounded: when full, the buckets idle longest go first
// (a full bucket carries no state worth keeping).

export interface RateLimit {
  perMinute: number;
  burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly maxKeys = 10_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Takes one token for `key`; returns 0 when allowed, else the seconds until one is there. */
  take(key: string, limit: RateLimit): number {
    const now = this.now();
    const rate = limit.perMinute / 60_000;
    let b = this.buckets.get(key);
    if (b) {
      b.tokens = Math.min(limit.burst, b.tokens + (now - b.at) * rate);
      b.at = now;
      // Most recently used last, so the first entries are the ones idle longest.
      this.buckets.delete(key);
    } else {
      b = { tokens: limit.burst, at: now };
      while (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    }
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / rate / 1000));
  }
}
