// The daemon around a mesh node: configuration, the local control API (server and client), lifecycle.
export { resolveConfig, type DeviceConfig, type ConfigFlags } from './config.js';
export { ControlClient, ControlError, parseJsonReply, type ControlResponse } from './control-client.js';
export { startControlServer, CONTROL_SOCKET } from './control-server.js';
export { runDaemon, type RunningDaemon } from './daemon.js';
export { loadZones } from './zones-file.js';
