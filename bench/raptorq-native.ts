// Optional native columns of `bench:raptorq`: a release build of the reference Rust crate,
// made by scripts/build-native-raptorq.mjs. Absent binary = no native columns, nothing else.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where the build script puts the binary unless RAPTORQ_NATIVE_BENCH names another. */
export function nativeBenchPath(): string {
  return process.env['RAPTORQ_NATIVE_BENCH'] ?? join(tmpdir(), 'fcp-native-raptorq', 'raptorq-native-bench');
}

export interface NativeFigures {
  /** Milliseconds per run. */
  readonly encode: number[];
  readonly decodeFresh: number[];
  readonly decodeRepeat: number[];
  /** Resident-set growth while decoding, bytes (a separate peak run), or -1. */
  readonly peak: number;
}

/** Runs the native bench for one size; null when there is no binary or it fails. */
export function runNative(size: number, runs: number, seed: number, mtu: number, withPeak: boolean, cpuClock: boolean): NativeFigures | null {
  const bin = nativeBenchPath();
  if (!existsSync(bin)) return null;
  const r = spawnSync(bin, [String(size), String(runs), String(seed), String(mtu), withPeak ? '1' : '0', cpuClock ? 'cpu' : 'wall'], {
    encoding: 'utf8',
    timeout: 600_000,
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) {
    process.stderr.write(`native bench failed for ${size} bytes: ${r.stderr || r.error?.message}\n`);
    return null;
  }
  return JSON.parse(r.stdout) as NativeFigures;
}
