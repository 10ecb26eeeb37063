// Overwrite secret material in place once it is no longer needed.

export function zeroize(...buffers: Array<Uint8Array | undefined | null>): void {
  for (const buf of buffers) if (buf) buf.fill(0);
}
