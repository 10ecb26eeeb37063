// How Go's encoding/json writes a time.Time.
/**
 * Go's time.Time JSON: RFC 3339 with nanoseconds, trailing zeros of the fraction trimmed, and
 * the time's own zone offset ("Z" only for UTC). Local clock readings (LastWrite, LastHandshake)
 * carry the host's offset; control-plane times (Created, LastSeen, KeyExpiry) are UTC.
 */
export function goTime(ms: number, offsetMinutes = 0, subMsNanos = 0): string {
  const shifted = new Date(ms + offsetMinutes * 60_000);
  const base = shifted.toISOString().slice(0, 19);
  const nanos = (((ms % 1000) + 1000) % 1000) * 1_000_000 + subMsNanos;
  const frac = nanos === 0 ? '' : `.${String(nanos).padStart(9, '0').replace(/0+$/, '')}`;
  if (offsetMinutes === 0) return `${base}${frac}Z`;
  const sign = offsetMinutes > 0 ? '+' : '-';
  const abs = Math.abs(offsetMinutes);
  return `${base}${frac}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

