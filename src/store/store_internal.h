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

#endif
