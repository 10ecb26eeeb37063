// Public face of the Tailscale layer: LocalAPI client, parsed LocalAPI shapes,
// peer model and path classification. The dev-tailnet emulator is exported
// from './emulator/index.js'.
export {
  LocalApiClient,
  LOCAL_API_HOST,
  NotifyWatch,
  DEFAULT_WATCH_MASK,
  notifyChangesPeers,
  socketErrorToTailscaleError,
  whoisTarget,
  type LocalApiClientOptions,
} from './local-api-client.js';
export {
  TailscaleError,
  TailscaleNotRunningError,
  TailscalePermissionError,
  TailscaleNotLoggedInError,
  TailscaleBadJsonError,
  TailscaleHttpError,
  TailscaleServeConflictError,
  TailscaleTimeoutError,
  TailscaleBadInputError,
  TailscaleWatchClosedError,
  TailscaleUserspaceError,
  backendStateAdvice,
  isTransientBackendState,
  type TailscaleErrorCode,
} from './errors.js';
export {
  BACKEND_STATES,
  parseStatus,
  parseWhoIs,
  parsePingResult,
  parseNotify,
  type BackendState,
  type UserProfile,
  type PeerStatus,
  type TailnetInfo,
  type TailscaleStatus,
  type TailnetNode,
  type WhoIs,
  type PingType,
  type PingResult,
  type PeerChange,
  type EngineStatus,
  type IpnNotify,
} from './model.js';
export {
  classifyPath,
  peerFromStatus,
  selfFromStatus,
  peersFromStatus,
  findPeerByIp,
  isForeignPeer,
  isForeignNode,
  mayBeOnBattery,
  type Peer,
  type PeerPath,
} from './peers.js';
export { PathTracker, type PathEvidence, type ObservedPath, type PathTrackerOptions } from './path-evidence.js';
export { waitForRunning, conditionOf, unreachableCondition, type TailscaledCondition, type WaitRunningOptions } from './wait-running.js';
export { parseJsonLossless, stringifyJsonLossless, JsonSyntaxError, type JsonValue, type JsonObject } from './json.js';
export {
  resolveSocketPath,
  platformDefaultSocket,
  LINUX_SOCKET,
  MACOS_SOCKET,
  SYNOLOGY_SOCKET,
  SYNOLOGY_DSM6_SOCKET,
  QNAP_SOCKET,
  GOKRAZY_SOCKET,
  type PlatformProbe,
} from './socket-path.js';
export { FUNNEL_PORTS, endpointState, withEndpoint, withoutEndpoint, type EndpointState, type ProxyEndpoint } from './serve-config.js';
export { forwardedFor, isFunnelRequest } from './serve-headers.js';
