/* writeback: start writing a growing file to disk before it is synced (see
 * writeback.h).
 *
 * sync_file_range is a Linux call, declared by glibc only with _GNU_SOURCE;
 * like affinity.c, this file asks for it and nothing else does. */
#if defined(__linux__)
#define _GNU_SOURCE
#include <fcntl.h>
#endif

#include "writeback.h"

#include <unistd.h>

void writeback_init(writeback *w, int fd, int64_t chunk)
{
    long page = sysconf(_SC_PAGESIZE);
    w->fd = fd;
    w->chunk = chunk > 0 ? chunk : 1;
    w->page = page > 0 ? page : 4096;
    w->started = 0;
}

int64_t writeback_advance(writeback *w, int64_t end)
{
    if (w->fd < 0 || end < 0)
        return 0;
    if (end < w->started)
        w->started = 0;
    int64_t to = end - end % w->page;
    if (to - w->started < w->chunk)
        return 0;
#if defined(__linux__)
    int64_t len = to - w->started;
    if (sync_file_range(w->fd, (off_t)w->started, (off_t)len, SYNC_FILE_RANGE_WRITE) != 0)
        return -1;
    w->started = to;
    return len;
#else
    return 0;
#endif
}
