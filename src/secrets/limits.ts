// Hard limits of the secrets layer. They bound memory a hostile request can make a holder use.

/** Largest secret value accepted by put (API keys, tokens, private keys fit easily). */
export const MAX_SECRET_BYTES = 64 * 1024;
/** Largest request or reply body a holder or requester decodes. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Secret names: printable, no spaces, bounded. */
export const MAX_NAME_CHARS = 128;
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@/+-]*$/;
export const MAX_ZONE_CHARS = 64;
export const ZONE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@/-]*$/;
/** Shamir over GF(256) gives at most 255 distinct evaluation points. */
export const MAX_SHARES = 255;
/** k = 1 would put the whole secret on every holder, so the threshold starts at 2. */
export const MIN_THRESHOLD = 2;
/** Shares one holder keeps in memory at once, over all secrets and versions. */
export const MAX_HELD_SHARES = 4096;
/** Versions of one secret a holder keeps side by side (old + new while a rotation is under way). */
export const MAX_VERSIONS_PER_SECRET = 4;
/** Random id of one split. */
export const SPLIT_ID_BYTES = 32;
/** Smallest share the crypto layer produces (header, authenticator, one y value, x). */
export const MIN_SHARE_BYTES = 85;
export const BOX_KEY_BYTES = 32;
