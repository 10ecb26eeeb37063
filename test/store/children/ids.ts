// Deterministic object ids shared by the corruption tests and their child processes.
export function objectIdOf(i: number): Uint8Array {
  const id = new Uint8Array(32).fill(0x5a);
  new DataView(id.buffer).setUint32(0, i);
  return id;
}
