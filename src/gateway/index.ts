// The public gateway: Funnel's way in to the operations connectors expose (FCP V2 §19.3).
export { GatewayError, GATEWAY_STATUS, type GatewayErrorCode } from './errors.js';
export { CommunityKeys, CommunityKeyError, COMMUNITY_KEYS_FILE, type CommunityKeyInfo } from './community-keys.js';
export { RateLimiter, type RateLimit } from './rate-limit.js';
export { classify, isLoopback, API_KEY_HEADER, type ClassifyDeps } from './classify.js';
export { startGatewayServer, publicError, DEFAULT_GATEWAY_LIMITS, type GatewayLimits, type GatewayServer, type GatewayServerOptions } from './server.js';
