#ifndef SPENDLOG_SHIMS_H
#define SPENDLOG_SHIMS_H
#include <stdint.h>

/// Birth time of the file open on `fd`, in milliseconds since the epoch, through statx(2).
/// Returns -1 when the kernel or the file system does not record birth times.
int64_t spendlog_birth_time_ms(int fd);

#endif
