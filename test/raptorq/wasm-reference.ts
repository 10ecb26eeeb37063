// Loads the wasm build of the reference `raptorq` crate (devDependency) for conformance checks.
// The package has no `main`, so its generated module is imported by path.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface WasmEncoder {
  encode(repairPacketsPerBlock: number): Uint8Array[];
  free(): void;
}
export interface WasmDecoder {
  decode(packet: Uint8Array): Uint8Array | undefined;
  free(): void;
}
export interface WasmReference {
  encoder(data: Uint8Array, mtu: number): WasmEncoder;
  decoder(transferLength: number, mtu: number): WasmDecoder;
}

interface WasmModule {
  initSync(module: Uint8Array): unknown;
  Encoder: { with_defaults(data: Uint8Array, mtu: number): WasmEncoder };
  Decoder: { with_defaults(transferLength: bigint, mtu: number): WasmDecoder };
}

let loaded: Promise<WasmReference> | undefined;

export function loadWasmReference(): Promise<WasmReference> {
  loaded ??= (async () => {
    const require = createRequire(import.meta.url);
    const dir = dirname(require.resolve('raptorq/package.json'));
    const mod = (await import(pathToFileURL(join(dir, 'raptorq.js')).href)) as WasmModule;
    mod.initSync(readFileSync(join(dir, 'raptorq_bg.wasm')));
    return {
      encoder: (data, mtu) => mod.Encoder.with_defaults(data, mtu),
      decoder: (length, mtu) => mod.Decoder.with_defaults(BigInt(length), mtu),
    };
  })();
  return loaded;
}
