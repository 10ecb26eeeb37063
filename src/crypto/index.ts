// Crypto layer (public face): ObjectIds, zone keys, symbol envelopes, node keys, sealed boxes,
// key files, Shamir shares, and the plain data types shared with wire and store.
export { CryptoError, type CryptoErrorCode } from './errors.js';
export { zeroize, toHex, fromHex, bytesEqual } from './bytes.js';
export {
  OBJECT_ID_BYTES,
  objectId,
  objectIdHasher,
  computeObjectId,
  objectIdToHex,
  objectIdFromHex,
  zoneIdHash,
  schemaHash,
  validateZoneId,
  type ObjectIdHasher,
} from './object-id.js';
export { type ZoneKey, generateZoneKey, rotateZoneKey, zoneKeyFor, zoneKeyId, zoneKeyRequestProof, serializeZoneKey, parseZoneKey } from './zone-key.js';
export {
  ENVELOPE_HEADER_BYTES,
  ENVELOPE_OVERHEAD,
  ENVELOPE_TAG_BYTES,
  MAX_ESI,
  MAX_K,
  MAX_SBN,
  sealSymbol,
  sealSymbolRun,
  sealSymbolRunInPlace,
  openSymbol,
  envelopeHeader,
  sourceTag,
  SymbolSealer,
  forgetZoneKey,
  type SymbolHeader,
  type SealRun,
  type EnvelopeHeader,
  type OpenExpectation,
} from './envelope.js';
export {
  type NodeKeys,
  generateNodeKeys,
  sign,
  verify,
  signingPublicKey,
  encryptionPublicKey,
  x25519SharedSecret,
  serializeNodeKeys,
  parseNodeKeys,
} from './node-keys.js';
export { sealTo, openSealed } from './sealed-box.js';
export { writeKeyFile, readKeyFile } from './key-file.js';
export { split, combine, combineWithReport, type CombineReport } from './shamir.js';
export { positionKey, positionOf, type Manifest, type PlacementPolicy, type RefRecord, type SymbolEntry, type Tombstone } from './types.js';
export {
  COSE_ALG_EDDSA,
  COSE_HEADER_ALG,
  COSE_HEADER_KID,
  decodeSign1,
  decodeStrict,
  encodeDeterministic,
  encodeSign1,
  sigStructure1,
  signSign1,
  verifySign1,
  signSign1Async,
  type CoseSign1,
  type Ed25519Signer,
  type HeaderMap,
} from './cose.js';
export {
  mod as frostMod,
  aggregate as frostAggregate,
  bindingFactors as frostBindingFactors,
  commit as frostCommit,
  interpolatingValue as frostInterpolatingValue,
  nonceGenerate as frostNonceGenerate,
  signShare as frostSignShare,
  splitKey as frostSplitKey,
  verifyShare as frostVerifyShare,
  serializeScalar as frostSerializeScalar,
  deserializeScalar as frostDeserializeScalar,
  type Commitment as FrostCommitment,
  type KeyShare as FrostKeyShare,
  type Nonces as FrostNonces,
} from './frost.js';
export { DkgCheatError, dkgFinish, dkgGroupKey, dkgPublicShare, dkgRound1, dkgShareFor, verifyDkgPackage, verifyDkgShare, wipeDkgSecret, type DkgPackage, type DkgSecret } from './frost-dkg.js';
