/* store_merge: `runexp merge`: databases written apart (the shards of a job
 * array, runs on other machines) joined into one by trial key.
 *
 * Generic over the schema: the tables keyed by trial are found in the
 * output's schema (every table whose trial_id column references trials),
 * and each table's columns are those the output and the input both have,
 * so a table or a column added by a later schema version is copied without
 * a change here, and an input of an older version gives what it has. The
 * whole merge is one transaction on the output: a reproducibility violation
 * or any error rolls it back. See store.h. */
#include "store.h"
#include "store_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

/* The per-trial tables whose rows are the trial's result: the same key
 * with the same result hash must have the very same rows in them. Other
 * per-trial tables (parameters, anything a later version adds) are copied
 * but not compared. */
static const char *const content_tables[] = {"epochs", "metrics", "confusion", "weights",
                                             "grids"};

static void merr(store_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void merr(store_error *err, int code, const char *fmt, ...)
{
    err->code = code;
    err->busy = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

/* ---- a growing string, for SQL built from column names ----------------- */

typedef struct sbuf {
    char *s;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_add(sbuf *b, const char *t)
{
    size_t l = strlen(t);
    if (b->oom)
        return;
    if (b->n + l + 1 > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 256) + l;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->n, t, l + 1);
    b->n += l;
}

/* An identifier in double quotes (a quote inside doubled). */
static void sb_ident(sbuf *b, const char *name)
{
    sb_add(b, "\"");
    for (const char *p = name; *p; p++) {
        char c[2] = {*p, '\0'};
        sb_add(b, *p == '"' ? "\"\"" : c);
    }
    sb_add(b, "\"");
}

static void sb_num(sbuf *b, size_t v)
{
    char t[32];
    snprintf(t, sizeof t, "%zu", v);
    sb_add(b, t);
}

/* "c1", "c2", ... */
static void sb_cols(sbuf *b, size_t n, char *const *cols)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            sb_add(b, ", ");
        sb_ident(b, cols[i]);
    }
}

/* ?first, ?first+1, ... (n of them) */
static void sb_params(sbuf *b, size_t first, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sb_add(b, i ? ", ?" : "?");
        sb_num(b, first + i);
    }
}

/* ---- column lists ------------------------------------------------------- */

typedef struct cols {
    size_t n;
    char **name;
} cols;

static void cols_free(cols *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->name[i]);
    free(c->name);
    memset(c, 0, sizeof *c);
}

static int cols_has(const cols *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->name[i], name))
            return 1;
    return 0;
}

/* The columns of table in db, in their order. */
static int cols_read(sqlite3 *db, const char *path, const char *table, cols *out,
                     store_error *err)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_info(?1) ORDER BY cid", -1,
                                &st, NULL);
    if (rc != SQLITE_OK) {
        merr(err, rc, "%s: reading the schema: %s", path, sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char **p = realloc(out->name, (out->n + 1) * sizeof *p);
        const char *nm = (const char *)sqlite3_column_text(st, 0);
        if (!p || !nm || !(p[out->n] = strdup(nm))) {
            if (p)
                out->name = p;
            sqlite3_finalize(st);
            cols_free(out);
            merr(err, 0, "out of memory");
            return -1;
        }
        out->name = p;
        out->n++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        cols_free(out);
        merr(err, rc, "%s: reading the schema: %s", path, sqlite3_errmsg(db));
        return -1;
    }
    return 0;
}

/* The columns of table the output and the input both have, in the output's
 * order, without the `skip` ones. Empty when the input lacks the table. */
static int cols_common(sqlite3 *out, const char *out_path, sqlite3 *in, const char *in_path,
                       const char *table, const char *const *skip, size_t n_skip, cols *c,
                       store_error *err)
{
    cols a, b;
    memset(c, 0, sizeof *c);
    if (cols_read(out, out_path, table, &a, err))
        return -1;
    if (cols_read(in, in_path, table, &b, err)) {
        cols_free(&a);
        return -1;
    }
    c->name = calloc(a.n ? a.n : 1, sizeof *c->name);
    if (!c->name) {
        cols_free(&a);
        cols_free(&b);
        merr(err, 0, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < a.n; i++) {
        int skipped = !cols_has(&b, a.name[i]);
        for (size_t k = 0; k < n_skip; k++)
            skipped |= !strcmp(a.name[i], skip[k]);
        if (!skipped) {
            c->name[c->n++] = a.name[i];
            a.name[i] = NULL;
        }
    }
    cols_free(&a);
    cols_free(&b);
    return 0;
}

/* ---- the merge's state -------------------------------------------------- */

/* A table keyed by trial_id: what is copied of it and how. */
typedef struct trial_table {
    char *name;
    int compare;        /* a content table (content_tables) */
    cols c;             /* common columns but trial_id */
    sqlite3_stmt *sel_in, *sel_out; /* its rows of ?1, in a fixed order */
    sqlite3_stmt *ins, *del;        /* on the output */
} trial_table;

/* Where a trial row of the output came from during this merge. */
typedef struct origin {
    int64_t id;
    size_t file;
} origin;

typedef struct merge {
    sqlite3 *out, *in;
    const char *out_path, *in_path;
    size_t in_index;
    store_error *err;
    size_t n_tables;
    trial_table *tables;
    cols tcols, ecols, ccols, scols;
    sqlite3_stmt *e_sel, *e_find, *e_ins, *c_sel, *c_ins, *s_sel, *s_ins;
    sqlite3_stmt *t_sel, *t_find, *t_ins, *t_upd;
    size_t n_origin, cap_origin;
    origin *origins;
    const char *const *in_paths;
    store_merge_counts *counts;
} merge;

static int prep_on(merge *m, sqlite3 *db, const char *path, sbuf *b, sqlite3_stmt **st)
{
    *st = NULL;
    if (b->oom) {
        free(b->s);
        memset(b, 0, sizeof *b);
        merr(m->err, 0, "out of memory");
        return -1;
    }
    int rc = sqlite3_prepare_v2(db, b->s, -1, st, NULL);
    if (rc != SQLITE_OK)
        merr(m->err, rc, "%s: %s", path, sqlite3_errmsg(db));
    free(b->s);
    memset(b, 0, sizeof *b);
    return rc == SQLITE_OK ? 0 : -1;
}

static void tables_free(merge *m)
{
    for (size_t i = 0; i < m->n_tables; i++) {
        trial_table *t = &m->tables[i];
        free(t->name);
        cols_free(&t->c);
        sqlite3_finalize(t->sel_in);
        sqlite3_finalize(t->sel_out);
        sqlite3_finalize(t->ins);
        sqlite3_finalize(t->del);
    }
    free(m->tables);
    m->tables = NULL;
    m->n_tables = 0;
}

static void stmts_free(merge *m)
{
    sqlite3_stmt **all[] = {&m->e_sel, &m->e_find, &m->e_ins, &m->c_sel, &m->c_ins, &m->s_sel,
                            &m->s_ins, &m->t_sel, &m->t_find, &m->t_ins, &m->t_upd};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        sqlite3_finalize(*all[i]);
        *all[i] = NULL;
    }
    cols_free(&m->tcols);
    cols_free(&m->ecols);
    cols_free(&m->ccols);
    cols_free(&m->scols);
    tables_free(m);
}

/* The output's per-trial tables that the input has too, with their
 * statements. */
static int tables_prepare(merge *m)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(
        m->out,
        "SELECT m.name FROM sqlite_master m, pragma_foreign_key_list(m.name) f"
        " WHERE m.type = 'table' AND f.\"table\" = 'trials' AND f.\"from\" = 'trial_id'"
        " ORDER BY m.name",
        -1, &st, NULL);
    if (rc != SQLITE_OK) {
        merr(m->err, rc, "%s: reading the schema: %s", m->out_path, sqlite3_errmsg(m->out));
        return -1;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        trial_table *p = realloc(m->tables, (m->n_tables + 1) * sizeof *p);
        if (!p || !name) {
            if (p)
                m->tables = p;
            sqlite3_finalize(st);
            merr(m->err, 0, "out of memory");
            return -1;
        }
        m->tables = p;
        trial_table *t = &m->tables[m->n_tables];
        memset(t, 0, sizeof *t);
        if (!(t->name = strdup(name))) {
            sqlite3_finalize(st);
            merr(m->err, 0, "out of memory");
            return -1;
        }
        m->n_tables++;
        for (size_t k = 0; k < sizeof content_tables / sizeof content_tables[0]; k++)
            t->compare |= !strcmp(name, content_tables[k]);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        merr(m->err, rc, "%s: reading the schema: %s", m->out_path, sqlite3_errmsg(m->out));
        return -1;
    }
    static const char *const skip[] = {"trial_id"};
    for (size_t i = 0; i < m->n_tables; i++) {
        trial_table *t = &m->tables[i];
        cols in_cols;
        if (cols_read(m->in, m->in_path, t->name, &in_cols, m->err))
            return -1;
        int has = cols_has(&in_cols, "trial_id");
        cols_free(&in_cols);
        if (!has)
            continue; /* an older input without this table */
        if (cols_common(m->out, m->out_path, m->in, m->in_path, t->name, skip, 1, &t->c,
                        m->err))
            return -1;
        sbuf b = {0};
        /* Every column in the ORDER BY: the same rows come out in the
         * same order from both files, whatever their primary keys. */
        sb_add(&b, "SELECT ");
        sb_cols(&b, t->c.n, t->c.name);
        sb_add(&b, " FROM ");
        sb_ident(&b, t->name);
        sb_add(&b, " WHERE trial_id = ?1");
        if (t->c.n) {
            sb_add(&b, " ORDER BY ");
            sb_cols(&b, t->c.n, t->c.name);
        }
        char *sel = b.oom ? NULL : strdup(b.s ? b.s : "");
        if (prep_on(m, m->in, m->in_path, &b, &t->sel_in))
            goto fail_sel;
        if (!sel) {
            merr(m->err, 0, "out of memory");
            return -1;
        }
        sb_add(&b, sel);
        free(sel);
        if (prep_on(m, m->out, m->out_path, &b, &t->sel_out))
            return -1;
        sb_add(&b, "INSERT INTO ");
        sb_ident(&b, t->name);
        sb_add(&b, "(trial_id");
        for (size_t k = 0; k < t->c.n; k++) {
            sb_add(&b, ", ");
            sb_ident(&b, t->c.name[k]);
        }
        sb_add(&b, ") VALUES (?1");
        if (t->c.n)
            sb_add(&b, ", ");
        sb_params(&b, 2, t->c.n);
        sb_add(&b, ")");
        if (prep_on(m, m->out, m->out_path, &b, &t->ins))
            return -1;
        sb_add(&b, "DELETE FROM ");
        sb_ident(&b, t->name);
        sb_add(&b, " WHERE trial_id = ?1");
        if (prep_on(m, m->out, m->out_path, &b, &t->del))
            return -1;
        continue;
    fail_sel:
        free(sel);
        return -1;
    }
    return 0;
}

/* The statements for experiments, classes, specs and trials. */
static int stmts_prepare(merge *m)
{
    static const char *const skip_id[] = {"id"};
    static const char *const skip_exp[] = {"experiment_id"};
    static const char *const skip_trial[] = {"id", "experiment_id"};
    if (cols_common(m->out, m->out_path, m->in, m->in_path, "experiments", skip_id, 1,
                    &m->ecols, m->err) ||
        cols_common(m->out, m->out_path, m->in, m->in_path, "classes", skip_exp, 1, &m->ccols,
                    m->err) ||
        cols_common(m->out, m->out_path, m->in, m->in_path, "specs", NULL, 0, &m->scols,
                    m->err) ||
        cols_common(m->out, m->out_path, m->in, m->in_path, "trials", skip_trial, 2,
                    &m->tcols, m->err))
        return -1;
    sbuf b = {0};
    sb_add(&b, "SELECT id, name, spec_hash");
    for (size_t k = 0; k < m->ecols.n; k++) {
        sb_add(&b, ", ");
        sb_ident(&b, m->ecols.name[k]);
    }
    sb_add(&b, " FROM experiments ORDER BY id");
    if (prep_on(m, m->in, m->in_path, &b, &m->e_sel))
        return -1;
    sb_add(&b, "SELECT id FROM experiments WHERE name = ?1 AND spec_hash = ?2"
               " ORDER BY id DESC LIMIT 1");
    if (prep_on(m, m->out, m->out_path, &b, &m->e_find))
        return -1;
    sb_add(&b, "INSERT INTO experiments(");
    sb_cols(&b, m->ecols.n, m->ecols.name);
    sb_add(&b, ") VALUES (");
    sb_params(&b, 1, m->ecols.n);
    sb_add(&b, ")");
    if (prep_on(m, m->out, m->out_path, &b, &m->e_ins))
        return -1;
    sb_add(&b, "SELECT ");
    sb_cols(&b, m->ccols.n, m->ccols.name);
    sb_add(&b, " FROM classes WHERE experiment_id = ?1");
    if (prep_on(m, m->in, m->in_path, &b, &m->c_sel))
        return -1;
    sb_add(&b, "INSERT OR IGNORE INTO classes(experiment_id, ");
    sb_cols(&b, m->ccols.n, m->ccols.name);
    sb_add(&b, ") VALUES (?1, ");
    sb_params(&b, 2, m->ccols.n);
    sb_add(&b, ")");
    if (prep_on(m, m->out, m->out_path, &b, &m->c_ins))
        return -1;
    sb_add(&b, "SELECT ");
    sb_cols(&b, m->scols.n, m->scols.name);
    sb_add(&b, " FROM specs");
    if (prep_on(m, m->in, m->in_path, &b, &m->s_sel))
        return -1;
    sb_add(&b, "INSERT OR IGNORE INTO specs(");
    sb_cols(&b, m->scols.n, m->scols.name);
    sb_add(&b, ") VALUES (");
    sb_params(&b, 1, m->scols.n);
    sb_add(&b, ")");
    if (prep_on(m, m->out, m->out_path, &b, &m->s_ins))
        return -1;
    /* Columns 0..5 are read by name; the copied ones follow from 6. */
    sb_add(&b, "SELECT id, trial_key, status, result_hash, params, seed");
    for (size_t k = 0; k < m->tcols.n; k++) {
        sb_add(&b, ", ");
        sb_ident(&b, m->tcols.name[k]);
    }
    sb_add(&b, " FROM trials WHERE experiment_id = ?1 ORDER BY trial_index, id");
    if (prep_on(m, m->in, m->in_path, &b, &m->t_sel))
        return -1;
    sb_add(&b, "SELECT id, status, result_hash FROM trials"
               " WHERE experiment_id = ?1 AND trial_key = ?2");
    if (prep_on(m, m->out, m->out_path, &b, &m->t_find))
        return -1;
    sb_add(&b, "INSERT INTO trials(experiment_id, ");
    sb_cols(&b, m->tcols.n, m->tcols.name);
    sb_add(&b, ") VALUES (?1, ");
    sb_params(&b, 2, m->tcols.n);
    sb_add(&b, ")");
    if (prep_on(m, m->out, m->out_path, &b, &m->t_ins))
        return -1;
    sb_add(&b, "UPDATE trials SET ");
    for (size_t k = 0; k < m->tcols.n; k++) {
        if (k)
            sb_add(&b, ", ");
        sb_ident(&b, m->tcols.name[k]);
        sb_add(&b, " = ?");
        sb_num(&b, k + 2);
    }
    sb_add(&b, " WHERE id = ?1");
    if (prep_on(m, m->out, m->out_path, &b, &m->t_upd))
        return -1;
    return tables_prepare(m);
}

/* ---- copying and comparing rows ---------------------------------------- */

static int out_err(merge *m, int rc)
{
    merr(m->err, rc, "%s: writing the merge: %s", m->out_path, sqlite3_errmsg(m->out));
    return -1;
}

static int in_err(merge *m, int rc)
{
    merr(m->err, rc, "%s: reading: %s", m->in_path, sqlite3_errmsg(m->in));
    return -1;
}

/* Every row sel (bound, on the input) gives, its columns from sel_off on,
 * inserted by ins (its first params already bound) from parameter first. */
static int copy_rows(merge *m, sqlite3_stmt *sel, int sel_off, sqlite3_stmt *ins, int first,
                     size_t n)
{
    int rc;
    while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
        for (size_t k = 0; k < n; k++)
            sqlite3_bind_value(ins, first + (int)k, sqlite3_column_value(sel, sel_off + (int)k));
        int wr = sqlite3_step(ins);
        sqlite3_reset(ins);
        if (wr != SQLITE_DONE) {
            sqlite3_reset(sel);
            return out_err(m, wr);
        }
    }
    sqlite3_reset(sel);
    return rc == SQLITE_DONE ? 0 : in_err(m, rc);
}

/* Column i of a and b hold the same value, bit for bit. */
static int same_value(sqlite3_stmt *a, sqlite3_stmt *b, int i)
{
    int t = sqlite3_column_type(a, i);
    if (t != sqlite3_column_type(b, i))
        return 0;
    switch (t) {
    case SQLITE_NULL: return 1;
    case SQLITE_INTEGER: return sqlite3_column_int64(a, i) == sqlite3_column_int64(b, i);
    case SQLITE_FLOAT: {
        double x = sqlite3_column_double(a, i), y = sqlite3_column_double(b, i);
        return memcmp(&x, &y, sizeof x) == 0;
    }
    default: {
        const void *x = t == SQLITE_TEXT ? (const void *)sqlite3_column_text(a, i)
                                         : sqlite3_column_blob(a, i);
        const void *y = t == SQLITE_TEXT ? (const void *)sqlite3_column_text(b, i)
                                         : sqlite3_column_blob(b, i);
        int n = sqlite3_column_bytes(a, i);
        return n == sqlite3_column_bytes(b, i) && (n == 0 || memcmp(x, y, (size_t)n) == 0);
    }
    }
}

/* Whether trial in_id of the input and out_id of the output have the same
 * rows in table t: 1 same, 0 differ, -1 error. */
static int same_rows(merge *m, trial_table *t, int64_t in_id, int64_t out_id)
{
    sqlite3_bind_int64(t->sel_in, 1, in_id);
    sqlite3_bind_int64(t->sel_out, 1, out_id);
    int same = 1, ra, rb;
    for (;;) {
        ra = sqlite3_step(t->sel_in);
        rb = sqlite3_step(t->sel_out);
        if (ra != SQLITE_ROW || rb != SQLITE_ROW)
            break;
        for (size_t k = 0; k < t->c.n && same; k++)
            same = same_value(t->sel_in, t->sel_out, (int)k);
        if (!same)
            break;
    }
    sqlite3_reset(t->sel_in);
    sqlite3_reset(t->sel_out);
    if (!same)
        return 0;
    if ((ra != SQLITE_ROW && ra != SQLITE_DONE))
        return in_err(m, ra);
    if ((rb != SQLITE_ROW && rb != SQLITE_DONE))
        return out_err(m, rb);
    return ra == rb; /* both done: as many rows */
}

/* Copies every per-trial row of input trial in_id to output trial out_id. */
static int copy_trial_rows(merge *m, int64_t in_id, int64_t out_id)
{
    for (size_t i = 0; i < m->n_tables; i++) {
        trial_table *t = &m->tables[i];
        if (!t->sel_in)
            continue;
        sqlite3_bind_int64(t->sel_in, 1, in_id);
        sqlite3_bind_int64(t->ins, 1, out_id);
        if (copy_rows(m, t->sel_in, 0, t->ins, 2, t->c.n))
            return -1;
    }
    return 0;
}

/* Deletes what output trial id owns in every per-trial table. */
static int clear_trial_rows(merge *m, int64_t id)
{
    for (size_t i = 0; i < m->n_tables; i++) {
        trial_table *t = &m->tables[i];
        if (!t->del)
            continue;
        sqlite3_bind_int64(t->del, 1, id);
        int rc = sqlite3_step(t->del);
        sqlite3_reset(t->del);
        if (rc != SQLITE_DONE)
            return out_err(m, rc);
    }
    return 0;
}

static int note_origin(merge *m, int64_t id)
{
    if (m->n_origin == m->cap_origin) {
        size_t cap = m->cap_origin ? 2 * m->cap_origin : 256;
        origin *p = realloc(m->origins, cap * sizeof *p);
        if (!p) {
            merr(m->err, 0, "out of memory");
            return -1;
        }
        m->origins = p;
        m->cap_origin = cap;
    }
    m->origins[m->n_origin++] = (origin){id, m->in_index};
    return 0;
}

/* The file output trial id came from: an input of this merge, or the
 * output itself. */
static const char *origin_of(const merge *m, int64_t id)
{
    for (size_t i = m->n_origin; i-- > 0;)
        if (m->origins[i].id == id)
            return m->in_paths[m->origins[i].file];
    return m->out_path;
}

/* ---- experiments and trials -------------------------------------------- */

/* The input trial at the current row of t_sel, into output experiment exp
 * (named exp_name). 0, 1 (violation, err filled), -1. */
static int merge_trial(merge *m, int64_t exp, const char *exp_name)
{
    sqlite3_stmt *s = m->t_sel;
    int64_t in_id = sqlite3_column_int64(s, 0);
    const char *key = (const char *)sqlite3_column_text(s, 1);
    const char *status = (const char *)sqlite3_column_text(s, 2);
    const char *hash = (const char *)sqlite3_column_text(s, 3);
    int in_done = status && !strcmp(status, "done");
    sqlite3_bind_int64(m->t_find, 1, exp);
    sqlite3_bind_text(m->t_find, 2, key ? key : "", -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(m->t_find);
    int64_t out_id = 0;
    int out_done = 0;
    char out_hash[72] = "";
    if (rc == SQLITE_ROW) {
        out_id = sqlite3_column_int64(m->t_find, 0);
        const char *os = (const char *)sqlite3_column_text(m->t_find, 1);
        const char *oh = (const char *)sqlite3_column_text(m->t_find, 2);
        out_done = os && !strcmp(os, "done");
        snprintf(out_hash, sizeof out_hash, "%s", oh ? oh : "");
    }
    sqlite3_reset(m->t_find);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return out_err(m, rc);
    if (out_id && out_done) {
        if (!in_done) {
            m->counts->trials_kept++;
            return 0;
        }
        const char *what = NULL;
        if (strcmp(out_hash, hash ? hash : ""))
            what = "result_hash";
        for (size_t i = 0; !what && i < m->n_tables; i++) {
            trial_table *t = &m->tables[i];
            if (!t->compare || !t->sel_in)
                continue;
            int same = same_rows(m, t, in_id, out_id);
            if (same < 0)
                return -1;
            if (!same)
                what = t->name;
        }
        if (!what) {
            m->counts->trials_same++;
            return 0;
        }
        const char *params = (const char *)sqlite3_column_text(s, 4);
        long long seed = sqlite3_column_int64(s, 5);
        if (!strcmp(what, "result_hash"))
            merr(m->err, 0,
                 "reproducibility violation: trial %s (experiment '%s', params %s, seed %lld)"
                 " has result_hash %s in %s but %s in %s",
                 key ? key : "?", exp_name, params ? params : "{}", seed, out_hash,
                 origin_of(m, out_id), hash ? hash : "(none)", m->in_path);
        else
            merr(m->err, 0,
                 "reproducibility violation: trial %s (experiment '%s', params %s, seed %lld)"
                 " has result_hash %s in both %s and %s, but its %s rows differ",
                 key ? key : "?", exp_name, params ? params : "{}", seed, out_hash,
                 origin_of(m, out_id), m->in_path, what);
        return 1;
    }
    if (out_id && !in_done) {
        /* Neither finished: the output's attempt stays (a rerun of the
         * output redoes it). */
        m->counts->trials_kept++;
        return 0;
    }
    if (out_id) {
        /* The output's attempt did not finish, the input's did. */
        if (clear_trial_rows(m, out_id))
            return -1;
        sqlite3_bind_int64(m->t_upd, 1, out_id);
        for (size_t k = 0; k < m->tcols.n; k++)
            sqlite3_bind_value(m->t_upd, 2 + (int)k, sqlite3_column_value(s, 6 + (int)k));
        int wr = sqlite3_step(m->t_upd);
        sqlite3_reset(m->t_upd);
        if (wr != SQLITE_DONE)
            return out_err(m, wr);
        m->counts->trials_replaced++;
    } else {
        sqlite3_bind_int64(m->t_ins, 1, exp);
        for (size_t k = 0; k < m->tcols.n; k++)
            sqlite3_bind_value(m->t_ins, 2 + (int)k, sqlite3_column_value(s, 6 + (int)k));
        int wr = sqlite3_step(m->t_ins);
        sqlite3_reset(m->t_ins);
        if (wr != SQLITE_DONE)
            return out_err(m, wr);
        out_id = sqlite3_last_insert_rowid(m->out);
        m->counts->trials_added++;
    }
    if (note_origin(m, out_id) || copy_trial_rows(m, in_id, out_id))
        return -1;
    return 0;
}

/* The input experiment at the current row of e_sel: matched to the output's
 * newest experiment of the same name and spec hash, else copied; then its
 * classes and its trials. 0, 1 (violation), -1. */
static int merge_experiment(merge *m)
{
    sqlite3_stmt *s = m->e_sel;
    int64_t in_exp = sqlite3_column_int64(s, 0);
    const char *name = (const char *)sqlite3_column_text(s, 1);
    const char *hash = (const char *)sqlite3_column_text(s, 2);
    char *shown = strdup(name ? name : "");
    if (!shown) {
        merr(m->err, 0, "out of memory");
        return -1;
    }
    int64_t exp = 0;
    sqlite3_bind_text(m->e_find, 1, name ? name : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(m->e_find, 2, hash ? hash : "", -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(m->e_find);
    if (rc == SQLITE_ROW)
        exp = sqlite3_column_int64(m->e_find, 0);
    sqlite3_reset(m->e_find);
    int result = -1;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        out_err(m, rc);
        goto out;
    }
    if (exp) {
        m->counts->experiments_matched++;
    } else {
        for (size_t k = 0; k < m->ecols.n; k++)
            sqlite3_bind_value(m->e_ins, 1 + (int)k, sqlite3_column_value(s, 3 + (int)k));
        int wr = sqlite3_step(m->e_ins);
        sqlite3_reset(m->e_ins);
        if (wr != SQLITE_DONE) {
            out_err(m, wr);
            goto out;
        }
        exp = sqlite3_last_insert_rowid(m->out);
        m->counts->experiments_added++;
    }
    sqlite3_bind_int64(m->c_sel, 1, in_exp);
    sqlite3_bind_int64(m->c_ins, 1, exp);
    if (copy_rows(m, m->c_sel, 0, m->c_ins, 2, m->ccols.n))
        goto out;
    sqlite3_bind_int64(m->t_sel, 1, in_exp);
    result = 0;
    while (result == 0 && (rc = sqlite3_step(m->t_sel)) == SQLITE_ROW)
        result = merge_trial(m, exp, shown);
    sqlite3_reset(m->t_sel);
    if (result == 0 && rc != SQLITE_DONE)
        result = in_err(m, rc);
out:
    free(shown);
    return result;
}

/* One input file, inside the output's transaction. 0, 1, -1. */
static int merge_file(merge *m)
{
    if (stmts_prepare(m))
        return -1;
    /* The spec texts first: trials refer to them. */
    if (copy_rows(m, m->s_sel, 0, m->s_ins, 1, m->scols.n))
        return -1;
    int rc, result = 0;
    while (result == 0 && (rc = sqlite3_step(m->e_sel)) == SQLITE_ROW)
        result = merge_experiment(m);
    sqlite3_reset(m->e_sel);
    if (result == 0 && rc != SQLITE_DONE)
        result = in_err(m, rc);
    return result;
}

/* Whether paths a and b name one file (b may not exist yet). */
static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

int store_merge(store *out, size_t n_in, const char *const *in_paths, store_merge_counts *c,
                store_error *err)
{
    memset(c, 0, sizeof *c);
    memset(err, 0, sizeof *err);
    merge m;
    memset(&m, 0, sizeof m);
    m.out = store_internal_db(out);
    m.out_path = store_internal_path(out);
    m.err = err;
    m.in_paths = in_paths;
    m.counts = c;
    for (size_t i = 0; i < n_in; i++)
        if (same_file(m.out_path, in_paths[i])) {
            merr(err, 0, "%s is the output database; merge it into another file", in_paths[i]);
            return -1;
        }
    if (store_exec(out, "BEGIN IMMEDIATE", err))
        return -1;
    int before = sqlite3_total_changes(m.out);
    int result = 0;
    for (size_t i = 0; i < n_in && result == 0; i++) {
        store_error oerr;
        store *in = store_open_readonly(in_paths[i], &oerr);
        if (!in) {
            *err = oerr;
            result = -1;
            break;
        }
        m.in = store_internal_db(in);
        m.in_path = in_paths[i];
        m.in_index = i;
        /* The input is read as one snapshot, even while a run writes it. */
        if (sqlite3_exec(m.in, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
            result = in_err(&m, sqlite3_errcode(m.in));
        } else {
            result = merge_file(&m);
            sqlite3_exec(m.in, "COMMIT", NULL, NULL, NULL);
        }
        stmts_free(&m);
        store_close(in);
        m.in = NULL;
    }
    free(m.origins);
    /* Nothing new (merging again): roll back, so not even the file's
     * change counter moves. */
    if (result != 0 || sqlite3_total_changes(m.out) == before) {
        sqlite3_exec(m.out, "ROLLBACK", NULL, NULL, NULL);
        return result;
    }
    if (store_exec(out, "COMMIT", err)) {
        sqlite3_exec(m.out, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}
