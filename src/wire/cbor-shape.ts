// A walk over CBOR item headers (no decoding of values) that enforces the shape caps before the
// body reaches the decoder: nesting depth, array/map sizes, definite lengths only, no tags, no
// undefined or unassigned simple values, and exactly one item filling the body.
import { ProtocolError } from './errors.js';
import type { WireLimits } from './limits.js';

function bad(message: string): ProtocolError {
  return new ProtocolError('PROTO_BAD_CBOR', `malformed frame body: ${message}`);
}

export function checkCborShape(body: Uint8Array, limits: WireLimits): void {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const end = body.length;
  let at = 0;
  // Items still expected at each open nesting level; the outermost level expects one item.
  const pending: number[] = [1];
  while (pending.length > 0) {
    if (pending[pending.length - 1] === 0) {
      pending.pop();
      continue;
    }
    pending[pending.length - 1]!--;
    if (at >= end) throw bad('truncated');
    const initial = body[at++]!;
    const major = initial >> 5;
    const info = initial & 0x1f;
    let arg: number;
    if (info < 24) arg = info;
    else if (info === 24 || info === 25 || info === 26 || info === 27) {
      const size = 1 << (info - 24);
      if (at + size > end) throw bad('truncated');
      if (size === 1) arg = body[at]!;
      else if (size === 2) arg = view.getUint16(at);
      else if (size === 4) arg = view.getUint32(at);
      else {
        const big = view.getBigUint64(at);
        arg = big > BigInt(Number.MAX_SAFE_INTEGER) ? Number.POSITIVE_INFINITY : Number(big);
      }
      at += size;
    } else if (info === 31) {
      throw bad('indefinite lengths are not allowed');
    } else {
      throw bad('reserved additional information');
    }
    switch (major) {
      case 0:
      case 1:
        break;
      case 2:
      case 3:
        if (arg > end - at) throw bad('string runs past the end');
        at += arg;
        break;
      case 4:
      case 5: {
        if (arg > limits.maxArrayLength) throw bad(`array or map of ${arg} items exceeds the cap of ${limits.maxArrayLength}`);
        const items = major === 4 ? arg : arg * 2;
        if (items > end - at) throw bad('array or map runs past the end');
        if (items > 0) {
          if (pending.length > limits.maxDepth) throw bad(`nesting deeper than ${limits.maxDepth}`);
          pending.push(items);
        }
        break;
      }
      case 6:
        throw bad('tags are not allowed');
      default:
        // Major 7: false, true, null and floats only (floats were consumed as their argument).
        if (info < 24 && !(info === 20 || info === 21 || info === 22)) throw bad('unsupported simple value');
        if (info === 24) throw bad('unsupported simple value');
    }
  }
  if (at !== end) throw bad('trailing bytes after the message');
}
