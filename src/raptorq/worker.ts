// Worker thread body of the RaptorQ worker pool: encodes or decodes one job at a time.

import { parentPort } from 'node:worker_threads';
import { RaptorQDecoder } from './decoder.js';
import { RaptorQEncoder } from './encoder.js';
import { BadPacketError, RaptorQError } from './errors.js';
import { PAYLOAD_ID_LENGTH } from './payload-id.js';
import { packPackets, unpackPackets, type WorkerRequest, type WorkerResponse } from './worker-protocol.js';

function handle(request: WorkerRequest): { response: WorkerResponse; transfer: ArrayBuffer[] } {
  if (request.kind === 'encode') {
    const { data, settings, repairPerBlock } = request;
    const enc = 'mtu' in settings ? RaptorQEncoder.withDefaults(data, settings.mtu) : new RaptorQEncoder(data, settings);
    const packetLength = PAYLOAD_ID_LENGTH + enc.symbolSize;
    const packets: Uint8Array[] = [];
    for (let sbn = 0; sbn < enc.blockCount; sbn++) {
      for (const p of enc.blockSourcePackets(sbn)) packets.push(p);
      if (repairPerBlock > 0) for (const p of enc.repairPackets(sbn, enc.sourceSymbolCount(sbn), repairPerBlock)) packets.push(p);
      enc.releaseBlock(sbn);
    }
    const packed = packPackets(packets, packetLength);
    return {
      response: { id: request.id, ok: true, kind: 'encode', oti: enc.oti, packed, packetLength },
      transfer: [packed.buffer as ArrayBuffer],
    };
  }
  const dec = new RaptorQDecoder(request.oti);
  if (request.packetLength !== PAYLOAD_ID_LENGTH + dec.parameters.symbolSize) {
    throw new BadPacketError(`packets of this object are ${PAYLOAD_ID_LENGTH + dec.parameters.symbolSize} bytes, got ${request.packetLength}`);
  }
  let data: Uint8Array | null = null;
  for (const packet of unpackPackets(request.packed, request.packetLength)) {
    data = dec.addPacket(packet);
    if (data) break;
  }
  return {
    response: { id: request.id, ok: true, kind: 'decode', data },
    transfer: data ? [data.buffer as ArrayBuffer] : [],
  };
}

parentPort?.on('message', (request: WorkerRequest) => {
  try {
    const { response, transfer } = handle(request);
    parentPort!.postMessage(response, transfer);
  } catch (err) {
    const code = err instanceof RaptorQError ? err.code : null;
    const message = err instanceof Error ? err.message : String(err);
    parentPort!.postMessage({ id: request.id, ok: false, code, message } satisfies WorkerResponse);
  }
});
