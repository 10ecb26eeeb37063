// Environment fcpd is started with by the launchers we write (systemd unit, dev mesh).
//
// glibc raises its mmap threshold each time a large block is freed (up to 32 MiB), after which
// the daemon's 0.5-4 MiB chunk and envelope buffers come from malloc's heaps and arenas, where
// freed space is kept, fragmented, for good: the writing daemon of a 1 GiB put held 80-160 MiB
// of it, and its peak RSS passed 300 MiB. A fixed threshold of 256 KiB maps such blocks and
// unmaps them when freed; the 64 KiB socket reads stay on the heap. Ignored by other C libraries.
export const FCPD_ALLOCATOR_ENV: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: '262144' };
