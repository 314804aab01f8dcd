/* store_internal: what the store module's own source files share (store.c
 * owns the connection; store_read.c reads through it). Not for other
 * modules: everyone else goes through store.h. */
#ifndef RUNEXP_STORE_INTERNAL_H
#define RUNEXP_STORE_INTERNAL_H

#include <sqlite3.h>

#include "store.h"

/* The connection of s, and the path it was opened with. */
sqlite3 *store_internal_db(store *s);
const char *store_internal_path(const store *s);

/* The error helpers of the module's files (store.c): fill err from a
 * message, or from the connection's last error (a busy database gets the
 * one message users need: locked by another connection, not a runexp). */
void store_set_err(store_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void store_db_err(store *s, store_error *err, int rc, const char *what);
/* sqlite3_prepare_v2 of sql into *st; -1 with err filled (and *st NULL). */
int store_prep(store *s, const char *sql, sqlite3_stmt **st, store_error *err);
/* Column i as a double, NaN for NULL. */
double store_col_real(sqlite3_stmt *st, int i);

#endif
