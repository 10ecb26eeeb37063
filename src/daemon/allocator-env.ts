// How the launchers we write (systemd unit, launchd plist, dev mesh) start fcpd.
//
// glibc raises its mmap threshold each time a large block is freed (up to 32 MiB), after which
// the daemon's 0.5-4 MiB chunk and envelope buffers come from malloc's heaps and arenas, where
// freed space is kept, fragmented, for good: the writing daemon of a 1 GiB put held 80-160 MiB
// of it, and its peak RSS passed 300 MiB. A fixed threshold of 256 KiB maps such blocks and
// unmaps them when freed; the 64 KiB socket reads stay on the heap. Ignored by other C libraries.
export const FCPD_ALLOCATOR_ENV: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: '262144' };

// V8 sizes a young generation of up to 3 x 16 MiB semi-space per isolate (the main thread and
// the coding worker); the daemon's young objects are small and short-lived, and with 8 MiB the
// writing daemon of a 2 GiB put peaked 16 MiB lower at the same put rate (bench:large).
export const FCPD_NODE_ARGS: readonly string[] = ['--max-semi-space-size=8'];
