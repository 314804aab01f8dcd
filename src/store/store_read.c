/* store_read: experiments and trials read back as plain structs. See the
 * reading API at the end of store.h.
 *
 * Trials and what hangs off them are read table by table: one query for the
 * trials of the experiment, then one per detail table (epochs, confusion,
 * grids, metrics, trial_params) joined to it and ordered by trial id, each
 * row handed to its trial by a binary search on the id. A report of many
 * thousand trials is then a handful of statements, not a few per trial.
 */
#include "store.h"
#include "store_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Epochs outside 1..STORE_READ_MAX_EPOCH are not read: a damaged row must
 * not make a reader allocate gigabytes. */
#define STORE_READ_MAX_EPOCH 1000000
/* The largest grid resolution read (the runner records at most 1024). */
#define STORE_READ_MAX_GRID 4096

/* A copy of column i's text; "" for NULL. NULL only when out of memory. */
static char *col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    const char *c = t ? (const char *)t : "";
    size_t n = strlen(c);
    char *r = malloc(n + 1);
    if (r)
        memcpy(r, c, n + 1);
    return r;
}

static char *dup_str(const char *c)
{
    size_t n = strlen(c);
    char *r = malloc(n + 1);
    if (r)
        memcpy(r, c, n + 1);
    return r;
}

static size_t col_index(sqlite3_stmt *st, int i)
{
    long long v = sqlite3_column_int64(st, i);
    return v < 0 ? 0 : (size_t)v;
}

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

/* Steps a one-row, one-integer query: 0 with *v, 1 when there is no row. */
static int one_int(store *s, sqlite3_stmt *st, int64_t *v, store_error *err)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        *v = sqlite3_column_int64(st, 0);
        rc = 0;
    } else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
        rc = 1;
    } else {
        store_db_err(s, err, rc, "reading");
        rc = -1;
    }
    sqlite3_finalize(st);
    return rc;
}

/* ---- experiments ------------------------------------------------------ */

int store_experiment_find(store *s, const char *name_or_id, int64_t *id, store_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    *id = 0;
    if (!name_or_id || !*name_or_id) {
        if (store_prep(s, "SELECT id FROM experiments ORDER BY id DESC LIMIT 1", &st, err))
            return -1;
        rc = one_int(s, st, id, err);
        if (rc == 1)
            store_set_err(err, 0, "%s holds no experiment", store_internal_path(s));
        return rc;
    }
    /* A name first (a name may be all digits), then an id. */
    if (store_prep(s, "SELECT id FROM experiments WHERE name = ?1 ORDER BY id DESC LIMIT 1", &st,
             err))
        return -1;
    sqlite3_bind_text(st, 1, name_or_id, -1, SQLITE_STATIC);
    rc = one_int(s, st, id, err);
    if (rc != 1)
        return rc;
    if (all_digits(name_or_id) && strlen(name_or_id) < 18) {
        if (store_prep(s, "SELECT id FROM experiments WHERE id = ?1", &st, err))
            return -1;
        sqlite3_bind_int64(st, 1, strtoll(name_or_id, NULL, 10));
        rc = one_int(s, st, id, err);
        if (rc != 1)
            return rc;
    }
    store_set_err(err, 0, "%s has no experiment named or numbered '%s'", store_internal_path(s),
            name_or_id);
    return 1;
}

int store_trial_experiment(store *s, int64_t trial_id, int64_t *experiment_id,
                           store_error *err)
{
    sqlite3_stmt *st = NULL;
    *experiment_id = 0;
    if (store_prep(s, "SELECT experiment_id FROM trials WHERE id = ?1", &st, err))
        return -1;
    sqlite3_bind_int64(st, 1, trial_id);
    int rc = one_int(s, st, experiment_id, err);
    if (rc == 1)
        store_set_err(err, 0, "%s has no trial %lld", store_internal_path(s), (long long)trial_id);
    return rc;
}

void store_experiment_record_free(store_experiment_record *r)
{
    if (!r)
        return;
    free(r->name);
    free(r->spec);
    free(r->spec_file);
    free(r->spec_hash);
    free(r->base_dir);
    free(r->created_at);
    for (size_t i = 0; i < r->n_dims; i++)
        free(r->dims[i]);
    free(r->dims);
    for (size_t i = 0; i < r->n_class_names; i++)
        free(r->class_names[i].name);
    free(r->class_names);
    memset(r, 0, sizeof *r);
}

/* experiments.sweep_dims, a JSON array of strings as the runner writes it
 * (strings with \" and \\ escapes). -1 for anything else. */
static int parse_dims(const char *json, store_experiment_record *r)
{
    const char *p = json;
    while (*p == ' ' || *p == '\n' || *p == '\t')
        p++;
    if (*p != '[')
        return -1;
    p++;
    for (;;) {
        while (*p == ' ' || *p == ',' || *p == '\n' || *p == '\t')
            p++;
        if (*p == ']')
            return 0;
        if (*p != '"')
            return -1;
        p++;
        char *name = malloc(strlen(p) + 1), *q = name;
        if (!name)
            return -1;
        while (*p && *p != '"') {
            if (*p == '\\' && p[1])
                p++;
            *q++ = *p++;
        }
        *q = '\0';
        if (*p != '"') {
            free(name);
            return -1;
        }
        p++;
        char **nd = realloc(r->dims, (r->n_dims + 1) * sizeof *nd);
        if (!nd) {
            free(name);
            return -1;
        }
        r->dims = nd;
        r->dims[r->n_dims++] = name;
    }
}

/* The directory of a spec path: "dir/x.yaml" -> "dir", "x.yaml" -> ".". */
static char *dir_of(const char *file)
{
    const char *slash = strrchr(file, '/');
    if (!slash)
        return dup_str(".");
    if (slash == file)
        return dup_str("/");
    size_t n = (size_t)(slash - file);
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, file, n);
        d[n] = '\0';
    }
    return d;
}

int store_experiment_load(store *s, int64_t id, store_experiment_record *r, store_error *err)
{
    sqlite3_stmt *st = NULL;
    memset(r, 0, sizeof *r);
    if (store_prep(s,
             "SELECT e.name, e.spec, e.spec_file, e.spec_hash, e.created_at, e.sweep_dims,"
             " sp.base_dir FROM experiments e LEFT JOIN specs sp ON sp.spec_hash = e.spec_hash"
             " WHERE e.id = ?1",
             &st, err))
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        sqlite3_finalize(st);
        store_set_err(err, 0, "%s has no experiment %lld", store_internal_path(s), (long long)id);
        return 1;
    }
    if (rc != SQLITE_ROW) {
        store_db_err(s, err, rc, "reading the experiment");
        goto fail;
    }
    r->id = id;
    r->name = col_dup(st, 0);
    r->spec = col_dup(st, 1);
    r->spec_file = col_dup(st, 2);
    r->spec_hash = col_dup(st, 3);
    r->created_at = col_dup(st, 4);
    if (sqlite3_column_type(st, 6) == SQLITE_TEXT && sqlite3_column_bytes(st, 6) > 0)
        r->base_dir = col_dup(st, 6);
    else if (r->spec_file)
        r->base_dir = dir_of(r->spec_file);
    if (!r->name || !r->spec || !r->spec_file || !r->spec_hash || !r->created_at ||
        !r->base_dir)
        goto oom;
    if (sqlite3_column_type(st, 5) == SQLITE_TEXT &&
        parse_dims((const char *)sqlite3_column_text(st, 5), r)) {
        /* Unparsable: no names rather than a partial list. */
        for (size_t i = 0; i < r->n_dims; i++)
            free(r->dims[i]);
        free(r->dims);
        r->dims = NULL;
        r->n_dims = 0;
    }
    sqlite3_finalize(st);
    st = NULL;

    int64_t k = 0;
    if (store_prep(s,
             "SELECT max(c) FROM (SELECT max(class_index) + 1 AS c FROM classes"
             " WHERE experiment_id = ?1 UNION ALL SELECT max(max(true_class),"
             " max(predicted_class)) + 1 FROM confusion JOIN trials t"
             " ON t.id = confusion.trial_id WHERE t.experiment_id = ?1)",
             &st, err))
        goto fail;
    sqlite3_bind_int64(st, 1, id);
    rc = one_int(s, st, &k, err);
    st = NULL;
    if (rc < 0)
        goto fail;
    r->n_classes = rc == 0 && k > 0 ? (size_t)k : 0;

    if (store_prep(s, "SELECT class_index, name FROM classes WHERE experiment_id = ?1"
                " ORDER BY class_index", &st, err))
        goto fail;
    sqlite3_bind_int64(st, 1, id);
    size_t cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_int64(st, 0) < 0)
            continue;
        if (r->n_class_names == cap) {
            size_t nc = cap ? cap * 2 : 16;
            store_class_row *n = realloc(r->class_names, nc * sizeof *n);
            if (!n)
                goto oom;
            r->class_names = n;
            cap = nc;
        }
        store_class_row *c = &r->class_names[r->n_class_names];
        c->index = col_index(st, 0);
        if (!(c->name = col_dup(st, 1)))
            goto oom;
        r->n_class_names++;
    }
    if (rc != SQLITE_DONE) {
        store_db_err(s, err, rc, "reading the classes");
        goto fail;
    }
    sqlite3_finalize(st);
    return 0;
oom:
    store_set_err(err, 0, "out of memory");
fail:
    sqlite3_finalize(st);
    store_experiment_record_free(r);
    return -1;
}

/* ---- trials ----------------------------------------------------------- */

static void history_free(store_history *h)
{
    free(h->loss);
    free(h->accuracy);
    free(h->val_loss);
    free(h->val_accuracy);
    memset(h, 0, sizeof *h);
}

void store_trial_list_free(store_trial_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        store_trial_row *t = &l->rows[i];
        free(t->params_json);
        for (size_t j = 0; j < t->n_params; j++) {
            free(t->params[j].name);
            free(t->params[j].s);
        }
        free(t->params);
        history_free(&t->history);
        free(t->confusion);
        free(t->grid.classes);
        free(t->metrics);
    }
    free(l->rows);
    memset(l, 0, sizeof *l);
}

/* Trial ids of the list in ascending order, for finding a row by id. */
typedef struct id_slot {
    int64_t id;
    size_t row;
} id_slot;

static int id_slot_cmp(const void *a, const void *b)
{
    const id_slot *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static store_trial_row *row_of(const id_slot *ids, store_trial_list *l, int64_t id)
{
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ids[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < l->n && ids[lo].id == id ? &l->rows[ids[lo].row] : NULL;
}

/* The trials of the query, joined as t: ?1 experiment, ?2 trial or 0. */
#define OF_QUERY " JOIN trials t ON t.id = x.trial_id WHERE t.experiment_id = ?1" \
                 " AND (?2 = 0 OR t.id = ?2)"
/* The detail rows come grouped by trial, in the order of the index on
 * (experiment_id, point_index, seed): SQLite then walks that index and each
 * trial's rows in their primary key's order instead of sorting them all
 * (reading a 50 000-trial history: 0.16 s -> 0.07 s). The readers only
 * need each trial's rows together, in the order given after BY_TRIAL. */
#define BY_TRIAL " ORDER BY t.point_index, t.seed, t.id"

static int prep_detail(store *s, const store_trial_query *q, const char *sql,
                       sqlite3_stmt **st, store_error *err)
{
    if (store_prep(s, sql, st, err))
        return -1;
    sqlite3_bind_int64(*st, 1, q->experiment_id);
    sqlite3_bind_int64(*st, 2, q->trial_id > 0 ? q->trial_id : 0);
    if (q->split)
        sqlite3_bind_text(*st, 3, q->split, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(*st, 3);
    return 0;
}

static int read_params(store *s, const store_trial_query *q, const id_slot *ids,
                       store_trial_list *l, store_error *err)
{
    sqlite3_stmt *st = NULL;
    if (prep_detail(s, q,
                    "SELECT x.trial_id, x.name, x.value, typeof(x.value) FROM trial_params x"
                    OF_QUERY BY_TRIAL ", x.name",
                    &st, err))
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_trial_row *t = row_of(ids, l, sqlite3_column_int64(st, 0));
        if (!t)
            continue;
        store_param_value *n = realloc(t->params, (t->n_params + 1) * sizeof *n);
        if (!n)
            goto oom;
        t->params = n;
        store_param_value *v = &n[t->n_params];
        memset(v, 0, sizeof *v);
        v->name = col_dup(st, 1);
        if (!v->name)
            goto oom;
        t->n_params++;
        switch (sqlite3_column_type(st, 2)) {
        case SQLITE_INTEGER:
            v->type = 0;
            v->i = sqlite3_column_int64(st, 2);
            v->r = (double)v->i;
            break;
        case SQLITE_FLOAT:
            v->type = 1;
            v->r = sqlite3_column_double(st, 2);
            break;
        default:
            v->type = 2;
            if (!(v->s = col_dup(st, 2)))
                goto oom;
        }
    }
    if (rc != SQLITE_DONE) {
        store_db_err(s, err, rc, "reading trial_params");
        goto fail;
    }
    sqlite3_finalize(st);
    return 0;
oom:
    store_set_err(err, 0, "out of memory");
fail:
    sqlite3_finalize(st);
    return -1;
}

/* Grows h to hold epoch e (1-based), NaN-filling the new slots: from 8
 * epochs, doubling (a 50 000-trial, 5-epoch experiment holds 13 MB of
 * history instead of the 100 MB that 64 epochs per trial took). */
static int history_reserve(store_history *h, size_t *cap, size_t e)
{
    if (e <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 8;
    while (nc < e)
        nc *= 2;
    double **arrs[4] = {&h->loss, &h->accuracy, &h->val_loss, &h->val_accuracy};
    for (int a = 0; a < 4; a++) {
        double *na = realloc(*arrs[a], nc * sizeof *na);
        if (!na)
            return -1;
        for (size_t i = *cap; i < nc; i++)
            na[i] = NAN;
        *arrs[a] = na;
    }
    *cap = nc;
    return 0;
}

static int read_history(store *s, const store_trial_query *q, const id_slot *ids,
                        store_trial_list *l, store_error *err)
{
    sqlite3_stmt *st = NULL;
    if (prep_detail(s, q,
                    "SELECT x.trial_id, x.epoch, x.loss, x.accuracy, x.val_loss, x.val_accuracy"
                    " FROM epochs x" OF_QUERY " AND x.epoch >= 1 AND x.epoch <= "
                    "1000000" BY_TRIAL ", x.epoch",
                    &st, err))
        return -1;
    /* Rows come by trial: the capacity belongs to the trial being filled. */
    store_trial_row *cur = NULL;
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_trial_row *t = row_of(ids, l, sqlite3_column_int64(st, 0));
        if (!t)
            continue;
        if (t != cur) {
            cur = t;
            cap = 0;
        }
        long long e = sqlite3_column_int64(st, 1);
        if (e < 1 || e > STORE_READ_MAX_EPOCH)
            continue;
        if (history_reserve(&t->history, &cap, (size_t)e)) {
            store_set_err(err, 0, "out of memory");
            goto fail;
        }
        store_history *h = &t->history;
        h->loss[e - 1] = store_col_real(st, 2);
        h->accuracy[e - 1] = store_col_real(st, 3);
        h->val_loss[e - 1] = store_col_real(st, 4);
        h->val_accuracy[e - 1] = store_col_real(st, 5);
        if ((size_t)e > h->n_epochs)
            h->n_epochs = (size_t)e;
    }
    if (rc != SQLITE_DONE) {
        store_db_err(s, err, rc, "reading epochs");
        goto fail;
    }
    sqlite3_finalize(st);
    return 0;
fail:
    sqlite3_finalize(st);
    return -1;
}

static int read_confusion(store *s, const store_trial_query *q, const id_slot *ids,
                          store_trial_list *l, store_error *err)
{
    size_t k = q->n_classes;
    if (k == 0 || !q->split)
        return 0;
    if (k > SIZE_MAX / sizeof(uint32_t) / k) {
        store_set_err(err, 0, "out of memory");
        return -1;
    }
    sqlite3_stmt *st = NULL;
    if (prep_detail(s, q,
                    "SELECT x.trial_id, x.true_class, x.predicted_class, x.count"
                    " FROM confusion x" OF_QUERY " AND x.split = ?3"
                    BY_TRIAL ", x.true_class, x.predicted_class",
                    &st, err))
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_trial_row *t = row_of(ids, l, sqlite3_column_int64(st, 0));
        long long i = sqlite3_column_int64(st, 1), j = sqlite3_column_int64(st, 2);
        long long c = sqlite3_column_int64(st, 3);
        if (!t || i < 0 || j < 0 || (unsigned long long)i >= k ||
            (unsigned long long)j >= k || c < 0)
            continue;
        if (!t->confusion && !(t->confusion = calloc(k * k, sizeof *t->confusion))) {
            store_set_err(err, 0, "out of memory");
            goto fail;
        }
        t->confusion[(size_t)i * k + (size_t)j] = (uint32_t)(c > UINT32_MAX ? UINT32_MAX : c);
    }
    if (rc != SQLITE_DONE) {
        store_db_err(s, err, rc, "reading confusion");
        goto fail;
    }
    sqlite3_finalize(st);
    return 0;
fail:
    sqlite3_finalize(st);
    return -1;
}

static int read_grids(store *s, const store_trial_query *q, const id_slot *ids,
                      store_trial_list *l, store_error *err)
{
    sqlite3_stmt *st = NULL;
    if (prep_detail(s, q,
                    "SELECT x.trial_id, x.x0_min, x.x0_max, x.x1_min, x.x1_max, x.resolution,"
                    " x.classes FROM grids x" OF_QUERY BY_TRIAL,
                    &st, err))
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_trial_row *t = row_of(ids, l, sqlite3_column_int64(st, 0));
        long long res = sqlite3_column_int64(st, 5);
        const void *blob = sqlite3_column_blob(st, 6);
        long long bytes = sqlite3_column_bytes(st, 6);
        if (!t || res < 2 || res > STORE_READ_MAX_GRID || !blob || bytes != res * res)
            continue;
        t->grid.classes = malloc((size_t)bytes);
        if (!t->grid.classes) {
            store_set_err(err, 0, "out of memory");
            goto fail;
        }
        memcpy(t->grid.classes, blob, (size_t)bytes);
        t->grid.x0_min = sqlite3_column_double(st, 1);
        t->grid.x0_max = sqlite3_column_double(st, 2);
        t->grid.x1_min = sqlite3_column_double(st, 3);
        t->grid.x1_max = sqlite3_column_double(st, 4);
        t->grid.resolution = (size_t)res;
        t->has_grid = 1;
    }
    if (rc != SQLITE_DONE) {
        store_db_err(s, err, rc, "reading grids");
        goto fail;
    }
    sqlite3_finalize(st);
    return 0;
fail:
    sqlite3_finalize(st);
    return -1;
}

static int read_metrics(store *s, const store_trial_query *q, const id_slot *ids,
                        store_trial_list *l, store_error *err)
{
    sqlite3_stmt *st = NULL;
    if (prep_detail(s, q,
                    "SELECT x.trial_id, x.split, x.name, x.value FROM metrics x" OF_QUERY
                    " AND (?3 IS NULL OR x.split = ?3)" BY_TRIAL ", x.split, x.name",
                    &st, err))
        return -1;
    store_trial_row *cur = NULL;
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_trial_row *t = row_of(ids, l, sqlite3_column_int64(st, 0));
        if (!t)
            continue;
        if (t != cur) {
            cur = t;
            cap = t->n_metrics;
        }
        if (t->n_metrics == cap) {
            size_t nc = cap ? cap * 2 : 16;
            store_metric_row *n = realloc(t->metrics, nc * sizeof *n);
            if (!n) {
                store_set_err(err, 0, "out of memory");
                goto fail;
            }
            t->metrics = n;
            cap = nc;
        }
        store_metric_row *m = &t->metrics[t->n_metrics++];
        const unsigned char *sp = sqlite3_column_text(st, 1), *nm = sqlite3_column_text(st, 2);
        snprintf(m->split, sizeof m->split, "%s", sp ? (const char *)sp : "");
        snprintf(m->name, sizeof m->name, "%s", nm ? (const char *)nm : "");
        m->value = store_col_real(st, 3);
    }
    if (rc != SQLITE_DONE) {
        store_db_err(s, err, rc, "reading metrics");
        goto fail;
    }
    sqlite3_finalize(st);
    return 0;
fail:
    sqlite3_finalize(st);
    return -1;
}

int store_trials_read(store *s, const store_trial_query *q, store_trial_list *l,
                      store_error *err)
{
    sqlite3_stmt *st = NULL;
    id_slot *ids = NULL;
    memset(l, 0, sizeof *l);
    if (store_prep(s,
             "SELECT id, trial_index, point_index, seed, status, params, train_loss,"
             " train_accuracy, val_loss, val_accuracy, test_loss, test_accuracy, best_epoch,"
             " overfit_gap FROM trials WHERE experiment_id = ?1 AND (?2 = 0 OR id = ?2)"
             " ORDER BY point_index, seed, id",
             &st, err))
        return -1;
    sqlite3_bind_int64(st, 1, q->experiment_id);
    sqlite3_bind_int64(st, 2, q->trial_id > 0 ? q->trial_id : 0);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (l->n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            store_trial_row *n = realloc(l->rows, nc * sizeof *n);
            if (!n)
                goto oom;
            l->rows = n;
            cap = nc;
        }
        store_trial_row *t = &l->rows[l->n];
        memset(t, 0, sizeof *t);
        t->id = sqlite3_column_int64(st, 0);
        t->trial_index = col_index(st, 1);
        t->point_index = col_index(st, 2);
        t->seed = (uint64_t)sqlite3_column_int64(st, 3);
        int stat = store_status_parse((const char *)sqlite3_column_text(st, 4));
        t->status = stat < 0 ? STORE_FAILED : (store_status)stat;
        t->train_loss = store_col_real(st, 6);
        t->train_accuracy = store_col_real(st, 7);
        t->val_loss = store_col_real(st, 8);
        t->val_accuracy = store_col_real(st, 9);
        t->test_loss = store_col_real(st, 10);
        t->test_accuracy = store_col_real(st, 11);
        t->best_epoch = store_col_real(st, 12);
        t->overfit_gap = store_col_real(st, 13);
        l->n++;
        if (!(t->params_json = col_dup(st, 5)))
            goto oom;
    }
    if (rc != SQLITE_DONE) {
        store_db_err(s, err, rc, "reading trials");
        goto fail;
    }
    sqlite3_finalize(st);
    st = NULL;

    ids = calloc(l->n ? l->n : 1, sizeof *ids);
    if (!ids)
        goto oom;
    for (size_t i = 0; i < l->n; i++) {
        ids[i].id = l->rows[i].id;
        ids[i].row = i;
    }
    qsort(ids, l->n, sizeof *ids, id_slot_cmp);
    if (((q->what & STORE_READ_PARAMS) && read_params(s, q, ids, l, err)) ||
        ((q->what & STORE_READ_HISTORY) && read_history(s, q, ids, l, err)) ||
        ((q->what & STORE_READ_CONFUSION) && read_confusion(s, q, ids, l, err)) ||
        ((q->what & STORE_READ_GRID) && read_grids(s, q, ids, l, err)) ||
        ((q->what & STORE_READ_METRICS) && read_metrics(s, q, ids, l, err)))
        goto fail;
    free(ids);
    return 0;
oom:
    store_set_err(err, 0, "out of memory");
fail:
    sqlite3_finalize(st);
    free(ids);
    store_trial_list_free(l);
    return -1;
}

/* ---- the sweep summary ------------------------------------------------ */

void store_summary_free(store_summary *sum)
{
    if (!sum)
        return;
    for (size_t i = 0; i < sum->n; i++)
        free(sum->rows[i].params);
    free(sum->rows);
    memset(sum, 0, sizeof *sum);
}

int store_summary_read(store *s, int64_t experiment_id, store_summary *sum, store_error *err)
{
    sqlite3_stmt *st = NULL;
    memset(sum, 0, sizeof *sum);
    if (store_prep(s,
             "SELECT point_index, params, n, test_accuracy_mean, test_accuracy_std,"
             " test_accuracy_min, test_accuracy_max, test_loss_mean, test_loss_std,"
             " test_loss_min, test_loss_max, val_accuracy_mean, best_epoch_mean,"
             " overfit_gap_mean FROM sweep_summary WHERE experiment_id = ?1"
             " ORDER BY point_index, params",
             &st, err))
        return -1;
    sqlite3_bind_int64(st, 1, experiment_id);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (sum->n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            store_summary_row *n = realloc(sum->rows, nc * sizeof *n);
            if (!n)
                goto oom;
            sum->rows = n;
            cap = nc;
        }
        store_summary_row *r = &sum->rows[sum->n];
        memset(r, 0, sizeof *r);
        r->point_index = col_index(st, 0);
        r->n = col_index(st, 2);
        double *v[11] = {&r->test_accuracy_mean, &r->test_accuracy_std, &r->test_accuracy_min,
                         &r->test_accuracy_max,  &r->test_loss_mean,    &r->test_loss_std,
                         &r->test_loss_min,      &r->test_loss_max,     &r->val_accuracy_mean,
                         &r->best_epoch_mean,    &r->overfit_gap_mean};
        for (int i = 0; i < 11; i++)
            *v[i] = store_col_real(st, 3 + i);
        sum->n++;
        if (!(r->params = col_dup(st, 1)))
            goto oom;
    }
    if (rc != SQLITE_DONE) {
        store_db_err(s, err, rc, "reading sweep_summary");
        goto fail;
    }
    sqlite3_finalize(st);
    return 0;
oom:
    store_set_err(err, 0, "out of memory");
fail:
    sqlite3_finalize(st);
    store_summary_free(sum);
    return -1;
}

/* ---- per-point statistics ------------------------------------------------ */

static void bind_real(sqlite3_stmt *st, int i, double v)
{
    if (isnan(v))
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_double(st, i, v);
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *t)
{
    if (t)
        sqlite3_bind_text(st, i, t, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

/* Steps an insert and resets it for the next row. */
static int step_row(store *s, sqlite3_stmt *st, store_error *err)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) {
        store_db_err(s, err, rc, "writing point statistics");
        return -1;
    }
    return 0;
}

int store_point_stats_write(store *s, int64_t experiment_id, const store_point_stats *ps,
                            store_error *err)
{
    static const char *const del =
        "DELETE FROM point_stats WHERE experiment_id = ?1;"
        "DELETE FROM point_comparisons WHERE experiment_id = ?1;"
        "DELETE FROM point_training WHERE experiment_id = ?1";
    sqlite3_stmt *st = NULL;
    if (store_exec(s, "BEGIN IMMEDIATE", err))
        return -1;
    /* the three deletes, one statement at a time */
    const char *sql = del;
    while (*sql) {
        const char *tail;
        int rc = sqlite3_prepare_v2(store_internal_db(s), sql, -1, &st, &tail);
        if (rc != SQLITE_OK) {
            store_db_err(s, err, rc, "prepare");
            goto fail;
        }
        sqlite3_bind_int64(st, 1, experiment_id);
        if (step_row(s, st, err))
            goto fail;
        sqlite3_finalize(st);
        st = NULL;
        sql = tail;
    }
    if (store_prep(s, "INSERT INTO point_stats(experiment_id, metric, point_index, params,"
                " point_rank, is_best, n, mean, std, min, max, median, iqm, ci_lo, ci_hi)"
                " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)",
             &st, err))
        goto fail;
    for (size_t i = 0; i < ps->n_stats; i++) {
        const store_point_stat *r = &ps->stats[i];
        sqlite3_bind_int64(st, 1, experiment_id);
        bind_text_or_null(st, 2, r->metric);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)r->point_index);
        bind_text_or_null(st, 4, r->params);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)r->point_rank);
        sqlite3_bind_int(st, 6, r->is_best != 0);
        sqlite3_bind_int64(st, 7, (sqlite3_int64)r->n);
        const double v[] = {r->mean, r->std, r->min, r->max, r->median, r->iqm, r->ci_lo,
                            r->ci_hi};
        for (int k = 0; k < 8; k++)
            bind_real(st, 8 + k, v[k]);
        if (step_row(s, st, err))
            goto fail;
    }
    sqlite3_finalize(st);
    if (store_prep(s, "INSERT INTO point_comparisons(experiment_id, metric, point_index,"
                " best_point_index, n_pairs, mean_diff, ci_lo, ci_hi, t, p_t, p_t_holm, w,"
                " p_w, p_w_holm) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)",
             &st, err))
        goto fail;
    for (size_t i = 0; i < ps->n_comparisons; i++) {
        const store_point_comparison *r = &ps->comparisons[i];
        sqlite3_bind_int64(st, 1, experiment_id);
        bind_text_or_null(st, 2, r->metric);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)r->point_index);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)r->best_point_index);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)r->n_pairs);
        const double v[] = {r->mean_diff, r->ci_lo, r->ci_hi, r->t, r->p_t,
                            r->p_t_holm, r->w, r->p_w, r->p_w_holm};
        for (int k = 0; k < 9; k++)
            bind_real(st, 6 + k, v[k]);
        if (step_row(s, st, err))
            goto fail;
    }
    sqlite3_finalize(st);
    if (store_prep(s, "INSERT INTO point_training(experiment_id, point_index, params, curve,"
                " curve_epochs, converged_epoch, converged, gap_n, gap_mean, gap_ci_lo,"
                " gap_ci_hi) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
             &st, err))
        goto fail;
    for (size_t i = 0; i < ps->n_training; i++) {
        const store_point_training *r = &ps->training[i];
        sqlite3_bind_int64(st, 1, experiment_id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)r->point_index);
        bind_text_or_null(st, 3, r->params);
        bind_text_or_null(st, 4, r->curve);
        if (r->curve) {
            sqlite3_bind_int64(st, 5, (sqlite3_int64)r->curve_epochs);
            sqlite3_bind_int64(st, 6, (sqlite3_int64)r->converged_epoch);
            sqlite3_bind_int(st, 7, r->converged != 0);
        }
        sqlite3_bind_int64(st, 8, (sqlite3_int64)r->gap_n);
        bind_real(st, 9, r->gap_mean);
        bind_real(st, 10, r->gap_ci_lo);
        bind_real(st, 11, r->gap_ci_hi);
        if (step_row(s, st, err))
            goto fail;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (store_exec(s, "COMMIT", err))
        goto fail;
    return 0;
fail:
    sqlite3_finalize(st);
    if (!sqlite3_get_autocommit(store_internal_db(s)))
        sqlite3_exec(store_internal_db(s), "ROLLBACK", NULL, NULL, NULL);
    return -1;
}
/* ---- listing experiments ---------------------------------------------- */

void store_experiment_list_free(store_experiment_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->rows[i].name);
        free(l->rows[i].created_at);
        free(l->rows[i].spec_file);
        free(l->rows[i].best_params);
    }
    free(l->rows);
    memset(l, 0, sizeof *l);
}

static store_experiment_row *experiment_row_of(store_experiment_list *l, int64_t id)
{
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->rows[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < l->n && l->rows[lo].id == id ? &l->rows[lo] : NULL;
}

int store_experiments_list(store *s, store_experiment_list *l, store_error *err)
{
    sqlite3_stmt *st = NULL;
    memset(l, 0, sizeof *l);
    if (store_prep(s, "SELECT id, name, created_at, spec_file FROM experiments ORDER BY id", &st,
             err))
        return -1;
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (l->n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            store_experiment_row *n = realloc(l->rows, nc * sizeof *n);
            if (!n)
                goto oom;
            l->rows = n;
            cap = nc;
        }
        store_experiment_row *r = &l->rows[l->n];
        memset(r, 0, sizeof *r);
        r->id = sqlite3_column_int64(st, 0);
        r->best_test_accuracy = NAN;
        l->n++;
        if (!(r->name = col_dup(st, 1)) || !(r->created_at = col_dup(st, 2)) ||
            !(r->spec_file = col_dup(st, 3)))
            goto oom;
    }
    if (rc != SQLITE_DONE) {
        store_db_err(s, err, rc, "reading experiments");
        goto fail;
    }
    sqlite3_finalize(st);
    st = NULL;

    if (store_prep(s, "SELECT experiment_id, status, count(*) FROM trials GROUP BY 1, 2 ORDER BY 1, 2",
             &st, err))
        goto fail;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_experiment_row *r = experiment_row_of(l, sqlite3_column_int64(st, 0));
        int stat = store_status_parse((const char *)sqlite3_column_text(st, 1));
        if (!r)
            continue;
        size_t c = col_index(st, 2);
        r->n_trials += c;
        r->status_counts[stat < 0 ? STORE_FAILED : stat] += c;
    }
    if (rc != SQLITE_DONE) {
        store_db_err(s, err, rc, "counting trials");
        goto fail;
    }
    sqlite3_finalize(st);
    st = NULL;

    /* The best point of each experiment: rows by experiment, best first. */
    if (store_prep(s,
             "SELECT experiment_id, params, n, test_accuracy_mean FROM sweep_summary"
             " WHERE test_accuracy_mean IS NOT NULL"
             " ORDER BY experiment_id, test_accuracy_mean DESC, point_index, params",
             &st, err))
        goto fail;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_experiment_row *r = experiment_row_of(l, sqlite3_column_int64(st, 0));
        if (!r || r->best_params)
            continue;
        if (!(r->best_params = col_dup(st, 1)))
            goto oom;
        r->best_n = col_index(st, 2);
        r->best_test_accuracy = store_col_real(st, 3);
    }
    if (rc != SQLITE_DONE) {
        store_db_err(s, err, rc, "reading sweep_summary");
        goto fail;
    }
    sqlite3_finalize(st);
    return 0;
oom:
    store_set_err(err, 0, "out of memory");
fail:
    sqlite3_finalize(st);
    store_experiment_list_free(l);
    return -1;
}

/* ---- trial notes -------------------------------------------------------- */

void store_trial_notes_free(store_trial_notes *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++) {
        free(n->rows[i].error);
        free(n->rows[i].started_at);
        free(n->rows[i].finished_at);
    }
    free(n->rows);
    memset(n, 0, sizeof *n);
}

const store_trial_note *store_trial_note_find(const store_trial_notes *n, int64_t id)
{
    size_t lo = 0, hi = n->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (n->rows[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n->n && n->rows[lo].id == id ? &n->rows[lo] : NULL;
}

int store_trial_notes_read(store *s, int64_t experiment_id, int64_t trial_id,
                           store_trial_notes *out, store_error *err)
{
    sqlite3_stmt *st = NULL;
    memset(out, 0, sizeof *out);
    if (store_prep(s,
             "SELECT id, status, epochs_run, diverged_epoch, n_params, wall_ms, error,"
             " started_at, finished_at, point_index, seed FROM trials WHERE experiment_id = ?1"
             " AND (?2 = 0 OR id = ?2) ORDER BY id",
             &st, err))
        return -1;
    sqlite3_bind_int64(st, 1, experiment_id);
    sqlite3_bind_int64(st, 2, trial_id > 0 ? trial_id : 0);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            store_trial_note *n = realloc(out->rows, nc * sizeof *n);
            if (!n)
                goto oom;
            out->rows = n;
            cap = nc;
        }
        store_trial_note *t = &out->rows[out->n];
        memset(t, 0, sizeof *t);
        t->id = sqlite3_column_int64(st, 0);
        int stat = store_status_parse((const char *)sqlite3_column_text(st, 1));
        t->status = stat < 0 ? STORE_FAILED : (store_status)stat;
        t->epochs_run = col_index(st, 2);
        t->diverged_epoch = col_index(st, 3);
        t->n_params = col_index(st, 4);
        t->wall_ms = store_col_real(st, 5);
        t->point_index = col_index(st, 9);
        t->seed = (uint64_t)sqlite3_column_int64(st, 10);
        out->n++;
        if ((sqlite3_column_type(st, 6) != SQLITE_NULL && !(t->error = col_dup(st, 6))) ||
            !(t->started_at = col_dup(st, 7)) || !(t->finished_at = col_dup(st, 8)))
            goto oom;
    }
    if (rc != SQLITE_DONE) {
        store_db_err(s, err, rc, "reading trials");
        goto fail;
    }
    sqlite3_finalize(st);
    return 0;
oom:
    store_set_err(err, 0, "out of memory");
fail:
    sqlite3_finalize(st);
    store_trial_notes_free(out);
    return -1;
}

int store_trial_layer_shapes(store *s, int64_t trial_id, size_t max, size_t *n_layers,
                             size_t *inputs, size_t *units, store_error *err)
{
    sqlite3_stmt *st = NULL;
    *n_layers = 0;
    if (store_prep(s, "SELECT layer, rows, cols FROM weights WHERE trial_id = ?1 AND kind = 'kernel'"
                " ORDER BY layer", &st, err))
        return -1;
    sqlite3_bind_int64(st, 1, trial_id);
    int rc, bad = 0;
    size_t n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        long long layer = sqlite3_column_int64(st, 0);
        long long r = sqlite3_column_int64(st, 1), c = sqlite3_column_int64(st, 2);
        if (layer != (long long)n || n >= max || r <= 0 || c <= 0 ||
            (n > 0 && (size_t)r != units[n - 1])) {
            bad = 1;
            break;
        }
        inputs[n] = (size_t)r;
        units[n] = (size_t)c;
        n++;
    }
    if (!bad && rc != SQLITE_DONE) {
        store_db_err(s, err, rc, "reading weights");
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    if (bad || n == 0) {
        store_set_err(err, 0, "trial %lld has no complete set of stored kernels",
                (long long)trial_id);
        return 1;
    }
    *n_layers = n;
    return 0;
}

/* ---- per-row predictions ------------------------------------------------ */

int store_predictions_read(store *s, int64_t trial_id, const char *split, int misclassified,
                           store_prediction_list *out, store_error *err)
{
    memset(out, 0, sizeof *out);
    /* A database from before version 4, opened read-only, has no
     * predictions table: nothing was recorded. */
    sqlite3_stmt *st = NULL;
    if (store_prep(s, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'"
                " AND name = 'predictions'", &st, err))
        return -1;
    int has = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
    sqlite3_finalize(st);
    if (!has)
        return 0;
    if (store_prep(s, misclassified
                    ? "SELECT split_row, source_row, augmented_row, true_class, predicted_class"
                      " FROM predictions WHERE trial_id = ?1 AND split = ?2"
                      " AND true_class <> predicted_class ORDER BY split_row"
                    : "SELECT split_row, source_row, augmented_row, true_class, predicted_class"
                      " FROM predictions WHERE trial_id = ?1 AND split = ?2 ORDER BY split_row",
             &st, err))
        return -1;
    sqlite3_bind_int64(st, 1, trial_id);
    sqlite3_bind_text(st, 2, split ? split : "test", -1, SQLITE_STATIC);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        long long v[5];
        int bad = 0;
        for (int i = 0; i < 5; i++) {
            v[i] = sqlite3_column_int64(st, i);
            bad |= sqlite3_column_type(st, i) != SQLITE_INTEGER || v[i] < 0;
        }
        if (bad)
            continue; /* a damaged row is left out, not trusted */
        if (out->n == cap) {
            size_t nc = cap ? 2 * cap : 64;
            store_prediction_row *r = nc > (size_t)-1 / sizeof *r
                                          ? NULL
                                          : realloc(out->rows, nc * sizeof *r);
            if (!r) {
                sqlite3_finalize(st);
                store_prediction_list_free(out);
                store_set_err(err, 0, "out of memory");
                return -1;
            }
            out->rows = r;
            cap = nc;
        }
        out->rows[out->n++] = (store_prediction_row){(size_t)v[0], (size_t)v[1], (size_t)v[2],
                                                     (size_t)v[3], (size_t)v[4]};
    }
    if (rc != SQLITE_DONE) {
        store_db_err(s, err, rc, "reading predictions");
        sqlite3_finalize(st);
        store_prediction_list_free(out);
        return -1;
    }
    sqlite3_finalize(st);
    return 0;
}

void store_prediction_list_free(store_prediction_list *l)
{
    if (!l)
        return;
    free(l->rows);
    memset(l, 0, sizeof *l);
}

/* ---- exports ------------------------------------------------------------ */

static const char *const table_names[] = {"trials",    "epochs",  "metrics",
                                          "confusion", "classes", "experiments"};

const char *store_table_name(store_table t)
{
    return (unsigned)t < sizeof table_names / sizeof table_names[0] ? table_names[t] : "?";
}

int store_table_parse(const char *name)
{
    for (size_t i = 0; i < sizeof table_names / sizeof table_names[0]; i++)
        if (!strcmp(name, table_names[i]))
            return (int)i;
    return -1;
}

/* One table's query: the columns before the sweep values (their names and
 * expressions), the columns after them, and what follows the select list.
 * The trials of the query are t; ?1 is the experiment (0: all). */
typedef struct export_spec {
    size_t n_pre;
    const char *const *pre;      /* "name", "expression" pairs */
    size_t n_post;
    const char *const *post;
    const char *from;
} export_spec;

static const char *const trials_pre[] = {
    "experiment_id", "t.experiment_id", "trial_id", "t.id", "trial_index", "t.trial_index",
    "point_index", "t.point_index", "seed", "t.seed"};
static const char *const trials_post[] = {
    "status", "t.status", "n_params", "t.n_params", "epochs_run", "t.epochs_run",
    "diverged_epoch", "t.diverged_epoch", "best_epoch", "t.best_epoch", "overfit_gap",
    "t.overfit_gap", "train_loss", "t.train_loss", "train_accuracy", "t.train_accuracy",
    "val_loss", "t.val_loss", "val_accuracy", "t.val_accuracy", "test_loss", "t.test_loss",
    "test_accuracy", "t.test_accuracy", "wall_ms", "t.wall_ms", "started_at", "t.started_at",
    "finished_at", "t.finished_at", "result_hash", "t.result_hash", "trial_key",
    "t.trial_key", "error", "t.error"};
static const char *const detail_pre[] = {"trial_id", "t.id", "point_index", "t.point_index",
                                         "seed", "t.seed"};
static const char *const epochs_post[] = {"epoch", "x.epoch", "loss", "x.loss", "accuracy",
                                          "x.accuracy", "val_loss", "x.val_loss",
                                          "val_accuracy", "x.val_accuracy"};
static const char *const metrics_post[] = {"split", "x.split", "name", "x.name", "value",
                                           "x.value"};
static const char *const confusion_post[] = {
    "split", "x.split", "true_class", "x.true_class", "true_name", "ct.name",
    "predicted_class", "x.predicted_class", "predicted_name", "cp.name", "count", "x.count"};
static const char *const classes_pre[] = {"experiment_id", "c.experiment_id", "class_index",
                                          "c.class_index", "name", "c.name"};
static const char *const experiments_pre[] = {
    "experiment_id", "e.id", "name", "e.name", "created_at", "e.created_at", "spec_file",
    "e.spec_file", "spec_hash", "e.spec_hash", "sweep_dims", "e.sweep_dims",
    "n_trials", "(SELECT count(*) FROM trials t WHERE t.experiment_id = e.id)",
    "runexp_version", "e.runexp_version", "git_revision", "e.git_revision", "compiler",
    "e.compiler", "build_flags", "e.build_flags", "host", "e.host", "cpu_model", "e.cpu_model",
    "threads", "e.threads", "spec", "e.spec"};

#define PAIRS(a) (sizeof(a) / sizeof(a)[0] / 2), (a)

static export_spec export_spec_of(store_table t)
{
    export_spec e;
    memset(&e, 0, sizeof e);
    switch (t) {
    case STORE_TABLE_TRIALS:
        e = (export_spec){PAIRS(trials_pre), PAIRS(trials_post),
                          " FROM trials t WHERE (?1 = 0 OR t.experiment_id = ?1)"
                          " ORDER BY t.experiment_id, t.point_index, t.seed, t.id"};
        break;
    case STORE_TABLE_EPOCHS:
        e = (export_spec){PAIRS(detail_pre), PAIRS(epochs_post),
                          " FROM epochs x JOIN trials t ON t.id = x.trial_id"
                          " WHERE (?1 = 0 OR t.experiment_id = ?1) ORDER BY x.trial_id, x.epoch"};
        break;
    case STORE_TABLE_METRICS:
        e = (export_spec){PAIRS(detail_pre), PAIRS(metrics_post),
                          " FROM metrics x JOIN trials t ON t.id = x.trial_id"
                          " WHERE (?1 = 0 OR t.experiment_id = ?1)"
                          " ORDER BY x.trial_id, x.split, x.name"};
        break;
    case STORE_TABLE_CONFUSION:
        e = (export_spec){PAIRS(detail_pre), PAIRS(confusion_post),
                          " FROM confusion x JOIN trials t ON t.id = x.trial_id"
                          " LEFT JOIN classes ct ON ct.experiment_id = t.experiment_id"
                          " AND ct.class_index = x.true_class"
                          " LEFT JOIN classes cp ON cp.experiment_id = t.experiment_id"
                          " AND cp.class_index = x.predicted_class"
                          " WHERE (?1 = 0 OR t.experiment_id = ?1)"
                          " ORDER BY x.trial_id, x.split, x.true_class, x.predicted_class"};
        break;
    case STORE_TABLE_CLASSES:
        e = (export_spec){PAIRS(classes_pre), 0, NULL,
                          " FROM classes c WHERE (?1 = 0 OR c.experiment_id = ?1)"
                          " ORDER BY c.experiment_id, c.class_index"};
        break;
    case STORE_TABLE_EXPERIMENTS:
        e = (export_spec){PAIRS(experiments_pre), 0, NULL,
                          " FROM experiments e WHERE (?1 = 0 OR e.id = ?1) ORDER BY e.id"};
        break;
    }
    return e;
}

/* A growing string for building the export query. */
typedef struct sbuf {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_add(sbuf *b, const char *s)
{
    size_t l = strlen(s);
    if (b->oom)
        return;
    if (b->n + l + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 256;
        while (nc < b->n + l + 1)
            nc *= 2;
        char *np = realloc(b->p, nc);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->n, s, l + 1);
    b->n += l;
}

static int fixed_column(const export_spec *e, const char *name)
{
    for (size_t i = 0; i < e->n_pre; i++)
        if (!strcmp(e->pre[2 * i], name))
            return 1;
    for (size_t i = 0; i < e->n_post; i++)
        if (!strcmp(e->post[2 * i], name))
            return 1;
    return 0;
}

int store_export(store *s, store_table t, int64_t experiment_id, size_t n_dims,
                 const char *const *dims, const store_export_sink *sink, store_error *err)
{
    export_spec e = export_spec_of(t);
    if (!e.from) {
        store_set_err(err, 0, "unknown table %d", (int)t);
        return -1;
    }
    int with_params = t == STORE_TABLE_TRIALS || t == STORE_TABLE_EPOCHS ||
                      t == STORE_TABLE_METRICS || t == STORE_TABLE_CONFUSION;
    if (!with_params)
        n_dims = 0;
    if (n_dims > 900) {
        store_set_err(err, 0, "too many sweep dimensions to export (%zu)", n_dims);
        return -1;
    }
    size_t n_cols = e.n_pre + n_dims + e.n_post;
    const char **names = calloc(n_cols, sizeof *names);
    char **owned = calloc(n_dims ? n_dims : 1, sizeof *owned);
    store_value *vals = calloc(n_cols, sizeof *vals);
    sbuf q = {0};
    sqlite3_stmt *st = NULL;
    int result = -1;
    if (!names || !owned || !vals)
        goto oom;
    sb_add(&q, "SELECT ");
    size_t c = 0;
    for (size_t i = 0; i < e.n_pre; i++, c++) {
        names[c] = e.pre[2 * i];
        sb_add(&q, c ? ", " : "");
        sb_add(&q, e.pre[2 * i + 1]);
    }
    for (size_t k = 0; k < n_dims; k++, c++) {
        char expr[128];
        snprintf(expr, sizeof expr,
                 "(SELECT p.value FROM trial_params p WHERE p.trial_id = t.id AND p.name = ?%zu)",
                 k + 2);
        if (fixed_column(&e, dims[k])) {
            size_t l = strlen(dims[k]);
            if (!(owned[k] = malloc(l + 7)))
                goto oom;
            memcpy(owned[k], "param_", 6);
            memcpy(owned[k] + 6, dims[k], l + 1);
            names[c] = owned[k];
        } else {
            names[c] = dims[k];
        }
        sb_add(&q, ", ");
        sb_add(&q, expr);
    }
    for (size_t i = 0; i < e.n_post; i++, c++) {
        names[c] = e.post[2 * i];
        sb_add(&q, ", ");
        sb_add(&q, e.post[2 * i + 1]);
    }
    sb_add(&q, e.from);
    if (q.oom)
        goto oom;
    if (store_prep(s, q.p, &st, err))
        goto done;
    sqlite3_bind_int64(st, 1, experiment_id);
    for (size_t k = 0; k < n_dims; k++)
        sqlite3_bind_text(st, (int)k + 2, dims[k], -1, SQLITE_STATIC);
    if (sink->header && sink->header(sink->user, n_cols, names)) {
        result = 2;
        goto done;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (size_t i = 0; i < n_cols; i++) {
            store_value *v = &vals[i];
            memset(v, 0, sizeof *v);
            switch (sqlite3_column_type(st, (int)i)) {
            case SQLITE_INTEGER:
                v->type = STORE_INTEGER;
                v->i = sqlite3_column_int64(st, (int)i);
                break;
            case SQLITE_FLOAT:
                v->type = STORE_REAL;
                v->r = sqlite3_column_double(st, (int)i);
                break;
            case SQLITE_NULL:
                v->type = STORE_NULL;
                break;
            default: /* text; a BLOB (none is exported) would read as text */
                v->type = STORE_TEXT;
                v->s = (const char *)sqlite3_column_text(st, (int)i);
                if (!v->s)
                    v->s = "";
            }
        }
        if (sink->row(sink->user, n_cols, vals)) {
            result = 2;
            goto done;
        }
    }
    if (rc != SQLITE_DONE) {
        store_db_err(s, err, rc, "reading for the export");
        goto done;
    }
    result = 0;
    goto done;
oom:
    store_set_err(err, 0, "out of memory");
done:
    sqlite3_finalize(st);
    for (size_t k = 0; owned && k < n_dims; k++)
        free(owned[k]);
    free(owned);
    free(names);
    free(vals);
    free(q.p);
    return result;
}

/* ---- search decisions -------------------------------------------------- */

void store_prune_list_free(store_prune_list *l)
{
    for (size_t i = 0; l->owned && i < l->n; i++)
        free(l->owned[i]);
    free(l->owned);
    free(l->rows);
    free(l->metric);
    memset(l, 0, sizeof *l);
}

int store_prune_read(store *s, int64_t exp, store_prune_list *out, store_error *err)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st;
    if (store_prep(s, "SELECT bracket, rung, epoch, point_index, params, metric, n, value, place,"
                " promoted FROM prune_decisions WHERE experiment_id = ?1"
                " ORDER BY bracket, rung, place, point_index", &st, err))
        return -1;
    sqlite3_bind_int64(st, 1, exp);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->n == cap) {
            size_t nc = cap ? 2 * cap : 16;
            store_prune_decision *r = realloc(out->rows, nc * sizeof *r);
            char **o = r ? realloc(out->owned, nc * sizeof *o) : NULL;
            if (r)
                out->rows = r;
            if (!o)
                goto oom;
            out->owned = o;
            cap = nc;
        }
        char *params = col_dup(st, 4);
        if (!params)
            goto oom;
        if (!out->metric && !(out->metric = col_dup(st, 5))) {
            free(params);
            goto oom;
        }
        out->owned[out->n] = params;
        out->rows[out->n++] = (store_prune_decision){
            col_index(st, 0), col_index(st, 1), col_index(st, 2), col_index(st, 3), params,
            col_index(st, 6), store_col_real(st, 7), col_index(st, 8), sqlite3_column_int(st, 9)};
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        store_db_err(s, err, rc, "reading the search decisions");
        store_prune_list_free(out);
        return -1;
    }
    return 0;
oom:
    sqlite3_finalize(st);
    store_prune_list_free(out);
    store_set_err(err, 0, "out of memory");
    return -1;
}

/* ---- Keras training extras (version 4) ---------------------------------- */

void store_trial_extras_free(store_trial_extras *x)
{
    if (!x)
        return;
    free(x->learning_rate);
    free(x->layers);
    memset(x, 0, sizeof *x);
    x->restored_best = -1;
}

static size_t col_size(sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return 0;
    long long v = sqlite3_column_int64(st, i);
    return v > 0 ? (size_t)v : 0;
}

static void col_copy(sqlite3_stmt *st, int i, char *buf, size_t size)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(buf, size, "%s", t ? (const char *)t : "");
}

int store_trial_extras_read(store *s, int64_t trial_id, store_trial_extras *out,
                            store_error *err)
{
    memset(out, 0, sizeof *out);
    out->restored_best = -1;
    sqlite3_stmt *st = NULL;
    int rc;
    /* The version now (a writer has migrated what it opened; a reader
     * takes an old file as it is, without these columns). */
    if (store_prep(s, "PRAGMA user_version", &st, err))
        return -1;
    int version = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    st = NULL;
    if (version < 4)
        return 0;
    if (store_prep(s, "SELECT stopped_epoch, early_stopping_best_epoch, restored_best FROM trials"
                " WHERE id = ?1", &st, err))
        return -1;
    sqlite3_bind_int64(st, 1, trial_id);
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        out->stopped_epoch = col_size(st, 0);
        out->early_stopping_best_epoch = col_size(st, 1);
        out->restored_best = sqlite3_column_type(st, 2) == SQLITE_NULL
                                 ? -1 : sqlite3_column_int(st, 2) != 0;
    } else if (rc != SQLITE_DONE) {
        goto db_fail;
    }
    sqlite3_finalize(st);
    if (store_prep(s, "SELECT epoch, learning_rate FROM epochs WHERE trial_id = ?1 AND epoch BETWEEN 1"
                " AND 1000000 ORDER BY epoch", &st, err))
        goto fail;
    sqlite3_bind_int64(st, 1, trial_id);
    size_t cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        size_t e = (size_t)sqlite3_column_int64(st, 0);
        if (e > cap) {
            size_t nc = cap ? cap : 16;
            while (nc < e)
                nc *= 2;
            double *p = realloc(out->learning_rate, nc * sizeof *p);
            if (!p)
                goto oom;
            for (size_t i = cap; i < nc; i++)
                p[i] = NAN;
            out->learning_rate = p;
            cap = nc;
        }
        out->learning_rate[e - 1] = store_col_real(st, 1);
        if (e > out->n_epochs)
            out->n_epochs = e;
    }
    if (rc != SQLITE_DONE)
        goto db_fail;
    sqlite3_finalize(st);
    if (store_prep(s, "SELECT name, type, output_shape, params, trainable_params FROM layers"
                " WHERE trial_id = ?1 ORDER BY layer_index LIMIT 4096", &st, err))
        goto fail;
    sqlite3_bind_int64(st, 1, trial_id);
    cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->n_layers == cap) {
            size_t nc = cap ? 2 * cap : 8;
            store_layer_row *p = realloc(out->layers, nc * sizeof *p);
            if (!p)
                goto oom;
            out->layers = p;
            cap = nc;
        }
        store_layer_row *l = &out->layers[out->n_layers++];
        col_copy(st, 0, l->name, sizeof l->name);
        col_copy(st, 1, l->type, sizeof l->type);
        col_copy(st, 2, l->output_shape, sizeof l->output_shape);
        l->params = col_size(st, 3);
        l->trainable_params = col_size(st, 4);
    }
    if (rc != SQLITE_DONE)
        goto db_fail;
    sqlite3_finalize(st);
    return 0;
oom:
    store_set_err(err, 0, "out of memory");
    goto fail;
db_fail:
    store_db_err(s, err, rc, "reading a trial's training extras");
fail:
    sqlite3_finalize(st);
    store_trial_extras_free(out);
    return -1;
}

/* ---- reading per-point statistics back ------------------------------------ */

int store_point_stats_current(store *s, int64_t experiment_id, const char *metric,
                              store_error *err)
{
    sqlite3_stmt *st = NULL;
    if (store_prep(s, "SELECT (SELECT count(*) FROM point_stats WHERE experiment_id = ?1"
                      " AND metric = ?2), (SELECT coalesce(sum(n), 0) FROM point_stats"
                      " WHERE experiment_id = ?1 AND metric = ?2), (SELECT count(*) FROM"
                      " trials WHERE experiment_id = ?1 AND status = 'done')",
                   &st, err))
        return -1;
    sqlite3_bind_int64(st, 1, experiment_id);
    sqlite3_bind_text(st, 2, metric, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        store_db_err(s, err, rc, "reading point statistics");
        sqlite3_finalize(st);
        return -1;
    }
    int current = sqlite3_column_int64(st, 0) > 0 &&
                  sqlite3_column_int64(st, 1) == sqlite3_column_int64(st, 2);
    sqlite3_finalize(st);
    return current;
}

int store_point_stat_read(store *s, int64_t experiment_id, const char *metric,
                          size_t point_index, store_point_stat *out, store_error *err)
{
    sqlite3_stmt *st = NULL;
    if (store_prep(s, "SELECT point_rank, is_best, n, mean, std, min, max, median, iqm,"
                      " ci_lo, ci_hi FROM point_stats WHERE experiment_id = ?1 AND"
                      " metric = ?2 AND point_index = ?3",
                   &st, err))
        return -1;
    sqlite3_bind_int64(st, 1, experiment_id);
    sqlite3_bind_text(st, 2, metric, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)point_index);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        sqlite3_finalize(st);
        return 0;
    }
    if (rc != SQLITE_ROW) {
        store_db_err(s, err, rc, "reading point statistics");
        sqlite3_finalize(st);
        return -1;
    }
    memset(out, 0, sizeof *out);
    out->metric = NULL;
    out->params = NULL;
    out->point_index = point_index;
    out->point_rank = (size_t)sqlite3_column_int64(st, 0);
    out->is_best = sqlite3_column_int(st, 1);
    out->n = (size_t)sqlite3_column_int64(st, 2);
    double *v[] = {&out->mean, &out->std, &out->min, &out->max, &out->median, &out->iqm,
                   &out->ci_lo, &out->ci_hi};
    for (int k = 0; k < 8; k++)
        *v[k] = store_col_real(st, 3 + k);
    sqlite3_finalize(st);
    return 1;
}
