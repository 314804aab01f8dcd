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
        free(d->points[i].trials);
        data_set_free(&d->points[i].test_rows);
    }
    free(d->points);
    free(d->trials);
    store_trial_list_free(&d->rows);
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
    if (!label)
        goto done;
    label[0] = '\0';
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(label + len, "%s%s", i ? ", " : "", text[idx[i]]);
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

/* Classes (names, with the index for those the database does not name),
 * trials by sweep point then seed, and the median trial of each point. */
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
        size_t *nt = realloc(p->trials, (p->n_trials + 1) * sizeof *nt);
        if (!nt)
            goto oom;
        p->trials = nt;
        p->trials[p->n_trials++] = d->n_trials;
        d->n_trials++;
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
        free(acc);
        free(seeds);
    }
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

static int html_summary(FILE *f, store *db, const report_data *d, report_error *err)
{
    fputs("<h2 id=\"summary\">Summary per sweep point</h2>\n"
          "<table>\n<tr><th>sweep point</th><th>trials done</th><th>not done</th>"
          "<th>test accuracy mean &plusmn; std</th><th>min &ndash; max</th>"
          "<th>test loss mean</th><th>val. accuracy mean</th><th>best epoch mean</th>"
          "<th>overfit gap mean</th></tr>\n", f);
    if (d->single_trial) {
        const report_point *p = &d->points[0];
        if (d->n_trials) {
            const store_trial_row *t = d->trials[0].row;
            fputs("<tr><td>", f);
            html_text(f, *p->label ? p->label : "(no sweep)");
            fprintf(f, "</td><td>%zu</td><td>%zu</td><td>", p->n_trials, p->n_other);
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
        fputs("</table>\n", f);
        return 0;
    }
    store_summary sum;
    store_error serr;
    if (store_summary_read(db, d->experiment_id, &sum, &serr)) {
        set_err(err, 1, "%s", serr.message);
        return -1;
    }
    for (size_t r = 0; r < sum.n; r++) {
        const store_summary_row *row = &sum.rows[r];
        const report_point *p = NULL;
        for (size_t i = 0; i < d->n_points; i++)
            if (d->points[i].index == row->point_index)
                p = &d->points[i];
        fputs("<tr><td>", f);
        html_text(f, p && *p->label ? p->label : "(no sweep)");
        fprintf(f, "</td><td>%zu</td><td>%zu</td><td>", row->n, p ? p->n_other : (size_t)0);
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
    /* acc[((p * k + c) * 4 + kind) * 3 + {n, sum, sumsq}] */
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

static int write_html(const char *path, store *db, const report_data *d,
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

    if (html_summary(f, db, d, err) || html_per_class(f, d, err)) {
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
    store *db = NULL;
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
    data_free(&d);
    store_close(db);
    return rc;
}
