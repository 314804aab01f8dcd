/* trial: the pure trial function. See trial.h. */
#include "trial.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checked.h"
#include "digest.h"
#include "metrics.h"

const char *const trial_split_names[3] = {"train", "validation", "test"};

const char *trial_status_name(trial_status s)
{
    static const char *const names[] = {"done", "failed", "diverged", "interrupted", "pruned"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

typedef struct hook_ctx {
    trial_result *t;
    size_t cap;
    const atomic_int *stop;
    size_t until; /* stop after this many epochs (0: never) */
} hook_ctx;

/* Copies each epoch's log into the buffer allocated for all epochs before
 * training started, and stops training once a signal asked to, or at the
 * epoch a search rung trains to. */
static int on_epoch(void *user, const nn_epoch_log *log)
{
    hook_ctx *c = user;
    if (c->t->n_history < c->cap)
        c->t->history[c->t->n_history++] = *log;
    return (c->stop && atomic_load(c->stop)) || (c->until && c->t->n_history >= c->until);
}

void trial_result_free(trial_result *t)
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
    free(t->pred_rows);
    free(t->pred_source_rows);
    free(t->pred_true);
    free(t->pred_class);
    free(t->pred_prob);
    memset(t, 0, sizeof *t);
}

static int set_error(trial_result *t, trial_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int set_error(trial_result *t, trial_status st, const char *fmt, ...)
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
static int trial_grid(trial_result *t, const spec_experiment *e, nn_model *m,
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

/* Keeps the test split's predictions: prob holds its n x K probabilities
 * as nn_predict gave them. 0, or -1 when out of memory. */
static int trial_predictions(trial_result *t, const data_splits *sp, const float *prob)
{
    size_t n = sp->test.n_rows, K = t->n_classes, np;
    if (!checked_mul(n, K, &np) || !checked_mul(np, sizeof *t->pred_prob, &np))
        return -1;
    t->pred_rows = malloc(n * sizeof *t->pred_rows + 1);
    t->pred_source_rows = malloc(n * sizeof *t->pred_source_rows + 1);
    t->pred_true = malloc(n * sizeof *t->pred_true + 1);
    t->pred_class = malloc(n * sizeof *t->pred_class + 1);
    t->pred_prob = malloc(np + 1);
    if (!t->pred_rows || !t->pred_source_rows || !t->pred_true || !t->pred_class ||
        !t->pred_prob)
        return -1;
    for (size_t i = 0; i < n; i++) {
        uint32_t a = sp->rows_test[i];
        t->pred_rows[i] = a;
        t->pred_source_rows[i] =
            sp->n_source_rows ? (uint32_t)(a % sp->n_source_rows) : a;
        t->pred_true[i] = sp->test.y[i];
        t->pred_class[i] = (int32_t)metrics_argmax(prob + i * K, K);
    }
    if (np)
        memcpy(t->pred_prob, prob, np);
    t->n_predictions = n;
    return 0;
}

/* Loss and accuracy on each split, the confusion matrices asked for (the
 * test one always, for the per-class figures) and precision, recall, F1 and
 * support per class. 0; 1 when the buffers would be too large (t says
 * why); -1 when out of memory. */
static int trial_evaluate(trial_result *t, const spec_experiment *e, nn_model *m,
                          const data_splits *sp, float *const yb[3])
{
    /* one output unit per class, or one sigmoid unit for 2 classes (checked) */
    size_t K = t->n_classes, units = t->layer_out[t->n_layers - 1];
    const data_set *ds[3] = {&sp->train, &sp->validation, &sp->test};
    const float *ys[3] = {sp->y_train, sp->y_validation, sp->y_test};
    if (units == 1)
        for (int s = 0; s < 3; s++)
            ys[s] = yb[s];
    float *prob = NULL;
    uint32_t *cm_test = NULL;
    int rc = 0;
    size_t max_rows = 1;
    for (int s = 0; s < 3; s++)
        if (ds[s]->n_rows > max_rows)
            max_rows = ds[s]->n_rows;
    size_t prob_bytes, cm_bytes, k_doubles;
    if (!checked_mul(max_rows, units, &prob_bytes) ||
        !checked_mul(prob_bytes, sizeof *prob, &prob_bytes) ||
        !checked_mul(K, K, &cm_bytes) || !checked_mul(cm_bytes, sizeof *cm_test, &cm_bytes) ||
        !checked_mul(K, sizeof(double), &k_doubles)) {
        set_error(t, TRIAL_FAILED, "the evaluation buffers would be too large");
        return 1;
    }
    prob = malloc(prob_bytes);
    cm_test = malloc(cm_bytes);
    t->precision = malloc(k_doubles);
    t->recall = malloc(k_doubles);
    t->f1 = malloc(k_doubles);
    t->support = malloc(K * sizeof(uint32_t)); /* <= k_doubles: cannot wrap */
    if (!prob || !cm_test || !t->precision || !t->recall || !t->f1 || !t->support) {
        rc = -1;
        goto out;
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
                goto out;
            }
        }
        if (units == K) {
            metrics_confusion(prob, ds[s]->y, ds[s]->n_rows, K, cm);
        } else { /* one sigmoid unit: the class is p > 0.5, as binary accuracy */
            memset(cm, 0, cm_bytes);
            for (size_t i = 0; i < ds[s]->n_rows; i++)
                if (ds[s]->y[i] >= 0 && (size_t)ds[s]->y[i] < K)
                    cm[(size_t)ds[s]->y[i] * K + nn_output_class(prob + i, 1)]++;
        }
        if (s == 2 && cm != cm_test)
            memcpy(cm_test, cm, cm_bytes);
        if (s == 2 && e->record.predictions && trial_predictions(t, sp, prob)) {
            rc = -1;
            goto out;
        }
    }
    if (sp->test.n_rows)
        metrics_per_class(cm_test, K, t->precision, t->recall, t->f1, t->support);
    else
        for (size_t k = 0; k < K; k++) {
            t->precision[k] = t->recall[k] = t->f1[k] = 0;
            t->support[k] = 0;
        }
out:
    free(prob);
    free(cm_test);
    return rc;
}

int trial_run(const spec_experiment *e, uint64_t seed, const data_set *source,
              const atomic_int *stop, trial_result *t)
{
    return trial_run_until(e, seed, source, stop, 0, t);
}

/* The start of every result: failed until it is done, no figures yet,
 * the history's buffer for every epoch. 0, or -1 when out of memory. */
static int trial_begin(const spec_experiment *e, size_t n_classes, trial_result *t)
{
    memset(t, 0, sizeof *t);
    t->status = TRIAL_FAILED;
    t->overfit_gap = NAN;
    for (int s = 0; s < 3; s++)
        t->loss[s] = t->accuracy[s] = NAN;
    t->n_classes = n_classes;
    size_t epochs = e->training.epochs;
    t->history = calloc(epochs ? epochs : 1, sizeof *t->history);
    if (!t->history) {
        set_error(t, TRIAL_FAILED, "out of memory");
        return -1;
    }
    return 0;
}

static void trial_train(const spec_experiment *e, uint64_t seed, const data_splits *sp,
                        const atomic_int *stop, size_t until, trial_result *t);

int trial_run_until(const spec_experiment *e, uint64_t seed, const data_set *source,
                    const atomic_int *stop, size_t until, trial_result *t)
{
    data_splits sp;
    data_error derr;
    memset(&sp, 0, sizeof sp);
    memset(&derr, 0, sizeof derr);
    if (trial_begin(e, source->n_classes, t))
        return -1;
    uint64_t data_seed = e->data.has_seed ? e->data.seed : seed;
    if (data_pipeline_build(source, &e->data.pipeline, data_seed, &sp, &derr)) {
        set_error(t, TRIAL_FAILED, "data: %s", derr.message);
        return 0;
    }
    trial_train(e, seed, &sp, stop, until, t);
    data_splits_free(&sp);
    return 0;
}

int trial_run_splits(const spec_experiment *e, uint64_t seed, const data_splits *sp,
                     const atomic_int *stop, size_t until, trial_result *t)
{
    if (trial_begin(e, sp->train.n_classes, t))
        return -1;
    trial_train(e, seed, sp, stop, until, t);
    return 0;
}

int trial_data_failed(const spec_experiment *e, size_t n_classes, const char *message,
                      trial_result *t)
{
    if (trial_begin(e, n_classes, t))
        return -1;
    set_error(t, TRIAL_FAILED, "data: %s", message);
    return 0;
}

/* Everything after the data pipeline: model, training, evaluation, hash.
 * Fills t, which trial_begin started. */
static void trial_train(const spec_experiment *e, uint64_t seed, const data_splits *sp,
                        const atomic_int *stop, size_t until, trial_result *t)
{
    nn_model *m = NULL;
    double *vl = NULL;
    float *cw = NULL, *yb[3] = {NULL, NULL, NULL};
    int rc = 0;
    size_t epochs = e->training.epochs;
    size_t K = t->n_classes;
    const nn_model_config *mc = &e->model;
    if (mc->n_layers == 0 || mc->n_layers > NN_MAX_LAYERS) {
        set_error(t, TRIAL_FAILED, "the model has no layers");
        goto done;
    }
    /* The spec requires one output unit per class, or one sigmoid unit for
     * 2 classes (validated), so this only guards against a dataset that does
     * not match its spec. */
    size_t units = mc->layers[mc->n_layers - 1].units;
    int binary = units == 1 && K == 2;
    if (units != K && !binary) {
        set_error(t, TRIAL_FAILED,
                  "the output layer has %zu units but the data has %zu classes", units, K);
        goto done;
    }
    size_t bs = e->training.batch_size ? e->training.batch_size : 32;
    /* evaluate and predict use Keras's default batch of 32 rows. */
    size_t max_batch = bs > 32 ? bs : 32;
    m = nn_model_new(mc, max_batch);
    if (!m) {
        set_error(t, TRIAL_FAILED, "cannot build the model (out of memory or invalid)");
        goto done;
    }
    t->n_layers = mc->n_layers;
    for (size_t l = 0; l < mc->n_layers; l++) {
        t->layer[l] = mc->layers[l];
        t->layer_in[l] = nn_model_layer_inputs(m, l);
        t->layer_out[l] = mc->layers[l].units;
        t->layer_params[l] = nn_model_layer_params(m, l);
        size_t first = nn_model_kernel_offset(m, l);
        for (size_t i = 0; i < t->layer_params[l]; i++)
            t->layer_trainable[l] += (size_t)nn_model_param_trainable(m, first + i);
    }
    /* One sigmoid unit: the targets are the class (0 or 1), one column. */
    if (binary) {
        const data_set *ds[3] = {&sp->train, &sp->validation, &sp->test};
        for (int s = 0; s < 3; s++) {
            yb[s] = malloc((ds[s]->n_rows ? ds[s]->n_rows : 1) * sizeof *yb[s]);
            if (!yb[s]) {
                rc = -1;
                goto done;
            }
            for (size_t i = 0; i < ds[s]->n_rows; i++)
                yb[s][i] = (float)ds[s]->y[i];
        }
    }
    const float *y_train = binary ? yb[0] : sp->y_train;
    const float *y_val = binary ? yb[1] : sp->y_validation;
    /* Class weights per output class (2 for one sigmoid unit), from the
     * spec's mapping or `balanced` over the training rows. */
    size_t ncw = K;
    if (e->training.class_weight_balanced || e->training.class_weight) {
        cw = malloc(ncw * sizeof *cw);
        if (!cw) {
            rc = -1;
            goto done;
        }
        if (e->training.class_weight_balanced)
            nn_class_weight_balanced(y_train, sp->train.n_rows, units, cw, ncw);
        else
            for (size_t k = 0; k < ncw; k++)
                cw[k] = k < e->training.n_class_weight ? (float)e->training.class_weight[k] : 1.0f;
    }
    rng_state r_init, r_shuffle, r_dropout;
    rng_stream(&r_init, seed, RNG_PURPOSE_INIT);
    rng_stream(&r_shuffle, seed, RNG_PURPOSE_SHUFFLE);
    rng_stream(&r_dropout, seed, RNG_PURPOSE_DROPOUT);
    nn_model_init(m, &r_init);

    hook_ctx hc = {t, epochs, stop, until < epochs ? until : 0};
    nn_fit_config fc;
    memset(&fc, 0, sizeof fc);
    fc.epochs = epochs;
    fc.batch_size = bs;
    fc.shuffle = e->training.shuffle;
    fc.on_epoch = on_epoch;
    fc.user = &hc;
    fc.dropout_rng = &r_dropout;
    fc.class_weight = cw;
    fc.n_class_weight = cw ? ncw : 0;
    fc.early_stopping = e->training.early_stopping;
    fc.reduce_lr = e->training.reduce_lr;
    size_t nv = sp->validation.n_rows;
    nn_fit_result fr = nn_fit(m, sp->train.x, y_train, sp->train.n_rows,
                              nv ? sp->validation.x : NULL, nv ? y_val : NULL, nv, &fc,
                              &r_shuffle);
    t->epochs_run = fr.epochs_run;
    t->stopped_epoch = fr.stopped_epoch;
    t->es_best_epoch = fr.best_epoch;
    t->restored_best = fc.early_stopping.enabled && fc.early_stopping.restore_best_weights
                           ? fr.restored
                           : -1;
    t->n_params = nn_model_param_count(m);
    t->params = calloc(t->n_params ? t->n_params : 1, sizeof *t->params);
    if (!t->params) {
        rc = -1;
        goto done;
    }
    memcpy(t->params, nn_model_params_const(m), t->n_params * sizeof *t->params);
    if (fr.status == NN_FIT_DIVERGED) {
        t->diverged_epoch = fr.diverged_epoch;
        set_error(t, TRIAL_DIVERGED, "loss became NaN or Inf in epoch %zu", fr.diverged_epoch);
        goto done;
    }
    if (fr.status == NN_FIT_STOPPED && hc.until && fr.epochs_run == hc.until) {
        t->status = TRIAL_PRUNED; /* the rung's epoch reached: no error */
        goto done;
    }
    if (fr.status == NN_FIT_STOPPED) {
        set_error(t, TRIAL_INTERRUPTED, "interrupted by a signal after epoch %zu",
                  fr.epochs_run);
        goto done;
    }
    if (fr.status != NN_FIT_DONE) {
        set_error(t, TRIAL_FAILED, "training failed: invalid fit arguments");
        goto done;
    }

    int ev = trial_evaluate(t, e, m, sp, yb);
    if (ev) {
        rc = ev < 0 ? -1 : 0;
        goto done;
    }

    vl = calloc(t->n_history ? t->n_history : 1, sizeof *vl);
    if (!vl) {
        rc = -1;
        goto done;
    }
    for (size_t i = 0; i < t->n_history; i++)
        vl[i] = t->history[i].val_loss;
    metrics_best_epoch(vl, t->n_history, &t->best_epoch, &t->overfit_gap);

    if (e->record.grid && mc->n_inputs == 2 && trial_grid(t, e, m, &sp->scaler)) {
        rc = -1;
        goto done;
    }
    t->status = TRIAL_DONE;
    trial_result_hash(t, t->hash);
done:
    free(vl);
    free(cw);
    for (int s = 0; s < 3; s++)
        free(yb[s]);
    if (m)
        nn_model_free(m);
    if (rc)
        set_error(t, TRIAL_FAILED, "out of memory");
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

void trial_result_hash(const trial_result *t, char hex[65])
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

size_t trial_layer_tensors(const trial_result *r, size_t l, trial_tensor out[4])
{
    size_t off = 0, n = 0;
    for (size_t i = 0; i < l && i < r->n_layers; i++)
        off += r->layer_params[i];
    if (l >= r->n_layers)
        return 0;
    const nn_layer_config *c = &r->layer[l];
    size_t in = r->layer_in[l], w = r->layer_out[l];
    switch (c->kind) {
    case NN_LAYER_DENSE:
        out[n++] = (trial_tensor){"kernel", in, w, off};
        out[n++] = (trial_tensor){"bias", 1, w, off + in * w};
        break;
    case NN_LAYER_BATCH_NORM:
    {
        const char *kinds[4];
        if (c->scale)
            kinds[n++] = "gamma";
        if (c->center)
            kinds[n++] = "beta";
        kinds[n++] = "moving_mean";
        kinds[n++] = "moving_variance";
        for (size_t j = 0; j < n; j++)
            out[j] = (trial_tensor){kinds[j], 1, w, off + j * w};
        break;
    }
    case NN_LAYER_DROPOUT:
        break;
    }
    return n;
}

const char *trial_layer_type(const trial_result *r, size_t l)
{
    static const char *const cls[] = {"Dense", "Dropout", "BatchNormalization"};
    unsigned k = l < r->n_layers ? (unsigned)r->layer[l].kind : 0u;
    return k < 3 ? cls[k] : "?";
}

void trial_layer_name(const trial_result *r, size_t l, char *buf, size_t size)
{
    static const char *const base[] = {"dense", "dropout", "batch_normalization"};
    unsigned k = l < r->n_layers ? (unsigned)r->layer[l].kind : 0u;
    size_t before = 0;
    for (size_t i = 0; i < l; i++)
        before += r->layer[i].kind == r->layer[l].kind;
    if (k >= 3)
        snprintf(buf, size, "?");
    else if (before == 0)
        snprintf(buf, size, "%s", base[k]);
    else
        snprintf(buf, size, "%s_%zu", base[k], before);
}
