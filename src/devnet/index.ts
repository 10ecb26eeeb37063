// Dev mesh: emulator + real fcpd processes on loopback, for the demo, tests and benchmarks.
export { DevMesh, type DevDevice, type DevMeshOptions } from './harness.js';
export { FIVE_DEVICES, fiveDevicesOn } from './five-devices.js';
