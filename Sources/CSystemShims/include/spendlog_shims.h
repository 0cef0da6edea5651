#ifndef SPENDLOG_SHIMS_H
#define SPENDLOG_SHIMS_H
#include <stdint.h>

/// How long ago the file open on `fd` was created, in milliseconds: its statx(2) birth time
/// subtracted from the kernel's CLOCK_REALTIME, read with a direct system call. Both times come
/// from the clock that stamped the file, so the age is right even where the process's own view of
/// the time is shifted (libfaketime, which shifts clock_gettime but not statx). Returns INT64_MIN
/// when the kernel or the file system does not record birth times.
int64_t spendlog_file_age_ms(int fd);

/// Sets glibc's mmap threshold to `bytes` and stops it from rising: blocks that large are then
/// mapped and unmapped on their own, so memory freed by a thread goes back to the system instead
/// of staying in that thread's heap. Process-wide (mallopt(M_MMAP_THRESHOLD)). Returns 1 when set.
int spendlog_set_mmap_threshold(int bytes);

/// The kernel's CLOCK_REALTIME in milliseconds since the epoch, read with a direct system call: the
/// clock that stamps files' modification times, even where the process's own view of the time is
/// shifted (libfaketime). Returns INT64_MIN when the call fails.
int64_t spendlog_kernel_time_ms(void);

/// The statfs(2) type of the file system `path` is on (f_type, e.g. 0xEF53 for ext2/3/4), or -1
/// when it cannot be read.
int64_t spendlog_file_system_type(const char *path);

/// Eight random bytes into `out`, from getrandom(2), drawn 256 bytes at a time into a buffer of the
/// calling thread (a forked child empties its copy of the buffer before using it). Returns 1, or 0
/// when getrandom fails (`out` is then unchanged).
int spendlog_random_u64(uint64_t *out);

#endif
