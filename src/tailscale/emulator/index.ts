// Public face of the dev-tailnet emulator: N emulated tailscaled LocalAPI
// daemons in one process, one unix socket and one 127.77.0.N address each.
export {
  startDevTailnet,
  type DevTailnet,
  type DevTailnetOptions,
  type EmulatedDevice,
  type DevTailnetSnapshotDevice,
} from './dev-tailnet.js';
export {
  validateDescription,
  defaultAddress,
  EMULATED_PATHS,
  EMULATOR_FAULTS,
  EMULATED_SHARES,
  type EmulatedShare,
  type TailnetDescription,
  type TailnetNodeDescription,
  type TailnetUserDescription,
  type EmulatedPath,
  type EmulatorFault,
} from './description.js';
export { DevTailnetError, type DevTailnetErrorCode } from './errors.js';
export { startControlServer, DevTailnetControlClient, type ControlServer } from './control.js';
export { EMULATED_VERSION, goTime } from './render.js';
export { ENGINE_POLL_MS, type DeviceStats } from './device-server.js';
export type { IngressEndpoint, IngressEndpoints } from './ingress.js';
