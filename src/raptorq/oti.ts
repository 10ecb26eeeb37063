// Object Transmission Information (RFC 6330 sections 3.3.2 and 3.3.3): 12 bytes =
// transfer length F (40 bits), reserved (8 bits), symbol size T (16 bits),
// then the scheme-specific part Z (8 bits), N (16 bits) and alignment Al (8 bits).

import { BadOtiError } from './errors.js';
import { MAX_SOURCE_SYMBOLS } from './params.js';

/** Largest transfer length RFC 6330 allows (section 4.4.1.2). */
export const MAX_TRANSFER_LENGTH = 946270874880;
export const OTI_LENGTH = 12;

export interface Oti {
  /** F: object size in bytes. */
  readonly transferLength: number;
  /** T: symbol size in bytes (a multiple of the alignment). */
  readonly symbolSize: number;
  /** Z: number of source blocks. */
  readonly sourceBlocks: number;
  /** N: number of sub-blocks per source block. */
  readonly subBlocks: number;
  /** Al: symbol alignment in bytes. */
  readonly alignment: number;
}

/** Throws BadOtiError when the values cannot describe an RFC 6330 encoding. */
export function validateOti(oti: Oti): void {
  const { transferLength: f, symbolSize: t, sourceBlocks: z, subBlocks: n, alignment: al } = oti;
  const isInt = (v: number): boolean => Number.isSafeInteger(v);
  if (!isInt(f) || f < 1 || f > MAX_TRANSFER_LENGTH) {
    throw new BadOtiError(`transfer length must be 1..${MAX_TRANSFER_LENGTH} bytes, got ${f}`);
  }
  if (!isInt(al) || al < 1 || al > 255) throw new BadOtiError(`alignment must be 1..255, got ${al}`);
  if (!isInt(t) || t < 1 || t > 65535 || t % al !== 0) {
    throw new BadOtiError(`symbol size must be 1..65535 and a multiple of the alignment ${al}, got ${t}`);
  }
  if (!isInt(z) || z < 1 || z > 255) throw new BadOtiError(`number of source blocks must be 1..255, got ${z}`);
  if (!isInt(n) || n < 1 || n > t / al) {
    throw new BadOtiError(`number of sub-blocks must be 1..T/Al = ${t / al}, got ${n}`);
  }
  const kt = Math.ceil(f / t);
  if (z > kt) throw new BadOtiError(`${z} source blocks is more than the ${kt} source symbols of the object`);
  if (Math.ceil(kt / z) > MAX_SOURCE_SYMBOLS) {
    throw new BadOtiError(
      `a source block would hold ${Math.ceil(kt / z)} symbols, more than the ${MAX_SOURCE_SYMBOLS} RFC 6330 allows; use more source blocks or a larger symbol size`,
    );
  }
}

export function encodeOti(oti: Oti): Uint8Array {
  validateOti(oti);
  const out = new Uint8Array(OTI_LENGTH);
  const f = oti.transferLength;
  const high = Math.floor(f / 4294967296);
  out[0] = high & 0xff;
  new DataView(out.buffer).setUint32(1, f >>> 0);
  out[5] = 0;
  out[6] = oti.symbolSize >>> 8;
  out[7] = oti.symbolSize & 0xff;
  out[8] = oti.sourceBlocks;
  out[9] = oti.subBlocks >>> 8;
  out[10] = oti.subBlocks & 0xff;
  out[11] = oti.alignment;
  return out;
}

export function parseOti(bytes: Uint8Array): Oti {
  if (!(bytes instanceof Uint8Array) || bytes.length !== OTI_LENGTH) {
    throw new BadOtiError(`an OTI is exactly ${OTI_LENGTH} bytes, got ${bytes instanceof Uint8Array ? bytes.length : typeof bytes}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const oti: Oti = {
    transferLength: bytes[0]! * 4294967296 + view.getUint32(1),
    symbolSize: view.getUint16(6),
    sourceBlocks: bytes[8]!,
    subBlocks: view.getUint16(9),
    alignment: bytes[11]!,
  };
  validateOti(oti);
  return oti;
}
