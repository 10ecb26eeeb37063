// RFC 6330 RaptorQ codec (public face): zero runtime dependencies.

export { RaptorQEncoder, defaultParameters, encoderParameters, DEFAULT_MAX_SUB_BLOCK_SIZE, DEFAULT_MIN_SUB_SYMBOL_SIZE } from './encoder.js';
export type { EncoderOptions } from './encoder.js';
export { RaptorQDecoder, DEFAULT_MAX_DECODED_LENGTH } from './decoder.js';
export type { DecoderOptions } from './decoder.js';
export { encodeOti, parseOti, validateOti, MAX_TRANSFER_LENGTH, OTI_LENGTH } from './oti.js';
export type { Oti } from './oti.js';
export { packetSbn, packetEsi, PAYLOAD_ID_LENGTH, MAX_ESI } from './payload-id.js';
export { deriveOti, partition, ObjectLayout } from './partitioning.js';
export type { DeriveOptions, Partition } from './partitioning.js';
export { blockParams, MAX_SOURCE_SYMBOLS } from './params.js';
export type { BlockParams } from './params.js';
export {
  RaptorQError,
  BadOtiError,
  BadParametersError,
  BadPacketError,
  SbnOutOfRangeError,
  EsiOutOfRangeError,
  WorkerFailedError,
} from './errors.js';
export type { RaptorQErrorCode } from './errors.js';
export { RaptorQWorkerPool, encodeInWorker, decodeInWorker, closeSharedWorkerPool } from './worker-pool.js';
export type { EncodeResult, EncodeInWorkerOptions } from './worker-pool.js';
