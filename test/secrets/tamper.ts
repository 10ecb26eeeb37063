// For tests: corrupt the share inside a store request on its way to a device, the way a
// faulty or hostile holder would end up keeping a wrong share. The share stays validly sealed.
import { decodeRequest, encodeRequest, shareBoxAad } from '../../src/secrets/protocol.js';
import { openSealed, sealTo } from '../../src/secrets/seal.js';
import type { RequestHook } from './network.js';

/** Offset of the first y value in a crypto-layer share (header 67 + authenticator 16). */
export const Y_OFFSET = 83;

export const corruptStoredShare: RequestHook = (target, body) => {
  const req = decodeRequest(body);
  if (req.op !== 'store') return body;
  const aad = shareBoxAad(req.meta, 'store');
  const share = openSealed({ publicKey: target.publicKey, secretKey: target.secretKey }, req.sealed, aad);
  if (!share) throw new Error('test hook could not open the share');
  share[Y_OFFSET]! ^= 0x5a;
  return encodeRequest({ op: 'store', meta: req.meta, sealed: sealTo(target.publicKey, share, aad) });
};
