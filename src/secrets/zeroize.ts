// Overwrite secret material in place once it is no longer needed.

export function zeroize(...buffers: Array<Uint8Array | undefined | null>): void {
  for (const buf of buffers) if (buf) buf.fill(0);
}

export function isAllZero(buf: Uint8Array): boolean {
  let acc = 0;
  for (let i = 0; i < buf.length; i++) acc |= buf[i]!;
  return acc === 0;
}
