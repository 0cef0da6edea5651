#define _GNU_SOURCE
#include "spendlog_shims.h"
#include <fcntl.h>
#include <malloc.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int64_t spendlog_file_age_ms(int fd) {
    struct statx st;
    memset(&st, 0, sizeof st);
    if (statx(fd, "", AT_EMPTY_PATH, STATX_BTIME, &st) != 0) return INT64_MIN;
    if (!(st.stx_mask & STATX_BTIME)) return INT64_MIN;
    int64_t now = spendlog_kernel_time_ms();
    if (now == INT64_MIN) return INT64_MIN;
    return now - ((int64_t)st.stx_btime.tv_sec * 1000 + st.stx_btime.tv_nsec / 1000000);
}

int64_t spendlog_kernel_time_ms(void) {
    struct timespec now;
    if (syscall(SYS_clock_gettime, CLOCK_REALTIME, &now) != 0) return INT64_MIN;
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

int64_t spendlog_file_system_type(const char *path) {
    struct statfs st;
    if (statfs(path, &st) != 0) return -1;
    return (int64_t)st.f_type;
}

int spendlog_set_mmap_threshold(int bytes) {
    return mallopt(M_MMAP_THRESHOLD, bytes);
}
