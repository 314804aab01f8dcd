/* Unit tests of writeback: which range of a growing file it hands to the
 * kernel, worked out by hand from the page size, and that a failed call
 * changes nothing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "writeback.h"

/* A temporary file holding `bytes` bytes of data, already unlinked. */
static int data_file(int64_t bytes)
{
    char path[] = "/tmp/test_writeback.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    char buf[4096];
    memset(buf, 0x5a, sizeof buf);
    for (int64_t done = 0; done < bytes;) {
        size_t n = bytes - done < (int64_t)sizeof buf ? (size_t)(bytes - done) : sizeof buf;
        assert_int_equal(write(fd, buf, n), (ssize_t)n);
        done += (int64_t)n;
    }
    return fd;
}

static void test_ranges(void **state)
{
    (void)state;
    long page = sysconf(_SC_PAGESIZE);
    assert_true(page > 0);
    int64_t p = page;
    int fd = data_file(6 * p + 100);
    writeback w;
    writeback_init(&w, fd, 2 * p);
    assert_int_equal(w.page, p);
    assert_int_equal(w.started, 0);
#if defined(__linux__)
    /* 1 page + 10 bytes: one whole page, less than a chunk: nothing. */
    assert_int_equal(writeback_advance(&w, p + 10), 0);
    assert_int_equal(w.started, 0);
    /* 3 pages + 100 bytes: [0, 3p), the partial fourth page left. */
    assert_int_equal(writeback_advance(&w, 3 * p + 100), 3 * p);
    assert_int_equal(w.started, 3 * p);
    /* The same end again, then one more whole page: under a chunk. */
    assert_int_equal(writeback_advance(&w, 3 * p + 100), 0);
    assert_int_equal(writeback_advance(&w, 4 * p + 100), 0);
    assert_int_equal(w.started, 3 * p);
    /* 6 pages + 100: [3p, 6p). */
    assert_int_equal(writeback_advance(&w, 6 * p + 100), 3 * p);
    assert_int_equal(w.started, 6 * p);
    /* The file is rewritten from the start (a WAL after a checkpoint):
     * counting starts again at 0, so 2 pages are a chunk. */
    assert_int_equal(writeback_advance(&w, 100), 0);
    assert_int_equal(w.started, 0);
    assert_int_equal(writeback_advance(&w, 2 * p), 2 * p);
    assert_int_equal(w.started, 2 * p);
#else
    assert_int_equal(writeback_advance(&w, 6 * p + 100), 0);
#endif
    close(fd);
}

static void test_failure_changes_nothing(void **state)
{
    (void)state;
    int64_t p = sysconf(_SC_PAGESIZE);
    /* A pipe has no pages to write: the kernel refuses (ESPIPE). */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    writeback w;
    writeback_init(&w, fds[1], p);
#if defined(__linux__)
    errno = 0;
    assert_int_equal(writeback_advance(&w, 4 * p), -1);
    assert_int_equal(errno, ESPIPE);
    assert_int_equal(w.started, 0);
#endif
    close(fds[0]);
    close(fds[1]);
    /* No file: never anything to do. */
    writeback_init(&w, -1, p);
    assert_int_equal(writeback_advance(&w, 100 * p), 0);
    assert_int_equal(w.started, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_failure_changes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
