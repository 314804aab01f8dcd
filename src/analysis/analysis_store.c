/* analysis_store: an experiment read through the store API as the arrays
 * analysis_run takes, and its statistics written back. See the end of
 * analysis.h. */
#include "analysis.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const metric_names[ANALYSIS_N_METRICS] = {
    "test_accuracy", "test_loss", "val_accuracy", "val_loss", "train_accuracy", "train_loss"};

const char *analysis_metric_name(analysis_metric m)
{
    return (unsigned)m < ANALYSIS_N_METRICS ? metric_names[m] : "?";
}

int analysis_metric_parse(const char *name)
{
    for (int m = 0; m < ANALYSIS_N_METRICS; m++)
        if (!strcmp(name, metric_names[m]))
            return m;
    return -1;
}

int analysis_metric_higher_is_better(analysis_metric m)
{
    return m == ANALYSIS_TEST_ACCURACY || m == ANALYSIS_VAL_ACCURACY ||
           m == ANALYSIS_TRAIN_ACCURACY;
}

static double metric_of(const store_trial_row *r, analysis_metric m)
{
    switch (m) {
    case ANALYSIS_TEST_ACCURACY: return r->test_accuracy;
    case ANALYSIS_TEST_LOSS: return r->test_loss;
    case ANALYSIS_VAL_ACCURACY: return r->val_accuracy;
    case ANALYSIS_VAL_LOSS: return r->val_loss;
    case ANALYSIS_TRAIN_ACCURACY: return r->train_accuracy;
    case ANALYSIS_TRAIN_LOSS: return r->train_loss;
    default: return NAN;
    }
}

void analysis_experiment_free(analysis_experiment *e)
{
    if (!e)
        return;
    free(e->name);
    for (size_t i = 0; i < e->n_points; i++) {
        free(e->points[i].params);
        free(e->points[i].label);
    }
    free(e->points);
    free(e->order);
    free(e->trial_point);
    store_trial_list_free(&e->trials);
    memset(e, 0, sizeof *e);
}

static char *dup_str(const char *c)
{
    size_t n = strlen(c);
    char *r = malloc(n + 1);
    if (r)
        memcpy(r, c, n + 1);
    return r;
}

/* "name=value, name=value" of a trial's sweep values, in the order of the
 * experiment's sweep dimensions (then any others by name); "-" for none. */
static char *point_label(const store_trial_row *t, const store_experiment_record *x)
{
    size_t cap = 64, len = 0;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    s[0] = '\0';
    char *used = calloc(t->n_params ? t->n_params : 1, 1);
    if (!used) {
        free(s);
        return NULL;
    }
    for (size_t pass = 0; pass <= x->n_dims; pass++) {
        for (size_t k = 0; k < t->n_params; k++) {
            const store_param_value *v = &t->params[k];
            if (used[k] || (pass < x->n_dims && strcmp(v->name, x->dims[pass])))
                continue;
            used[k] = 1;
            char num[64];
            const char *val = num;
            if (v->type == 0)
                snprintf(num, sizeof num, "%lld", v->i);
            else if (v->type == 1)
                snprintf(num, sizeof num, "%.6g", v->r);
            else
                val = v->s ? v->s : "";
            size_t need = len + strlen(v->name) + strlen(val) + 4;
            if (need > cap) {
                while (cap < need)
                    cap *= 2;
                char *g = realloc(s, cap);
                if (!g) {
                    free(s);
                    free(used);
                    return NULL;
                }
                s = g;
            }
            len += (size_t)sprintf(s + len, "%s%s=%s", len ? ", " : "", v->name, val);
        }
    }
    free(used);
    if (len == 0)
        strcpy(s, "-");
    return s;
}

typedef struct point_key {
    const char *params;
    size_t point_index;
    size_t first_trial;
} point_key;

static int point_key_cmp(const void *pa, const void *pb)
{
    const point_key *a = pa, *b = pb;
    if (a->point_index != b->point_index)
        return a->point_index < b->point_index ? -1 : 1;
    return strcmp(a->params, b->params);
}

static int params_cmp(const void *pa, const void *pb)
{
    const point_key *a = pa, *b = pb;
    int c = strcmp(a->params, b->params);
    if (c)
        return c;
    return (a->first_trial > b->first_trial) - (a->first_trial < b->first_trial);
}

static int params_only_cmp(const void *pa, const void *pb)
{
    return strcmp(((const point_key *)pa)->params, ((const point_key *)pb)->params);
}

/* For the numeric order: a point's one sweep value. */
typedef struct ranked {
    double value;
    size_t point;
} ranked;

static int ranked_cmp(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    if (a->value != b->value)
        return a->value < b->value ? -1 : 1;
    return (a->point > b->point) - (a->point < b->point);
}

int analysis_experiment_load(store *s, int64_t id, analysis_experiment *e, store_error *err)
{
    store_experiment_record x;
    memset(e, 0, sizeof *e);
    memset(&x, 0, sizeof x);
    point_key *keys = NULL;
    int rc = store_experiment_load(s, id, &x, err);
    if (rc)
        return rc;
    e->id = id;
    e->name = dup_str(x.name ? x.name : "");
    store_trial_query q = {.experiment_id = id,
                           .what = STORE_READ_PARAMS | STORE_READ_HISTORY};
    rc = store_trials_read(s, &q, &e->trials, err);
    if (rc)
        goto fail;
    size_t nt = e->trials.n;
    const store_trial_row *t = e->trials.rows;
    keys = malloc((nt ? nt : 1) * sizeof *keys);
    e->trial_point = malloc((nt ? nt : 1) * sizeof *e->trial_point);
    if (!e->name || !keys || !e->trial_point)
        goto oom;
    /* Distinct params JSON, with the smallest point_index of each. */
    for (size_t i = 0; i < nt; i++)
        keys[i] = (point_key){t[i].params_json ? t[i].params_json : "", t[i].point_index, i};
    qsort(keys, nt, sizeof *keys, params_cmp);
    size_t np = 0;
    for (size_t i = 0; i < nt; i++) {
        if (np > 0 && !strcmp(keys[np - 1].params, keys[i].params)) {
            if (keys[i].point_index < keys[np - 1].point_index)
                keys[np - 1].point_index = keys[i].point_index;
            continue;
        }
        keys[np++] = keys[i];
    }
    qsort(keys, np, sizeof *keys, point_key_cmp);
    e->points = calloc(np ? np : 1, sizeof *e->points);
    e->order = malloc((np ? np : 1) * sizeof *e->order);
    if (!e->points || !e->order)
        goto oom;
    e->n_points = np;
    for (size_t p = 0; p < np; p++) {
        e->points[p].params = dup_str(keys[p].params);
        e->points[p].label = point_label(&t[keys[p].first_trial], &x);
        e->points[p].point_index = keys[p].point_index;
        e->order[p] = p;
        if (!e->points[p].params || !e->points[p].label)
            goto oom;
    }
    /* "Smallest": one numeric sweep value, the same name at every point. */
    int numeric = np > 0;
    const char *name = NULL;
    ranked *r = malloc((np ? np : 1) * sizeof *r);
    if (!r)
        goto oom;
    for (size_t p = 0; p < np && numeric; p++) {
        const store_trial_row *f = &t[keys[p].first_trial];
        if (f->n_params != 1 || f->params[0].type > 1 ||
            (name && strcmp(name, f->params[0].name))) {
            numeric = 0;
            break;
        }
        name = f->params[0].name;
        r[p].value = f->params[0].type == 0 ? (double)f->params[0].i : f->params[0].r;
        r[p].point = p;
        if (isnan(r[p].value))
            numeric = 0;
    }
    if (numeric) {
        qsort(r, np, sizeof *r, ranked_cmp);
        for (size_t k = 0; k < np; k++)
            e->order[k] = r[k].point;
    }
    e->numeric_order = numeric;
    free(r);
    /* Each trial's point: a binary search over the points sorted by params
     * (keys[k].first_trial now holds the point number). */
    for (size_t p = 0; p < np; p++)
        keys[p] = (point_key){e->points[p].params, 0, p};
    qsort(keys, np, sizeof *keys, params_cmp);
    for (size_t i = 0; i < nt; i++) {
        point_key k = {t[i].params_json ? t[i].params_json : "", 0, 0};
        const point_key *f = bsearch(&k, keys, np, sizeof *keys, params_only_cmp);
        e->trial_point[i] = f ? f->first_trial : 0; /* always found */
    }
    free(keys);
    store_experiment_record_free(&x);
    return 0;
oom:
    if (err) {
        err->code = 0;
        err->busy = 0;
        snprintf(err->message, sizeof err->message, "out of memory");
    }
    rc = -1;
fail:
    free(keys);
    store_experiment_record_free(&x);
    analysis_experiment_free(e);
    return rc;
}

analysis_trial *analysis_experiment_trials(const analysis_experiment *e, analysis_metric m)
{
    size_t nt = e->trials.n;
    analysis_trial *a = malloc((nt ? nt : 1) * sizeof *a);
    if (!a)
        return NULL;
    for (size_t i = 0; i < nt; i++) {
        const store_trial_row *r = &e->trials.rows[i];
        a[i] = (analysis_trial){.point = e->trial_point[i],
                                .seed = r->seed,
                                .done = r->status == STORE_DONE,
                                .value = metric_of(r, m),
                                .overfit_gap = r->overfit_gap,
                                .n_epochs = r->history.n_epochs,
                                .val_loss = r->history.val_loss,
                                .loss = r->history.loss};
    }
    return a;
}

int analysis_experiment_run(const analysis_experiment *e, analysis_metric m,
                            const analysis_options *o, analysis_result *out)
{
    analysis_trial *a = analysis_experiment_trials(e, m);
    if (!a) {
        memset(out, 0, sizeof *out);
        return -1;
    }
    analysis_input in = {.n_points = e->n_points,
                         .order = e->order,
                         .higher_is_better = analysis_metric_higher_is_better(m),
                         .n_trials = e->trials.n,
                         .trials = a,
                         .options = o};
    int rc = analysis_run(&in, out);
    free(a);
    return rc;
}

int analysis_store_write(store *s, int64_t experiment_id, store_error *err)
{
    return analysis_store_write_metrics(s, experiment_id, (1u << ANALYSIS_N_METRICS) - 1, 1,
                                        err);
}

int analysis_store_write_metrics(store *s, int64_t experiment_id, unsigned metrics,
                                 int threads, store_error *err)
{
    analysis_options o;
    analysis_options_init(&o);
    o.threads = threads;
    analysis_experiment e;
    analysis_result res[ANALYSIS_N_METRICS];
    memset(res, 0, sizeof res);
    store_point_stat *st = NULL;
    store_point_comparison *cm = NULL;
    store_point_training *tr = NULL;
    int rc = analysis_experiment_load(s, experiment_id, &e, err);
    if (rc)
        return rc;
    rc = -1;
    size_t np = e.n_points;
    size_t cap = np * ANALYSIS_N_METRICS;
    st = malloc((cap ? cap : 1) * sizeof *st);
    cm = malloc((cap ? cap : 1) * sizeof *cm);
    tr = malloc((np ? np : 1) * sizeof *tr);
    if (!st || !cm || !tr)
        goto oom;
    store_point_stats ps = {0, st, 0, cm, 0, tr};
    int first = -1; /* the first metric computed: its run has the curves */
    for (int m = 0; m < ANALYSIS_N_METRICS; m++) {
        if (!(metrics & (1u << m)))
            continue;
        if (analysis_experiment_run(&e, (analysis_metric)m, &o, &res[m]))
            goto oom;
        first = first < 0 ? m : first;
        const analysis_result *r = &res[m];
        if (r->best == ANALYSIS_NONE)
            continue; /* the metric has no value at all (no validation split) */
        for (size_t p = 0; p < np; p++) {
            const analysis_point *pt = &r->points[p];
            const stats_summary *u = &pt->summary;
            st[ps.n_stats++] = (store_point_stat){
                analysis_metric_name((analysis_metric)m), e.points[p].point_index,
                e.points[p].params, pt->rank, pt->is_best, u->n, u->mean, u->std, u->min,
                u->max, u->median, u->iqm, u->ci_lo, u->ci_hi};
            if (!pt->vs_best.compared)
                continue;
            const stats_paired *d = &pt->vs_best.paired;
            cm[ps.n_comparisons++] = (store_point_comparison){
                analysis_metric_name((analysis_metric)m), e.points[p].point_index,
                e.points[r->best].point_index, d->n, d->mean_diff, d->ci_lo, d->ci_hi, d->t.t,
                d->t.p, pt->vs_best.p_t_holm, d->w.statistic, d->w.p, pt->vs_best.p_w_holm};
        }
    }
    /* The curves and gaps do not depend on the metric. */
    for (size_t p = 0; first >= 0 && p < np; p++) {
        const analysis_point *pt = &res[first].points[p];
        tr[ps.n_training++] = (store_point_training){
            e.points[p].point_index, e.points[p].params,
            pt->curve_epochs ? (pt->curve_is_val ? "val_loss" : "loss") : NULL,
            pt->curve_epochs, pt->converged_epoch, pt->converged, pt->gap.n, pt->gap.mean,
            pt->gap.ci_lo, pt->gap.ci_hi};
    }
    rc = store_point_stats_write(s, experiment_id, &ps, err);
    goto done;
oom:
    if (err) {
        err->code = 0;
        err->busy = 0;
        snprintf(err->message, sizeof err->message, "out of memory");
    }
done:
    for (int m = 0; m < ANALYSIS_N_METRICS; m++)
        analysis_result_free(&res[m]);
    free(st);
    free(cm);
    free(tr);
    analysis_experiment_free(&e);
    return rc;
}
