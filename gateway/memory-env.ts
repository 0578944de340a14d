/**
 * glibc malloc settings the gateway process is started with (`infra/start.ts`
 * and the multi-host scripts pass them; they must be in the environment
 * before the process starts, so they cannot be set from inside it).
 *
 * Why: uploads allocate large buffers (a 20 MB archive, Postgres's copy of
 * it) next to many 64 KiB network reads. glibc raises its mmap threshold
 * each time a large mmapped block is freed (up to 32 MiB), so after the
 * first big deploy the next ones are carved out of the main heap instead,
 * between small long-lived blocks, and freed memory there is never given
 * back: 20 parallel 20 MB deploys left the gateway at 2 GB (456 MB even
 * after the upload path stopped buffering). A fixed threshold keeps large
 * blocks in their own mappings, returned to the system on free; two arenas
 * stop each thread-pool thread from keeping a heap of its own.
 */
export const GATEWAY_MALLOC_ENV: Readonly<Record<string, string>> = Object.freeze({
  /** Fixed (which also turns off glibc's dynamic raising of it): blocks of 128 KiB and more are mmapped. */
  MALLOC_MMAP_THRESHOLD_: String(128 * 1024),
  MALLOC_ARENA_MAX: '2',
});
