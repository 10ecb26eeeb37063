// Manifests at rest: canonical CBOR, the same encoding the wire uses.
import { decode, encode } from 'cborg';
import type { Manifest } from '../crypto/index.js';
import { StoreError } from './errors.js';

export function encodeManifest(m: Manifest): Uint8Array {
  return encode(m);
}

export function decodeManifest(bytes: Uint8Array): Manifest {
  try {
    return decode(bytes, { strict: true, allowUndefined: false }) as Manifest;
  } catch (err) {
    throw new StoreError('STORE_CORRUPT', `stored manifest is unreadable (${(err as Error).message}); delete the object and let repair restore it`);
  }
}
