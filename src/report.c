/* report: read one experiment from the results database, draw its figures
 * (report_plot.c) and write index.html.
 *
 * Everything the page shows comes from the database, read in a fixed order
 * (ORDER BY on every query), so the same database gives the same files. The
 * page links its figures by relative path: the directory can be moved or
 * zipped as a whole and opened offline in any browser.
 */
#include "report.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <sqlite3.h>

#include "spec.h"

#define REPORT_DEFAULT_WIDTH 1000
#define REPORT_DEFAULT_HEIGHT 700

static void set_err(report_error *err, int input, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(report_error *err, int input, const char *fmt, ...)
{
    va_list ap;
    if (!err)
        return;
    err->input = input;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

static char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *xprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *p = malloc((size_t)n + 1);
    if (!p)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

/* malloc of n * size with an overflow guard; zeroed. */
static void *xcalloc(size_t n, size_t size)
{
    if (n == 0 || size == 0)
        return calloc(1, 1);
    if (n > SIZE_MAX / size)
        return NULL;
    return calloc(n, size);
}

int report_format_parse(const char *s, report_format *out)
{
    if (!strcmp(s, "png"))
        *out = REPORT_FORMAT_PNG;
    else if (!strcmp(s, "svg"))
        *out = REPORT_FORMAT_SVG;
    else if (!strcmp(s, "pdf"))
        *out = REPORT_FORMAT_PDF;
    else
        return -1;
    return 0;
}

const char *report_format_ext(report_format f)
{
    switch (f) {
    case REPORT_FORMAT_SVG: return "svg";
    case REPORT_FORMAT_PDF: return "pdf";
    default: return "png";
    }
}

void report_options_init(report_options *o)
{
    memset(o, 0, sizeof *o);
    o->format = REPORT_FORMAT_PNG;
    o->width = REPORT_DEFAULT_WIDTH;
    o->height = REPORT_DEFAULT_HEIGHT;
}

void report_output_free(report_output *out)
{
    if (!out)
        return;
    for (size_t i = 0; i < out->n_files; i++)
        free(out->files[i]);
    free(out->files);
    free(out->out_dir);
    free(out->experiment);
    memset(out, 0, sizeof *out);
}

/* ---- small pure helpers --------------------------------------------------- */

typedef struct median_key {
    double acc;
    long long seed;
    size_t index;
} median_key;

static int median_key_cmp(const void *a, const void *b)
{
    const median_key *x = a, *y = b;
    /* NaN (no test accuracy) sorts first so it never wins over a number. */
    int xn = isnan(x->acc), yn = isnan(y->acc);
    if (xn != yn)
        return xn ? -1 : 1;
    if (!xn && x->acc != y->acc)
        return x->acc < y->acc ? -1 : 1;
    if (x->seed != y->seed)
        return x->seed < y->seed ? -1 : 1;
    return x->index < y->index ? -1 : (x->index > y->index);
}

size_t report_median_index(const double *acc, const long long *seed, size_t n)
{
    if (n == 0)
        return 0;
    median_key *k = xcalloc(n, sizeof *k);
    if (!k)
        return 0;
    for (size_t i = 0; i < n; i++) {
        k[i].acc = acc[i];
        k[i].seed = seed[i];
        k[i].index = i;
    }
    qsort(k, n, sizeof *k, median_key_cmp);
    size_t r = k[(n - 1) / 2].index;
    free(k);
    return r;
}

char *report_html_escape(const char *s)
{
    size_t n = 0;
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '&': n += 5; break;
        case '<': case '>': n += 4; break;
        case '"': case '\'': n += 6; break;
        default: n += 1;
        }
    }
    char *out = malloc(n + 1), *q = out;
    if (!out)
        return NULL;
    for (const char *p = s; *p; p++) {
        const char *e = NULL;
        switch (*p) {
        case '&': e = "&amp;"; break;
        case '<': e = "&lt;"; break;
        case '>': e = "&gt;"; break;
        case '"': e = "&quot;"; break;
        case '\'': e = "&#39;"; break;
        default: *q++ = *p; continue;
        }
        size_t l = strlen(e);
        memcpy(q, e, l);
        q += l;
    }
    *q = '\0';
    return out;
}

static void html_text(FILE *f, const char *s)
{
    char *e = report_html_escape(s ? s : "");
    if (e)
        fputs(e, f);
    free(e);
}

/* ---- database ------------------------------------------------------------- */

static const char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

static double col_real(sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return NAN;
    return sqlite3_column_double(st, i);
}

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st,
                   report_error *err)
{
    if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
        set_err(err, 1, "database query failed (%s): %s", sqlite3_errmsg(db),
                sql);
        return -1;
    }
    return 0;
}

/* The sweep names from experiments.sweep_dims, a JSON array of strings.
 * Only the subset the store writes is understood (strings with \" and \\
 * escapes); anything else gives no names and labels fall back to the
 * trial_params rows in name order. */
static int parse_dims(const char *json, report_data *d)
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
        size_t len = strlen(p);
        char *name = malloc(len + 1), *q = name;
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
        char **nd = realloc(d->dim_names, (d->n_dims + 1) * sizeof *nd);
        if (!nd) {
            free(name);
            return -1;
        }
        d->dim_names = nd;
        d->dim_names[d->n_dims++] = name;
    }
}

static void data_free(report_data *d)
{
    free(d->name);
    free(d->spec);
    free(d->spec_file);
    free(d->created_at);
    for (size_t i = 0; i < d->n_classes && d->class_names; i++)
        free(d->class_names[i]);
    free(d->class_names);
    for (size_t i = 0; i < d->n_dims; i++)
        free(d->dim_names[i]);
    free(d->dim_names);
    for (size_t i = 0; i < d->n_points; i++) {
        free(d->points[i].label);
        free(d->points[i].params_json);
        free(d->points[i].trials);
    }
    free(d->points);
    for (size_t i = 0; i < d->n_trials; i++) {
        report_trial *t = &d->trials[i];
        free(t->loss);
        free(t->accuracy);
        free(t->val_loss);
        free(t->val_accuracy);
        free(t->cm);
        free(t->grid);
    }
    free(d->trials);
    report_dataset_free(&d->dataset);
    memset(d, 0, sizeof *d);
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

/* Finds the experiment id from the options. */
static int resolve_experiment(sqlite3 *db, const report_options *o,
                              long long *id, report_error *err)
{
    sqlite3_stmt *st = NULL;
    *id = 0;
    if (o->trial_id > 0) {
        if (prepare(db, "SELECT experiment_id FROM trials WHERE id = ?", &st, err))
            return -1;
        sqlite3_bind_int64(st, 1, o->trial_id);
        if (sqlite3_step(st) == SQLITE_ROW)
            *id = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        if (!*id) {
            set_err(err, 1, "no trial with id %lld in %s", o->trial_id, o->db_path);
            return -1;
        }
        if (!o->experiment)
            return 0;
    }
    long long want = 0;
    if (o->experiment) {
        /* A name first (a name may be all digits), then an id. */
        if (prepare(db, "SELECT id FROM experiments WHERE name = ? ORDER BY id DESC LIMIT 1",
                    &st, err))
            return -1;
        sqlite3_bind_text(st, 1, o->experiment, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            want = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        if (!want && all_digits(o->experiment) && strlen(o->experiment) < 18) {
            long long v = strtoll(o->experiment, NULL, 10);
            if (prepare(db, "SELECT id FROM experiments WHERE id = ?", &st, err))
                return -1;
            sqlite3_bind_int64(st, 1, v);
            if (sqlite3_step(st) == SQLITE_ROW)
                want = v;
            sqlite3_finalize(st);
        }
        if (!want) {
            set_err(err, 1, "no experiment named or numbered '%s' in %s",
                    o->experiment, o->db_path);
            return -1;
        }
        if (*id && *id != want) {
            set_err(err, 1, "trial %lld belongs to experiment %lld, not to '%s'",
                    o->trial_id, *id, o->experiment);
            return -1;
        }
        *id = want;
        return 0;
    }
    if (prepare(db, "SELECT id FROM experiments ORDER BY id DESC LIMIT 1", &st, err))
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (!*id) {
        set_err(err, 1, "%s holds no experiment yet (run `runexp SPEC` first)",
                o->db_path);
        return -1;
    }
    return 0;
}

/* Label of a sweep point from the typed trial_params rows of one of its
 * trials, in sweep order: "hidden = 4, lr = 0.01". */
static int point_label(sqlite3 *db, const report_data *d, long long trial_id,
                       report_point *p, report_error *err)
{
    sqlite3_stmt *st = NULL;
    if (prepare(db, "SELECT name, value, typeof(value) FROM trial_params "
                    "WHERE trial_id = ? ORDER BY name", &st, err))
        return -1;
    sqlite3_bind_int64(st, 1, trial_id);
    size_t cap = 64, len = 0;
    char *label = malloc(cap);
    int n_values = 0, n_numeric = 0;
    double value = NAN;
    /* Collect (order, text) so the label follows sweep_dims. */
    struct kv { size_t order; char *text; } *kvs = NULL;
    size_t n_kv = 0;
    if (!label)
        goto oom;
    label[0] = '\0';
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *name = col_text(st, 0);
        const char *type = col_text(st, 2);
        char *text;
        if (!strcmp(type, "integer")) {
            text = xprintf("%s = %lld", name, (long long)sqlite3_column_int64(st, 1));
            n_numeric++;
            value = (double)sqlite3_column_int64(st, 1);
        } else if (!strcmp(type, "real")) {
            text = xprintf("%s = %g", name, sqlite3_column_double(st, 1));
            n_numeric++;
            value = sqlite3_column_double(st, 1);
        } else {
            text = xprintf("%s = %s", name, col_text(st, 1));
        }
        if (!text)
            goto oom;
        size_t order = d->n_dims;
        for (size_t i = 0; i < d->n_dims; i++)
            if (!strcmp(d->dim_names[i], name))
                order = i;
        struct kv *nk = realloc(kvs, (n_kv + 1) * sizeof *nk);
        if (!nk) {
            free(text);
            goto oom;
        }
        kvs = nk;
        kvs[n_kv].order = order;
        kvs[n_kv].text = text;
        n_kv++;
        n_values++;
    }
    sqlite3_finalize(st);
    st = NULL;
    /* Stable insertion sort by sweep order (names already sorted). */
    for (size_t i = 1; i < n_kv; i++)
        for (size_t j = i; j > 0 && kvs[j - 1].order > kvs[j].order; j--) {
            struct kv t = kvs[j];
            kvs[j] = kvs[j - 1];
            kvs[j - 1] = t;
        }
    for (size_t i = 0; i < n_kv; i++) {
        size_t need = len + strlen(kvs[i].text) + 3;
        if (need > cap) {
            char *nl = realloc(label, need * 2);
            if (!nl)
                goto oom;
            label = nl;
            cap = need * 2;
        }
        len += (size_t)sprintf(label + len, "%s%s", i ? ", " : "", kvs[i].text);
    }
    for (size_t i = 0; i < n_kv; i++)
        free(kvs[i].text);
    free(kvs);
    p->label = label;
    p->numeric = n_values == 1 && n_numeric == 1;
    p->value = p->numeric ? value : NAN;
    return 0;
oom:
    sqlite3_finalize(st);
    for (size_t i = 0; i < n_kv; i++)
        free(kvs[i].text);
    free(kvs);
    free(label);
    set_err(err, 0, "out of memory");
    return -1;
}

static int load_trial_details(sqlite3 *db, report_data *d, report_trial *t,
                              report_error *err)
{
    sqlite3_stmt *st = NULL;
    /* history */
    if (prepare(db, "SELECT epoch, loss, accuracy, val_loss, val_accuracy FROM epochs "
                    "WHERE trial_id = ? AND epoch >= 1 AND epoch <= 1000000 ORDER BY epoch",
                &st, err))
        return -1;
    sqlite3_bind_int64(st, 1, t->id);
    size_t cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        size_t e = (size_t)sqlite3_column_int64(st, 0);
        if (e > cap) {
            size_t nc = cap ? cap : 64;
            while (nc < e)
                nc *= 2;
            double **arrs[4] = {&t->loss, &t->accuracy, &t->val_loss, &t->val_accuracy};
            for (int a = 0; a < 4; a++) {
                double *na = realloc(*arrs[a], nc * sizeof *na);
                if (!na)
                    goto oom;
                for (size_t i = cap; i < nc; i++)
                    na[i] = NAN;
                *arrs[a] = na;
            }
            cap = nc;
        }
        t->loss[e - 1] = col_real(st, 1);
        t->accuracy[e - 1] = col_real(st, 2);
        t->val_loss[e - 1] = col_real(st, 3);
        t->val_accuracy[e - 1] = col_real(st, 4);
        if (e > t->n_epochs)
            t->n_epochs = e;
    }
    sqlite3_finalize(st);
    st = NULL;

    /* test confusion matrix */
    size_t k = d->n_classes;
    if (k > 0) {
        if (prepare(db, "SELECT true_class, predicted_class, count FROM confusion "
                        "WHERE trial_id = ? AND split = 'test' "
                        "ORDER BY true_class, predicted_class", &st, err))
            return -1;
        sqlite3_bind_int64(st, 1, t->id);
        while (sqlite3_step(st) == SQLITE_ROW) {
            long long i = sqlite3_column_int64(st, 0), j = sqlite3_column_int64(st, 1);
            long long c = sqlite3_column_int64(st, 2);
            if (i < 0 || j < 0 || (size_t)i >= k || (size_t)j >= k || c < 0)
                continue;
            if (!t->cm) {
                t->cm = xcalloc(k * k, sizeof *t->cm);
                if (!t->cm)
                    goto oom;
            }
            t->cm[(size_t)i * k + (size_t)j] = (uint32_t)(c > UINT32_MAX ? UINT32_MAX : c);
        }
        sqlite3_finalize(st);
        st = NULL;
    }

    /* decision-boundary grid */
    if (prepare(db, "SELECT x0_min, x0_max, x1_min, x1_max, resolution, classes "
                    "FROM grids WHERE trial_id = ?", &st, err))
        return -1;
    sqlite3_bind_int64(st, 1, t->id);
    if (sqlite3_step(st) == SQLITE_ROW) {
        long long res = sqlite3_column_int64(st, 4);
        const void *blob = sqlite3_column_blob(st, 5);
        int bytes = sqlite3_column_bytes(st, 5);
        if (res >= 2 && res <= 4096 && blob && (long long)bytes == res * res) {
            t->grid = malloc((size_t)bytes);
            if (!t->grid)
                goto oom;
            memcpy(t->grid, blob, (size_t)bytes);
            t->grid_x0[0] = sqlite3_column_double(st, 0);
            t->grid_x0[1] = sqlite3_column_double(st, 1);
            t->grid_x1[0] = sqlite3_column_double(st, 2);
            t->grid_x1[1] = sqlite3_column_double(st, 3);
            t->grid_res = (size_t)res;
            t->has_grid = 1;
        }
    }
    sqlite3_finalize(st);
    return 0;
oom:
    sqlite3_finalize(st);
    set_err(err, 0, "out of memory");
    return -1;
}

static int load_data(sqlite3 *db, long long exp_id, long long trial_id,
                     report_data *d, report_error *err)
{
    sqlite3_stmt *st = NULL;
    d->experiment_id = exp_id;
    d->single_trial = trial_id > 0;
    if (prepare(db, "SELECT name, spec, spec_file, created_at, sweep_dims "
                    "FROM experiments WHERE id = ?", &st, err))
        return -1;
    sqlite3_bind_int64(st, 1, exp_id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        set_err(err, 1, "experiment %lld vanished from the database", exp_id);
        return -1;
    }
    d->name = strdup(col_text(st, 0));
    d->spec = strdup(col_text(st, 1));
    d->spec_file = strdup(col_text(st, 2));
    d->created_at = strdup(col_text(st, 3));
    if (sqlite3_column_type(st, 4) == SQLITE_TEXT && parse_dims(col_text(st, 4), d)) {
        /* Unparsable: forget the partial list, labels use name order. */
        for (size_t i = 0; i < d->n_dims; i++)
            free(d->dim_names[i]);
        d->n_dims = 0;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (!d->name || !d->spec || !d->spec_file || !d->created_at)
        goto oom;

    /* classes: names from the classes table; the count also covers any
     * class index seen in a confusion matrix. */
    long long k = 0;
    if (prepare(db, "SELECT max(c) FROM (SELECT max(class_index) + 1 AS c FROM classes "
                    "WHERE experiment_id = ?1 UNION ALL SELECT max(max(true_class), "
                    "max(predicted_class)) + 1 FROM confusion JOIN trials t "
                    "ON t.id = confusion.trial_id WHERE t.experiment_id = ?1)",
                &st, err))
        return -1;
    sqlite3_bind_int64(st, 1, exp_id);
    if (sqlite3_step(st) == SQLITE_ROW)
        k = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    if (k < 0 || k > 1000)
        k = 0;
    d->n_classes = (size_t)k;
    d->class_names = xcalloc(d->n_classes, sizeof *d->class_names);
    if (!d->class_names)
        goto oom;
    if (prepare(db, "SELECT class_index, name FROM classes WHERE experiment_id = ? "
                    "ORDER BY class_index", &st, err))
        return -1;
    sqlite3_bind_int64(st, 1, exp_id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        long long c = sqlite3_column_int64(st, 0);
        if (c >= 0 && c < k && !d->class_names[c]) {
            d->class_names[c] = strdup(col_text(st, 1));
            if (!d->class_names[c])
                goto oom;
        }
    }
    sqlite3_finalize(st);
    st = NULL;
    for (size_t c = 0; c < d->n_classes; c++)
        if (!d->class_names[c] && !(d->class_names[c] = xprintf("%zu", c)))
            goto oom;

    /* trials, by sweep point then seed */
    if (prepare(db, "SELECT id, point_index, seed, status, test_accuracy, test_loss, params "
                    "FROM trials WHERE experiment_id = ?1 AND (?2 = 0 OR id = ?2) "
                    "ORDER BY point_index, seed, id", &st, err))
        return -1;
    sqlite3_bind_int64(st, 1, exp_id);
    sqlite3_bind_int64(st, 2, trial_id);
    size_t cap_t = 0, cap_p = 0;
    long long last_point = -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        long long pidx = sqlite3_column_int64(st, 1);
        if (d->n_points == 0 || pidx != last_point) {
            if (d->n_points == cap_p) {
                size_t nc = cap_p ? cap_p * 2 : 8;
                report_point *np = realloc(d->points, nc * sizeof *np);
                if (!np)
                    goto oom;
                d->points = np;
                cap_p = nc;
            }
            report_point *p = &d->points[d->n_points++];
            memset(p, 0, sizeof *p);
            p->index = (size_t)(pidx < 0 ? 0 : pidx);
            p->params_json = strdup(col_text(st, 6));
            p->trials = xcalloc(1, sizeof *p->trials);
            if (!p->params_json || !p->trials)
                goto oom;
            /* Remember the trial that names the point in `median` for now. */
            p->median = (size_t)sqlite3_column_int64(st, 0);
            last_point = pidx;
        }
        report_point *p = &d->points[d->n_points - 1];
        if (strcmp(col_text(st, 3), "done")) {
            p->n_other++;
            continue;
        }
        if (d->n_trials == cap_t) {
            size_t nc = cap_t ? cap_t * 2 : 16;
            report_trial *nt = realloc(d->trials, nc * sizeof *nt);
            if (!nt)
                goto oom;
            d->trials = nt;
            cap_t = nc;
        }
        report_trial *t = &d->trials[d->n_trials];
        memset(t, 0, sizeof *t);
        t->id = sqlite3_column_int64(st, 0);
        t->point = d->n_points - 1;
        t->seed = sqlite3_column_int64(st, 2);
        t->test_accuracy = col_real(st, 4);
        t->test_loss = col_real(st, 5);
        size_t *nt = realloc(p->trials, (p->n_trials + 1) * sizeof *nt);
        if (!nt)
            goto oom;
        p->trials = nt;
        p->trials[p->n_trials++] = d->n_trials;
        d->n_trials++;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (d->n_points == 0) {
        set_err(err, 1, "experiment '%s' (id %lld) has no trials", d->name, exp_id);
        return -1;
    }

    for (size_t i = 0; i < d->n_points; i++) {
        report_point *p = &d->points[i];
        if (point_label(db, d, (long long)p->median, p, err))
            return -1;
        p->median = 0;
        if (p->n_trials == 0)
            continue;
        double *acc = xcalloc(p->n_trials, sizeof *acc);
        long long *seeds = xcalloc(p->n_trials, sizeof *seeds);
        if (!acc || !seeds) {
            free(acc);
            free(seeds);
            goto oom;
        }
        for (size_t j = 0; j < p->n_trials; j++) {
            acc[j] = d->trials[p->trials[j]].test_accuracy;
            seeds[j] = d->trials[p->trials[j]].seed;
        }
        p->median = p->trials[report_median_index(acc, seeds, p->n_trials)];
        free(acc);
        free(seeds);
    }
    for (size_t i = 0; i < d->n_trials; i++)
        if (load_trial_details(db, d, &d->trials[i], err))
            return -1;
    return 0;
oom:
    sqlite3_finalize(st);
    set_err(err, 0, "out of memory");
    return -1;
}

/* ---- output directory ----------------------------------------------------- */

/* A path for a message: as it is, or when longer than 200 bytes its start
 * and end with the length, so the reason that follows it still fits the
 * 1 kB message (a 10 kB --out would otherwise push it out). */
static void path_for_message(char *buf, size_t size, const char *path)
{
    size_t n = strlen(path);
    if (n <= 200)
        snprintf(buf, size, "%s", path);
    else
        snprintf(buf, size, "%.120s...%s (%zu bytes)", path, path + n - 60, n);
}

static int mkdir_p(const char *path, report_error *err)
{
    char *p = strdup(path);
    if (!p) {
        set_err(err, 0, "out of memory");
        return -1;
    }
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                int e = errno;
                char shown[320];
                path_for_message(shown, sizeof shown, p);
                set_err(err, 0, "cannot create directory %s: %s", shown, strerror(e));
                free(p);
                return -1;
            }
            *s = c;
            if (!c)
                break;
        }
    }
    free(p);
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        char shown[320];
        path_for_message(shown, sizeof shown, path);
        set_err(err, 0, "%s is not a directory", shown);
        return -1;
    }
    return 0;
}

/* A name safe as one path component: anything but [A-Za-z0-9._-] -> '_',
 * a leading '.' too, cut to SPEC_NAME_MAX bytes. A name that passed `check`
 * (spec.h) is 1 to SPEC_NAME_MAX bytes, so this is its directory whole;
 * the cut and the empty case are for databases written before names had
 * a rule. */
static char *safe_component(const char *s)
{
    char *r = strndup(*s ? s : "experiment", SPEC_NAME_MAX);
    if (!r)
        return NULL;
    for (char *p = r; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            *p = '_';
    }
    if (r[0] == '.')
        r[0] = '_';
    return r;
}

/* ---- the page ------------------------------------------------------------- */

typedef struct figure {
    char *file;
    char *title;
    char *caption;
} figure;

static void fmt_num(FILE *f, double v, int decimals)
{
    if (isnan(v))
        fputs("&ndash;", f);
    else
        fprintf(f, "%.*f", decimals, v);
}

static int html_summary(FILE *f, sqlite3 *db, const report_data *d,
                        report_error *err)
{
    sqlite3_stmt *st = NULL;
    fputs("<h2 id=\"summary\">Summary per sweep point</h2>\n"
          "<table>\n<tr><th>sweep point</th><th>trials done</th><th>not done</th>"
          "<th>test accuracy mean &plusmn; std</th><th>min &ndash; max</th>"
          "<th>test loss mean</th><th>val. accuracy mean</th><th>best epoch mean</th>"
          "<th>overfit gap mean</th></tr>\n", f);
    if (d->single_trial) {
        if (prepare(db, "SELECT test_accuracy, test_loss, val_accuracy, best_epoch, "
                        "overfit_gap, status FROM trials WHERE id = ?", &st, err))
            return -1;
        sqlite3_bind_int64(st, 1, d->trials ? d->trials[0].id : 0);
        const report_point *p = &d->points[0];
        if (sqlite3_step(st) == SQLITE_ROW) {
            fputs("<tr><td>", f);
            html_text(f, *p->label ? p->label : "(no sweep)");
            fprintf(f, "</td><td>%zu</td><td>%zu</td><td>", p->n_trials, p->n_other);
            fmt_num(f, col_real(st, 0), 4);
            fputs("</td><td>&ndash;</td><td>", f);
            fmt_num(f, col_real(st, 1), 4);
            fputs("</td><td>", f);
            fmt_num(f, col_real(st, 2), 4);
            fputs("</td><td>", f);
            fmt_num(f, col_real(st, 3), 0);
            fputs("</td><td>", f);
            fmt_num(f, col_real(st, 4), 4);
            fputs("</td></tr>\n", f);
        }
        sqlite3_finalize(st);
        fputs("</table>\n", f);
        return 0;
    }
    if (prepare(db, "SELECT point_index, n, test_accuracy_mean, test_accuracy_std, "
                    "test_accuracy_min, test_accuracy_max, test_loss_mean, "
                    "val_accuracy_mean, best_epoch_mean, overfit_gap_mean "
                    "FROM sweep_summary WHERE experiment_id = ? ORDER BY point_index",
                &st, err))
        return -1;
    sqlite3_bind_int64(st, 1, d->experiment_id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        long long pidx = sqlite3_column_int64(st, 0);
        const report_point *p = NULL;
        for (size_t i = 0; i < d->n_points; i++)
            if ((long long)d->points[i].index == pidx)
                p = &d->points[i];
        fputs("<tr><td>", f);
        html_text(f, p && *p->label ? p->label : "(no sweep)");
        fprintf(f, "</td><td>%lld</td><td>%zu</td><td>", (long long)sqlite3_column_int64(st, 1),
                p ? p->n_other : (size_t)0);
        fmt_num(f, col_real(st, 2), 4);
        fputs(" &plusmn; ", f);
        fmt_num(f, col_real(st, 3), 4);
        fputs("</td><td>", f);
        fmt_num(f, col_real(st, 4), 4);
        fputs(" &ndash; ", f);
        fmt_num(f, col_real(st, 5), 4);
        fputs("</td><td>", f);
        fmt_num(f, col_real(st, 6), 4);
        fputs("</td><td>", f);
        fmt_num(f, col_real(st, 7), 4);
        fputs("</td><td>", f);
        fmt_num(f, col_real(st, 8), 1);
        fputs("</td><td>", f);
        fmt_num(f, col_real(st, 9), 4);
        fputs("</td></tr>\n", f);
    }
    sqlite3_finalize(st);
    /* Points where nothing finished do not appear in sweep_summary. */
    for (size_t i = 0; i < d->n_points; i++) {
        const report_point *p = &d->points[i];
        if (p->n_trials)
            continue;
        fputs("<tr><td>", f);
        html_text(f, *p->label ? p->label : "(no sweep)");
        fprintf(f, "</td><td>0</td><td>%zu</td><td colspan=\"6\">no finished trial</td></tr>\n",
                p->n_other);
    }
    fputs("</table>\n", f);
    return 0;
}

/* Per-class precision / recall / F1 / support on the test split, mean and
 * std over the done trials of each sweep point, from the metrics table
 * (names precision_K, recall_K, f1_K, support_K). */
static int html_per_class(FILE *f, sqlite3 *db, const report_data *d,
                          report_error *err)
{
    static const char *const kinds[4] = {"precision", "recall", "f1", "support"};
    size_t k = d->n_classes, np = d->n_points;
    if (k == 0)
        return 0;
    if (np > SIZE_MAX / k / 4 / 3)
        goto oom;
    /* acc[((p * k + c) * 4 + kind) * 3 + {n, sum, sumsq}] */
    double *acc = xcalloc(np * k * 4 * 3, sizeof *acc);
    if (!acc)
        goto oom;
    sqlite3_stmt *st = NULL;
    if (prepare(db, "SELECT t.id, m.name, m.value FROM metrics m JOIN trials t "
                    "ON t.id = m.trial_id WHERE t.experiment_id = ?1 AND t.status = 'done' "
                    "AND (?2 = 0 OR t.id = ?2) AND m.split = 'test' ORDER BY t.id, m.name",
                &st, err)) {
        free(acc);
        return -1;
    }
    sqlite3_bind_int64(st, 1, d->experiment_id);
    sqlite3_bind_int64(st, 2, d->single_trial && d->n_trials ? d->trials[0].id : 0);
    size_t found = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        long long tid = sqlite3_column_int64(st, 0);
        const char *name = col_text(st, 1);
        if (sqlite3_column_type(st, 2) == SQLITE_NULL)
            continue;
        double v = sqlite3_column_double(st, 2);
        int kind = -1;
        const char *num = NULL;
        for (int i = 0; i < 4; i++) {
            size_t l = strlen(kinds[i]);
            if (!strncmp(name, kinds[i], l) && name[l] == '_' && all_digits(name + l + 1)) {
                kind = i;
                num = name + l + 1;
            }
        }
        if (kind < 0 || strlen(num) > 6)
            continue;
        size_t c = (size_t)strtoul(num, NULL, 10);
        if (c >= k)
            continue;
        size_t p = np;
        for (size_t i = 0; i < d->n_trials; i++)
            if (d->trials[i].id == tid)
                p = d->trials[i].point;
        if (p >= np)
            continue;
        double *a = &acc[((p * k + c) * 4 + (size_t)kind) * 3];
        a[0] += 1;
        a[1] += v;
        a[2] += v * v;
        found++;
    }
    sqlite3_finalize(st);
    fputs("<h2 id=\"per-class\">Per-class figures (test split)</h2>\n", f);
    if (!found) {
        fputs("<p>The database holds no per-class metrics for this experiment.</p>\n", f);
        free(acc);
        return 0;
    }
    fputs("<p>Mean &plusmn; standard deviation over the finished seeds of each sweep "
          "point; support is the number of test rows of the class.</p>\n<table>\n<tr>", f);
    if (np > 1)
        fputs("<th>sweep point</th>", f);
    fputs("<th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>\n", f);
    for (size_t p = 0; p < np; p++) {
        for (size_t c = 0; c < k; c++) {
            fputs("<tr>", f);
            if (np > 1) {
                fputs("<td>", f);
                html_text(f, d->points[p].label);
                fputs("</td>", f);
            }
            fputs("<td>", f);
            html_text(f, d->class_names[c]);
            fputs("</td>", f);
            for (int kind = 0; kind < 4; kind++) {
                const double *a = &acc[((p * k + c) * 4 + (size_t)kind) * 3];
                fputs("<td>", f);
                if (a[0] == 0) {
                    fputs("&ndash;", f);
                } else {
                    double mean = a[1] / a[0];
                    double var = a[0] > 1 ? (a[2] - a[1] * a[1] / a[0]) / (a[0] - 1) : 0;
                    if (kind == 3)
                        fprintf(f, "%.1f", mean);
                    else if (a[0] > 1)
                        fprintf(f, "%.3f &plusmn; %.3f", mean, sqrt(var > 0 ? var : 0));
                    else
                        fprintf(f, "%.3f", mean);
                }
                fputs("</td>", f);
            }
            fputs("</tr>\n", f);
        }
    }
    fputs("</table>\n", f);
    free(acc);
    return 0;
oom:
    set_err(err, 0, "out of memory");
    return -1;
}

static int write_html(const char *path, sqlite3 *db, const report_data *d,
                      const figure *figs, size_t n_figs, report_format fmt,
                      report_error *err)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        set_err(err, 0, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>", f);
    html_text(f, d->name);
    fputs(" &ndash; runexp report</title>\n"
          "<style>\n"
          "body{font-family:sans-serif;max-width:1060px;margin:1em auto;padding:0 1em;"
          "color:#222;line-height:1.4}\n"
          "table{border-collapse:collapse;margin:.5em 0 1.5em}\n"
          "th,td{border:1px solid #bbb;padding:.25em .6em;text-align:right}td{white-space:nowrap}\n"
          "th{background:#eee}td:first-child{text-align:left}\n"
          "figure{margin:1.5em 0}img{max-width:100%;height:auto;border:1px solid #ddd}\n"
          "figcaption{font-size:.95em;color:#444}\n"
          "pre{background:#f6f6f6;border:1px solid #ddd;padding:.6em;overflow:auto}\n"
          "</style>\n</head>\n<body>\n<h1>", f);
    html_text(f, d->name);
    if (d->single_trial && d->n_trials)
        fprintf(f, ", trial %lld", d->trials[0].id);
    else if (d->single_trial)
        fputs(", one trial", f);
    fprintf(f, "</h1>\n<p>Experiment %lld, created ", d->experiment_id);
    html_text(f, d->created_at);
    if (*d->spec_file) {
        fputs(" from <code>", f);
        html_text(f, d->spec_file);
        fputs("</code>", f);
    }
    size_t n_other = 0;
    for (size_t i = 0; i < d->n_points; i++)
        n_other += d->points[i].n_other;
    fprintf(f, ". %zu sweep point%s, %zu finished trial%s", d->n_points,
            d->n_points == 1 ? "" : "s", d->n_trials, d->n_trials == 1 ? "" : "s");
    if (n_other)
        fprintf(f, ", %zu not finished (failed, diverged, interrupted or queued)", n_other);
    fputs(".</p>\n", f);

    if (html_summary(f, db, d, err) || html_per_class(f, db, d, err)) {
        fclose(f);
        return -1;
    }

    fputs("<h2 id=\"figures\">Figures</h2>\n", f);
    for (size_t i = 0; i < n_figs; i++) {
        char *file = report_html_escape(figs[i].file);
        if (!file) {
            fclose(f);
            set_err(err, 0, "out of memory");
            return -1;
        }
        fputs("<figure>\n", f);
        if (fmt == REPORT_FORMAT_PDF) {
            /* Browsers do not show PDF in <img>: link it. */
            fprintf(f, "<p><a href=\"%s\">", file);
            html_text(f, figs[i].title);
            fprintf(f, " (%s)</a></p>\n", file);
        } else {
            fprintf(f, "<img src=\"%s\" alt=\"", file);
            html_text(f, figs[i].title);
            fputs("\">\n", f);
        }
        fputs("<figcaption><b>", f);
        html_text(f, figs[i].title);
        fputs(".</b> ", f);
        html_text(f, figs[i].caption);
        fputs("</figcaption>\n</figure>\n", f);
        free(file);
    }

    fputs("<h2 id=\"spec\">Spec</h2>\n<pre>", f);
    html_text(f, d->spec);
    fputs("</pre>\n", f);
    /* The inline check the headless-browser test reads: how many images
     * decoded once the page finished loading. No network, no external JS. */
    fputs("<script>\n"
          "window.addEventListener('load', function () {\n"
          "  var im = document.images, ok = 0;\n"
          "  for (var i = 0; i < im.length; i++)\n"
          "    if (im[i].complete && im[i].naturalWidth > 0) ok++;\n"
          "  document.body.setAttribute('data-images', ok + '/' + im.length);\n"
          "});\n"
          "</script>\n</body>\n</html>\n", f);
    if (fclose(f) != 0) {
        set_err(err, 0, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- the whole report ----------------------------------------------------- */

/* cairo (1.16) stamps every PDF with the current time as /CreationDate and
 * has no SOURCE_DATE_EPOCH support, and PLplot does not expose cairo's
 * metadata call: so the 14 digits of that date are overwritten in place
 * (same length, the xref offsets stay valid) with the experiment's creation
 * time. Then the same database gives the same PDF bytes too. */
static void pdf_pin_date(const char *path, const char *created_at)
{
    char digits[15] = "20000101000000";
    size_t n = 0;
    for (const char *p = created_at; *p && n < 14; p++)
        if (*p >= '0' && *p <= '9')
            digits[n++] = *p;
    if (n < 14)
        memcpy(digits, "20000101000000", 14);
    size_t len = 0;
    FILE *f = fopen(path, "r+b");
    if (!f)
        return;
    char buf[4096];
    static const char key[] = "/CreationDate (D:";
    size_t klen = sizeof key - 1;
    long base = 0;
    /* Overlapping reads so the key is found across block boundaries. */
    for (;;) {
        if (fseek(f, base, SEEK_SET) != 0)
            break;
        len = fread(buf, 1, sizeof buf, f);
        if (len < klen + 14)
            break;
        for (size_t i = 0; i + klen + 14 <= len; i++) {
            if (memcmp(buf + i, key, klen))
                continue;
            int ok = 1;
            for (size_t j = 0; j < 14; j++)
                if (buf[i + klen + j] < '0' || buf[i + klen + j] > '9')
                    ok = 0;
            if (ok && fseek(f, base + (long)(i + klen), SEEK_SET) == 0)
                fwrite(digits, 1, 14, f);
            fclose(f);
            return;
        }
        if (len < sizeof buf)
            break;
        base += (long)(len - (klen + 14));
    }
    fclose(f);
}

static int add_figure(figure **figs, size_t *n, char *file, char *title,
                      char *caption)
{
    figure *nf = realloc(*figs, (*n + 1) * sizeof *nf);
    if (!nf || !file || !title || !caption) {
        if (nf)
            *figs = nf;
        free(file);
        free(title);
        free(caption);
        return -1;
    }
    *figs = nf;
    nf[*n].file = file;
    nf[*n].title = title;
    nf[*n].caption = caption;
    (*n)++;
    return 0;
}

static char *join_path(const char *dir, const char *file)
{
    size_t l = strlen(dir);
    return xprintf("%s%s%s", dir, l && dir[l - 1] == '/' ? "" : "/", file);
}

int report_generate(const report_options *o, report_output *out,
                    report_error *err)
{
    sqlite3 *db = NULL;
    report_data d;
    figure *figs = NULL;
    size_t n_figs = 0;
    char *dir = NULL, *path = NULL;
    int rc = -1;
    memset(&d, 0, sizeof d);
    if (out)
        memset(out, 0, sizeof *out);
    if (err) {
        err->input = 0;
        err->message[0] = '\0';
    }
    if (!o || !o->db_path) {
        set_err(err, 1, "no database given");
        return -1;
    }
    if (access(o->db_path, F_OK) != 0) {
        set_err(err, 1, "no results database at %s (run `runexp SPEC` first, or give --db FILE)",
                o->db_path);
        return -1;
    }
    if (sqlite3_open_v2(o->db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        set_err(err, 1, "cannot open %s: %s", o->db_path, db ? sqlite3_errmsg(db) : "?");
        goto done;
    }
    sqlite3_busy_timeout(db, 5000);
    {
        sqlite3_stmt *st = NULL;
        int n = 0;
        if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                                   "AND name IN ('experiments', 'trials', 'epochs')",
                               -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        if (n != 3) {
            set_err(err, 1, "%s is not a runexp results database", o->db_path);
            goto done;
        }
    }
    long long exp_id;
    if (resolve_experiment(db, o, &exp_id, err))
        goto done;
    if (load_data(db, exp_id, o->trial_id, &d, err))
        goto done;

    /* Output directory. */
    if (o->out_dir) {
        dir = strdup(o->out_dir);
    } else {
        char *safe = safe_component(d.name);
        if (safe) {
            if (o->trial_id > 0)
                dir = xprintf("results/%s/trial_%lld", safe, o->trial_id);
            else
                dir = xprintf("results/%s", safe);
        }
        free(safe);
    }
    if (!dir) {
        set_err(err, 0, "out of memory");
        goto done;
    }
    if (mkdir_p(dir, err))
        goto done;

    /* The dataset preview shows the data of the first finished trial (the
     * smallest seed of the first sweep point). */
    {
        const report_trial *t0 = NULL;
        for (size_t i = 0; i < d.n_points && !t0; i++)
            if (d.points[i].n_trials)
                t0 = &d.trials[d.points[i].trials[0]];
        if (t0)
            report_dataset_rebuild(d.spec, d.spec_file, d.points[t0->point].index,
                                   t0->seed, &d.dataset);
    }

    report_plot_cfg cfg;
    cfg.format = o->format;
    cfg.width = o->width > 0 ? o->width : REPORT_DEFAULT_WIDTH;
    cfg.height = o->height > 0 ? o->height : REPORT_DEFAULT_HEIGHT;
    const char *ext = report_format_ext(o->format);
    size_t n_seeds_max = 0;
    for (size_t i = 0; i < d.n_points; i++)
        if (d.points[i].n_trials > n_seeds_max)
            n_seeds_max = d.points[i].n_trials;
    const char *band = d.single_trial || n_seeds_max < 2
                           ? "One trial: its own history."
                           : "Line: mean over the finished seeds of each sweep point; "
                             "shaded band: mean \xc2\xb1 1 standard deviation over those seeds.";

    for (int which = 0; which < 2; which++) {
        char *file = xprintf("curves_%s.%s", which ? "loss" : "accuracy", ext);
        free(path);
        path = file ? join_path(dir, file) : NULL;
        if (!path) {
            free(file);
            set_err(err, 0, "out of memory");
            goto done;
        }
        int r = report_plot_curves(&d, which, &cfg, path, err);
        if (r < 0) {
            free(file);
            goto done;
        }
        if (r > 0 &&
            add_figure(&figs, &n_figs, file,
                       xprintf("Training curves: %s", which ? "loss" : "accuracy"),
                       xprintf("%s per epoch on the training rows (Keras's running "
                               "mean over the epoch's batches) and on the validation "
                               "rows (after the epoch). %s",
                               which ? "Categorical cross-entropy loss" : "Accuracy", band)))
            goto oom;
        if (r == 0)
            free(file);
    }
    if (!d.single_trial) {
        char *file = xprintf("sweep.%s", ext);
        free(path);
        path = file ? join_path(dir, file) : NULL;
        if (!path) {
            free(file);
            goto oom;
        }
        int r = report_plot_sweep(&d, &cfg, path, err);
        if (r < 0) {
            free(file);
            goto done;
        }
        if (r > 0 &&
            add_figure(&figs, &n_figs, file,
                       strdup(d.n_dims ? "Sweep summary: test accuracy per sweep point"
                                        : "Test accuracy across seeds"),
                       strdup("Test accuracy of every finished seed (small dots, spread "
                               "sideways so they do not hide each other) and their mean "
                               "with a \xc2\xb1" "1 standard deviation error bar.")))
            goto oom;
        if (r == 0)
            free(file);
    }
    for (size_t i = 0; i < d.n_points; i++) {
        const report_point *p = &d.points[i];
        char *file = xprintf("confusion_%zu.%s", p->index, ext);
        free(path);
        path = file ? join_path(dir, file) : NULL;
        if (!path) {
            free(file);
            goto oom;
        }
        int r = report_plot_confusion(&d, i, &cfg, path, err);
        if (r < 0) {
            free(file);
            goto done;
        }
        if (r > 0) {
            const report_trial *t = &d.trials[p->median];
            if (add_figure(&figs, &n_figs, file,
                           *p->label ? xprintf("Confusion matrix, %s", p->label)
                                     : strdup("Confusion matrix"),
                           xprintf("Test split of trial %lld (seed %lld, test accuracy "
                                   "%.4f)%s. Rows: true class, columns: predicted class; "
                                   "each row divided by its number of rows (recall on "
                                   "the diagonal); the count is below the fraction and "
                                   "the row total on the right.",
                                   t->id, t->seed, t->test_accuracy,
                                   p->n_trials > 1 ? ", the median of the seeds by test accuracy"
                                                   : "")))
                goto oom;
        } else {
            free(file);
        }
    }
    {
        char *file = xprintf("boundary.%s", ext);
        free(path);
        path = file ? join_path(dir, file) : NULL;
        if (!path) {
            free(file);
            goto oom;
        }
        int r = report_plot_boundary(&d, &cfg, path, err);
        if (r < 0) {
            free(file);
            goto done;
        }
        if (r > 0 &&
            add_figure(&figs, &n_figs, file, strdup("Decision boundary"),
                       xprintf("Class predicted by the stored final weights at every "
                               "point of the recorded grid (shaded), for the median "
                               "trial of each sweep point. %s",
                               d.dataset.ok && d.dataset.splits.test.n_rows
                                   ? "Dots: the test rows of the trial shown first, "
                                     "coloured by their true class (rebuilt from the "
                                     "spec and the data seed)."
                                   : "The data points could not be rebuilt, so only "
                                     "the regions are shown.")))
            goto oom;
        if (r == 0)
            free(file);
    }
    {
        char *file = xprintf("dataset.%s", ext);
        free(path);
        path = file ? join_path(dir, file) : NULL;
        if (!path) {
            free(file);
            goto oom;
        }
        int r = report_plot_dataset(&d, &cfg, path, err);
        if (r < 0) {
            free(file);
            goto done;
        }
        if (r > 0 &&
            add_figure(&figs, &n_figs, file, strdup("Dataset preview"),
                       d.dataset.source.image_w
                           ? strdup("The first 10 images of the source, as grey levels "
                                     "(white 0, black the largest pixel value), with their "
                                     "labels.")
                           : xprintf("Every row after augmentation, coloured by class, "
                                     "as rebuilt for data seed %lld (train, validation "
                                     "and test together).",
                                     d.dataset.seed)))
            goto oom;
        if (r == 0)
            free(file);
    }

    if (o->format == REPORT_FORMAT_PDF) {
        for (size_t i = 0; i < n_figs; i++) {
            free(path);
            path = join_path(dir, figs[i].file);
            if (!path)
                goto oom;
            pdf_pin_date(path, d.created_at);
        }
    }
    free(path);
    path = join_path(dir, "index.html");
    if (!path)
        goto oom;
    if (write_html(path, db, &d, figs, n_figs, o->format, err))
        goto done;

    if (out) {
        out->files = xcalloc(n_figs + 1, sizeof *out->files);
        out->out_dir = strdup(dir);
        out->experiment = strdup(d.name);
        out->experiment_id = d.experiment_id;
        if (!out->files || !out->out_dir || !out->experiment) {
            report_output_free(out);
            goto oom;
        }
        for (size_t i = 0; i < n_figs; i++) {
            out->files[i] = figs[i].file;
            figs[i].file = NULL;
        }
        out->files[n_figs] = strdup("index.html");
        out->n_files = n_figs + 1;
        if (!out->files[n_figs]) {
            report_output_free(out);
            goto oom;
        }
    }
    rc = 0;
    goto done;
oom:
    set_err(err, 0, "out of memory");
done:
    for (size_t i = 0; i < n_figs; i++) {
        free(figs[i].file);
        free(figs[i].title);
        free(figs[i].caption);
    }
    free(figs);
    free(path);
    free(dir);
    data_free(&d);
    sqlite3_close(db);
    return rc;
}
