#define _GNU_SOURCE
#include "spendlog_shims.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/random.h>
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

/* Random bytes for record ids, drawn from getrandom(2) 256 bytes at a time into a buffer of the
 * calling thread. A forked child starts with the parent's buffer, so the fork handler empties it
 * in the child: parent and child never hand out the same bytes. */
#define SPENDLOG_RANDOM_POOL 256
static __thread unsigned char random_pool[SPENDLOG_RANDOM_POOL];
static __thread unsigned random_used = SPENDLOG_RANDOM_POOL;
static pthread_once_t random_once = PTHREAD_ONCE_INIT;

static void random_forget(void) {
    memset(random_pool, 0, sizeof random_pool);
    random_used = SPENDLOG_RANDOM_POOL;
}

static void random_register(void) { pthread_atfork(NULL, NULL, random_forget); }

int spendlog_random_u64(uint64_t *out) {
    pthread_once(&random_once, random_register);
    if (random_used + sizeof *out > SPENDLOG_RANDOM_POOL) {
        size_t filled = 0;
        while (filled < SPENDLOG_RANDOM_POOL) {
            ssize_t n = getrandom(random_pool + filled, SPENDLOG_RANDOM_POOL - filled, 0);
            if (n < 0) {
                if (errno == EINTR) continue;
                return 0;
            }
            filled += (size_t)n;
        }
        random_used = 0;
    }
    memcpy(out, random_pool + random_used, sizeof *out);
    memset(random_pool + random_used, 0, sizeof *out);
    random_used += sizeof *out;
    return 1;
}
