// Checks a store's files by walking all of them in a child process (verify-child.ts): a fault
// there (SIGSEGV/SIGBUS from damaged pages) or an MDB error marks the store damaged without
// taking this process down, and counts that disagree with the usage record show damage LMDB
// passes over silently (a tree that ends early).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { checkDataFile } from './data-file-check.js';
import { corruptionName } from './lmdb-errors.js';

const CHILD = fileURLToPath(new URL('./verify-child.js', import.meta.url));
const OUTPUT_CAP = 64 * 1024;

/** `damaged` false means the check itself could not run or finish (no verdict on the files). */
export type VerifyReport =
  | { ok: true; symbols: number; bytes: number; manifests: number; orphans: number }
  | { ok: false; damaged: boolean; reason: string };

interface ChildReport {
  ok: boolean;
  symbols?: number;
  bytes?: number;
  manifests?: number;
  orphans?: number;
  badKeys?: number;
  badLocations?: number;
  usage?: [number, number];
  code?: number | null;
  message?: string;
}

function judge(r: ChildReport): VerifyReport {
  if (!r.ok) {
    const name = typeof r.code === 'number' ? corruptionName({ code: r.code }) : null;
    // Only MDB corruption codes are a verdict; anything else (a missing file, EACCES) is not.
    return { ok: false, damaged: name !== null, reason: `LMDB failed reading the store${name ? ` (${name})` : ''}: ${r.message}` };
  }
  const [symbols, bytes] = r.usage ?? [0, 0];
  if (r.badKeys) return { ok: false, damaged: true, reason: `${r.badKeys} entries have impossible keys or empty values` };
  if (r.badLocations) return { ok: false, damaged: true, reason: `${r.badLocations} symbols point past the end of their segment file, or at one that is missing` };
  if (r.symbols !== symbols || r.bytes !== bytes) {
    return { ok: false, damaged: true, reason: `the trees hold ${r.symbols} symbols (${r.bytes} bytes) but the usage record says ${symbols} (${bytes}): entries are missing or damaged` };
  }
  return { ok: true, symbols: r.symbols!, bytes: r.bytes!, manifests: r.manifests!, orphans: r.orphans! };
}

/** Walks every page of the store at `dir` out of process; at most `timeoutMs`. */
export function verifyStoreFiles(dir: string, timeoutMs: number): Promise<VerifyReport> {
  const header = checkDataFile(`${dir}/data.mdb`);
  if (!header.ok) return Promise.resolve({ ok: false, damaged: true, reason: header.reason });
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CHILD, dir], { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      if (out.length < OUTPUT_CAP) out += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      if (err.length < OUTPUT_CAP) err += d.toString('utf8');
    });
    child.once('error', (e) => resolve({ ok: false, damaged: false, reason: `could not run the store check: ${e.message}` }));
    child.once('close', (code, signal) => {
      if (signal === 'SIGKILL') return resolve({ ok: false, damaged: false, reason: `the store check did not finish within ${timeoutMs} ms` });
      if (signal === 'SIGSEGV' || signal === 'SIGBUS') return resolve({ ok: false, damaged: true, reason: `reading the store crashed LMDB (${signal}): its pages are damaged` });
      if (signal) return resolve({ ok: false, damaged: false, reason: `the store check was stopped by ${signal}` });
      const line = out.trim().split('\n').pop();
      try {
        resolve(judge(JSON.parse(line ?? '') as ChildReport));
      } catch {
        resolve({ ok: false, damaged: false, reason: `the store check failed (exit ${code}): ${err.trim().split('\n').slice(-3).join(' ')}` });
      }
    });
  });
}
