// Deterministic object ids shared by the corruption tests and their child processes.
export function objectIdOf(i: number): Uint8Array {
  const id = new Uint8Array(32).fill(0x5a);
  new DataView(id.buffer).setUint32(0, i);
  return id;
}

/** Object `i` of the disk-full tests and its 20 symbols (1300 bytes: in LMDB; 8168: in segment files). */
export function fillObjectId(i: number): Uint8Array {
  const id = new Uint8Array(32).fill(0xa5);
  new DataView(id.buffer).setUint32(0, i);
  return id;
}

export function fillBatch(i: number, size = 1300): Array<{ sbn: number; esi: number; env: Uint8Array }> {
  return Array.from({ length: 20 }, (_, esi) => ({ sbn: 0, esi, env: Uint8Array.from({ length: size }, (_, k) => (i * 31 + esi * 17 + k) & 0xff) }));
}
