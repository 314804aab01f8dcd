/* cmd_show: `runexp ls` and `runexp show`, the results database read on a
 * terminal (or as JSON for scripts) without writing SQL.
 *
 *   runexp ls [--db FILE] [--json]
 *   runexp show [EXPERIMENT] [--db FILE] [--json]
 *   runexp show --trial ID [--db FILE] [--json]
 *
 * The database is opened read-only: a missing file is an error, never a new
 * empty database. Figures are rounded with text_fmt_round (SQLite's round()
 * rule, so they equal what the README's queries print); in JSON they are
 * exact. Every string from the database goes through text_fputs (terminal)
 * or text_json_fputs (JSON). Exit 0, 2 for usage errors, a missing
 * database, an unknown experiment or trial; 1 when stdout fails.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "nn.h"
#include "spec.h"
#include "store.h"
#include "sweep.h"
#include "text.h"

/* ---- shared with cmd_export.c ------------------------------------------- */

/* ---- small formatting helpers ------------------------------------------- */

/* A figure rounded by the one rule (4 decimals); "-" for NaN. */
static const char *fig(char buf[64], double x)
{
    if (isnan(x))
        return "-";
    text_fmt_round(buf, 64, x, 4);
    return buf;
}

static const char *plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

/* Display width of printable UTF-8 (code points; every one as one column). */
static size_t text_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

/* A table of cells, printed with columns padded to their widest cell. */
typedef struct table {
    size_t cols, n, cap;
    char **cells;      /* row-major; already escaped for the terminal */
    const char *align; /* per column: 'l' or 'r' */
    int oom;
} table;

static void table_init(table *t, size_t cols, const char *align)
{
    memset(t, 0, sizeof *t);
    t->cols = cols;
    t->align = align;
}

static void table_add_raw(table *t, char *cell)
{
    if (!cell) {
        t->oom = 1;
        return;
    }
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 64;
        char **n = realloc(t->cells, nc * sizeof *n);
        if (!n) {
            free(cell);
            t->oom = 1;
            return;
        }
        t->cells = n;
        t->cap = nc;
    }
    t->cells[t->n++] = cell;
}

/* A cell of text from the database or a spec: escaped. */
static void table_add_text(table *t, const char *s)
{
    table_add_raw(t, text_escape_dup(s));
}

static void table_add(table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void table_add(table *t, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    table_add_raw(t, strdup(buf));
}

static void table_print(const table *t, FILE *f, const char *indent)
{
    size_t rows = t->n / t->cols;
    size_t *w = calloc(t->cols, sizeof *w);
    if (!w)
        return;
    for (size_t i = 0; i < rows * t->cols; i++) {
        size_t l = text_width(t->cells[i]);
        if (l > w[i % t->cols])
            w[i % t->cols] = l;
    }
    for (size_t r = 0; r < rows; r++) {
        fputs(indent, f);
        for (size_t c = 0; c < t->cols; c++) {
            const char *cell = t->cells[r * t->cols + c];
            size_t pad = w[c] - text_width(cell);
            int last = c + 1 == t->cols;
            if (t->align[c] == 'r')
                fprintf(f, "%*s%s", (int)pad, "", cell);
            else
                fprintf(f, "%s%*s", cell, last ? 0 : (int)pad, "");
            if (!last)
                fputs("  ", f);
        }
        fputc('\n', f);
    }
    free(w);
}

static void table_free(table *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof *t);
}

/* A sweep value as text: integers as integers, reals in their shortest
 * exact form, text escaped. The caller frees it. */
static char *param_text(const store_param_value *v)
{
    char buf[64];
    if (v->type == 0) {
        snprintf(buf, sizeof buf, "%lld", v->i);
        return strdup(buf);
    }
    if (v->type == 1) {
        text_fmt_real(buf, sizeof buf, v->r);
        return strdup(buf);
    }
    return text_escape_dup(v->s ? v->s : "");
}

/* "hidden = 4, lr = 0.01" for a trial's params (escaped), or the params
 * JSON when there are no typed rows. The caller frees it. */
static char *params_line(const store_trial_row *t)
{
    if (t->n_params == 0)
        return text_escape_dup(t->params_json);
    size_t cap = 256, n = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    out[0] = '\0';
    for (size_t i = 0; i < t->n_params; i++) {
        char *name = text_escape_dup(t->params[i].name), *val = param_text(&t->params[i]);
        if (!name || !val) {
            free(name);
            free(val);
            free(out);
            return NULL;
        }
        size_t need = n + strlen(name) + strlen(val) + 6;
        if (need > cap) {
            cap = need * 2;
            char *no = realloc(out, cap);
            if (!no) {
                free(name);
                free(val);
                free(out);
                return NULL;
            }
            out = no;
        }
        n += (size_t)snprintf(out + n, cap - n, "%s%s = %s", i ? ", " : "", name, val);
        free(name);
        free(val);
    }
    return out;
}

/* ---- JSON helpers --------------------------------------------------------- */

static void json_num(FILE *f, double x)
{
    char buf[64];
    text_fmt_real(buf, sizeof buf, x);
    fputs(buf, f);
}

static void json_key(FILE *f, int *first, const char *key)
{
    fputs(*first ? "" : ", ", f);
    *first = 0;
    text_json_fputs(key, f);
    fputs(": ", f);
}

static void json_param(FILE *f, const store_param_value *v)
{
    if (v->type == 0)
        fprintf(f, "%lld", v->i);
    else if (v->type == 1)
        json_num(f, v->r);
    else
        text_json_fputs(v->s ? v->s : "", f);
}

static void json_params(FILE *f, const store_trial_row *t)
{
    fputc('{', f);
    int first = 1;
    for (size_t i = 0; i < t->n_params; i++) {
        json_key(f, &first, t->params[i].name);
        json_param(f, &t->params[i]);
    }
    fputc('}', f);
}

static void json_size_or_null(FILE *f, size_t v)
{
    if (v)
        fprintf(f, "%zu", v);
    else
        fputs("null", f);
}

/* ---- runexp ls ------------------------------------------------------------- */

static void ls_usage(FILE *f)
{
    fputs("usage: runexp ls [--db FILE] [--json]\n"
          "  the experiments of the database: id, name, when created, trials done/total,\n"
          "  trials by status, and the sweep point with the best mean test accuracy\n"
          "  --db FILE   results database (default: $RUNEXP_DB or results/runexp.db)\n"
          "  --json      one JSON array of objects instead of a table\n",
          f);
}

/* "4 done, 1 diverged" for the counts of one experiment. */
static void status_counts_text(char *buf, size_t size, const size_t counts[STORE_N_STATUSES])
{
    static const store_status order[STORE_N_STATUSES] = {
        STORE_DONE,    STORE_PRUNED, STORE_FAILED, STORE_DIVERGED, STORE_INTERRUPTED,
        STORE_RUNNING, STORE_QUEUED};
    size_t n = 0;
    buf[0] = '\0';
    for (int k = 0; k < STORE_N_STATUSES; k++) {
        size_t c = counts[order[k]];
        if (c && n < size)
            n += (size_t)snprintf(buf + n, size - n, "%s%zu %s", n ? ", " : "", c,
                                  store_status_name(order[k]));
    }
    if (!buf[0])
        snprintf(buf, size, "no trials");
}

int cmd_ls(int argc, char **argv)
{
    const char *db = cmd_default_db();
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            ls_usage(stdout);
            return 0;
        }
        if ((v = cmd_opt_value(argc, argv, &i, "--db"))) {
            if (!*v) {
                fputs("runexp ls: --db needs a file name\n", stderr);
                return 2;
            }
            db = v;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else {
            fprintf(stderr, "runexp ls: unexpected argument '%s'\n", a);
            ls_usage(stderr);
            return 2;
        }
    }
    store *s = cmd_open_db("ls", db);
    if (!s)
        return 2;
    store_experiment_list l;
    store_error err;
    memset(&err, 0, sizeof err);
    if (store_experiments_list(s, &l, &err)) {
        fputs("runexp ls: ", stderr);
        text_fputs(err.message, stderr);
        fputc('\n', stderr);
        store_close(s);
        return 2;
    }
    FILE *out = stdout;
    if (json) {
        fputs("[", out);
        for (size_t i = 0; i < l.n; i++) {
            const store_experiment_row *r = &l.rows[i];
            fprintf(out, "%s\n  {\"id\": %lld, \"name\": ", i ? "," : "", (long long)r->id);
            text_json_fputs(r->name, out);
            fputs(", \"created_at\": ", out);
            text_json_fputs(r->created_at, out);
            fputs(", \"spec_file\": ", out);
            text_json_fputs(r->spec_file, out);
            fprintf(out, ", \"trials\": %zu", r->n_trials);
            for (int k = 0; k < STORE_N_STATUSES; k++)
                fprintf(out, ", \"%s\": %zu", store_status_name((store_status)k),
                        r->status_counts[k]);
            fputs(", \"best\": ", out);
            if (r->best_params) {
                fputs("{\"params\": ", out);
                text_json_fputs(r->best_params, out);
                fprintf(out, ", \"seeds\": %zu, \"test_accuracy_mean\": ", r->best_n);
                json_num(out, r->best_test_accuracy);
                fputc('}', out);
            } else {
                fputs("null", out);
            }
            fputc('}', out);
        }
        fputs(l.n ? "\n]\n" : "]\n", out);
    } else if (l.n == 0) {
        fputs("no experiments in ", out);
        text_fputs(db, out);
        fputc('\n', out);
    } else {
        table t;
        table_init(&t, 6, "rllrll");
        table_add(&t, "id");
        table_add(&t, "name");
        table_add(&t, "created");
        table_add(&t, "done/trials");
        table_add(&t, "statuses");
        table_add(&t, "best point: mean test accuracy");
        for (size_t i = 0; i < l.n; i++) {
            const store_experiment_row *r = &l.rows[i];
            char counts[256], b[64];
            table_add(&t, "%lld", (long long)r->id);
            table_add_text(&t, r->name);
            table_add_text(&t, r->created_at);
            table_add(&t, "%zu/%zu", r->status_counts[STORE_DONE], r->n_trials);
            status_counts_text(counts, sizeof counts, r->status_counts);
            table_add(&t, "%s", counts);
            if (r->best_params) {
                char *p = text_escape_dup(r->best_params);
                table_add(&t, "%s: %s (%zu %s)", p ? p : "?", fig(b, r->best_test_accuracy),
                          r->best_n, plural(r->best_n, "seed", "seeds"));
                free(p);
            } else {
                table_add(&t, "-");
            }
        }
        if (t.oom)
            fputs("runexp ls: out of memory\n", stderr);
        else
            table_print(&t, out, "");
        table_free(&t);
    }
    store_experiment_list_free(&l);
    store_close(s);
    return cmd_output_done("ls", out);
}

/* ---- the stored spec, re-parsed ---------------------------------------- */

/* The stored spec text parsed and expanded again (as the report and
 * reproduce do): for the description and the model of each sweep point. */
typedef struct reparsed {
    spec_document *doc;
    sweep_plan plan;
    int ok;
    char note[320]; /* why not, when !ok */
} reparsed;

static void reparse(reparsed *r, const store_experiment_record *e)
{
    memset(r, 0, sizeof *r);
    spec_diagnostics d;
    spec_diagnostics_init(&d);
    const char *file = e->spec_file && *e->spec_file ? e->spec_file : "spec.yaml";
    r->doc = spec_document_parse(e->spec, strlen(e->spec), file, e->base_dir, &d);
    if (!r->doc)
        snprintf(r->note, sizeof r->note, "the stored spec no longer validates%s%.250s",
                 d.n ? ": " : "", d.n ? d.items[0].message : "");
    else if (sweep_plan_build(r->doc, &r->plan, &d))
        snprintf(r->note, sizeof r->note, "the stored spec's sweep does not expand%s%.250s",
                 d.n ? ": " : "", d.n ? d.items[0].message : "");
    else
        r->ok = 1;
    spec_diagnostics_free(&d);
}

static void reparsed_free(reparsed *r)
{
    sweep_plan_free(&r->plan);
    spec_document_free(r->doc);
    memset(r, 0, sizeof *r);
}

/* ---- runexp show EXPERIMENT ---------------------------------------------- */

static void show_usage(FILE *f)
{
    fputs("usage: runexp show [EXPERIMENT] [--db FILE] [--json]\n"
          "       runexp show --trial ID [--db FILE] [--json]\n"
          "  EXPERIMENT   name (its newest record) or id (default: the newest experiment):\n"
          "               the spec's description, a table per sweep point (seeds, test\n"
          "               accuracy mean +- std and min-max, test loss, validation accuracy,\n"
          "               best epoch, overfitting gap), the model summary of each distinct\n"
          "               architecture, and every trial that is not done, with the reason\n"
          "  --trial ID   one trial: params, seed, status, loss and accuracy per split,\n"
          "               precision/recall/F1/support per class, the history (a sparkline\n"
          "               on a UTF-8 terminal and a table of every Nth epoch) and the test\n"
          "               confusion matrix\n"
          "  --db FILE    results database (default: $RUNEXP_DB or results/runexp.db)\n"
          "  --json       the same as one JSON object, figures unrounded\n"
          "Figures are rounded to 4 decimals as SQLite's round(x, 4) rounds.\n",
          f);
}

/* The model config of one group of points. */
typedef struct arch {
    nn_model_config config;
    size_t n_points;
    size_t *points;  /* indexes into the summary's point list */
} arch;

static int same_arch(const nn_model_config *a, const nn_model_config *b)
{
    if (a->n_inputs != b->n_inputs || a->n_layers != b->n_layers)
        return 0;
    for (size_t l = 0; l < a->n_layers; l++)
        if (a->layers[l].units != b->layers[l].units || a->layers[l].kind != b->layers[l].kind ||
            a->layers[l].center != b->layers[l].center || a->layers[l].scale != b->layers[l].scale)
            return 0;
    return 1;
}

/* One sweep point of the experiment as show lists it. */
typedef struct point {
    const char *params_json;
    const store_trial_row *first; /* its first trial (params, seed order) */
    size_t n_trials, n_done;
    const store_summary_row *sum; /* NULL when no trial is done */
    int has_config;
    nn_model_config config;
} point;

/* The model configs of the points: from the re-parsed spec (the plan point
 * with the same params), else from a trial's stored kernel shapes. */
static void point_configs(store *s, const reparsed *rp, point *pts, size_t n_pts)
{
    for (size_t i = 0; i < n_pts; i++) {
        point *p = &pts[i];
        if (rp->ok)
            for (size_t k = 0; k < rp->plan.n_points; k++)
                if (!strcmp(rp->plan.points[k].params_json, p->params_json)) {
                    p->config = rp->plan.points[k].spec.model;
                    p->has_config = 1;
                    break;
                }
        if (p->has_config)
            continue;
        size_t in[NN_MAX_LAYERS], units[NN_MAX_LAYERS], nl = 0;
        store_error err;
        if (store_trial_layer_shapes(s, p->first->id, NN_MAX_LAYERS, &nl, in, units, &err) == 0) {
            memset(&p->config, 0, sizeof p->config);
            p->config.n_inputs = in[0];
            p->config.n_layers = nl;
            for (size_t l = 0; l < nl; l++)
                p->config.layers[l].units = units[l];
            p->has_config = 1;
        }
    }
}

static size_t group_archs(const point *pts, size_t n_pts, arch *archs)
{
    size_t n = 0;
    for (size_t i = 0; i < n_pts; i++) {
        if (!pts[i].has_config)
            continue;
        size_t a = 0;
        while (a < n && !same_arch(&archs[a].config, &pts[i].config))
            a++;
        if (a == n) {
            archs[n].config = pts[i].config;
            archs[n].n_points = 0;
            n++;
        }
        archs[a].points[archs[a].n_points++] = i;
    }
    return n;
}

/* Why a trial is not done, in words (escaped error text). */
static void reason_print(const store_trial_note *nt, size_t epochs, FILE *f)
{
    switch (nt->status) {
    case STORE_DIVERGED:
        fputs("diverged", f);
        if (nt->diverged_epoch)
            fprintf(f, " at epoch %zu", nt->diverged_epoch);
        if (!nt->error || !*nt->error)
            fputs(" (the loss became NaN or Inf)", f);
        break;
    case STORE_INTERRUPTED:
        fprintf(f, "interrupted after %zu %s", nt->epochs_run,
                plural(nt->epochs_run, "epoch", "epochs"));
        if (epochs)
            fprintf(f, " of %zu", epochs);
        fputs(" (run it again to finish)", f);
        break;
    case STORE_FAILED:
        fputs("failed", f);
        if (nt->error && *nt->error) {
            fputs(": ", f);
            text_fputs(nt->error, f);
        }
        break;
    case STORE_QUEUED:
        fputs("queued (not run yet)", f);
        break;
    case STORE_RUNNING:
        fputs("running (or its run stopped without recording it)", f);
        break;
    default:
        fputs(store_status_name(nt->status), f);
    }
    if (nt->status != STORE_FAILED && nt->error && *nt->error) {
        fputs(": ", f);
        text_fputs(nt->error, f);
    }
}

static void json_reason(FILE *f, const store_trial_note *nt)
{
    fputs(", \"epochs_run\": ", f);
    fprintf(f, "%zu", nt->epochs_run);
    fputs(", \"diverged_epoch\": ", f);
    json_size_or_null(f, nt->diverged_epoch);
    fputs(", \"error\": ", f);
    if (nt->error)
        text_json_fputs(nt->error, f);
    else
        fputs("null", f);
}

#define SHOW_MAX_PROBLEMS 20

/* The pruning decisions of experiment exp (search.prune): per bracket and
 * rung, each point's mean of the metric, its place and whether it went on.
 * Nothing when there are none. 0, or -1 with err. */
static int show_decisions(store *s, int64_t exp, size_t n_pruned, FILE *out, store_error *err)
{
    store_prune_list l;
    if (store_prune_read(s, exp, &l, err))
        return -1;
    if (!l.n) {
        store_prune_list_free(&l);
        return 0;
    }
    size_t n_brackets = l.rows[l.n - 1].bracket + 1;
    fprintf(out, "\nsearch: %zu %s pruned; decisions by the mean over the seeds of %s at each rung\n",
            n_pruned, plural(n_pruned, "trial", "trials"), l.metric ? l.metric : "?");
    table t;
    table_init(&t, n_brackets > 1 ? 8 : 7, n_brackets > 1 ? "rrrrlrrl" : "rrrlrrl");
    if (n_brackets > 1)
        table_add_text(&t, "bracket");
    table_add_text(&t, "rung");
    table_add_text(&t, "epoch");
    table_add_text(&t, "point");
    table_add_text(&t, "params");
    table_add_text(&t, "seeds");
    table_add(&t, "mean %s", l.metric ? l.metric : "");
    table_add_text(&t, "decision");
    for (size_t i = 0; i < l.n; i++) {
        const store_prune_decision *d = &l.rows[i];
        char a[64];
        if (n_brackets > 1)
            table_add(&t, "%zu", d->bracket);
        table_add(&t, "%zu", d->rung);
        table_add(&t, "%zu", d->epoch);
        table_add(&t, "%zu", d->point_index);
        table_add_text(&t, d->params);
        table_add(&t, "%zu", d->n);
        table_add(&t, "%s", fig(a, d->value));
        table_add(&t, "%zu. %s", d->place, d->promoted ? "went on" : "pruned");
    }
    if (!t.oom)
        table_print(&t, out, "  ");
    table_free(&t);
    store_prune_list_free(&l);
    return 0;
}

static int show_experiment(store *s, int64_t exp, int json, FILE *out)
{
    store_experiment_record e;
    store_trial_list tl;
    store_trial_notes notes;
    store_summary sum;
    store_error err;
    reparsed rp;
    point *pts = NULL;
    arch *archs = NULL;
    size_t *arch_pts = NULL;
    int code = 2;
    memset(&tl, 0, sizeof tl);
    memset(&notes, 0, sizeof notes);
    memset(&sum, 0, sizeof sum);
    memset(&rp, 0, sizeof rp);
    memset(&err, 0, sizeof err);
    if (store_experiment_load(s, exp, &e, &err)) {
        memset(&e, 0, sizeof e);
        goto fail;
    }
    store_trial_query q = {.experiment_id = exp, .what = STORE_READ_PARAMS};
    if (store_trials_read(s, &q, &tl, &err) ||
        store_trial_notes_read(s, exp, 0, &notes, &err) ||
        store_summary_read(s, exp, &sum, &err))
        goto fail;
    reparse(&rp, &e);

    /* The points in the order of their first trial (point_index, seed). */
    pts = calloc(tl.n ? tl.n : 1, sizeof *pts);
    if (!pts)
        goto oom;
    size_t n_pts = 0, counts[STORE_N_STATUSES] = {0};
    for (size_t i = 0; i < tl.n; i++) {
        const store_trial_row *t = &tl.rows[i];
        counts[t->status]++;
        size_t k = 0;
        while (k < n_pts && strcmp(pts[k].params_json, t->params_json))
            k++;
        if (k == n_pts) {
            pts[k].params_json = t->params_json;
            pts[k].first = t;
            n_pts++;
        }
        pts[k].n_trials++;
        pts[k].n_done += t->status == STORE_DONE;
    }
    for (size_t k = 0; k < n_pts; k++)
        for (size_t j = 0; j < sum.n; j++)
            if (!strcmp(sum.rows[j].params, pts[k].params_json))
                pts[k].sum = &sum.rows[j];
    point_configs(s, &rp, pts, n_pts);
    archs = calloc(n_pts ? n_pts : 1, sizeof *archs);
    arch_pts = calloc(n_pts ? n_pts * n_pts : 1, sizeof *arch_pts);
    if (!archs || !arch_pts)
        goto oom;
    for (size_t a = 0; a < n_pts; a++)
        archs[a].points = arch_pts + a * n_pts;
    size_t n_arch = group_archs(pts, n_pts, archs);
    const char *desc = rp.ok ? spec_document_base(rp.doc)->description : NULL;
    /* The planned epochs of a point, for "interrupted after 3 of 20". */
    size_t epochs_of_spec = rp.ok ? spec_document_base(rp.doc)->training.epochs : 0;

    if (json) {
        fprintf(out, "{\"experiment\": {\"id\": %lld, \"name\": ", (long long)e.id);
        text_json_fputs(e.name, out);
        fputs(", \"created_at\": ", out);
        text_json_fputs(e.created_at, out);
        fputs(", \"spec_file\": ", out);
        text_json_fputs(e.spec_file, out);
        fputs(", \"description\": ", out);
        if (desc)
            text_json_fputs(desc, out);
        else
            fputs("null", out);
        fputs(", \"sweep_dims\": [", out);
        for (size_t d = 0; d < e.n_dims; d++) {
            fputs(d ? ", " : "", out);
            text_json_fputs(e.dims[d], out);
        }
        fprintf(out, "]},\n \"trials\": {\"total\": %zu", tl.n);
        for (int k = 0; k < STORE_N_STATUSES; k++)
            fprintf(out, ", \"%s\": %zu", store_status_name((store_status)k), counts[k]);
        fputs("},\n \"points\": [", out);
        for (size_t k = 0; k < n_pts; k++) {
            const point *p = &pts[k];
            const store_summary_row *r = p->sum;
            fprintf(out, "%s\n  {\"point_index\": %zu, \"params\": ", k ? "," : "",
                    p->first->point_index);
            json_params(out, p->first);
            fprintf(out, ", \"trials\": %zu, \"done\": %zu", p->n_trials, p->n_done);
            const char *names[11] = {"test_accuracy_mean", "test_accuracy_std",
                                     "test_accuracy_min",  "test_accuracy_max",
                                     "test_loss_mean",     "test_loss_std",
                                     "test_loss_min",      "test_loss_max",
                                     "val_accuracy_mean",  "best_epoch_mean",
                                     "overfit_gap_mean"};
            double v[11];
            for (int j = 0; j < 11; j++)
                v[j] = NAN;
            if (r) {
                double w[11] = {r->test_accuracy_mean, r->test_accuracy_std,
                                r->test_accuracy_min,  r->test_accuracy_max,
                                r->test_loss_mean,     r->test_loss_std,
                                r->test_loss_min,      r->test_loss_max,
                                r->val_accuracy_mean,  r->best_epoch_mean,
                                r->overfit_gap_mean};
                memcpy(v, w, sizeof v);
            }
            for (int j = 0; j < 11; j++) {
                fprintf(out, ", \"%s\": ", names[j]);
                json_num(out, v[j]);
            }
            fputs("}", out);
        }
        fputs(n_pts ? "\n ],\n \"models\": [" : "],\n \"models\": [", out);
        for (size_t a = 0; a < n_arch; a++) {
            const nn_model_config *c = &archs[a].config;
            fprintf(out, "%s\n  {\"point_indexes\": [", a ? "," : "");
            for (size_t j = 0; j < archs[a].n_points; j++)
                fprintf(out, "%s%zu", j ? ", " : "", pts[archs[a].points[j]].first->point_index);
            fprintf(out, "], \"inputs\": %zu, \"layers\": [", c->n_inputs);
            size_t in = c->n_inputs, total = 0;
            static const char *const kinds[] = {"dense", "dropout", "batch_normalization"};
            nn_model *mm = nn_model_new(c, 1);
            for (size_t l = 0; l < c->n_layers; l++) {
                size_t u = c->layers[l].units;
                size_t np = mm ? nn_model_layer_params(mm, l) : in * u + u;
                unsigned kd = (unsigned)c->layers[l].kind < 3 ? (unsigned)c->layers[l].kind : 0;
                fprintf(out, "%s{\"type\": \"%s\", \"units\": %zu, \"params\": %zu}",
                        l ? ", " : "", kinds[kd], u, np);
                total += np;
                in = u;
            }
            nn_model_free(mm);
            fprintf(out, "], \"total_params\": %zu}", total);
        }
        fputs(n_arch ? "\n ],\n \"not_done\": [" : "],\n \"not_done\": [", out);
        int any = 0;
        for (size_t i = 0; i < tl.n; i++) {
            const store_trial_row *t = &tl.rows[i];
            const store_trial_note *nt = store_trial_note_find(&notes, t->id);
            if (t->status == STORE_DONE || t->status == STORE_PRUNED || !nt)
                continue;
            fprintf(out, "%s\n  {\"trial_id\": %lld, \"point_index\": %zu, \"seed\": %llu, "
                         "\"params\": ",
                    any ? "," : "", (long long)t->id, t->point_index,
                    (unsigned long long)t->seed);
            json_params(out, t);
            fprintf(out, ", \"status\": \"%s\"", store_status_name(t->status));
            json_reason(out, nt);
            fputc('}', out);
            any = 1;
        }
        fputs(any ? "\n ]" : "]", out);
        if (!rp.ok) {
            fputs(",\n \"note\": ", out);
            text_json_fputs(rp.note, out);
        }
        fputs("}\n", out);
        code = 0;
        goto done;
    }

    /* The header: name, when, where from, what for. */
    fprintf(out, "experiment %lld: ", (long long)e.id);
    text_fputs(e.name, out);
    fputs("\n  created ", out);
    text_fputs(e.created_at, out);
    if (e.spec_file[0]) {
        fputs(" from ", out);
        text_fputs(e.spec_file, out);
    }
    fputc('\n', out);
    if (desc && *desc) {
        fputs("  description: ", out);
        text_fputs(desc, out);
        fputc('\n', out);
    }
    char counts_text[256];
    status_counts_text(counts_text, sizeof counts_text, counts);
    fprintf(out, "  %zu %s", tl.n, plural(tl.n, "trial", "trials"));
    if (tl.n)
        fprintf(out, ": %s", counts_text);
    fprintf(out, " in %zu sweep %s\n", n_pts, plural(n_pts, "point", "points"));

    /* The table per point. */
    if (n_pts) {
        size_t nd = pts[0].first->n_params;
        size_t cols = 1 + nd + 7;
        char *align = malloc(cols + 1);
        if (!align)
            goto oom;
        memset(align, 'r', cols);
        align[cols] = '\0';
        table t;
        table_init(&t, cols, align);
        table_add(&t, "point");
        for (size_t d = 0; d < nd; d++)
            table_add_text(&t, pts[0].first->params[d].name);
        table_add(&t, "seeds");
        table_add(&t, "test acc \xc2\xb1 std");
        table_add(&t, "acc min \xe2\x80\x93 max");
        table_add(&t, "test loss \xc2\xb1 std");
        table_add(&t, "val acc");
        table_add(&t, "best ep.");
        table_add(&t, "overfit gap");
        for (size_t k = 0; k < n_pts; k++) {
            const point *p = &pts[k];
            const store_summary_row *r = p->sum;
            char a[64], b[64];
            table_add(&t, "%zu", p->first->point_index);
            for (size_t d = 0; d < nd; d++) {
                if (d < p->first->n_params &&
                    !strcmp(p->first->params[d].name, pts[0].first->params[d].name))
                    table_add_raw(&t, param_text(&p->first->params[d]));
                else
                    table_add(&t, "-");
            }
            if (p->n_done == p->n_trials)
                table_add(&t, "%zu", p->n_done);
            else
                table_add(&t, "%zu/%zu", p->n_done, p->n_trials);
            if (!r || r->n == 0) {
                for (int j = 0; j < 6; j++)
                    table_add(&t, "-");
                continue;
            }
            if (isnan(r->test_accuracy_std))
                table_add(&t, "%s", fig(a, r->test_accuracy_mean));
            else
                table_add(&t, "%s \xc2\xb1 %s", fig(a, r->test_accuracy_mean),
                          fig(b, r->test_accuracy_std));
            table_add(&t, "%s \xe2\x80\x93 %s", fig(a, r->test_accuracy_min),
                      fig(b, r->test_accuracy_max));
            if (isnan(r->test_loss_std))
                table_add(&t, "%s", fig(a, r->test_loss_mean));
            else
                table_add(&t, "%s \xc2\xb1 %s", fig(a, r->test_loss_mean),
                          fig(b, r->test_loss_std));
            table_add(&t, "%s", fig(a, r->val_accuracy_mean));
            if (isnan(r->best_epoch_mean))
                table_add(&t, "-");
            else {
                text_fmt_round(a, sizeof a, r->best_epoch_mean, 1);
                table_add(&t, "%s", a);
            }
            table_add(&t, "%s", fig(a, r->overfit_gap_mean));
        }
        fputc('\n', out);
        if (!t.oom)
            table_print(&t, out, "");
        table_free(&t);
        free(align);
        fputs("(test accuracy and loss over the done trials of each point: mean \xc2\xb1 sample "
              "standard deviation; val acc, best epoch and overfit gap are means)\n", out);
    }

    /* A search's decisions, rung by rung. */
    if (show_decisions(s, exp, counts[STORE_PRUNED], out, &err) < 0)
        goto fail;

    /* The trials that are not done (nor pruned), with why. */
    size_t n_problems = tl.n - counts[STORE_DONE] - counts[STORE_PRUNED];
    if (n_problems) {
        fprintf(out, "\n%zu %s not done:\n", n_problems,
                plural(n_problems, "trial", "trials"));
        size_t shown = 0;
        for (size_t i = 0; i < tl.n && shown < SHOW_MAX_PROBLEMS; i++) {
            const store_trial_row *t = &tl.rows[i];
            const store_trial_note *nt = store_trial_note_find(&notes, t->id);
            if (t->status == STORE_DONE || !nt)
                continue;
            char *pl = params_line(t);
            fprintf(out, "  trial %lld (%s%sseed %llu): ", (long long)t->id, pl ? pl : "",
                    pl && *pl && t->n_params ? ", " : "", (unsigned long long)t->seed);
            free(pl);
            reason_print(nt, epochs_of_spec, out);
            fputc('\n', out);
            shown++;
        }
        if (n_problems > shown)
            fprintf(out, "  ... and %zu more (runexp export --table trials lists them all)\n",
                    n_problems - shown);
    }

    /* One model summary per distinct architecture. */
    for (size_t a = 0; a < n_arch; a++) {
        fputs("\nmodel", out);
        if (n_arch > 1) {
            fputs(" of ", out);
            for (size_t j = 0; j < archs[a].n_points; j++) {
                char *pl = params_line(pts[archs[a].points[j]].first);
                fprintf(out, "%s%s", j ? "; " : "", pl ? pl : "?");
                free(pl);
            }
        }
        fputs(":\n", out);
        if (nn_config_summary(&archs[a].config, out))
            fputs("  (cannot be built from the stored shapes)\n", out);
    }
    if (n_arch == 0 && n_pts)
        fputs("\nmodel: unknown (the spec cannot be re-parsed and no weights are stored)\n", out);
    if (!rp.ok) {
        fputs("\nnote: ", out);
        text_fputs(rp.note, out);
        fputs(" (no description; models from the stored weights)\n", out);
    }
    code = 0;
    goto done;
oom:
    snprintf(err.message, sizeof err.message, "out of memory");
fail:
    fputs("runexp show: ", stderr);
    text_fputs(err.message, stderr);
    fputc('\n', stderr);
done:
    free(archs);
    free(arch_pts);
    free(pts);
    reparsed_free(&rp);
    store_summary_free(&sum);
    store_trial_notes_free(&notes);
    store_trial_list_free(&tl);
    store_experiment_record_free(&e);
    return code;
}

/* ---- runexp show --trial ID ---------------------------------------------- */

/* The name of class k (escaped), or its index. The caller frees it. */
static char *class_name(const store_experiment_record *e, size_t k)
{
    for (size_t i = 0; i < e->n_class_names; i++)
        if (e->class_names[i].index == k)
            return text_escape_dup(e->class_names[i].name);
    char buf[32];
    snprintf(buf, sizeof buf, "%zu", k);
    return strdup(buf);
}

/* The value of metric split/name of t; NaN when absent. */
static double metric_of(const store_trial_row *t, const char *split, const char *name)
{
    for (size_t i = 0; i < t->n_metrics; i++)
        if (!strcmp(t->metrics[i].split, split) && !strcmp(t->metrics[i].name, name))
            return t->metrics[i].value;
    return NAN;
}

/* min and max of the finite values of a[0..n) and b[0..n). */
static void finite_range(const double *a, const double *b, size_t n, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        const double v[2] = {a[i], b[i]};
        for (int k = 0; k < 2; k++)
            if (isfinite(v[k])) {
                *lo = v[k] < *lo ? v[k] : *lo;
                *hi = v[k] > *hi ? v[k] : *hi;
            }
    }
}

static void json_array(FILE *f, const double *v, size_t n)
{
    fputc('[', f);
    for (size_t i = 0; i < n; i++) {
        fputs(i ? ", " : "", f);
        json_num(f, v[i]);
    }
    fputc(']', f);
}

static int show_trial(store *s, int64_t id, int json, FILE *out)
{
    store_experiment_record e;
    store_trial_list tl;
    store_trial_notes notes;
    store_error err;
    int code = 2;
    int64_t exp = 0;
    memset(&e, 0, sizeof e);
    memset(&tl, 0, sizeof tl);
    memset(&notes, 0, sizeof notes);
    memset(&err, 0, sizeof err);
    if (store_trial_experiment(s, id, &exp, &err) || store_experiment_load(s, exp, &e, &err))
        goto fail;
    store_trial_query q = {.experiment_id = exp,
                           .trial_id = id,
                           .what = STORE_READ_PARAMS | STORE_READ_HISTORY |
                                   STORE_READ_CONFUSION,
                           .split = "test",
                           .n_classes = e.n_classes};
    if (store_trials_read(s, &q, &tl, &err) ||
        store_trial_notes_read(s, exp, id, &notes, &err))
        goto fail;
    /* The confusion matrix is read for the test split; the metrics of
     * every split need a query without one. */
    store_trial_list all;
    store_trial_query qa = {.experiment_id = exp, .trial_id = id, .what = STORE_READ_METRICS};
    if (store_trials_read(s, &qa, &all, &err))
        goto fail;
    if (tl.n != 1 || all.n != 1 || notes.n != 1) {
        store_trial_list_free(&all);
        snprintf(err.message, sizeof err.message, "trial %lld changed while it was read",
                 (long long)id);
        goto fail;
    }
    store_trial_row *t = &tl.rows[0];
    t->metrics = all.rows[0].metrics;
    t->n_metrics = all.rows[0].n_metrics;
    all.rows[0].metrics = NULL;
    all.rows[0].n_metrics = 0;
    store_trial_list_free(&all);
    const store_trial_note *nt = &notes.rows[0];
    const store_history *h = &t->history;
    size_t k = e.n_classes;
    static const char *const splits[3] = {"train", "validation", "test"};
    const double loss[3] = {t->train_loss, t->val_loss, t->test_loss};
    const double acc[3] = {t->train_accuracy, t->val_accuracy, t->test_accuracy};

    if (json) {
        fprintf(out, "{\"trial\": {\"id\": %lld, \"experiment_id\": %lld, \"experiment\": ",
                (long long)t->id, (long long)exp);
        text_json_fputs(e.name, out);
        fprintf(out, ", \"point_index\": %zu, \"seed\": %llu, \"params\": ", t->point_index,
                (unsigned long long)t->seed);
        json_params(out, t);
        fprintf(out, ", \"status\": \"%s\"", store_status_name(t->status));
        json_reason(out, nt);
        fputs(", \"best_epoch\": ", out);
        json_num(out, t->best_epoch);
        fputs(", \"overfit_gap\": ", out);
        json_num(out, t->overfit_gap);
        fputs(", \"n_params\": ", out);
        json_size_or_null(out, nt->n_params);
        fputs(", \"wall_ms\": ", out);
        json_num(out, nt->wall_ms);
        fputs("},\n \"metrics\": {", out);
        for (int sp = 0; sp < 3; sp++) {
            fprintf(out, "%s\"%s\": {", sp ? ", " : "", splits[sp]);
            int first = 1;
            for (size_t i = 0; i < t->n_metrics; i++)
                if (!strcmp(t->metrics[i].split, splits[sp])) {
                    json_key(out, &first, t->metrics[i].name);
                    json_num(out, t->metrics[i].value);
                }
            fputc('}', out);
        }
        fputs("},\n \"classes\": [", out);
        for (size_t c = 0; c < k; c++) {
            fputs(c ? ", " : "", out);
            const char *nm = NULL;
            for (size_t i = 0; i < e.n_class_names; i++)
                if (e.class_names[i].index == c)
                    nm = e.class_names[i].name;
            if (nm)
                text_json_fputs(nm, out);
            else
                fprintf(out, "\"%zu\"", c);
        }
        fputs("],\n \"history\": {\"loss\": ", out);
        json_array(out, h->loss, h->n_epochs);
        fputs(", \"accuracy\": ", out);
        json_array(out, h->accuracy, h->n_epochs);
        fputs(", \"val_loss\": ", out);
        json_array(out, h->val_loss, h->n_epochs);
        fputs(", \"val_accuracy\": ", out);
        json_array(out, h->val_accuracy, h->n_epochs);
        fputs("},\n \"confusion_test\": ", out);
        if (t->confusion) {
            fputc('[', out);
            for (size_t i = 0; i < k; i++) {
                fputs(i ? ", [" : "[", out);
                for (size_t j = 0; j < k; j++)
                    fprintf(out, "%s%u", j ? ", " : "", t->confusion[i * k + j]);
                fputc(']', out);
            }
            fputc(']', out);
        } else {
            fputs("null", out);
        }
        fputs("}\n", out);
        code = 0;
        goto done;
    }

    char a[64], b[64];
    fprintf(out, "trial %lld of experiment %lld (", (long long)t->id, (long long)exp);
    text_fputs(e.name, out);
    fprintf(out, "), point %zu", t->point_index);
    char *pl = params_line(t);
    if (pl && *pl && t->n_params)
        fprintf(out, " (%s)", pl);
    free(pl);
    fprintf(out, ", seed %llu\n  status: ", (unsigned long long)t->seed);
    if (t->status == STORE_DONE)
        fputs("done", out);
    else
        reason_print(nt, 0, out);
    fputc('\n', out);
    fprintf(out, "  %zu %s run", nt->epochs_run, plural(nt->epochs_run, "epoch", "epochs"));
    if (!isnan(t->best_epoch))
        fprintf(out, ", best epoch %.0f (lowest val_loss), overfit gap %s", t->best_epoch,
                fig(a, t->overfit_gap));
    if (nt->n_params)
        fprintf(out, ", %zu parameters", nt->n_params);
    if (!isnan(nt->wall_ms)) {
        text_fmt_round(b, sizeof b, nt->wall_ms, 1);
        fprintf(out, ", %s ms", b);
    }
    fputc('\n', out);

    table mt;
    table_init(&mt, 3, "lrr");
    table_add(&mt, "split");
    table_add(&mt, "loss");
    table_add(&mt, "accuracy");
    for (int sp = 0; sp < 3; sp++) {
        table_add(&mt, "%s", splits[sp]);
        table_add(&mt, "%s", fig(a, loss[sp]));
        table_add(&mt, "%s", fig(b, acc[sp]));
    }
    fputc('\n', out);
    if (!mt.oom)
        table_print(&mt, out, "  ");
    table_free(&mt);

    /* Per class, from the test metrics precision_K, recall_K, f1_K, support_K. */
    int any_class = 0;
    for (size_t c = 0; c < k && !any_class; c++) {
        char nm[48];
        snprintf(nm, sizeof nm, "support_%zu", c);
        any_class = !isnan(metric_of(t, "test", nm));
    }
    if (any_class) {
        table ct;
        table_init(&ct, 5, "lrrrr");
        table_add(&ct, "class");
        table_add(&ct, "precision");
        table_add(&ct, "recall");
        table_add(&ct, "f1");
        table_add(&ct, "support");
        for (size_t c = 0; c < k; c++) {
            char n1[48], n2[48], n3[48], n4[48], f1b[64];
            snprintf(n1, sizeof n1, "precision_%zu", c);
            snprintf(n2, sizeof n2, "recall_%zu", c);
            snprintf(n3, sizeof n3, "f1_%zu", c);
            snprintf(n4, sizeof n4, "support_%zu", c);
            double sup = metric_of(t, "test", n4);
            table_add_raw(&ct, class_name(&e, c));
            table_add(&ct, "%s", fig(a, metric_of(t, "test", n1)));
            table_add(&ct, "%s", fig(b, metric_of(t, "test", n2)));
            table_add(&ct, "%s", fig(f1b, metric_of(t, "test", n3)));
            if (isnan(sup))
                table_add(&ct, "-");
            else
                table_add(&ct, "%.0f", sup);
        }
        fputs("\ntest split, per class:\n", out);
        if (!ct.oom)
            table_print(&ct, out, "  ");
        table_free(&ct);
    }

    /* The history: a sparkline on a UTF-8 terminal, then every Nth epoch. */
    size_t ne = h->n_epochs;
    if (ne) {
        fprintf(out, "\nhistory (%zu %s):\n", ne, plural(ne, "epoch", "epochs"));
        if (isatty(fileno(out)) &&
            text_locale_utf8(getenv("LC_ALL"), getenv("LC_CTYPE"), getenv("LANG"))) {
            double lo, hi;
            finite_range(h->loss, h->val_loss, ne, &lo, &hi);
            const double *series[2] = {h->loss, h->val_loss};
            static const char *const labels[2] = {"loss    ", "val_loss"};
            for (int k2 = 0; k2 < 2; k2++) {
                char line[64 * 3 + 1];
                size_t nf = 0;
                for (size_t i = 0; i < ne; i++)
                    nf += isfinite(series[k2][i]);
                if (!nf)
                    continue;
                text_sparkline(line, sizeof line, series[k2], ne, lo, hi, 64);
                fprintf(out, "  %s  %s  %s \xe2\x86\x92 %s\n", labels[k2], line,
                        fig(a, series[k2][0]), fig(b, series[k2][ne - 1]));
            }
            fprintf(out, "  (one scale for both: %s to %s)\n", fig(a, lo), fig(b, hi));
        }
        size_t step = text_row_step(ne, 20);
        table ht;
        table_init(&ht, 5, "rrrrr");
        table_add(&ht, "epoch");
        table_add(&ht, "loss");
        table_add(&ht, "accuracy");
        table_add(&ht, "val_loss");
        table_add(&ht, "val_accuracy");
        for (size_t ep = 1; ep <= ne; ep++) {
            if (!(ep == 1 || ep == ne || ep % step == 0))
                continue;
            char c1[64], c2[64];
            table_add(&ht, "%zu", ep);
            table_add(&ht, "%s", fig(a, h->loss[ep - 1]));
            table_add(&ht, "%s", fig(b, h->accuracy[ep - 1]));
            table_add(&ht, "%s", fig(c1, h->val_loss[ep - 1]));
            table_add(&ht, "%s", fig(c2, h->val_accuracy[ep - 1]));
        }
        if (step > 1)
            fprintf(out, "  every %zu%s epoch, with the first and the last:\n", step,
                    step % 10 == 2 ? "nd" : step % 10 == 3 ? "rd" : "th");
        if (!ht.oom)
            table_print(&ht, out, "  ");
        table_free(&ht);
    }

    /* The test confusion matrix with the class names. */
    if (t->confusion && k) {
        table cm;
        char *align = malloc(k + 2);
        if (align) {
            memset(align, 'r', k + 1);
            align[0] = 'l';
            align[k + 1] = '\0';
            table_init(&cm, k + 1, align);
            table_add(&cm, "true \\ predicted");
            for (size_t j = 0; j < k; j++)
                table_add_raw(&cm, class_name(&e, j));
            for (size_t i = 0; i < k; i++) {
                table_add_raw(&cm, class_name(&e, i));
                for (size_t j = 0; j < k; j++)
                    table_add(&cm, "%u", t->confusion[i * k + j]);
            }
            fputs("\ntest confusion matrix (rows: true class, columns: predicted):\n", out);
            if (!cm.oom)
                table_print(&cm, out, "  ");
            table_free(&cm);
            free(align);
        }
    }
    code = 0;
    goto done;
fail:
    fputs("runexp show: ", stderr);
    text_fputs(err.message, stderr);
    fputc('\n', stderr);
done:
    store_trial_notes_free(&notes);
    store_trial_list_free(&tl);
    store_experiment_record_free(&e);
    return code;
}

int cmd_show(int argc, char **argv)
{
    const char *db = cmd_default_db(), *experiment = NULL, *trial = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            show_usage(stdout);
            return 0;
        }
        if ((v = cmd_opt_value(argc, argv, &i, "--db"))) {
            if (!*v) {
                fputs("runexp show: --db needs a file name\n", stderr);
                return 2;
            }
            db = v;
        } else if ((v = cmd_opt_value(argc, argv, &i, "--trial"))) {
            trial = v;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "runexp show: unknown option '%s'\n", a);
            show_usage(stderr);
            return 2;
        } else if (!experiment) {
            experiment = a;
        } else {
            fputs("runexp show: one experiment at a time (got '", stderr);
            text_fputs(experiment, stderr);
            fputs("' and '", stderr);
            text_fputs(a, stderr);
            fputs("')\n", stderr);
            return 2;
        }
    }
    long long id = 0;
    if (trial) {
        char *end = NULL;
        errno = 0;
        id = strtoll(trial, &end, 10);
        if (!*trial || *end || errno || id <= 0) {
            fputs("runexp show: --trial needs a trial id (a positive integer), got '", stderr);
            text_fputs(trial, stderr);
            fputs("'\n", stderr);
            return 2;
        }
        if (experiment) {
            fputs("runexp show: give an EXPERIMENT or --trial ID, not both\n", stderr);
            return 2;
        }
    }
    store *s = cmd_open_db("show", db);
    if (!s)
        return 2;
    int code;
    if (trial) {
        code = show_trial(s, (int64_t)id, json, stdout);
    } else {
        int64_t exp = 0;
        store_error err;
        memset(&err, 0, sizeof err);
        if (store_experiment_find(s, experiment, &exp, &err)) {
            fputs("runexp show: ", stderr);
            text_fputs(err.message, stderr);
            fputs(experiment ? " (runexp ls lists them)\n" : "\n", stderr);
            store_close(s);
            return 2;
        }
        code = show_experiment(s, exp, json, stdout);
    }
    store_close(s);
    if (code == 0)
        code = cmd_output_done("show", stdout);
    return code;
}
