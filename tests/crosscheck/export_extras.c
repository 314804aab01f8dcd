/* crosscheck_export_extras: writes the inputs of the PyTorch cross-check of
 * the Keras training extras (extras.h, README.md here): the model with its
 * dropout, regularizer, batch-normalization, schedule and early-stopping
 * settings, its initial weights, the train/validation rows, the row order
 * of every epoch as nn_fit draws it (the on_order hook) and, for a dropout
 * layer, the mask of every training batch drawn from the trial's dropout
 * stream in the order nn.h documents (batch by batch, row by row, unit by
 * unit: kept when rng_uniform >= rate).
 *
 * usage: crosscheck_export_extras OUTDIR -> OUTDIR/crosscheck_extras_NAME.in
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extras.h"

typedef struct export_ctx {
    FILE *f;
} export_ctx;

static void write_order(void *user, size_t epoch, const uint32_t *order, size_t n)
{
    export_ctx *x = user;
    fprintf(x->f, "order %zu\n", epoch);
    for (size_t i = 0; i < n; i++)
        fprintf(x->f, "%u%c", order[i], i + 1 == n ? '\n' : ' ');
}

static void write_rows(FILE *f, const char *tag, const float *x, const float *y, size_t n,
                       size_t nin, size_t nout)
{
    fprintf(f, "%s %zu %zu %zu\n", tag, n, nin, nout);
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < nin; k++)
            fprintf(f, "%.9g ", (double)x[i * nin + k]);
        for (size_t k = 0; k < nout; k++)
            fprintf(f, "%.9g%c", (double)y[i * nout + k], k + 1 == nout ? '\n' : ' ');
    }
}

static int export_case(const char *dir, int which)
{
    extras_case ec;
    data_splits sp;
    data_error err;
    char path[1024];
    if (extras_case_make(&ec, which) != 0)
        return -1;
    crosscheck_case *cc = &ec.base;
    if (data_pipeline_build(&cc->source, &cc->pipeline, CROSSCHECK_SEED, &sp, &err) != 0) {
        data_set_free(&cc->source);
        return -1;
    }
    snprintf(path, sizeof path, "%s/crosscheck_extras_%s.in", dir, ec.name);
    FILE *f = fopen(path, "w");
    nn_model *m = nn_model_new(&cc->model, cc->batch);
    if (!f || !m) {
        fprintf(stderr, "crosscheck_export_extras: cannot write %s\n", path);
        if (f)
            fclose(f);
        nn_model_free(m);
        data_splits_free(&sp);
        data_set_free(&cc->source);
        return -1;
    }
    rng_state ri, rs;
    crosscheck_streams(CROSSCHECK_SEED, &ri, &rs);
    nn_model_init(m, &ri);
    const nn_model_config *mc = &cc->model;
    const nn_optimizer_config *o = &mc->optimizer;
    fprintf(f, "name %s\nepochs %zu\nbatch %zu\n", ec.name, ec.epochs, cc->batch);
    if (o->kind == NN_OPT_ADAM)
        fprintf(f, "optimizer adam %.17g %.17g %.17g %.17g\n", o->learning_rate, o->beta_1,
                o->beta_2, o->epsilon);
    else
        fprintf(f, "optimizer sgd %.17g\n", o->learning_rate);
    if (o->schedule.kind == NN_LR_EXPONENTIAL_DECAY)
        fprintf(f, "schedule exponential %.17g %.17g %.17g %d\n", o->schedule.initial_learning_rate,
                o->schedule.decay_steps, o->schedule.decay_rate, o->schedule.staircase);
    if (ec.es.enabled)
        fprintf(f, "early_stopping %zu %.17g %d\n", ec.es.patience, ec.es.min_delta,
                ec.es.restore_best_weights);
    fprintf(f, "inputs %zu\n", mc->n_inputs);
    for (size_t l = 0; l < mc->n_layers; l++) {
        const nn_layer_config *lc = &mc->layers[l];
        if (lc->kind == NN_LAYER_DROPOUT)
            fprintf(f, "layer dropout %zu %.17g\n", lc->units, lc->rate);
        else if (lc->kind == NN_LAYER_BATCH_NORM)
            fprintf(f, "layer batchnorm %zu %.17g %.17g\n", lc->units, lc->momentum, lc->epsilon);
        else
            fprintf(f, "layer dense %zu %s %.17g\n", lc->units,
                    lc->activation == NN_ACT_SOFTMAX ? "softmax" : "relu",
                    lc->kernel_regularizer.l2);
    }
    size_t np = nn_model_param_count(m);
    const float *p = nn_model_params_const(m);
    fprintf(f, "params %zu\n", np);
    for (size_t i = 0; i < np; i++)
        fprintf(f, "%.9g%c", (double)p[i], i + 1 == np ? '\n' : ' ');
    size_t nout = mc->layers[mc->n_layers - 1].units;
    write_rows(f, "train", sp.train.x, sp.y_train, sp.train.n_rows, mc->n_inputs, nout);
    write_rows(f, "val", sp.validation.x, sp.y_validation, sp.validation.n_rows, mc->n_inputs,
               nout);
    /* Orders for every epoch (the shuffle stream does not depend on
     * callbacks, so a run without early stopping draws the same ones). */
    export_ctx ctx = {f};
    nn_fit_config fc;
    memset(&fc, 0, sizeof fc);
    fc.epochs = ec.epochs;
    fc.batch_size = cc->batch;
    fc.shuffle = 1;
    fc.on_order = write_order;
    fc.user = &ctx;
    rng_state rd;
    extras_dropout_stream(&rd);
    fc.dropout_rng = &rd;
    nn_fit_result r = nn_fit(m, sp.train.x, sp.y_train, sp.train.n_rows, NULL, NULL, 0, &fc, &rs);
    /* The masks, from a fresh copy of the same stream. */
    for (size_t l = 0; l < mc->n_layers; l++) {
        const nn_layer_config *lc = &mc->layers[l];
        if (lc->kind != NN_LAYER_DROPOUT)
            continue;
        extras_dropout_stream(&rd);
        size_t n = sp.train.n_rows, w = lc->units;
        for (size_t e = 1; e <= ec.epochs; e++)
            for (size_t s = 0; s < n; s += cc->batch) {
                size_t nb = n - s < cc->batch ? n - s : cc->batch;
                fprintf(f, "mask %zu %zu\n", e, s / cc->batch);
                for (size_t i = 0; i < nb * w; i++)
                    fputc(rng_uniform(&rd) >= lc->rate ? '1' : '0', f);
                fputc('\n', f);
            }
    }
    fprintf(f, "end\n");
    int rc = fclose(f) == 0 && r.status == NN_FIT_DONE ? 0 : -1;
    printf("wrote %s (%zu train rows, %zu validation rows, %zu epochs)\n", path, sp.train.n_rows,
           sp.validation.n_rows, ec.epochs);
    nn_model_free(m);
    data_splits_free(&sp);
    data_set_free(&cc->source);
    return rc;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    int rc = 0;
    for (int i = 0; i < EXTRAS_N; i++)
        rc |= export_case(dir, i);
    return rc ? 1 : 0;
}
