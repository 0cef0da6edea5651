#define _GNU_SOURCE
#include "spendlog_shims.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <string.h>

int64_t spendlog_birth_time_ms(int fd) {
    struct statx st;
    memset(&st, 0, sizeof st);
    if (statx(fd, "", AT_EMPTY_PATH, STATX_BTIME, &st) != 0) return -1;
    if (!(st.stx_mask & STATX_BTIME)) return -1;
    return (int64_t)st.stx_btime.tv_sec * 1000 + st.stx_btime.tv_nsec / 1000000;
}
