// Hard caps on what one frame may make the decoder allocate or walk.

export const PROTOCOL_VERSION = 1;
/** Default TCP port of the FCP server on tailnet addresses. */
export const DEFAULT_PORT = 9473;
export const FRAME_HEADER_BYTES = 4;
export const DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024;
/** Absolute ceiling for a configured frame cap (the length prefix could name up to 4 GiB). */
export const MAX_FRAME_BYTES_CEILING = 64 * 1024 * 1024;
export const DEFAULT_MAX_DEPTH = 8;
export const DEFAULT_MAX_ARRAY_LENGTH = 1 << 20;

export interface WireLimits {
  maxFrameBytes: number;
  maxDepth: number;
  maxArrayLength: number;
}

export const DEFAULT_LIMITS: WireLimits = {
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  maxDepth: DEFAULT_MAX_DEPTH,
  maxArrayLength: DEFAULT_MAX_ARRAY_LENGTH,
};
