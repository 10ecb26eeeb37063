// Public face of the secrets layer: k-of-n Shamir secrets held in device memory only.
export { Secrets, type PutOptions, type RestoreOutcome, type RestoreStatus, type SecretListing } from './secrets.js';
export { ShareHolder, type HeldSummary, type RequestOrigin, type ShareHolderOptions } from './holder.js';
export {
  exactZoneRule,
  type SecretsAuditEvent,
  type SecretsAuditSink,
  type SecretsPeer,
  type SecretsTransport,
  type ZoneRule,
} from './transport.js';
export * from './errors.js';
export { generateBoxKeyPair, boxPublicKeyOf, type BoxKeyPair } from './seal.js';
export { MAX_SECRET_BYTES, MAX_SHARES, MIN_THRESHOLD } from './limits.js';
