// One-time join codes: short-lived, single use, compared in constant time.
import { randomBytes, timingSafeEqual } from 'node:crypto';

const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'; // no 0/O or 1/I to misread

export class InviteBook {
  private readonly codes = new Map<string, number>();

  create(ttlMs: number): { code: string; expires: number } {
    this.prune();
    const bytes = randomBytes(12);
    let code = '';
    for (const b of bytes) code += ALPHABET[b % ALPHABET.length];
    code = `${code.slice(0, 4)}-${code.slice(4, 8)}-${code.slice(8, 12)}`;
    const expires = Date.now() + ttlMs;
    this.codes.set(code, expires);
    return { code, expires };
  }

  /** True once for a valid, unexpired code; the code is spent either way if it matched. */
  consume(candidate: string): boolean {
    this.prune();
    if (typeof candidate !== 'string') return false;
    const given = Buffer.from(candidate.trim().toUpperCase());
    for (const code of this.codes.keys()) {
      const want = Buffer.from(code);
      if (want.length === given.length && timingSafeEqual(want, given)) {
        this.codes.delete(code);
        return true;
      }
    }
    return false;
  }

  private prune(): void {
    const now = Date.now();
    for (const [code, expires] of this.codes) if (expires <= now) this.codes.delete(code);
  }
}
