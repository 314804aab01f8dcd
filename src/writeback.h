/* writeback: start writing a growing file to disk before it is synced.
 *
 * An fsync waits for every page written since the last one. When a file
 * grows by appends and is synced only now and then (SQLite's WAL: synced by
 * each checkpoint and when the database is closed), that wait can be cut by
 * asking the kernel to start writing the appended part as soon as there is
 * enough of it, without waiting: the sync then finds the pages already on
 * their way or written. RocksDB (wal_bytes_per_sync) and PostgreSQL
 * (wal_writer_flush_after) do the same.
 *
 * This only starts writes early; it never makes anything durable, and it
 * never replaces a sync. Linux only (sync_file_range); elsewhere it does
 * nothing. */
#ifndef RUNEXP_WRITEBACK_H
#define RUNEXP_WRITEBACK_H

#include <stdint.h>

typedef struct writeback {
    int fd;          /* the file; < 0: nothing is ever written back */
    int64_t chunk;   /* start writing once this many new bytes are there */
    int64_t page;    /* the kernel's page size: ranges end on a page boundary */
    int64_t started; /* [0, started) has been handed to the kernel */
} writeback;

/* Sets w up for fd (which stays the caller's), starting writes once `chunk`
 * bytes have been appended since the last start. */
void writeback_init(writeback *w, int fd, int64_t chunk);

/* Tells w the file's data now ends at `end` bytes. Returns the length of the
 * range [w->started, ...) whose writing it started, 0 when there was not yet
 * a chunk's worth (or the system cannot), -1 when the call failed (errno
 * set; nothing changes). The range ends on a page boundary at or below end,
 * so the partly written last page is left to be completed by the next
 * append. An end below `started` means the file is being rewritten from the
 * start (a WAL after a checkpoint): counting starts again at 0. */
int64_t writeback_advance(writeback *w, int64_t end);

#endif
