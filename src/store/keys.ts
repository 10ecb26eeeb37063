// Symbol keys: ObjectId(32) || SBN(u8) || ESI(u24 big-endian), so keys of one object are
// contiguous and sorted by (SBN, ESI); a range scan lists one object.
export const SYMBOL_KEY_BYTES = 36;

export function symbolKey(objectId: Uint8Array, sbn: number, esi: number): Buffer {
  const key = Buffer.allocUnsafe(SYMBOL_KEY_BYTES);
  key.set(objectId, 0);
  key[32] = sbn;
  key.writeUIntBE(esi, 33, 3);
  return key;
}

/** Inclusive start and exclusive end of the object's key range. */
export function objectRange(objectId: Uint8Array): { start: Buffer; end: Buffer } {
  const start = Buffer.alloc(SYMBOL_KEY_BYTES);
  start.set(objectId, 0);
  // One byte longer than any symbol key of the object and above all of them.
  const end = Buffer.alloc(SYMBOL_KEY_BYTES + 1, 0xff);
  end.set(objectId, 0);
  end[SYMBOL_KEY_BYTES] = 0;
  return { start, end };
}

export function positionOfKey(key: Uint8Array): [number, number] {
  return [key[32]!, (key[33]! << 16) | (key[34]! << 8) | key[35]!];
}
