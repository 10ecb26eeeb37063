// Typed errors of the mesh layer; `code` is stable and safe to match on.
import { FcpError } from '../errors/index.js';
export type MeshErrorCode =
  | 'MESH_BAD_POLICY'
  | 'MESH_TOO_FEW_DEVICES'
  | 'MESH_NOT_FOUND'
  | 'MESH_REFUSED'
  | 'MESH_UNAVAILABLE'
  | 'MESH_DECODE_FAILED'
  | 'MESH_STORE_FAILED'
  | 'MESH_NO_ZONE_KEY'
  | 'MESH_NOT_INITIALISED'
  | 'MESH_BAD_CONFIG'
  | 'MESH_JOIN_FAILED'
  | 'MESH_TIMEOUT'
  | 'MESH_CLOSED'
  | 'MESH_PEER_ERROR'
  | 'MESH_BUSY'
  | 'MESH_CONFLICT'
  | 'MESH_KEY_MISMATCH'
  | 'MESH_BAD_SYMBOL'
  | 'MESH_BAD_ID'
  | 'MESH_BAD_SUMMARY'
  | 'MESH_TOMBSTONED'
  | 'MESH_BAD_SIGNATURE'
  | 'MESH_SIGNER_UNKNOWN'
  | 'MESH_SIGNER_CHANGED'
  | 'MESH_UNRECONCILED'
  | 'MESH_STATE_CORRUPT';

export class MeshError extends FcpError {
  constructor(override readonly code: MeshErrorCode, message: string, readonly details?: Record<string, unknown>) {
    super(code, message);
  }
}

/** Refusals of the device lifecycle (`fcp device remove`, `fcp device trust`, `fcp zone rotate`). */
export type DeviceErrorCode =
  | 'DEVICE_NOT_FOUND'
  | 'DEVICE_IS_SELF'
  | 'DEVICE_LAST_OWNER'
  | 'DEVICE_NOT_A_MEMBER'
  | 'DEVICE_REMOVE_CANCELLED'
  | 'DEVICE_TRUST_CANCELLED'
  | 'DEVICE_REMOVED'
  | 'DEVICE_KEY_UNKNOWN'
  | 'DEVICE_KEY_MISMATCH';

export class DeviceError extends FcpError {
  constructor(override readonly code: DeviceErrorCode, message: string) {
    super(code, message);
  }
}
