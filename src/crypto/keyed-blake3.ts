// Keyed BLAKE3 over large content, the cost of every ObjectId a store or a read computes.
// The native addon (@napi-rs/blake-hash: the BLAKE3 team's Rust crate, with its AVX2/AVX-512
// code) hashes about 9 GB/s on one core here, hash-wasm's WebAssembly build about 0.9 GB/s and
// pure JS far less. We depend on the addon's per-platform binary packages directly (optional,
// Linux x64 glibc and musl) rather than on its wrapper, whose lockfile entries name every
// platform's binary and so cannot be locked from a registry that lacks some of them; any
// platform without a binary falls back to WebAssembly with the same result.
import { createRequire } from 'node:module';
import { createBLAKE3, type IHasher } from 'hash-wasm';

interface NativeHasher {
  update(input: Uint8Array): NativeHasher;
  digestBuffer(): Buffer;
}
interface NativeBlake3 {
  Blake3Hasher: { newKeyed(key: Buffer): NativeHasher };
}

function loadNative(): NativeBlake3 | null {
  if (process.env['FCP_BLAKE3'] === 'wasm') return null;
  const require = createRequire(import.meta.url);
  const base = `@napi-rs/blake-hash-${process.platform}-${process.arch}`;
  // glibc first: on a musl system the glibc build fails to load and the musl one is next.
  for (const name of [`${base}-gnu`, `${base}-musl`, base]) {
    try {
      const mod = require(name) as NativeBlake3;
      if (typeof mod.Blake3Hasher?.newKeyed === 'function') return mod;
    } catch {
      // not installed for this platform, or not loadable here: try the next
    }
  }
  return null;
}

const native = loadNative();

/** Which implementation hashes here: 'native' or 'wasm' (FCP_BLAKE3=wasm forces the latter). */
export const keyedBlake3Backend: 'native' | 'wasm' = native ? 'native' : 'wasm';

// Keyed wasm hashers are created asynchronously once per key and reused; between init() and
// digest() nothing awaits, so a cached hasher is never shared mid-hash.
const wasmHashers = new Map<string, IHasher>();

async function wasmHasher(key: Uint8Array): Promise<IHasher> {
  const id = Buffer.from(key).toString('hex');
  let h = wasmHashers.get(id);
  if (!h) {
    h = await createBLAKE3(256, key);
    if (wasmHashers.size >= 64) wasmHashers.clear();
    wasmHashers.set(id, h);
  }
  return h;
}

/** BLAKE3 keyed with a 32-byte `key` over the parts in order (32-byte digest). */
export async function keyedBlake3(key: Uint8Array, parts: readonly Uint8Array[], backend = keyedBlake3Backend): Promise<Uint8Array> {
  if (backend === 'native' && native) {
    const h = native.Blake3Hasher.newKeyed(Buffer.from(key.buffer, key.byteOffset, key.byteLength));
    for (const p of parts) h.update(p);
    const d = h.digestBuffer();
    return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  }
  const h = await wasmHasher(key);
  h.init();
  for (const p of parts) h.update(p);
  return h.digest('binary');
}
