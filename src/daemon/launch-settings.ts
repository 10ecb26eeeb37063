// What the launchers we write (systemd unit, launchd plist, dev mesh) start fcpd with.
//
// glibc raises its mmap threshold each time a large block is freed (up to 32 MiB), after which
// the daemon's 0.5-4 MiB chunk and envelope buffers come from malloc's heaps and arenas, where
// freed space is kept, fragmented, for good: the writing daemon of a 1 GiB put held 80-160 MiB
// of it, and its peak RSS passed 300 MiB. A fixed threshold of 256 KiB maps such blocks and
// unmaps them when freed; the 64 KiB socket reads stay on the heap. Ignored by other C libraries.
export const FCPD_ALLOCATOR_ENV: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: '262144' };

// V8 grows each isolate's young generation (the main thread's and the coding worker's) to three
// 16 MiB semi-spaces under the daemon's allocation rate, and keeps it. Capped at 4 MiB, a 4 GiB
// put through five daemons peaked at 283 MiB on the writer instead of 361 and 187-199 MiB on the
// holders instead of 229-236, at the same throughput (bench:large, same seed, back to back).
export const FCPD_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
