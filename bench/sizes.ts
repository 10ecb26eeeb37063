// "4GiB", "512MiB", "1000000": a byte count from a benchmark's --size flag.
export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kib|mib|gib|tib|kb|mb|gb|tb)?$/i.exec(s.trim());
  if (!m) throw new Error(`--size: not a size: ${s} (e.g. 4GiB, 512MiB, 1000000)`);
  const mult: Record<string, number> = { b: 1, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12 };
  return Math.round(Number(m[1]) * mult[(m[2] ?? 'b').toLowerCase()]!);
}
