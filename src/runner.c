/* runner: the OpenMP trial loop, progress, the single writer. See runner.h. */
#include "runner.h"

#include "digest.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <omp.h>

#include "affinity.h"
#include "checked.h"
#include "metrics.h"
#include "plan_memory.h"
#include "sweep.h"
#include "text.h"
#include "version.h"

const char *const runner_split_names[3] = {"train", "validation", "test"};

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

#define ISO_LEN 48

static void now_iso(char buf[ISO_LEN])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char base[32];
    if (strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        base[0] = '\0';
    snprintf(buf, ISO_LEN, "%s.%03dZ", base, (int)(ts.tv_nsec / 1000000L));
}

/* ---- one trial -------------------------------------------------------- */

typedef struct hook_ctx {
    runner_trial *t;
    size_t cap;
    const atomic_int *stop;
} hook_ctx;

/* Copies each epoch's log into the buffer allocated for all epochs before
 * training started, and stops training once a signal asked to. */
static int on_epoch(void *user, const nn_epoch_log *log)
{
    hook_ctx *c = user;
    if (c->t->n_history < c->cap)
        c->t->history[c->t->n_history++] = *log;
    return c->stop && atomic_load(c->stop);
}

void runner_trial_free(runner_trial *t)
{
    if (!t)
        return;
    free(t->params);
    free(t->history);
    for (int s = 0; s < 3; s++)
        free(t->confusion[s]);
    free(t->precision);
    free(t->recall);
    free(t->f1);
    free(t->support);
    free(t->grid);
    memset(t, 0, sizeof *t);
}

static int set_error(runner_trial *t, store_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int set_error(runner_trial *t, store_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->error, sizeof t->error, fmt, ap);
    va_end(ap);
    t->status = st;
    return 0;
}

/* The decision grid. Its points are in the units of the raw features, so
 * they go through the same scaler as the data before the model sees them
 * (metrics_grid_predict alone would feed them unscaled). */
static int trial_grid(runner_trial *t, const spec_experiment *e, nn_model *m,
                      const data_scaler *sc)
{
    size_t res = e->record.grid_resolution, K = t->n_classes;
    if (res < 2 || res > 4096 || K > 255)
        return 0;
    size_t n, nx, np;
    if (!checked_mul(res, res, &n) || !checked_mul(n, 2 * sizeof(float), &nx) ||
        !checked_mul(n, K * sizeof(float), &np))
        return -1;
    data_set g;
    memset(&g, 0, sizeof g);
    g.n_rows = n;
    g.n_features = 2;
    g.x = malloc(nx);
    float *prob = malloc(np ? np : 1);
    int32_t *cls = malloc(n * sizeof *cls); /* n * 4 <= nx: cannot wrap */
    t->grid = malloc(n);
    if (!g.x || !prob || !cls || !t->grid) {
        free(g.x);
        free(prob);
        free(cls);
        free(t->grid);
        t->grid = NULL;
        return -1;
    }
    metrics_grid_points(e->record.grid_x0[0], e->record.grid_x0[1], e->record.grid_x1[0],
                        e->record.grid_x1[1], res, g.x);
    if (sc->kind != DATA_SCALE_NONE)
        data_scaler_apply(sc, &g);
    /* With a prob buffer the whole grid is one prediction call. */
    metrics_predict_classes(m, g.x, n, cls, prob);
    for (size_t i = 0; i < n; i++)
        t->grid[i] = (uint8_t)cls[i];
    t->grid_res = res;
    memcpy(t->grid_x0, e->record.grid_x0, sizeof t->grid_x0);
    memcpy(t->grid_x1, e->record.grid_x1, sizeof t->grid_x1);
    free(g.x);
    free(prob);
    free(cls);
    return 0;
}

int runner_trial_exec(const spec_experiment *e, uint64_t seed, const data_set *source,
                      const atomic_int *stop, runner_trial *t)
{
    double t0 = mono_ms();
    data_splits sp;
    data_error derr;
    nn_model *m = NULL;
    float *prob = NULL;
    double *vl = NULL;
    uint32_t *cm_test = NULL;
    int rc = 0, built = 0;

    memset(t, 0, sizeof *t);
    memset(&sp, 0, sizeof sp);
    memset(&derr, 0, sizeof derr);
    t->status = STORE_FAILED;
    t->overfit_gap = NAN;
    for (int s = 0; s < 3; s++)
        t->loss[s] = t->accuracy[s] = NAN;
    size_t epochs = e->training.epochs;
    size_t K = source->n_classes;
    t->n_classes = K;
    t->history = calloc(epochs ? epochs : 1, sizeof *t->history);
    if (!t->history)
        return -1;

    uint64_t data_seed = e->data.has_seed ? e->data.seed : seed;
    if (data_pipeline_build(source, &e->data.pipeline, data_seed, &sp, &derr)) {
        set_error(t, STORE_FAILED, "data: %s", derr.message);
        goto done;
    }
    built = 1;
    const nn_model_config *mc = &e->model;
    if (mc->n_layers == 0 || mc->n_layers > NN_MAX_LAYERS) {
        set_error(t, STORE_FAILED, "the model has no layers");
        goto done;
    }
    /* The spec requires one output unit per class (validated), so this only
     * guards against a dataset that does not match its spec. */
    size_t units = mc->layers[mc->n_layers - 1].units;
    const data_set *ds[3] = {&sp.train, &sp.validation, &sp.test};
    float *ys[3] = {sp.y_train, sp.y_validation, sp.y_test};
    if (units != K) {
        set_error(t, STORE_FAILED,
                  "the output layer has %zu units but the data has %zu classes", units, K);
        goto done;
    }
    size_t bs = e->training.batch_size ? e->training.batch_size : 32;
    /* evaluate and predict use Keras's default batch of 32 rows. */
    size_t max_batch = bs > 32 ? bs : 32;
    m = nn_model_new(mc, max_batch);
    if (!m) {
        set_error(t, STORE_FAILED, "cannot build the model (out of memory or invalid)");
        goto done;
    }
    t->n_layers = mc->n_layers;
    for (size_t l = 0; l < mc->n_layers; l++) {
        t->layer_in[l] = nn_model_layer_inputs(m, l);
        t->layer_out[l] = mc->layers[l].units;
    }
    rng_state r_init, r_shuffle;
    rng_stream(&r_init, seed, RNG_PURPOSE_INIT);
    rng_stream(&r_shuffle, seed, RNG_PURPOSE_SHUFFLE);
    nn_model_init(m, &r_init);

    hook_ctx hc = {t, epochs, stop};
    nn_fit_config fc;
    memset(&fc, 0, sizeof fc);
    fc.epochs = epochs;
    fc.batch_size = bs;
    fc.shuffle = e->training.shuffle;
    fc.on_epoch = on_epoch;
    fc.user = &hc;
    size_t nv = sp.validation.n_rows;
    nn_fit_result fr = nn_fit(m, sp.train.x, ys[0], sp.train.n_rows, nv ? sp.validation.x : NULL,
                              nv ? ys[1] : NULL, nv, &fc, &r_shuffle);
    t->epochs_run = fr.epochs_run;
    t->n_params = nn_model_param_count(m);
    t->params = calloc(t->n_params ? t->n_params : 1, sizeof *t->params);
    if (!t->params) {
        rc = -1;
        goto done;
    }
    memcpy(t->params, nn_model_params_const(m), t->n_params * sizeof *t->params);
    if (fr.status == NN_FIT_DIVERGED) {
        t->diverged_epoch = fr.diverged_epoch;
        set_error(t, STORE_DIVERGED, "loss became NaN or Inf in epoch %zu", fr.diverged_epoch);
        goto done;
    }
    if (fr.status == NN_FIT_STOPPED) {
        set_error(t, STORE_INTERRUPTED, "interrupted by a signal after epoch %zu",
                  fr.epochs_run);
        goto done;
    }
    if (fr.status != NN_FIT_DONE) {
        set_error(t, STORE_FAILED, "training failed: invalid fit arguments");
        goto done;
    }

    /* Evaluation, confusion matrices and per-class figures. */
    size_t max_rows = 1;
    for (int s = 0; s < 3; s++)
        if (ds[s]->n_rows > max_rows)
            max_rows = ds[s]->n_rows;
    size_t prob_bytes, cm_bytes, k_doubles;
    if (!checked_mul(max_rows, units, &prob_bytes) ||
        !checked_mul(prob_bytes, sizeof *prob, &prob_bytes) ||
        !checked_mul(K, K, &cm_bytes) || !checked_mul(cm_bytes, sizeof *cm_test, &cm_bytes) ||
        !checked_mul(K, sizeof(double), &k_doubles)) {
        set_error(t, STORE_FAILED, "the evaluation buffers would be too large");
        goto done;
    }
    prob = malloc(prob_bytes);
    cm_test = malloc(cm_bytes);
    t->precision = malloc(k_doubles);
    t->recall = malloc(k_doubles);
    t->f1 = malloc(k_doubles);
    t->support = malloc(K * sizeof(uint32_t)); /* <= k_doubles: cannot wrap */
    if (!prob || !cm_test || !t->precision || !t->recall || !t->f1 || !t->support) {
        rc = -1;
        goto done;
    }
    const int record[3] = {e->record.confusion_train, e->record.confusion_validation,
                           e->record.confusion_test};
    for (int s = 0; s < 3; s++) {
        if (ds[s]->n_rows == 0)
            continue;
        nn_evaluate(m, ds[s]->x, ys[s], ds[s]->n_rows, 32, &t->loss[s], &t->accuracy[s]);
        if (!record[s] && s != 2)
            continue;
        nn_predict(m, ds[s]->x, ds[s]->n_rows, prob);
        uint32_t *cm = cm_test;
        if (record[s]) {
            cm = t->confusion[s] = malloc(cm_bytes);
            if (!cm) {
                rc = -1;
                goto done;
            }
        }
        metrics_confusion(prob, ds[s]->y, ds[s]->n_rows, K, cm);
        if (s == 2 && cm != cm_test)
            memcpy(cm_test, cm, cm_bytes);
    }
    if (sp.test.n_rows)
        metrics_per_class(cm_test, K, t->precision, t->recall, t->f1, t->support);
    else
        for (size_t k = 0; k < K; k++) {
            t->precision[k] = t->recall[k] = t->f1[k] = 0;
            t->support[k] = 0;
        }

    vl = calloc(t->n_history ? t->n_history : 1, sizeof *vl);
    if (!vl) {
        rc = -1;
        goto done;
    }
    for (size_t i = 0; i < t->n_history; i++)
        vl[i] = t->history[i].val_loss;
    metrics_best_epoch(vl, t->n_history, &t->best_epoch, &t->overfit_gap);

    if (e->record.grid && mc->n_inputs == 2 && trial_grid(t, e, m, &sp.scaler)) {
        rc = -1;
        goto done;
    }
    t->status = STORE_DONE;
    runner_trial_hash(t, t->hash);
done:
    free(vl);
    free(prob);
    free(cm_test);
    if (m)
        nn_model_free(m);
    if (built)
        data_splits_free(&sp);
    t->wall_ms = mono_ms() - t0;
    if (rc)
        set_error(t, STORE_FAILED, "out of memory");
    return 0;
}

static void hash_double(digest_sha256 *c, double v)
{
    uint64_t u;
    if (isnan(v))
        u = UINT64_C(0x7ff8000000000000);
    else
        memcpy(&u, &v, 8);
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(u >> (8 * i));
    digest_sha256_update(c, b, 8);
}

void runner_trial_hash(const runner_trial *t, char hex[65])
{
    digest_sha256 ctx, *c = &ctx;
    digest_sha256_init(c);
    for (size_t i = 0; i < t->n_params; i++) {
        uint32_t u;
        memcpy(&u, &t->params[i], 4);
        unsigned char b[4] = {(unsigned char)u, (unsigned char)(u >> 8),
                              (unsigned char)(u >> 16), (unsigned char)(u >> 24)};
        digest_sha256_update(c, b, 4);
    }
    for (int s = 0; s < 3; s++) {
        hash_double(c, t->loss[s]);
        hash_double(c, t->accuracy[s]);
    }
    if (t->precision)
        for (size_t k = 0; k < t->n_classes; k++) {
            hash_double(c, t->precision[k]);
            hash_double(c, t->recall[k]);
            hash_double(c, t->f1[k]);
            hash_double(c, (double)t->support[k]);
        }
    for (size_t i = 0; i < t->n_history; i++) {
        hash_double(c, t->history[i].loss);
        hash_double(c, t->history[i].accuracy);
        hash_double(c, t->history[i].val_loss);
        hash_double(c, t->history[i].val_accuracy);
    }
    unsigned char md[DIGEST_SHA256_LEN];
    digest_sha256_final(c, md);
    digest_hex(md, sizeof md, hex);
}

void runner_stats(const double *v, size_t n, size_t *count, double *mean, double *std,
                  double *min, double *max)
{
    size_t c = 0;
    double sum = 0, lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i])) {
            c++;
            sum += v[i];
            lo = v[i] < lo ? v[i] : lo;
            hi = v[i] > hi ? v[i] : hi;
        }
    *count = c;
    *mean = c ? sum / (double)c : NAN;
    *min = c ? lo : NAN;
    *max = c ? hi : NAN;
    /* Two passes: deviations from the mean, like the sweep_summary view. */
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i]))
            ss += (v[i] - *mean) * (v[i] - *mean);
    *std = c > 1 ? sqrt(ss / (double)(c - 1)) : NAN;
}

/* ---- store results of a trial ----------------------------------------- */

/* Hands one trial to the store as plain arrays. */
static int trial_store(store *db, int64_t id, const spec_experiment *e, const runner_trial *t,
                       const char *started_at, store_error *err)
{
    size_t E = t->n_history, K = t->n_classes, nh, nmt;
    double *h = NULL;
    store_metric *mt = NULL;
    store_weight wt[2 * NN_MAX_LAYERS];
    int rc = -1;
    /* 4 history columns; 6 split figures + 4 per class. */
    if (checked_mul(E ? E : 1, 4, &nh) && checked_mul(K, 4, &nmt) && checked_add(nmt, 6, &nmt)) {
        h = calloc(nh, sizeof *h);
        mt = calloc(nmt, sizeof *mt);
    }
    if (!h || !mt) {
        snprintf(err->message, sizeof err->message, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < E; i++) {
        h[i] = t->history[i].loss;
        h[E + i] = t->history[i].accuracy;
        h[2 * E + i] = t->history[i].val_loss;
        h[3 * E + i] = t->history[i].val_accuracy;
    }
    store_trial_result r;
    memset(&r, 0, sizeof r);
    r.status = t->status;
    r.n_params = t->n_params;
    r.epochs_run = t->epochs_run;
    r.diverged_epoch = t->diverged_epoch;
    r.best_epoch = t->best_epoch;
    r.overfit_gap = t->overfit_gap;
    r.train_loss = t->loss[0];
    r.train_accuracy = t->accuracy[0];
    r.val_loss = t->loss[1];
    r.val_accuracy = t->accuracy[1];
    r.test_loss = t->loss[2];
    r.test_accuracy = t->accuracy[2];
    r.result_hash = t->status == STORE_DONE ? t->hash : NULL;
    r.error = t->error[0] ? t->error : NULL;
    char fin[ISO_LEN];
    now_iso(fin);
    r.finished_at = fin;
    r.started_at = started_at;
    r.wall_ms = t->wall_ms;
    r.n_epochs = E;
    r.loss = h;
    r.accuracy = h + E;
    r.val_loss_h = h + 2 * E;
    r.val_accuracy_h = h + 3 * E;
    store_confusion cm[3];
    store_grid g;
    if (t->status == STORE_DONE) {
        size_t nm = 0;
        for (int s = 0; s < 3; s++) {
            if (isnan(t->loss[s]))
                continue;
            mt[nm].split = runner_split_names[s];
            snprintf(mt[nm].name, sizeof mt[nm].name, "loss");
            mt[nm++].value = t->loss[s];
            mt[nm].split = runner_split_names[s];
            snprintf(mt[nm].name, sizeof mt[nm].name, "accuracy");
            mt[nm++].value = t->accuracy[s];
        }
        if (!isnan(t->loss[2]))
            for (size_t k = 0; k < K; k++) {
                const char *nm4[4] = {"precision", "recall", "f1", "support"};
                double v4[4] = {t->precision[k], t->recall[k], t->f1[k], (double)t->support[k]};
                for (int j = 0; j < 4; j++) {
                    mt[nm].split = "test";
                    snprintf(mt[nm].name, sizeof mt[nm].name, "%s_%zu", nm4[j], k);
                    mt[nm++].value = v4[j];
                }
            }
        r.n_metrics = nm;
        r.metrics = mt;
        size_t nc = 0;
        for (int s = 0; s < 3; s++)
            if (t->confusion[s])
                cm[nc++] = (store_confusion){runner_split_names[s], K, t->confusion[s]};
        r.n_confusion = nc;
        r.confusion = cm;
        if (e->record.weights) {
            size_t nw = 0, off = 0;
            for (size_t l = 0; l < t->n_layers; l++) {
                size_t in = t->layer_in[l], outn = t->layer_out[l];
                wt[nw++] = (store_weight){l, "kernel", in, outn, t->params + off};
                off += in * outn;
                wt[nw++] = (store_weight){l, "bias", 1, outn, t->params + off};
                off += outn;
            }
            r.n_weights = nw;
            r.weights = wt;
        }
        if (t->grid) {
            g = (store_grid){t->grid_x0[0], t->grid_x0[1], t->grid_x1[0], t->grid_x1[1],
                             t->grid_res, t->grid};
            r.grid = &g;
        }
    }
    rc = store_trial_finish(db, id, &r, err);
out:
    free(h);
    free(mt);
    return rc;
}

/* ---- datasets --------------------------------------------------------- */

static int source_load(const spec_experiment *e, data_set *out, char *msg, size_t n)
{
    data_error derr;
    memset(&derr, 0, sizeof derr);
    memset(out, 0, sizeof *out);
    int rc;
    switch (e->data.source) {
    case SPEC_SOURCE_XOR:
        rc = data_source_xor(out);
        break;
    case SPEC_SOURCE_DIGITS:
        rc = data_source_digits(out, &derr);
        break;
    default:
        rc = data_source_csv(e->data.csv_path, e->data.csv_label, out, &derr);
        break;
    }
    if (rc) {
        if (derr.file[0] && derr.line)
            snprintf(msg, n, "%s:%u:%u: error: %s", derr.file, derr.line, derr.column,
                     derr.message);
        else if (derr.file[0])
            snprintf(msg, n, "%s: error: %s", derr.file, derr.message);
        else
            snprintf(msg, n, "error: cannot load the dataset: %s",
                     derr.message[0] ? derr.message : "out of memory");
        return -1;
    }
    return 0;
}

static int same_source(const spec_experiment *a, const spec_experiment *b)
{
    if (a->data.source != b->data.source)
        return 0;
    if (a->data.source != SPEC_SOURCE_CSV)
        return 1;
    const char *la = a->data.csv_label ? a->data.csv_label : "";
    const char *lb = b->data.csv_label ? b->data.csv_label : "";
    return a->data.csv_path && b->data.csv_path && !strcmp(a->data.csv_path, b->data.csv_path) &&
           !strcmp(la, lb);
}

/* The datasets of a plan, each distinct source loaded once. */
typedef struct plan_sources {
    size_t n;
    data_set *sets;
    size_t *of_point; /* index into sets for each point */
} plan_sources;

static void plan_sources_free(plan_sources *ps)
{
    for (size_t i = 0; i < ps->n; i++)
        data_set_free(&ps->sets[i]);
    free(ps->sets);
    free(ps->of_point);
    memset(ps, 0, sizeof *ps);
}

/* Prints prefix, then text with what a terminal would act on escaped
 * (text.h), then a newline: for messages that quote a name, a value or a
 * label from the spec, the data or the database. */
static void say(FILE *f, const char *prefix, const char *text)
{
    fputs(prefix, f);
    text_fputs(text, f);
    fputc('\n', f);
}

static int plan_sources_load(const sweep_plan *p, plan_sources *ps, FILE *err)
{
    memset(ps, 0, sizeof *ps);
    size_t np = p->n_points ? p->n_points : 1;
    ps->sets = calloc(np, sizeof *ps->sets);
    ps->of_point = calloc(np, sizeof *ps->of_point);
    if (!ps->sets || !ps->of_point) {
        fputs("runexp: out of memory\n", err);
        plan_sources_free(ps);
        return -1;
    }
    size_t *first = calloc(np, sizeof *first); /* point that introduced each set */
    if (!first) {
        plan_sources_free(ps);
        return -1;
    }
    for (size_t i = 0; i < p->n_points; i++) {
        size_t j;
        for (j = 0; j < ps->n; j++)
            if (same_source(&p->points[first[j]].spec, &p->points[i].spec))
                break;
        if (j == ps->n) {
            char msg[1200];
            if (source_load(&p->points[i].spec, &ps->sets[j], msg, sizeof msg)) {
                say(err, "", msg);
                free(first);
                plan_sources_free(ps);
                return -1;
            }
            first[j] = i;
            ps->n++;
        }
        ps->of_point[i] = j;
    }
    free(first);
    return 0;
}

/* ---- provenance ------------------------------------------------------- */

static void cpu_model(char *buf, size_t n)
{
    snprintf(buf, n, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10))
            continue;
        char *c = strchr(line, ':');
        if (!c)
            continue;
        c++;
        while (*c == ' ' || *c == '\t')
            c++;
        c[strcspn(c, "\n")] = '\0';
        snprintf(buf, n, "%s", c);
        break;
    }
    fclose(f);
}

/* ---- phase timings (--timings, RUNEXP_TIMINGS=1) --------------------- */

/* Where the wall time of a run goes, printed on stderr at the end. Phases
 * are summed over the specs of a run. The parallel section is split into
 * what the threads did (training, commits) and what they did not (idle at
 * the end while another thread still trained): everything outside the
 * trial loop, plus that idle time, is what keeps -j2 from being twice as
 * fast as -j1. */
enum {
    PH_PARSE, PH_DATA, PH_OPEN, PH_EXPERIMENT, PH_PLAN_INSERT, PH_LOOP, PH_TAIL,
    PH_SUMMARY, PH_CLOSE, PH_N
};
static const char *const phase_names[PH_N] = {
    "parse + plan", "data load", "database open/create", "experiment record",
    "plan insert (queued rows)", "trials (parallel section)", "commits after the last trial",
    "summary", "database close"};

typedef struct run_timings {
    int on;
    double t0;               /* runner_run entered */
    double startup_cpu_ms;   /* CPU time used before runner_run (loader, libc, main) */
    double ph[PH_N];
    double first_trial_ms;   /* loop entry to the first trial starting (OpenMP start-up) */
    double last_first_ms;    /* loop entry to the last thread's first trial starting */
    double start_idle_ms;    /* summed over threads: loop entry to their first trial */
    double train_ms;         /* runner_trial_exec summed over trials */
    double write_ms;         /* commits of finished trials, summed */
    double idle_ms;          /* summed over threads: no trial left while another trained */
    int threads;
    int pinned;              /* one CPU per thread (affinity.h) */
    int spare;               /* the team had affinity.h's spare thread */
    int created;             /* a new database, created in the trial loop */
} run_timings;

static double cpu_used_ms(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru))
        return NAN;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static void timings_print(const run_timings *tm, FILE *err)
{
    double total = mono_ms() - tm->t0;
    fprintf(err, "runexp: timings (ms of wall time unless noted)\n");
    fprintf(err, "  %-34s %9.2f  (CPU time)\n", "start-up before the run", tm->startup_cpu_ms);
    for (int i = 0; i < PH_N; i++) {
        fprintf(err, "  %-34s %9.2f", phase_names[i], tm->ph[i]);
        if (tm->created && (i == PH_OPEN || i == PH_EXPERIMENT || i == PH_PLAN_INSERT))
            fputs("  (in the parallel section, by thread 0)", err);
        if (i == PH_LOOP)
            fprintf(err, "  on %d thread%s%s%s; first trials started after %.2f to %.2f",
                    tm->threads, tm->threads == 1 ? "" : "s", tm->pinned ? ", one CPU each" : "",
                    tm->spare ? " (and a spare)" : "", tm->first_trial_ms, tm->last_first_ms);
        fputc('\n', err);
        if (i == PH_LOOP) {
            fprintf(err, "    %-32s %9.2f  (thread-ms)\n", "idle at the start (thread start)",
                    tm->start_idle_ms);
            fprintf(err, "    %-32s %9.2f  (thread-ms)\n", "training, summed over trials",
                    tm->train_ms);
            fprintf(err, "    %-32s %9.2f\n", "commits (running marks, results)",
                    tm->write_ms);
            fprintf(err, "    %-32s %9.2f  (thread-ms)\n", "idle at the end (imbalance)",
                    tm->idle_ms);
        }
    }
    fprintf(err, "  %-34s %9.2f\n", "total (run entered to closed)", total);
    fprintf(err, "  %-34s %9.2f\n", "serial (total - parallel section)",
            total - tm->ph[PH_LOOP]);
}

/* ---- the run ------------------------------------------------------------ */

/* Work for the writer: a trial that starts (mark it running, so sqlite3
 * observers see it) or one that finished (record it). */
typedef struct done_item {
    int finished;  /* 0: running mark only */
    size_t ti;
    runner_trial t;
    char started[ISO_LEN];
} done_item;

/* State shared by the threads of the trial loop. qlock guards the writer's
 * queue (q, q_head, q_tail: trials starting and finished, in that order for
 * each trial); wlock makes its holder the single writer: only the holder
 * touches the store connection, the counters and the progress line. */
typedef struct run_shared {
    omp_lock_t qlock, wlock;
    done_item *q;
    size_t q_head, q_tail;
    long next;   /* the next of the pending trials to start (under qlock) */
    int team;    /* threads OpenMP gave the loop, the spare included */
    int give_up; /* a write failed: start no more trials (under qlock) */
    int db_ready; /* db and ids may be used (under qlock; see new_database) */
    const sweep_plan *plan;
    const int64_t *ids;
    store *db;
    int store_failed;
    store_error store_err;
    size_t finished, total, n_done, n_failed, n_diverged, n_interrupted;
    double t_start;
    int tty, quiet;
    FILE *err;
    run_timings *tm;
    double *thr_end;   /* per thread: when its last trial's training ended */
    double *thr_start; /* per thread: when its first trial's training began (0: none) */
    double setup_ms;   /* thread 0's time creating a new database and committing what
                        * the others queued meanwhile */
} run_shared;

static void progress(run_shared *sh, const sweep_plan *p, const sweep_trial *tr, int64_t id,
                     const runner_trial *t)
{
    if (sh->quiet)
        return;
    double el = (mono_ms() - sh->t_start) / 1e3;
    if (sh->tty) {
        double eta = sh->finished ? el / (double)sh->finished *
                                        (double)(sh->total - sh->finished)
                                  : 0;
        char bar[31];
        size_t fill = sh->total ? 30 * sh->finished / sh->total : 30;
        for (size_t i = 0; i < 30; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[30] = '\0';
        fprintf(sh->err, "\r[%s] %zu/%zu  elapsed %.1fs  ETA %.1fs ", bar, sh->finished,
                sh->total, el, eta);
        if (sh->finished == sh->total)
            fputc('\n', sh->err);
    } else {
        fprintf(sh->err, "trial %zu/%zu (id %lld, ", sh->finished, sh->total, (long long)id);
        text_fputs(p->points[tr->point].params_json, sh->err);
        fprintf(sh->err, " seed %llu): %s", (unsigned long long)tr->seed,
                store_status_name(t->status));
        if (t->status == STORE_DONE) {
            fprintf(sh->err, ", test accuracy %.4f", t->accuracy[2]);
        } else if (t->error[0]) {
            fputs(": ", sh->err);
            text_fputs(t->error, sh->err);
        }
        fprintf(sh->err, " (%.0f ms)\n", t->wall_ms);
    }
    fflush(sh->err);
}

/* Writes queued trials while this thread can be the writer. Non-blocking
 * (block = 0) from the trial loop: when another thread holds the writer
 * lock, that thread will find our item in the queue, so this one goes back
 * to training at once instead of waiting for the database. */
static void drain(run_shared *sh, int block)
{
    for (;;) {
        if (block)
            omp_set_lock(&sh->wlock);
        else if (!omp_test_lock(&sh->wlock))
            return;
        /* A new database is still being created by thread 0: the items
         * wait in the queue, and thread 0 drains them once it is done. */
        omp_set_lock(&sh->qlock);
        int ready = sh->db_ready;
        omp_unset_lock(&sh->qlock);
        if (!ready) {
            omp_unset_lock(&sh->wlock);
            return;
        }
        for (;;) {
            done_item *it = NULL;
            omp_set_lock(&sh->qlock);
            if (sh->q_head < sh->q_tail)
                it = &sh->q[sh->q_head++];
            omp_unset_lock(&sh->qlock);
            if (!it)
                break;
            const sweep_trial *tr = &sh->plan->trials[it->ti];
            const sweep_point *pt = &sh->plan->points[tr->point];
            if (!it->finished) {
                double w0 = sh->tm->on ? mono_ms() : 0;
                if (!sh->store_failed &&
                    store_trial_start(sh->db, sh->ids[it->ti], it->started, &sh->store_err)) {
                    sh->store_failed = 1;
                    omp_set_lock(&sh->qlock);
                    sh->give_up = 1;
                    omp_unset_lock(&sh->qlock);
                }
                if (sh->tm->on)
                    sh->tm->write_ms += mono_ms() - w0;
                continue;
            }
            if (!sh->store_failed) {
                double w0 = sh->tm->on ? mono_ms() : 0;
                /* Only a committed trial is counted: the summary says what
                 * the database holds (a full disk fails the commit). */
                if (trial_store(sh->db, sh->ids[it->ti], &pt->spec, &it->t, it->started,
                                &sh->store_err)) {
                    sh->store_failed = 1;
                    omp_set_lock(&sh->qlock);
                    sh->give_up = 1;
                    omp_unset_lock(&sh->qlock);
                    runner_trial_free(&it->t);
                    continue;
                }
                sh->finished++;
                switch (it->t.status) {
                case STORE_DONE: sh->n_done++; break;
                case STORE_DIVERGED: sh->n_diverged++; break;
                case STORE_INTERRUPTED: sh->n_interrupted++; break;
                default: sh->n_failed++; break;
                }
                progress(sh, sh->plan, tr, sh->ids[it->ti], &it->t);
                if (sh->tm->on)
                    sh->tm->write_ms += mono_ms() - w0;
            }
            runner_trial_free(&it->t);
        }
        omp_unset_lock(&sh->wlock);
        /* An item pushed between our last look and the unlock would have
         * found the lock taken: look once more. */
        omp_set_lock(&sh->qlock);
        int more = sh->q_head < sh->q_tail;
        omp_unset_lock(&sh->qlock);
        if (!more)
            return;
    }
}

static void print_summary(store *db, const sweep_plan *p, const int64_t *ids, int64_t exp,
                          const char *name, const char *db_path, FILE *out)
{
    size_t nt = p->n_trials;
    size_t na;
    double *acc = checked_mul(nt ? nt : 1, 4, &na) ? calloc(na, sizeof *acc) : NULL;
    if (!acc)
        return;
    double *val = acc + nt, *best = acc + 2 * nt, *gap = acc + 3 * nt;
    size_t w = 6;
    for (size_t i = 0; i < p->n_points; i++) {
        size_t l = text_escape(NULL, 0, p->points[i].params_json);
        w = l > w ? l : w;
    }
    /* The ± and – take two or three bytes but one column: the headers are
     * padded by hand. */
    fprintf(out, "\n%s\n%5s  %-*s  %5s  %s  %s  %7s  %8s  %11s\n", name, "point", (int)w,
            "params", "seeds", "test acc ± std ", "acc min – max  ", "val acc", "best ep.",
            "overfit gap");
    for (size_t pi = 0; pi < p->n_points; pi++) {
        size_t n = 0, total = 0;
        for (size_t i = 0; i < nt; i++) {
            if (p->trials[i].point != pi)
                continue;
            total++;
            store_trial_figures f;
            store_error err;
            if (store_trial_figures_get(db, ids[i], &f, &err) || f.status != STORE_DONE)
                continue;
            acc[n] = f.test_accuracy;
            val[n] = f.val_accuracy;
            best[n] = f.best_epoch;
            gap[n] = f.overfit_gap;
            n++;
        }
        size_t c;
        double am, as, amin, amax, vm, bm, gm, d1, d2, d3;
        runner_stats(acc, n, &c, &am, &as, &amin, &amax);
        runner_stats(val, n, &c, &vm, &d1, &d2, &d3);
        runner_stats(best, n, &c, &bm, &d1, &d2, &d3);
        runner_stats(gap, n, &c, &gm, &d1, &d2, &d3);
        char seeds[32];
        snprintf(seeds, sizeof seeds, n == total ? "%zu" : "%zu/%zu", n, total);
        char *params = text_escape_dup(p->points[pi].params_json);
        fprintf(out, "%5zu  %-*s  %5s  ", pi, (int)w, params ? params : "?", seeds);
        free(params);
        if (n == 0) {
            fprintf(out, "(no finished trial)\n");
            continue;
        }
        if (isnan(as))
            fprintf(out, "%.4f           ", am);
        else
            fprintf(out, "%.4f ± %.4f", am, as);
        fprintf(out, "  %.4f – %.4f  ", amin, amax);
        if (isnan(vm))
            fprintf(out, "%7s  %8s  %11s\n", "-", "-", "-");
        else
            fprintf(out, "%7.4f  %8.1f  %11.4f\n", vm, bm, gm);
    }
    fprintf(out, "\nresults: %s (experiment %lld)\n", db_path, (long long)exp);
    fprintf(out,
            "  sqlite3 %s \"SELECT params, n, round(test_accuracy_mean, 4) AS acc_mean,"
            " round(test_accuracy_std, 4) AS acc_std FROM sweep_summary"
            " WHERE experiment_id = %lld\"\n",
            db_path, (long long)exp);
    free(acc);
}

typedef struct cost_idx {
    double cost;
    size_t idx;
} cost_idx;

static int cost_cmp(const void *a, const void *b)
{
    const cost_idx *x = a, *y = b;
    if (x->cost != y->cost)
        return x->cost > y->cost ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Starts the most expensive trials first (longest-processing-time-first):
 * with one trial per thread, a big trial started last would leave the
 * other threads idle at the end. The estimate is epochs x multiply-adds
 * per row. Only the order of execution changes; trial ids and results do
 * not depend on it. */
static int order_by_cost(const sweep_plan *p, size_t *pending, size_t n)
{
    cost_idx *c = calloc(n ? n : 1, sizeof *c);
    if (!c)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const spec_experiment *e = &p->points[p->trials[pending[i]].point].spec;
        double macs = 0, in = (double)e->model.n_inputs;
        for (size_t l = 0; l < e->model.n_layers; l++) {
            macs += in * (double)e->model.layers[l].units;
            in = (double)e->model.layers[l].units;
        }
        c[i].cost = (double)e->training.epochs * macs;
        c[i].idx = pending[i];
    }
    qsort(c, n, sizeof *c, cost_cmp);
    for (size_t i = 0; i < n; i++)
        pending[i] = c[i].idx;
    free(c);
    return 0;
}

static int resolve_jobs(int jobs)
{
    /* omp_get_max_threads() is OMP_NUM_THREADS when set, else the cores. */
    return jobs > 0 ? jobs : omp_get_max_threads();
}

typedef struct run_totals {
    int any_failed;
    int interrupted;
    int db_error;
} run_totals;

/* Runs one planned spec against an open store. */
/* The experiment record and the plan's rows (in plan order, so trial ids do
 * not depend on which thread finishes first): what gives each trial its id
 * and decides whether it runs. */
static int plan_record(store *db, const store_experiment_info *info, const runner_options *o,
                       size_t nt, const store_trial_plan *tp, int64_t *ids,
                       store_plan_action *act, int64_t *exp, store_experiment_outcome *oc,
                       run_timings *tm, store_error *serr)
{
    double t0 = mono_ms();
    if (store_experiment_begin(db, info, o->fresh, exp, oc, serr))
        return -1;
    double t1 = mono_ms();
    if (store_trials_prepare(db, *exp, nt, tp, o->retry, ids, act, serr))
        return -1;
    tm->ph[PH_EXPERIMENT] += t1 - t0;
    tm->ph[PH_PLAN_INSERT] += mono_ms() - t1;
    return 0;
}

/* What thread 0 needs to create a new database in the trial loop. */
typedef struct new_database {
    const char *path;
    const runner_options *o;
    const store_experiment_info *info;
    size_t nt;
    const store_trial_plan *tp;
    int64_t *ids, *exp;
    store_plan_action *act;
    store **db;
} new_database;

/* A new database (store_is_new) holds no trial yet, so every trial of the
 * plan runs and none has to wait for it: thread 0 creates it, with the
 * experiment record and the queued rows, while the other threads already
 * train; its items and theirs wait in the queue until it is ready. A
 * database that exists is opened before the loop, since what it holds
 * decides which trials run. On failure nothing is written, no more trials
 * start, and the run ends with the error (exit 2). */
static void new_database_open(run_shared *sh, const new_database *nd, run_timings *tm)
{
    double t0 = mono_ms();
    store_error serr;
    memset(&serr, 0, sizeof serr);
    store *db = store_open(nd->path, &serr);
    tm->ph[PH_OPEN] += mono_ms() - t0;
    store_experiment_outcome oc;
    int bad = !db || plan_record(db, nd->info, nd->o, nd->nt, nd->tp, nd->ids, nd->act,
                                 nd->exp, &oc, tm, &serr);
    for (size_t i = 0; !bad && i < nd->nt; i++)
        if (nd->act[i] != STORE_PLAN_RUN) {
            snprintf(serr.message, sizeof serr.message,
                     "%s: trials appeared in the database while runexp created it", nd->path);
            bad = 1;
        }
    *nd->db = db;
    omp_set_lock(&sh->qlock);
    sh->db = db;
    if (bad) {
        sh->store_failed = 1;
        sh->store_err = serr;
        sh->give_up = 1;
    }
    sh->db_ready = 1;
    omp_unset_lock(&sh->qlock);
}

static void run_plan(const runner_options *o, const spec_document *doc, const sweep_plan *p,
                     const plan_sources *ps, store **dbp, const char *db_path, FILE *out,
                     FILE *err, run_totals *tot, run_timings *tm)
{
    /* No database yet: it is new, and thread 0 creates it in the loop. */
    int create = *dbp == NULL;
    store *db = *dbp;
    const spec_experiment *base = spec_document_base(doc);
    const char *spec_text = spec_document_text(doc);
    const char *file = spec_document_file(doc);
    size_t nt = p->n_trials;
    int64_t *ids = calloc(nt ? nt : 1, sizeof *ids);
    store_plan_action *act = calloc(nt ? nt : 1, sizeof *act);
    store_trial_plan *tp = calloc(nt ? nt : 1, sizeof *tp);
    store_param **pp = calloc(p->n_points ? p->n_points : 1, sizeof *pp);
    size_t *pending = calloc(nt ? nt : 1, sizeof *pending);
    const char **pparams = calloc(p->n_points ? p->n_points : 1, sizeof *pparams);
    const char **pcanon = calloc(p->n_points ? p->n_points : 1, sizeof *pcanon);
    store_error serr;
    memset(&serr, 0, sizeof serr);
    char *shown = NULL;
    if (!ids || !act || !tp || !pp || !pending || !pparams || !pcanon) {
        fputs("runexp: out of memory\n", err);
        tot->db_error = 1;
        goto out;
    }

    /* The experiment record and its provenance. */
    char created[ISO_LEN], host[600], cpu[256], base_dir[2 * PATH_MAX + 2];
    now_iso(created);
    struct utsname un;
    if (uname(&un) == 0)
        snprintf(host, sizeof host, "%s %s %s %s", un.nodename, un.sysname, un.release,
                 un.machine);
    else
        snprintf(host, sizeof host, "unknown");
    cpu_model(cpu, sizeof cpu);
    {
        char dir[PATH_MAX + 1];
        snprintf(dir, sizeof dir, "%s", file);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        else
            snprintf(dir, sizeof dir, ".");
        /* Absolute, so `reproduce` finds CSV files from any directory. */
        char cwd[PATH_MAX + 1];
        if (dir[0] != '/' && getcwd(cwd, sizeof cwd))
            snprintf(base_dir, sizeof base_dir, "%s/%s", cwd, dir);
        else
            snprintf(base_dir, sizeof base_dir, "%s", dir);
    }
    int jobs = resolve_jobs(o->jobs);
    const data_set *src0 = &ps->sets[0];
    const char *name = base->name && base->name[0] ? base->name : file;
    /* As printed: a name that passed `check` prints as it is (spec.c), but
     * a document built another way need not have. */
    shown = text_escape_dup(name);
    if (!shown) {
        fputs("runexp: out of memory\n", err);
        tot->db_error = 1;
        goto out;
    }
    store_experiment_info info = {
        .name = name, .spec = spec_text, .spec_file = file, .base_dir = base_dir,
        .created_at = created, .runexp_version = RUNEXP_VERSION,
        .git_revision = RUNEXP_GIT_REVISION, .compiler = RUNEXP_COMPILER,
        .build_flags = RUNEXP_BUILD_FLAGS, .host = host, .cpu_model = cpu, .threads = jobs,
        .sweep_dims = p->dims_json, .n_classes = src0->n_classes,
        .class_names = (const char *const *)src0->class_names, .n_points = p->n_points,
        .point_params = pparams, .point_canonical = pcanon};

    /* The whole plan goes in first, in plan order, so trial ids do not
     * depend on which thread finishes first. */
    char spec_hash[65];
    digest_sha256_hex(spec_text, strlen(spec_text), spec_hash);
    for (size_t pi = 0; pi < p->n_points; pi++) {
        const sweep_point *pt = &p->points[pi];
        pparams[pi] = pt->params_json;
        pcanon[pi] = pt->canonical;
        pp[pi] = calloc(pt->n_values ? pt->n_values : 1, sizeof **pp);
        if (!pp[pi]) {
            tot->db_error = 1;
            goto out;
        }
        for (size_t v = 0; v < pt->n_values; v++)
            pp[pi][v] = (store_param){pt->values[v].name, (int)pt->values[v].type,
                                      pt->values[v].i, pt->values[v].r, pt->values[v].s};
    }
    for (size_t i = 0; i < nt; i++) {
        const sweep_trial *tr = &p->trials[i];
        const sweep_point *pt = &p->points[tr->point];
        tp[i] = (store_trial_plan){tr->key, tr->index, tr->point, tr->seed, pt->params_json,
                                   pt->n_values, pp[tr->point], pt->canonical, spec_hash};
    }
    int64_t exp = 0;
    store_experiment_outcome oc;
    memset(&oc, 0, sizeof oc);
    if (!create &&
        plan_record(db, &info, o, nt, tp, ids, act, &exp, &oc, tm, &serr)) {
        say(err, "runexp: ", serr.message);
        tot->db_error = 1;
        goto out;
    }
    /* Said even with --quiet: it is where the results go, not progress. */
    if (oc.previous && !oc.resumed) {
        fprintf(err, "runexp: the spec of '%s' changed since experiment %lld (", shown,
                (long long)oc.previous);
        if (oc.dims_changed) {
            fputs("its sweep dimensions were ", err);
            text_fputs(oc.previous_dims, err);
            fputs(", now ", err);
            text_fputs(p->dims_json, err);
        } else {
            fputs("e.g. point ", err);
            text_fputs(oc.differing_params, err);
            fputs(" differs", err);
        }
        fprintf(err, "); recording in a new experiment %lld \u2014 the old results stay\n",
                (long long)exp);
    }
    size_t n_pending = 0, skipped_done = 0, skipped_failed = 0;
    for (size_t i = 0; i < nt; i++) {
        if (act[i] == STORE_PLAN_SKIP_DONE)
            skipped_done++;
        else if (act[i] == STORE_PLAN_SKIP_FAILED)
            skipped_failed++;
        else
            pending[n_pending++] = i;
    }
    if (order_by_cost(p, pending, n_pending)) {
        fputs("runexp: out of memory\n", err);
        tot->db_error = 1;
        goto out;
    }
    if (jobs > (int)n_pending)
        jobs = n_pending ? (int)n_pending : 1;
    if (!o->quiet) {
        fprintf(err, "%s: %zu trials, %zu to run on %d thread%s", shown, nt, n_pending, jobs,
                jobs == 1 ? "" : "s");
        if (skipped_done)
            fprintf(err, "; skipped %zu trials already done", skipped_done);
        fputc('\n', err);
        if (skipped_failed)
            fprintf(err,
                    "%s: %zu failed, diverged or interrupted trials not rerun (use --retry)\n",
                    shown, skipped_failed);
    }
    if (skipped_failed)
        tot->any_failed = 1;

    run_shared sh;
    memset(&sh, 0, sizeof sh);
    /* Two items per trial: its running mark and its result. */
    size_t nq;
    sh.q = checked_mul(n_pending ? n_pending : 1, 2, &nq) ? calloc(nq, sizeof *sh.q) : NULL;
    if (!sh.q) {
        fputs("runexp: out of memory\n", err);
        tot->db_error = 1;
        goto out;
    }
    sh.thr_end = calloc(2 * (size_t)jobs, sizeof *sh.thr_end);
    sh.thr_start = sh.thr_end ? sh.thr_end + jobs : NULL;
    if (!sh.thr_end) {
        free(sh.q);
        fputs("runexp: out of memory\n", err);
        tot->db_error = 1;
        goto out;
    }
    omp_init_lock(&sh.qlock);
    omp_init_lock(&sh.wlock);
    sh.tm = tm;
    sh.plan = p;
    sh.ids = ids;
    sh.db = db;
    sh.db_ready = !create;
    new_database nd = {db_path, o, &info, nt, tp, ids, &exp, act, dbp};
    sh.total = n_pending;
    sh.t_start = mono_ms();
    sh.tty = isatty(fileno(err));
    sh.quiet = o->quiet;
    sh.err = err;
    const atomic_int *stop = o->stop;
    long np = (long)n_pending;
    /* One CPU per thread when there are as many threads as CPUs (affinity.h). */
    affinity_plan aff;
    affinity_plan_make(&aff, jobs, getenv("OMP_PROC_BIND"), getenv("OMP_PLACES"));

    /* The one parallel loop. Threads share nothing but sh; each trial's
     * data, model and streams are its own. A starting trial's running mark
     * and later its result go into the queue, and whichever thread holds
     * the writer lock commits them, one transaction each on the one
     * connection; a thread never waits for the database to start
     * training. Each thread first takes its own CPU when the plan allows it
     * (affinity.h) and lets go of it after its last trial. Threads take the
     * pending trials one at a time, in order (the costliest first); a team
     * member numbered jobs or above is affinity.h's spare thread and takes
     * none. */
    int team = affinity_team_size(&aff, jobs);
#pragma omp parallel num_threads(team)
    {
        int me = omp_get_thread_num();
        if (me == 0)
            sh.team = omp_get_num_threads(); /* OMP_THREAD_LIMIT may give fewer */
        int pinned = me < jobs && affinity_pin(&aff, me) == 0;
        if (create && me == 0) {
            double s0 = mono_ms();
            new_database_open(&sh, &nd, tm);
            drain(&sh, 0); /* what the other threads queued meanwhile */
            sh.setup_ms = mono_ms() - s0;
        }
        while (me < jobs) {
            /* A trial not started stays queued for the next run. */
            omp_set_lock(&sh.qlock);
            long i = sh.next < np && !sh.give_up && !(stop && atomic_load(stop)) ? sh.next++ : -1;
            omp_unset_lock(&sh.qlock);
            if (i < 0)
                break;
            size_t ti = pending[i];
            const sweep_trial *tr = &p->trials[ti];
            const sweep_point *pt = &p->points[tr->point];
            char started[ISO_LEN];
            now_iso(started);
            omp_set_lock(&sh.qlock);
            done_item *mark = &sh.q[sh.q_tail++];
            mark->finished = 0;
            mark->ti = ti;
            memcpy(mark->started, started, sizeof started);
            omp_unset_lock(&sh.qlock);
            drain(&sh, 0);
            runner_trial t;
            double x0 = tm->on ? mono_ms() : 0;
            if (runner_trial_exec(&pt->spec, tr->seed, &ps->sets[ps->of_point[tr->point]], stop,
                                  &t))
                set_error(&t, STORE_FAILED, "out of memory");
            omp_set_lock(&sh.qlock);
            if (tm->on) {
                double x1 = mono_ms();
                tm->train_ms += x1 - x0;
                if (sh.thr_start[me] == 0)
                    sh.thr_start[me] = x0;
                sh.thr_end[me] = x1;
            }
            done_item *it = &sh.q[sh.q_tail++];
            it->finished = 1;
            it->ti = ti;
            it->t = t;
            memcpy(it->started, started, sizeof started);
            omp_unset_lock(&sh.qlock);
            drain(&sh, 0);
        }
        if (pinned)
            affinity_unpin(&aff);
    }
    drain(&sh, 1); /* whatever is still queued */
    if (tm->on) {
        /* The parallel section ends when the last trial's training does;
         * what the writer still commits after that is the tail. */
        double last = sh.t_start;
        for (int i = 0; i < jobs; i++)
            last = sh.thr_end[i] > last ? sh.thr_end[i] : last;
        for (int i = 0; i < jobs; i++)
            tm->idle_ms += last - (sh.thr_end[i] > sh.t_start ? sh.thr_end[i] : sh.t_start);
        tm->ph[PH_LOOP] += last - sh.t_start;
        tm->ph[PH_TAIL] += mono_ms() - last;
        /* And it starts, for each thread, when its first trial does: the
         * time OpenMP takes to bring the threads in. */
        double first = INFINITY, last_first = 0;
        for (int i = 0; i < jobs; i++)
            if (sh.thr_start[i] > 0) {
                double d = sh.thr_start[i] - sh.t_start;
                first = d < first ? d : first;
                last_first = d > last_first ? d : last_first;
                /* Thread 0 was not idle while it created the database
                 * and committed what the others queued meanwhile. */
                double idle = d;
                if (i == 0)
                    idle = d > sh.setup_ms ? d - sh.setup_ms : 0;
                tm->start_idle_ms += idle;
            }
        tm->first_trial_ms += isinf(first) ? 0 : first;
        tm->last_first_ms += last_first;
        tm->threads = sh.team < jobs ? sh.team : jobs;
        tm->pinned = aff.active && sh.team >= jobs;
        tm->spare = sh.team > jobs;
    }
    omp_destroy_lock(&sh.qlock);
    omp_destroy_lock(&sh.wlock);
    free(sh.q);
    free(sh.thr_end);
    double secs = (mono_ms() - sh.t_start) / 1e3;
    if (sh.tty && !o->quiet && sh.finished < sh.total)
        fputc('\n', err);
    if (sh.store_failed) {
        say(err, "runexp: ", sh.store_err.message);
        tot->db_error = 1;
    }
    if (sh.n_failed || sh.n_diverged)
        tot->any_failed = 1;
    int stopped = stop && atomic_load(stop);
    if (stopped) {
        tot->interrupted = 1;
        fprintf(err,
                "%s: interrupted after %zu trials finished: %zu trials not started: run the"
                " same command again to run them; %zu interrupted: add --retry to rerun"
                " them\n",
                shown, sh.n_done + sh.n_failed + sh.n_diverged, sh.total - sh.finished,
                sh.n_interrupted);
    }
    if (!o->quiet)
        fprintf(err, "%s: ran %zu trials in %.2f s: %zu done, %zu failed, %zu diverged\n",
                shown, sh.finished, secs, sh.n_done, sh.n_failed, sh.n_diverged);
    double ts0 = mono_ms();
    if (*dbp)
        print_summary(*dbp, p, ids, exp, shown, db_path, out);
    tm->ph[PH_SUMMARY] += mono_ms() - ts0;
out:
    free(shown);
    if (pp)
        for (size_t pi = 0; pi < p->n_points; pi++)
            free(pp[pi]);
    free(pp);
    free(pparams);
    free(pcanon);
    free(ids);
    free(act);
    free(tp);
    free(pending);
}

/* Creates the database's directory (one level) when it is missing, so the
 * default results/runexp.db works in a fresh checkout. */
static int ensure_parent_dir(const char *path, FILE *err)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return 0;
    size_t n = (size_t)(slash - path);
    char *dir = malloc(n + 1);
    if (!dir)
        return -1;
    memcpy(dir, path, n);
    dir[n] = '\0';
    int rc = 0;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(err, "runexp: cannot create directory %s: %s\n", dir, strerror(errno));
        rc = -1;
    }
    free(dir);
    return rc;
}

static const char *db_path_of(const char *given)
{
    if (given && given[0])
        return given;
    const char *env = getenv("RUNEXP_DB");
    return env && env[0] ? env : RUNNER_DEFAULT_DB;
}

int runner_run(const runner_options *o, size_t n_specs, char *const *spec_paths, FILE *out,
               FILE *err)
{
    int code = RUNNER_EXIT_USAGE;
    run_timings tm;
    memset(&tm, 0, sizeof tm);
    tm.on = o->timings;
    tm.t0 = mono_ms();
    if (tm.on)
        tm.startup_cpu_ms = cpu_used_ms();
    spec_document **docs = calloc(n_specs ? n_specs : 1, sizeof *docs);
    sweep_plan *plans = calloc(n_specs ? n_specs : 1, sizeof *plans);
    plan_sources *srcs = calloc(n_specs ? n_specs : 1, sizeof *srcs);
    int *planned = calloc(n_specs ? n_specs : 1, sizeof *planned);
    store *db = NULL;
    int lock_fd = -1;
    if (!docs || !plans || !srcs || !planned) {
        fputs("runexp: out of memory\n", err);
        goto out;
    }
    /* Everything that can be wrong with the input is found before the
     * database is opened: a bad spec never creates or touches it. */
    int bad = 0;
    for (size_t i = 0; i < n_specs; i++) {
        spec_diagnostics d;
        spec_diagnostics_init(&d);
        docs[i] = spec_document_load(spec_paths[i], &d);
        if (docs[i]) {
            if (sweep_plan_build(docs[i], &plans[i], &d) == 0)
                planned[i] = 1;
        }
        if (!planned[i]) {
            if (d.n == 0)
                spec_diagnostics_add(&d, spec_paths[i], 0, 0, "invalid spec");
            spec_diagnostics_print(&d, err);
            bad = 1;
        }
        spec_diagnostics_free(&d);
    }
    if (bad)
        goto out;
    /* The memory budget, before any dataset is loaded or the database is
     * touched (see plan_memory.h). */
    if (plan_memory_guard(plans, n_specs, (size_t)resolve_jobs(o->jobs), o->max_memory, err))
        goto out;
    tm.ph[PH_PARSE] = mono_ms() - tm.t0;
    for (size_t i = 0; i < n_specs; i++) {
        if (plans[i].n_trials == 0 || plans[i].n_points == 0) {
            fprintf(err, "%s: error: the spec has no trials\n", spec_paths[i]);
            goto out;
        }
        if (plan_sources_load(&plans[i], &srcs[i], err))
            goto out;
    }
    double t1 = mono_ms();
    tm.ph[PH_DATA] = t1 - tm.t0 - tm.ph[PH_PARSE];
    const char *path = db_path_of(o->db_path);
    if (ensure_parent_dir(path, err))
        goto out;
    store_error serr;
    /* One writer per database file: a second runexp on it fails here, at
     * once and before anything is written, instead of running the same
     * trials again (SQLite alone would serialise the commits, not the
     * work). Taken after the specs are known to be valid. */
    lock_fd = store_writer_lock(path, &serr);
    if (lock_fd < 0) {
        say(err, "runexp: ", serr.message);
        goto out;
    }
    /* A new database is created by the first spec's trial loop, while its
     * first trials train (new_database_open); one that exists is opened
     * here. */
    if (!store_is_new(path)) {
        db = store_open(path, &serr);
        if (!db) {
            say(err, "runexp: ", serr.message);
            goto out;
        }
        tm.ph[PH_OPEN] = mono_ms() - t1;
    } else {
        tm.created = 1;
    }
    run_totals tot = {0, 0, 0};
    for (size_t i = 0; i < n_specs && !tot.interrupted && !tot.db_error; i++)
        run_plan(o, docs[i], &plans[i], &srcs[i], &db, path, out, err, &tot, &tm);
    code = tot.db_error      ? RUNNER_EXIT_USAGE
           : tot.interrupted ? RUNNER_EXIT_INTERRUPTED
           : tot.any_failed  ? RUNNER_EXIT_FAILED
                             : RUNNER_EXIT_OK;
out:;
    double tc0 = mono_ms();
    store_close(db);
    tm.ph[PH_CLOSE] = mono_ms() - tc0;
    store_writer_unlock(lock_fd); /* after the last commit and the close */
    if (tm.on && db) {
        fflush(out);
        timings_print(&tm, err);
    }
    for (size_t i = 0; docs && i < n_specs; i++) {
        if (planned && planned[i])
            sweep_plan_free(&plans[i]);
        if (srcs)
            plan_sources_free(&srcs[i]);
        if (docs[i])
            spec_document_free(docs[i]);
    }
    free(docs);
    free(plans);
    free(srcs);
    free(planned);
    return code;
}

/* ---- reproduce ---------------------------------------------------------- */

static int same_double(double a, double b)
{
    if (isnan(a) && isnan(b))
        return 1;
    return memcmp(&a, &b, sizeof a) == 0;
}

/* Prints where a recomputed trial first differs from the stored rows and
 * returns 1, or returns 0 when weights, metrics and history all agree. */
static void diff_print(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void diff_print(FILE *out, const char *fmt, ...)
{
    if (!out)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
}

static int first_difference(const runner_trial *t, const store_trial_record *r, FILE *out)
{
    size_t off = 0;
    for (size_t l = 0; l < t->n_layers; l++)
        for (int kb = 0; kb < 2; kb++) {
            const char *kind = kb ? "bias" : "kernel";
            size_t n = kb ? t->layer_out[l] : t->layer_in[l] * t->layer_out[l];
            const store_weight_row *w = NULL;
            for (size_t i = 0; i < r->n_weights; i++)
                if (r->weights[i].layer == l && !strcmp(r->weights[i].kind, kind))
                    w = &r->weights[i];
            if (!w && r->n_weights) {
                diff_print(out, "first difference: layer %zu %s is not stored\n", l, kind);
                return 1;
            }
            if (w) {
                size_t sn = w->rows * w->cols;
                if (sn != n) {
                    diff_print(out, "first difference: layer %zu %s has %zu values stored,"
                                    " %zu recomputed\n", l, kind, sn, n);
                    return 1;
                }
                for (size_t i = 0; i < n; i++) {
                    if (memcmp(&w->data[i], &t->params[off + i], sizeof(float))) {
                        diff_print(out,
                                "first difference: layer %zu %s[%zu] (parameter %zu):"
                                " stored %.9g, recomputed %.9g\n",
                                l, kind, i, off + i, (double)w->data[i],
                                (double)t->params[off + i]);
                        return 1;
                    }
                }
            }
            off += n;
        }
    for (size_t i = 0; i < r->n_metrics; i++) {
        const store_metric_row *m = &r->metrics[i];
        int s;
        for (s = 0; s < 3; s++)
            if (!strcmp(m->split, runner_split_names[s]))
                break;
        double v = NAN;
        int known = 1;
        size_t k = 0;
        if (s == 3)
            known = 0;
        else if (!strcmp(m->name, "loss"))
            v = t->loss[s];
        else if (!strcmp(m->name, "accuracy"))
            v = t->accuracy[s];
        else if (s == 2 && sscanf(m->name, "precision_%zu", &k) == 1 && k < t->n_classes)
            v = t->precision[k];
        else if (s == 2 && sscanf(m->name, "recall_%zu", &k) == 1 && k < t->n_classes)
            v = t->recall[k];
        else if (s == 2 && sscanf(m->name, "f1_%zu", &k) == 1 && k < t->n_classes)
            v = t->f1[k];
        else if (s == 2 && sscanf(m->name, "support_%zu", &k) == 1 && k < t->n_classes)
            v = (double)t->support[k];
        else
            known = 0;
        if (known && !same_double(v, m->value)) {
            diff_print(out, "first difference: metric %s %s: stored %.17g, recomputed %.17g\n",
                    m->split, m->name, m->value, v);
            return 1;
        }
    }
    if (r->n_epochs != t->n_history) {
        diff_print(out, "first difference: %zu epochs stored, %zu recomputed\n", r->n_epochs,
                t->n_history);
        return 1;
    }
    static const char *const hn[4] = {"loss", "accuracy", "val_loss", "val_accuracy"};
    for (size_t e = 0; e < t->n_history; e++) {
        const nn_epoch_log *h = &t->history[e];
        double v[4] = {h->loss, h->accuracy, h->val_loss, h->val_accuracy};
        for (int j = 0; j < 4; j++)
            if (!same_double(v[j], r->history[e * 4 + (size_t)j])) {
                diff_print(out, "first difference: epoch %zu %s: stored %.17g, recomputed %.17g\n",
                        e + 1, hn[j], r->history[e * 4 + (size_t)j], v[j]);
                return 1;
            }
    }
    return 0;
}

/* The "csv_sha256" of a canonical resolved spec (sweep.c's form): 1 with the
 * hex digest in hex, 0 when there is none. */
static int csv_hash_of(const char *canonical, char hex[65])
{
    static const char tag[] = "\"csv_sha256\":\"";
    const char *p = canonical ? strstr(canonical, tag) : NULL;
    if (!p)
        return 0;
    p += sizeof tag - 1;
    size_t n = strcspn(p, "\"");
    if (n == 0 || n > 64 || p[n] != '"')
        return 0;
    memcpy(hex, p, n);
    hex[n] = '\0';
    return 1;
}

int runner_reproduce(const char *db_path_given, int64_t trial_id, FILE *out, FILE *err)
{
    const char *path = db_path_of(db_path_given);
    int code = RUNNER_EXIT_USAGE;
    store *db = NULL;
    spec_document *doc = NULL;
    sweep_plan plan;
    int planned = 0;
    data_set src;
    memset(&src, 0, sizeof src);
    runner_trial t;
    memset(&t, 0, sizeof t);
    store_trial_record rec;
    memset(&rec, 0, sizeof rec);
    spec_diagnostics d;
    spec_diagnostics_init(&d);
    store_error serr;

    /* Reproducing never creates, migrates or writes to a database: it only
     * reads, like sqlite3 would, and takes no writer lock. */
    if (access(path, F_OK) != 0) {
        fprintf(err, "runexp: no database %s\n", path);
        goto out;
    }
    db = store_open_readonly(path, &serr);
    if (!db) {
        say(err, "runexp: ", serr.message);
        goto out;
    }
    int lr = store_trial_load(db, trial_id, &rec, &serr);
    if (lr) {
        say(err, "runexp: ", serr.message);
        goto out;
    }
    if (rec.status != STORE_DONE || !rec.result_hash) {
        fprintf(err, "runexp: trial %lld has status %s; only done trials have a result hash\n",
                (long long)trial_id, store_status_name(rec.status));
        goto out;
    }
    const char *file = rec.spec_file ? rec.spec_file : "stored-spec.yaml";
    doc = spec_document_parse(rec.spec, strlen(rec.spec), file,
                              rec.base_dir ? rec.base_dir : ".", &d);
    if (!doc || sweep_plan_build(doc, &plan, &d) != 0) {
        fprintf(err, "runexp: the stored spec of trial %lld no longer parses:\n",
                (long long)trial_id);
        spec_diagnostics_print(&d, err);
        goto out;
    }
    planned = 1;
    const sweep_trial *tr = NULL;
    for (size_t i = 0; i < plan.n_trials; i++)
        if (!strcmp(plan.trials[i].key, rec.key))
            tr = &plan.trials[i];
    if (!tr) {
        char was[65], now[65];
        const sweep_point *same = NULL;
        for (size_t i = 0; rec.params && i < plan.n_points; i++)
            if (!strcmp(plan.points[i].params_json, rec.params))
                same = &plan.points[i];
        if (same && same->spec.data.source == SPEC_SOURCE_CSV &&
            csv_hash_of(rec.resolved_spec, was) && csv_hash_of(same->canonical, now) &&
            strcmp(was, now)) {
            fprintf(err, "runexp: trial %lld cannot be reproduced: the content of its CSV file ",
                    (long long)trial_id);
            text_fputs(same->spec.data.csv_path ? same->spec.data.csv_path : "(unknown)", err);
            fprintf(err,
                    " changed since it ran (SHA-256 %.16s..., now %.16s...); restore the"
                    " original file to reproduce it\n",
                    was, now);
        } else {
            char key[13]; /* the first 12 characters */
            size_t kl = strnlen(rec.key, 12);
            memcpy(key, rec.key, kl);
            key[kl] = '\0';
            fprintf(err, "runexp: trial %lld (key ", (long long)trial_id);
            text_fputs(key, err);
            fputs(") is not in the plan of its stored spec (was it produced by another runexp"
                  " version?)\n",
                  err);
        }
        goto out;
    }
    const spec_experiment *e = &plan.points[tr->point].spec;
    char msg[1200];
    if (source_load(e, &src, msg, sizeof msg)) {
        say(err, "", msg);
        goto out;
    }
    if (runner_trial_exec(e, tr->seed, &src, NULL, &t)) {
        fputs("runexp: out of memory\n", err);
        goto out;
    }
    if (t.status != STORE_DONE) {
        fprintf(out, "trial %lld: MISMATCH: stored status done, recomputed %s (",
                (long long)trial_id, store_status_name(t.status));
        text_fputs(t.error, out);
        fputs(")\n", out);
        code = RUNNER_EXIT_FAILED;
        goto out;
    }
    /* The stored result is the hash and the rows it summarises: both must
     * equal the recomputation (a row edited after the fact leaves the
     * hash intact but is not what the trial produced). */
    int same_hash = !strcmp(t.hash, rec.result_hash);
    if (same_hash && !first_difference(&t, &rec, NULL)) {
        fprintf(out, "trial %lld: result hash matches bit for bit (%s, seed %llu, ",
                (long long)trial_id, t.hash, (unsigned long long)tr->seed);
        text_fputs(plan.points[tr->point].params_json, out);
        fputs(")\n", out);
        code = RUNNER_EXIT_OK;
    } else {
        if (same_hash) {
            fprintf(out, "trial %lld: MISMATCH: the result hash matches (%s) but the stored"
                         " rows differ from the recomputation\n", (long long)trial_id, t.hash);
        } else {
            fprintf(out, "trial %lld: MISMATCH: stored hash ", (long long)trial_id);
            text_fputs(rec.result_hash, out);
            fprintf(out, ", recomputed %s\n", t.hash);
        }
        if (!first_difference(&t, &rec, out))
            fprintf(out, "weights, metrics and history equal the stored rows: the stored"
                         " result_hash itself differs\n");
        code = RUNNER_EXIT_FAILED;
    }
out:
    runner_trial_free(&t);
    data_set_free(&src);
    if (planned)
        sweep_plan_free(&plan);
    if (doc)
        spec_document_free(doc);
    spec_diagnostics_free(&d);
    store_trial_record_free(&rec);
    store_close(db);
    return code;
}
