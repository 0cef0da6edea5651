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

#endif
