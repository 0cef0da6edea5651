/* The floor a durable append is measured against: COUNT lines of BYTES bytes (newline included)
 * appended to PATH with one write(2) and one fdatasync(2) each, as `--fsync always` does per
 * record. Built and run by scripts/bench-targets.sh:  fsync-loop PATH COUNT BYTES */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: fsync-loop PATH COUNT BYTES\n");
        return 64;
    }
    long count = atol(argv[2]), bytes = atol(argv[3]);
    if (count < 1 || bytes < 2 || bytes > 65536) {
        fprintf(stderr, "fsync-loop: COUNT must be at least 1 and BYTES between 2 and 65536\n");
        return 64;
    }
    int fd = open(argv[1], O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd < 0) {
        perror(argv[1]);
        return 1;
    }
    char *line = malloc((size_t)bytes);
    memset(line, 'x', (size_t)bytes - 1);
    line[bytes - 1] = '\n';
    for (long i = 0; i < count; i++) {
        if (write(fd, line, (size_t)bytes) != bytes || fdatasync(fd) != 0) {
            perror(argv[1]);
            return 1;
        }
    }
    return close(fd) == 0 ? 0 : 1;
}
