/* report: read one experiment from the results database, draw its figures
 * (report_plot.c) and write index.html.
 *
 * Everything the page shows comes from the database, read through the
 * store's reading API (store.h), which returns rows in a fixed order, so the
 * same database gives the same files. The page links its figures by
 * relative path: the directory can be moved or zipped as a whole and opened
 * offline in any browser.
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

#include "spec.h"
#include "sweep.h"
#include "text.h"

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
    free(out->note);
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

char *report_fmt_round(char *buf, size_t size, double v, int decimals)
{
    /* The one rounding rule of every figure runexp shows (text.h). */
    text_fmt_round(buf, size, v, decimals);
    return buf;
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

static void html_text(FILE *f, const char *s)
{
    char *e = report_html_escape(s ? s : "");
    if (e)
        fputs(e, f);
    free(e);
}

/* ---- reading the experiment (store.h) ------------------------------------- */

static void data_free(report_data *d)
{
    for (size_t i = 0; i < d->n_classes && d->class_names; i++)
        free(d->class_names[i]);
    free(d->class_names);
    for (size_t i = 0; i < d->n_points; i++) {
        free(d->points[i].label);
        free(d->points[i].row_label);
        free(d->points[i].col_label);
        for (size_t j = 0; d->points[i].dim_values && j < d->n_dims; j++)
            free(d->points[i].dim_values[j]);
        free(d->points[i].dim_values);
        free(d->points[i].trials);
        data_set_free(&d->points[i].test_rows);
    }
    free(d->points);
    free(d->trials);
    store_trial_list_free(&d->rows);
    store_trial_notes_free(&d->notes);
    free(d->description);
    store_experiment_record_free(&d->exp);
    report_dataset_free(&d->dataset);
    memset(d, 0, sizeof *d);
}

/* Finds the experiment id from the options. */
static int resolve_experiment(store *db, const report_options *o, long long *id,
                              report_error *err)
{
    store_error serr;
    int64_t found = 0;
    int rc;
    *id = 0;
    if (o->trial_id > 0) {
        rc = store_trial_experiment(db, o->trial_id, &found, &serr);
        if (rc < 0) {
            set_err(err, 1, "%s", serr.message);
            return -1;
        }
        if (rc > 0) {
            set_err(err, 1, "no trial with id %lld in %s", o->trial_id, o->db_path);
            return -1;
        }
        *id = found;
        if (!o->experiment)
            return 0;
    }
    rc = store_experiment_find(db, o->experiment, &found, &serr);
    if (rc < 0) {
        set_err(err, 1, "%s", serr.message);
        return -1;
    }
    if (rc > 0) {
        if (o->experiment)
            set_err(err, 1, "no experiment named or numbered '%s' in %s", o->experiment,
                    o->db_path);
        else
            set_err(err, 1, "%s holds no experiment yet (run `runexp SPEC` first)",
                    o->db_path);
        return -1;
    }
    if (*id && *id != found) {
        set_err(err, 1, "trial %lld belongs to experiment %lld, not to '%s'", o->trial_id,
                *id, o->experiment);
        return -1;
    }
    *id = found;
    return 0;
}

/* Label of a sweep point from the typed trial_params rows of one of its
 * trials (by name), put in sweep order: "hidden = 4, lr = 0.01". */
static int point_label(const report_data *d, const store_trial_row *row, report_point *p)
{
    size_t n = row->n_params, len = 0, cap = 1;
    char **text = xcalloc(n, sizeof *text);
    size_t *order = xcalloc(n, sizeof *order), *idx = xcalloc(n, sizeof *idx);
    int n_numeric = 0, rc = -1;
    double value = NAN;
    char *label = NULL;
    if (!text || !order || !idx)
        goto done;
    for (size_t i = 0; i < n; i++) {
        const store_param_value *v = &row->params[i];
        if (v->type == 0) {
            text[i] = xprintf("%s = %lld", v->name, v->i);
            n_numeric++;
            value = (double)v->i;
        } else if (v->type == 1) {
            text[i] = xprintf("%s = %g", v->name, v->r);
            n_numeric++;
            value = v->r;
        } else {
            text[i] = xprintf("%s = %s", v->name, v->s ? v->s : "");
        }
        if (!text[i])
            goto done;
        cap += strlen(text[i]) + 2;
        order[i] = d->n_dims;
        for (size_t j = 0; j < d->n_dims; j++)
            if (!strcmp(d->dim_names[j], v->name))
                order[i] = j;
        idx[i] = i;
    }
    /* Stable insertion sort by sweep order (the rows come sorted by name). */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && order[idx[j - 1]] > order[idx[j]]; j--) {
            size_t t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
    label = malloc(cap);
    p->row_label = malloc(cap);
    p->col_label = malloc(cap);
    if (!label || !p->row_label || !p->col_label) {
        free(label);
        goto done;
    }
    label[0] = p->row_label[0] = p->col_label[0] = '\0';
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(label + len, "%s%s", i ? ", " : "", text[idx[i]]);
    /* Facet labels: the first sweep dimension, and the others. */
    if (d->n_dims >= 2 && n >= 2 && order[idx[0]] == 0) {
        strcpy(p->row_label, text[idx[0]]);
        size_t cl = 0;
        for (size_t i = 1; i < n; i++)
            cl += (size_t)sprintf(p->col_label + cl, "%s%s", i > 1 ? ", " : "", text[idx[i]]);
    }
    p->dim_values = xcalloc(d->n_dims, sizeof *p->dim_values);
    if (!p->dim_values) {
        free(label);
        goto done;
    }
    for (size_t j = 0; j < d->n_dims; j++) {
        const char *v = "";
        for (size_t i = 0; i < n; i++)
            if (order[i] == j)
                v = strstr(text[i], " = ") + 3;
        if (!(p->dim_values[j] = strdup(v))) {
            free(label);
            goto done;
        }
    }
    p->label = label;
    p->numeric = n == 1 && n_numeric == 1;
    p->value = p->numeric ? value : NAN;
    rc = 0;
done:
    for (size_t i = 0; text && i < n; i++)
        free(text[i]);
    free(text);
    free(order);
    free(idx);
    return rc;
}

typedef struct rank_key {
    double acc;
    size_t point;
} rank_key;

/* Best mean test accuracy first, points without one last, ties by index. */
static int rank_key_cmp(const void *a, const void *b)
{
    const rank_key *x = a, *y = b;
    int xn = isnan(x->acc), yn = isnan(y->acc);
    if (xn != yn)
        return xn ? 1 : -1;
    if (!xn && x->acc != y->acc)
        return x->acc > y->acc ? -1 : 1;
    return x->point < y->point ? -1 : (x->point > y->point);
}

static int size_cmp(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : (x > y);
}

/* Index of s in list[0..n), or n when absent. */
static size_t find_label(char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(list[i], s))
            return i;
    return n;
}

/* The points drawn as panels and, with two or more sweep dimensions, the
 * small-multiples grid they go in (report.h). */
static void select_shown(report_data *d)
{
    size_t n = 0;
    if (d->n_points <= REPORT_MAX_PANELS) {
        for (size_t i = 0; i < d->n_points; i++)
            d->shown[n++] = i;
    } else {
        rank_key *k = xcalloc(d->n_points, sizeof *k);
        for (size_t i = 0; i < d->n_points; i++) {
            if (k) {
                k[i].acc = d->points[i].mean_acc;
                k[i].point = i;
            }
        }
        if (k)
            qsort(k, d->n_points, sizeof *k, rank_key_cmp);
        for (size_t i = 0; i < REPORT_MAX_PANELS; i++)
            d->shown[n++] = k ? k[i].point : i;
        free(k);
        qsort(d->shown, n, sizeof *d->shown, size_cmp);
    }
    d->n_shown = n;
    d->facet = 0;
    if (d->n_dims < 2 || n < 2)
        return;
    char *rows[REPORT_MAX_PANELS], *cols[REPORT_MAX_PANELS];
    size_t nr = 0, nc = 0;
    for (size_t i = 0; i < n; i++) {
        const report_point *p = &d->points[d->shown[i]];
        if (!*p->row_label || !*p->col_label)
            return;
        size_t r = find_label(rows, nr, p->row_label);
        size_t c = find_label(cols, nc, p->col_label);
        if (r == nr)
            rows[nr++] = p->row_label;
        if (c == nc)
            cols[nc++] = p->col_label;
        d->cell_row[i] = r;
        d->cell_col[i] = c;
    }
    /* A grid mostly empty (the best points of a large sweep) or too wide to
     * read is drawn as a plain grid of labelled panels instead. */
    if (nc > 6 || nr > 8 || nr * nc > n + n / 2)
        return;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (d->cell_row[i] == d->cell_row[j] && d->cell_col[i] == d->cell_col[j])
                return;
    d->facet = 1;
    d->n_rows = nr;
    d->n_cols = nc;
}

/* Classes (names, with the index for those the database does not name),
 * trials by sweep point then seed, and the median trial of each point. */

/* Keeps the notes of the trials that are not done (the page lists them with
 * their reasons), in plan order. */
static void keep_not_done(store_trial_notes *n)
{
    size_t k = 0;
    for (size_t i = 0; i < n->n; i++) {
        store_trial_note *t = &n->rows[i];
        if (t->status != STORE_DONE) {
            n->rows[k++] = *t;
            continue;
        }
        free(t->error);
        free(t->started_at);
        free(t->finished_at);
    }
    n->n = k;
}
static int load_data(store *db, long long exp_id, long long trial_id, report_data *d,
                     report_error *err)
{
    store_error serr;
    d->experiment_id = exp_id;
    d->single_trial = trial_id > 0;
    int rc = store_experiment_load(db, exp_id, &d->exp, &serr);
    if (rc) {
        if (rc > 0)
            set_err(err, 1, "experiment %lld vanished from the database", exp_id);
        else
            set_err(err, 1, "%s", serr.message);
        return -1;
    }
    d->name = d->exp.name;
    d->spec = d->exp.spec;
    d->spec_file = d->exp.spec_file;
    d->base_dir = d->exp.base_dir;
    d->created_at = d->exp.created_at;
    d->n_dims = d->exp.n_dims;
    d->dim_names = d->exp.dims;

    /* More classes than that is a damaged database: no per-class figures. */
    d->n_classes = d->exp.n_classes > 1000 ? 0 : d->exp.n_classes;
    d->class_names = xcalloc(d->n_classes, sizeof *d->class_names);
    if (!d->class_names)
        goto oom;
    for (size_t i = 0; i < d->exp.n_class_names; i++) {
        const store_class_row *c = &d->exp.class_names[i];
        if (c->index < d->n_classes && !d->class_names[c->index] &&
            !(d->class_names[c->index] = strdup(c->name)))
            goto oom;
    }
    for (size_t c = 0; c < d->n_classes; c++)
        if (!d->class_names[c] && !(d->class_names[c] = xprintf("%zu", c)))
            goto oom;

    store_trial_query q = {.experiment_id = exp_id,
                           .trial_id = trial_id,
                           .what = STORE_READ_PARAMS | STORE_READ_HISTORY |
                                   STORE_READ_CONFUSION | STORE_READ_GRID |
                                   STORE_READ_METRICS,
                           .split = "test",
                           .n_classes = d->n_classes};
    if (store_trials_read(db, &q, &d->rows, &serr)) {
        set_err(err, 1, "%s", serr.message);
        return -1;
    }
    if (d->rows.n == 0) {
        set_err(err, 1, "experiment '%s' (id %lld) has no trials", d->name, exp_id);
        return -1;
    }
    d->points = xcalloc(d->rows.n, sizeof *d->points);
    d->trials = xcalloc(d->rows.n, sizeof *d->trials);
    if (!d->points || !d->trials)
        goto oom;
    for (size_t r = 0; r < d->rows.n; r++) {
        const store_trial_row *row = &d->rows.rows[r];
        if (d->n_points == 0 || row->point_index != d->points[d->n_points - 1].index) {
            /* The point's first trial names it. */
            report_point *p = &d->points[d->n_points++];
            p->index = row->point_index;
            p->params_json = row->params_json;
            if (point_label(d, row, p))
                goto oom;
        }
        report_point *p = &d->points[d->n_points - 1];
        if (row->status != STORE_DONE) {
            p->n_other++;
            continue;
        }
        report_trial *t = &d->trials[d->n_trials];
        t->id = row->id;
        t->point = d->n_points - 1;
        t->seed = (long long)row->seed;
        t->params_json = row->params_json;
        t->test_accuracy = row->test_accuracy;
        t->test_loss = row->test_loss;
        t->n_epochs = row->history.n_epochs;
        t->loss = row->history.loss;
        t->accuracy = row->history.accuracy;
        t->val_loss = row->history.val_loss;
        t->val_accuracy = row->history.val_accuracy;
        t->cm = row->confusion;
        if (row->has_grid) {
            t->has_grid = 1;
            t->grid_x0[0] = row->grid.x0_min;
            t->grid_x0[1] = row->grid.x0_max;
            t->grid_x1[0] = row->grid.x1_min;
            t->grid_x1[1] = row->grid.x1_max;
            t->grid_res = row->grid.resolution;
            t->grid = row->grid.classes;
        }
        t->row = row;
        p->n_trials++;
        d->n_trials++;
    }
    /* Each point's trials are consecutive in d->trials (rows come by
     * point): one allocation per point, no regrowing. */
    for (size_t i = 0, next = 0; i < d->n_points; i++) {
        report_point *p = &d->points[i];
        p->trials = xcalloc(p->n_trials, sizeof *p->trials);
        if (!p->trials)
            goto oom;
        for (size_t j = 0; j < p->n_trials; j++)
            p->trials[j] = next++;
    }

    for (size_t i = 0; i < d->n_points; i++) {
        report_point *p = &d->points[i];
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
        double sum = 0;
        size_t n = 0;
        for (size_t j = 0; j < p->n_trials; j++)
            if (isfinite(acc[j])) {
                sum += acc[j];
                n++;
            }
        p->mean_acc = n ? sum / (double)n : NAN;
        free(acc);
        free(seeds);
    }
    for (size_t i = 0; i < d->n_points; i++)
        if (d->points[i].n_trials == 0)
            d->points[i].mean_acc = NAN;
    if (!d->single_trial && store_trial_notes_read(db, exp_id, 0, &d->notes, &serr)) {
        set_err(err, 1, "%s", serr.message);
        return -1;
    }
    keep_not_done(&d->notes);
    select_shown(d);
    return 0;
oom:
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

static char *join_path(const char *dir, const char *file)
{
    size_t l = strlen(dir);
    return xprintf("%s%s%s", dir, l && dir[l - 1] == '/' ? "" : "/", file);
}

/* ---- the page ------------------------------------------------------------- */

typedef struct figure {
    char *file;
    char *title;
    char *caption;
} figure;

static void fmt_num(FILE *f, double v, int decimals)
{
    char b[64];
    if (isnan(v))
        fputs("&ndash;", f);
    else
        fputs(report_fmt_round(b, sizeof b, v, decimals), f);
}

/* "1 trial", "2 trials". */
static const char *plural(size_t n) { return n == 1 ? "" : "s"; }

/* The cells naming a sweep point: one per sweep dimension, or its label. */
static void html_point_cells(FILE *f, const report_data *d, const report_point *p)
{
    if (d->n_dims == 0) {
        fputs("<td>", f);
        html_text(f, *p->label ? p->label : "(no sweep)");
        fputs("</td>", f);
        return;
    }
    for (size_t j = 0; j < d->n_dims; j++) {
        fputs(j ? "<td class=\"l\">" : "<td>", f);
        html_text(f, p->dim_values[j]);
        fputs("</td>", f);
    }
}

static void html_point_heads(FILE *f, const report_data *d)
{
    if (d->n_dims == 0) {
        fputs("<th>sweep point</th>", f);
        return;
    }
    for (size_t j = 0; j < d->n_dims; j++) {
        fputs("<th>", f);
        html_text(f, d->dim_names[j]);
        fputs("</th>", f);
    }
}

/* The point with database index idx (points are sorted by it), or NULL. */
static const report_point *point_by_index(const report_data *d, size_t idx)
{
    size_t lo = 0, hi = d->n_points;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->points[mid].index < idx)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < d->n_points && d->points[lo].index == idx ? &d->points[lo] : NULL;
}

static int is_shown(const report_data *d, size_t point)
{
    for (size_t i = 0; i < d->n_shown; i++)
        if (d->shown[i] == point)
            return 1;
    return 0;
}

/* model.summary() of each distinct model of the stored spec's plan (as
 * `runexp check` prints it); nothing when the spec no longer builds. */
static void html_models(FILE *f, const report_data *d)
{
    spec_diagnostics diags;
    spec_diagnostics_init(&diags);
    const char *file = d->spec_file && *d->spec_file ? d->spec_file : "spec.yaml";
    spec_document *doc = spec_document_parse(d->spec, strlen(d->spec), file,
                                             d->base_dir && *d->base_dir ? d->base_dir : ".",
                                             &diags);
    sweep_plan plan;
    sweep_models models;
    if (doc && sweep_plan_build(doc, &plan, &diags) == 0) {
        if (sweep_plan_models(&plan, &models) == 0) {
            fputs("<h2 id=\"model\">Model</h2>\n", f);
            for (size_t k = 0; k < models.n; k++) {
                if (models.n > 1) {
                    fputs("<p>Points", f);
                    for (size_t i = 0; i < plan.n_points; i++)
                        if (models.model_of[i] == k) {
                            fprintf(f, " %zu ", i);
                            html_text(f, plan.points[i].params_json);
                        }
                    fputs(":</p>\n", f);
                }
                fputs("<pre>", f);
                html_text(f, models.summary[k]);
                fputs("</pre>\n", f);
            }
            sweep_models_free(&models);
        }
        sweep_plan_free(&plan);
    }
    spec_document_free(doc);
    spec_diagnostics_free(&diags);
}

static int html_summary(FILE *f, store *db, const report_data *d, report_error *err)
{
    fputs("<h2 id=\"summary\">Summary per sweep point</h2>\n", f);
    if (!d->single_trial && d->n_points > d->n_shown)
        fprintf(f, "<p>The panels of the figures show the %zu sweep points with the best mean "
                   "test accuracy (marked &#9733; here); the sweep figure shows all %zu.</p>\n",
                d->n_shown, d->n_points);
    int mark = !d->single_trial && d->n_points > d->n_shown;
    fputs("<div class=\"wide\"><table>\n<tr>", f);
    html_point_heads(f, d);
    if (mark)
        fputs("<th>panels</th>", f);
    fputs("<th>trials done</th><th>not done</th>"
          "<th>test accuracy mean &plusmn; std</th><th>min &ndash; max</th>"
          "<th>test loss mean</th><th>val. accuracy mean</th><th>best epoch mean</th>"
          "<th>overfit gap mean</th></tr>\n", f);
    if (d->single_trial) {
        const report_point *p = &d->points[0];
        if (d->n_trials) {
            const store_trial_row *t = d->trials[0].row;
            fputs("<tr>", f);
            html_point_cells(f, d, p);
            fprintf(f, "<td>%zu</td><td>%zu</td><td>", p->n_trials, p->n_other);
            fmt_num(f, t->test_accuracy, 4);
            fputs("</td><td>&ndash;</td><td>", f);
            fmt_num(f, t->test_loss, 4);
            fputs("</td><td>", f);
            fmt_num(f, t->val_accuracy, 4);
            fputs("</td><td>", f);
            fmt_num(f, t->best_epoch, 0);
            fputs("</td><td>", f);
            fmt_num(f, t->overfit_gap, 4);
            fputs("</td></tr>\n", f);
        }
        fputs("</table></div>\n", f);
        return 0;
    }
    store_summary sum;
    store_error serr;
    if (store_summary_read(db, d->experiment_id, &sum, &serr)) {
        set_err(err, 1, "%s", serr.message);
        return -1;
    }
    size_t r = 0;
    /* In point order; a point where nothing finished has no sweep_summary row. */
    for (size_t i = 0; i < d->n_points; i++) {
        const report_point *p = &d->points[i];
        while (r < sum.n && sum.rows[r].point_index < p->index)
            r++;
        const store_summary_row *row =
            r < sum.n && sum.rows[r].point_index == p->index && p->n_trials ? &sum.rows[r]
                                                                           : NULL;
        fputs("<tr>", f);
        html_point_cells(f, d, p);
        if (mark && is_shown(d, i))
            fputs("<td class=\"l\">&#9733;</td>", f);
        else if (mark)
            fputs("<td></td>", f);
        if (!row) {
            fprintf(f, "<td>0</td><td>%zu</td><td colspan=\"6\">no finished trial</td></tr>\n",
                    p->n_other);
            continue;
        }
        fprintf(f, "<td>%zu</td><td>%zu</td><td>", row->n, p->n_other);
        fmt_num(f, row->test_accuracy_mean, 4);
        fputs(" &plusmn; ", f);
        fmt_num(f, row->test_accuracy_std, 4);
        fputs("</td><td>", f);
        fmt_num(f, row->test_accuracy_min, 4);
        fputs(" &ndash; ", f);
        fmt_num(f, row->test_accuracy_max, 4);
        fputs("</td><td>", f);
        fmt_num(f, row->test_loss_mean, 4);
        fputs("</td><td>", f);
        fmt_num(f, row->val_accuracy_mean, 4);
        fputs("</td><td>", f);
        fmt_num(f, row->best_epoch_mean, 1);
        fputs("</td><td>", f);
        fmt_num(f, row->overfit_gap_mean, 4);
        fputs("</td></tr>\n", f);
    }
    store_summary_free(&sum);
    fputs("</table></div>\n", f);
    return 0;
}

/* Trials that did not finish, with the reason the database gives. */
#define HTML_MAX_NOTES 100
static void html_notes(FILE *f, const report_data *d)
{
    const store_trial_notes *n = &d->notes;
    if (!n->n)
        return;
    fputs("<h2 id=\"not-done\">Trials that did not finish</h2>\n<div class=\"wide\"><table>\n<tr>"
          "<th>trial</th>", f);
    html_point_heads(f, d);
    fputs("<th>seed</th><th>status</th><th class=\"l\">reason</th></tr>\n", f);
    for (size_t i = 0; i < n->n && i < HTML_MAX_NOTES; i++) {
        const store_trial_note *t = &n->rows[i];
        const report_point *p = point_by_index(d, t->point_index);
        fprintf(f, "<tr><td>%lld</td>", (long long)t->id);
        if (p)
            html_point_cells(f, d, p);
        else
            for (size_t j = 0; j < (d->n_dims ? d->n_dims : 1); j++)
                fputs("<td></td>", f);
        fprintf(f, "<td>%llu</td><td>%s</td><td class=\"l\">", (unsigned long long)t->seed,
                store_status_name(t->status));
        switch (t->status) {
        case STORE_DIVERGED:
            if (t->diverged_epoch)
                fprintf(f, "diverged at epoch %zu (the loss was not finite)", t->diverged_epoch);
            else
                fputs("diverged (the loss was not finite)", f);
            break;
        case STORE_INTERRUPTED:
            fprintf(f, "interrupted after %zu epoch%s", t->epochs_run, plural(t->epochs_run));
            break;
        case STORE_QUEUED:
            fputs("not run yet (run the spec again to train it)", f);
            break;
        case STORE_RUNNING:
            fputs("started but never finished (the run was killed)", f);
            break;
        default:
            fputs("failed", f);
            break;
        }
        if (t->error && *t->error) {
            fputs(": ", f);
            html_text(f, t->error);
        }
        fputs("</td></tr>\n", f);
    }
    fputs("</table></div>\n", f);
    if (n->n > HTML_MAX_NOTES)
        fprintf(f, "<p>&hellip; and %zu more (<code>SELECT * FROM trials WHERE experiment_id = "
                   "%lld AND status &lt;&gt; 'done'</code>).</p>\n",
                n->n - HTML_MAX_NOTES, d->experiment_id);
}

/* Per-class precision / recall / F1 / support on the test split, mean and
 * std over the done trials of each sweep point, from the metrics table
 * (names precision_K, recall_K, f1_K, support_K). */
typedef struct trial_by_id {
    long long id;
    size_t index;
} trial_by_id;

static int trial_by_id_cmp(const void *a, const void *b)
{
    const trial_by_id *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Adds metric m of a trial of point p to the per-class sums: 1 when it is
 * one of precision_K, recall_K, f1_K, support_K with K < k. */
static int per_class_add(double *acc, size_t k, size_t p, const store_metric_row *m)
{
    static const char *const kinds[4] = {"precision", "recall", "f1", "support"};
    const char *name = m->name;
    if (isnan(m->value))
        return 0;
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
        return 0;
    size_t c = (size_t)strtoul(num, NULL, 10);
    if (c >= k)
        return 0;
    double *a = &acc[((p * k + c) * 4 + (size_t)kind) * 3];
    a[0] += 1;
    a[1] += m->value;
    a[2] += m->value * m->value;
    return 1;
}

static int html_per_class(FILE *f, const report_data *d, report_error *err)
{
    size_t k = d->n_classes, np = d->n_points;
    if (k == 0)
        return 0;
    if (np > SIZE_MAX / k / 4 / 3)
        goto oom;
    /* acc[((p * k + c) * 4 + kind) * 3 + {n, sum, sumsq}]: one pass over
     * the trials' metrics, so the table is linear in trials. */
    double *acc = xcalloc(np * k * 4 * 3, sizeof *acc);
    /* Summed in trial id order, then metric name order. */
    trial_by_id *order = xcalloc(d->n_trials, sizeof *order);
    if (!acc || !order) {
        free(acc);
        free(order);
        goto oom;
    }
    for (size_t i = 0; i < d->n_trials; i++) {
        order[i].id = d->trials[i].id;
        order[i].index = i;
    }
    qsort(order, d->n_trials, sizeof *order, trial_by_id_cmp);
    size_t found = 0;
    for (size_t i = 0; i < d->n_trials; i++) {
        const report_trial *t = &d->trials[order[i].index];
        for (size_t j = 0; j < t->row->n_metrics; j++)
            found += (size_t)per_class_add(acc, k, t->point, &t->row->metrics[j]);
    }
    free(order);
    fputs("<h2 id=\"per-class\">Per-class figures (test split)</h2>\n", f);
    if (!found) {
        fputs("<p>The database holds no per-class metrics for this experiment.</p>\n", f);
        free(acc);
        return 0;
    }
    fputs("<p>Mean &plusmn; standard deviation over the finished seeds of each sweep "
          "point; support is the number of test rows of the class.", f);
    if (np > d->n_shown)
        fprintf(f, " The %zu sweep points shown in the figures.", d->n_shown);
    fputs("</p>\n<div class=\"wide\"><table>\n<tr>", f);
    if (np > 1)
        html_point_heads(f, d);
    fputs("<th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>\n", f);
    for (size_t s = 0; s < d->n_shown; s++) {
        size_t p = d->shown[s];
        for (size_t c = 0; c < k; c++) {
            fputs("<tr>", f);
            if (np > 1)
                html_point_cells(f, d, &d->points[p]);
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
                    if (kind == 3) {
                        fmt_num(f, mean, 1);
                    } else {
                        fmt_num(f, mean, 4);
                        if (a[0] > 1) {
                            fputs(" &plusmn; ", f);
                            fmt_num(f, sqrt(var > 0 ? var : 0), 4);
                        }
                    }
                }
                fputs("</td>", f);
            }
            fputs("</tr>\n", f);
        }
    }
    fputs("</table></div>\n", f);
    free(acc);
    return 0;
oom:
    set_err(err, 0, "out of memory");
    return -1;
}

/* The figure file at path as a data: URI in an src="..." attribute: PNG
 * base64-encoded, SVG as its own text, percent-encoded where a URI or the
 * attribute needs it. (Not inline <svg> elements: every cairo SVG names its
 * glyphs glyph0-0, glyph0-1, ..., and ids repeated across one page would
 * make one figure draw another's glyphs.) */
static int html_embed(FILE *f, const char *path, report_format fmt, report_error *err)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    FILE *in = fopen(path, "rb");
    if (!in) {
        set_err(err, 0, "cannot read %s to embed it in index.html: %s", path, strerror(errno));
        return -1;
    }
    unsigned char buf[3 * 1024];
    size_t n;
    if (fmt == REPORT_FORMAT_SVG) {
        fputs("data:image/svg+xml,", f);
        while ((n = fread(buf, 1, sizeof buf, in)) > 0)
            for (size_t i = 0; i < n; i++) {
                unsigned c = buf[i];
                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    strchr("-_.~/:;=,!*()?@+$[]", (int)c))
                    fputc((int)c, f);
                else
                    fprintf(f, "%%%02X", c);
            }
    } else {
        fputs("data:image/png;base64,", f);
        /* Blocks of a multiple of 3 bytes, so only the last one pads. */
        while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
            for (size_t i = 0; i < n; i += 3) {
                unsigned v = (unsigned)buf[i] << 16;
                if (i + 1 < n)
                    v |= (unsigned)buf[i + 1] << 8;
                if (i + 2 < n)
                    v |= buf[i + 2];
                fputc(b64[(v >> 18) & 63], f);
                fputc(b64[(v >> 12) & 63], f);
                fputc(i + 1 < n ? b64[(v >> 6) & 63] : '=', f);
                fputc(i + 2 < n ? b64[v & 63] : '=', f);
            }
            if (n < sizeof buf)
                break;
        }
    }
    int bad = ferror(in);
    fclose(in);
    if (bad) {
        set_err(err, 0, "cannot read %s to embed it in index.html", path);
        return -1;
    }
    return 0;
}

static int write_html(const char *path, const char *dir, store *db, const report_data *d,
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
          "body{font-family:sans-serif;max-width:1200px;margin:1em auto;padding:0 1em;"
          "color:#222;line-height:1.4}\n"
          ".wide{overflow-x:auto;margin:.5em 0 1.5em}\n"
          "table{border-collapse:collapse}\n"
          "th,td{border:1px solid #bbb;padding:.25em .45em;text-align:right}td{white-space:nowrap}\n"
          "th{background:#eee}td:first-child,td.l,th.l{text-align:left}\n"
          "td.l{white-space:normal}\n"
          "figure{margin:1.5em 0}img{max-width:100%;height:auto;border:1px solid #ddd}\n"
          "figcaption{font-size:.95em;color:#444}\n"
          "pre{background:#f6f6f6;border:1px solid #ddd;padding:.6em;overflow:auto}\n"
          "p.desc{font-size:1.1em}\n"
          "</style>\n</head>\n<body>\n<h1>", f);
    html_text(f, d->name);
    if (d->single_trial && d->n_trials)
        fprintf(f, ", trial %lld", d->trials[0].id);
    else if (d->single_trial)
        fputs(", one trial", f);
    fputs("</h1>\n", f);
    if (d->description && *d->description) {
        fputs("<p class=\"desc\">", f);
        html_text(f, d->description);
        fputs("</p>\n", f);
    }
    fprintf(f, "<p>Experiment %lld, created ", d->experiment_id);
    html_text(f, d->created_at);
    if (*d->spec_file) {
        fputs(" from <code>", f);
        html_text(f, d->spec_file);
        fputs("</code>", f);
    }
    size_t by_status[STORE_INTERRUPTED + 1] = {0};
    for (size_t i = 0; i < d->notes.n; i++)
        if ((size_t)d->notes.rows[i].status <= STORE_INTERRUPTED)
            by_status[d->notes.rows[i].status]++;
    fprintf(f, ". %zu sweep point%s, %zu finished trial%s", d->n_points, plural(d->n_points),
            d->n_trials, plural(d->n_trials));
    for (int st = 0; st <= STORE_INTERRUPTED; st++)
        if (st != STORE_DONE && by_status[st])
            fprintf(f, ", %zu %s", by_status[st], store_status_name((store_status)st));
    fputs(".</p>\n", f);

    if (html_summary(f, db, d, err) || html_per_class(f, d, err)) {
        fclose(f);
        return -1;
    }
    html_notes(f, d);

    fputs("<h2 id=\"figures\">Figures</h2>\n", f);
    for (size_t i = 0; i < n_figs; i++) {
        char *file = report_html_escape(figs[i].file);
        char *fpath = join_path(dir, figs[i].file);
        if (!file || !fpath) {
            free(file);
            free(fpath);
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
            fprintf(f, "<img data-file=\"%s\" alt=\"", file);
            html_text(f, figs[i].title);
            fputs("\" src=\"", f);
            if (html_embed(f, fpath, fmt, err)) {
                free(file);
                free(fpath);
                fclose(f);
                return -1;
            }
            fputs("\">\n", f);
        }
        fputs("<figcaption><b>", f);
        html_text(f, figs[i].title);
        fputs(".</b> ", f);
        html_text(f, figs[i].caption);
        fputs("</figcaption>\n</figure>\n", f);
        free(file);
        free(fpath);
    }

    fputs("<h2 id=\"spec\">Spec</h2>\n<pre>", f);
    html_text(f, d->spec);
    fputs("</pre>\n", f);
    html_models(f, d);
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
    if (ferror(f) | (fclose(f) != 0)) {
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


/* misclassified.EXT: for image data, the test images the median trial of
 * the best point (highest mean test accuracy; ties: the lower point index)
 * got wrong, from its stored predictions, at most REPORT_MAX_MISCLASSIFIED
 * in test-split order. 1 when added, 0 when it does not apply, -1 on
 * error. */
static int misclassified_figure(store *db, const report_data *d, const report_plot_cfg *cfg,
                                const char *dir, const char *ext, figure **figs,
                                size_t *n_figs, report_error *err)
{
    if (!d->dataset.ok || !d->dataset.source.image_w)
        return 0;
    const report_point *best = NULL;
    for (size_t i = 0; i < d->n_points; i++) {
        const report_point *p = &d->points[i];
        if (p->n_trials && (!best || (!isnan(p->mean_acc) &&
                                      (isnan(best->mean_acc) || p->mean_acc > best->mean_acc))))
            best = p;
    }
    if (!best)
        return 0;
    const report_trial *t = &d->trials[best->median];
    store_prediction_list all;
    store_error serr;
    if (store_predictions_read(db, t->id, "test", 0, &all, &serr)) {
        set_err(err, 0, "%s", serr.message);
        return -1;
    }
    store_prediction_row *wrong = xcalloc(all.n ? all.n : 1, sizeof *wrong);
    size_t n_wrong = 0;
    if (!wrong) {
        store_prediction_list_free(&all);
        set_err(err, 0, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < all.n; i++)
        if (all.rows[i].true_class != all.rows[i].predicted_class)
            wrong[n_wrong++] = all.rows[i];
    size_t n_show = n_wrong < REPORT_MAX_MISCLASSIFIED ? n_wrong : REPORT_MAX_MISCLASSIFIED;
    int rc = 0;
    char *file = xprintf("misclassified.%s", ext);
    char *path = file ? join_path(dir, file) : NULL;
    if (!path) {
        set_err(err, 0, "out of memory");
        rc = -1;
        goto out;
    }
    rc = report_plot_misclassified(d, t, wrong, n_show, n_wrong, all.n, cfg, path, err);
    if (rc > 0) {
        char acc[32];
        report_fmt_round(acc, sizeof acc, t->test_accuracy, 4);
        if (add_figure(figs, n_figs, file,
                       *best->label ? xprintf("Misclassified test images, %s", best->label)
                                    : strdup("Misclassified test images"),
                       xprintf("The test rows trial %lld (seed %lld, test accuracy %s%s%s) "
                               "predicts wrong: %zu of %zu%s. Each image is titled true "
                               "\xe2\x86\x92 predicted class, with its row of the source "
                               "data below. All of them: SELECT source_row, true_class, "
                               "predicted_class FROM predictions WHERE trial_id = %lld AND "
                               "true_class <> predicted_class.",
                               t->id, t->seed, acc,
                               best->n_trials > 1 ? ", the median of the seeds" : "",
                               d->n_points > 1 ? " of the best sweep point" : "", n_wrong,
                               all.n,
                               n_show < n_wrong ? "; the first ones in test-split order" : "",
                               t->id))) {
            set_err(err, 0, "out of memory");
            rc = -1;
        }
        file = NULL; /* add_figure took it, or freed it */
    }
out:
    free(file);
    free(path);
    free(wrong);
    store_prediction_list_free(&all);
    return rc;
}

int report_generate(const report_options *o, report_output *out,
                    report_error *err)
{
    store *db = NULL;
    report_data d;
    figure *figs = NULL;
    size_t n_figs = 0;
    char *dir = NULL, *path = NULL, *shown_note = NULL;
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
    {
        /* Read-only: a report never changes the database. */
        store_error serr;
        db = store_open_readonly(o->db_path, &serr);
        if (!db) {
            set_err(err, 1, "%s", serr.message);
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

    /* The data of the trials shown, rebuilt once for every figure. */
    report_datasets_build(&d);

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
                           : "Thin lines: each finished seed; thick line: their mean; "
                             "shaded band: mean \xc2\xb1 1 standard deviation over the seeds.";
    shown_note = d.n_points > d.n_shown
                           ? xprintf(" The %zu sweep points with the best mean test accuracy "
                                     "of %zu (the sweep figure shows all of them).",
                                     d.n_shown, d.n_points)
                           : strdup("");
    if (!shown_note)
        goto oom;

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
                               "rows (after the epoch). %s%s",
                               which ? "Categorical cross-entropy loss" : "Accuracy", band,
                               shown_note)))
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
                       strdup(!d.n_dims ? "Test accuracy across seeds"
                              : d.n_points > d.n_shown
                                  ? "Overview of every sweep point: test accuracy"
                                  : "Sweep summary: test accuracy per sweep point"),
                       xprintf("Test accuracy of every finished seed (small dots, spread "
                               "sideways so they do not hide each other) and their mean "
                               "with a \xc2\xb1" "1 standard deviation error bar.%s",
                               d.n_dims >= 2 ? " One colour per combination of the other "
                                               "sweep dimensions." : "")))
            goto oom;
        if (r == 0)
            free(file);
    }
    for (size_t s = 0; s < d.n_shown; s++) {
        size_t i = d.shown[s];
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
            char acc[32];
            report_fmt_round(acc, sizeof acc, t->test_accuracy, 4);
            if (add_figure(&figs, &n_figs, file,
                           *p->label ? xprintf("Confusion matrix, %s", p->label)
                                     : strdup("Confusion matrix"),
                           xprintf("Test split of trial %lld (seed %lld, test accuracy "
                                   "%s)%s. Rows: true class, columns: predicted class; "
                                   "each row divided by its number of rows (recall on "
                                   "the diagonal); the count is below the fraction and "
                                   "the row total on the right.%s",
                                   t->id, t->seed, acc,
                                   p->n_trials > 1 ? ", the median of the seeds by test accuracy"
                                                   : "",
                                   p->n_trials > 1 ? " Right: the counts of every seed of the "
                                                     "point added up (each seed's own test "
                                                     "split), coloured by row fraction."
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
    if (misclassified_figure(db, &d, &cfg, dir, ext, &figs, &n_figs, err) < 0)
        goto done;

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
    if (write_html(path, dir, db, &d, figs, n_figs, o->format, err))
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
        if (d.data_note[0])
            out->note = strdup(d.data_note);
        if (!out->files[n_figs] || (d.data_note[0] && !out->note)) {
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
    free(shown_note);
    data_free(&d);
    store_close(db);
    return rc;
}
