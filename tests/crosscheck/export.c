/* crosscheck_export: writes the inputs of the PyTorch cross-check for the two
 * lab models (see README.md here): the model, its initial weights, the
 * train/validation data and the row order of every epoch as runexp's nn_fit
 * draws it (through the on_order hook), for CROSSCHECK_EPOCHS epochs.
 *
 * usage: crosscheck_export OUTDIR   -> OUTDIR/crosscheck_{xor,digits}.in
 *
 * Floats are written with %.9g, which round-trips float32 exactly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "setup.h"

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

static void write_rows(FILE *f, const char *tag, const float *x, const float *y,
                       size_t n, size_t nin, size_t nout)
{
    fprintf(f, "%s %zu %zu %zu\n", tag, n, nin, nout);
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < nin; k++)
            fprintf(f, "%.9g ", (double)x[i * nin + k]);
        for (size_t k = 0; k < nout; k++)
            fprintf(f, "%.9g%c", (double)y[i * nout + k], k + 1 == nout ? '\n' : ' ');
    }
}

static const char *act_name(nn_activation a)
{
    switch (a) {
    case NN_ACT_RELU: return "relu";
    case NN_ACT_SOFTMAX: return "softmax";
    case NN_ACT_SIGMOID: return "sigmoid";
    case NN_ACT_TANH: return "tanh";
    default: return "linear";
    }
}

static int export_case(const char *dir, int digits)
{
    crosscheck_case cc;
    data_splits sp;
    data_error err;
    char path[1024];
    if (crosscheck_case_make(&cc, digits) != 0) {
        fprintf(stderr, "crosscheck_export: cannot load the %s source\n", digits ? "digits" : "xor");
        return -1;
    }
    if (data_pipeline_build(&cc.source, &cc.pipeline, CROSSCHECK_SEED, &sp, &err) != 0) {
        fprintf(stderr, "crosscheck_export: pipeline: %s\n", err.message);
        data_set_free(&cc.source);
        return -1;
    }
    snprintf(path, sizeof path, "%s/crosscheck_%s.in", dir, cc.name);
    FILE *f = fopen(path, "w");
    nn_model *m = nn_model_new(&cc.model, cc.batch);
    if (!f || !m) {
        fprintf(stderr, "crosscheck_export: cannot write %s\n", path);
        if (f)
            fclose(f);
        nn_model_free(m);
        data_splits_free(&sp);
        data_set_free(&cc.source);
        return -1;
    }
    rng_state ri, rs;
    crosscheck_streams(CROSSCHECK_SEED, &ri, &rs);
    nn_model_init(m, &ri);
    const nn_optimizer_config *o = &cc.model.optimizer;
    size_t nout = cc.model.layers[cc.model.n_layers - 1].units;
    fprintf(f, "name %s\nseed %d\nepochs %d\nbatch %zu\n", cc.name, CROSSCHECK_SEED,
            CROSSCHECK_EPOCHS, cc.batch);
    fprintf(f, "adam %.17g %.17g %.17g %.17g\n", o->learning_rate, o->beta_1, o->beta_2,
            o->epsilon);
    fprintf(f, "inputs %zu\nlayers %zu\n", cc.model.n_inputs, cc.model.n_layers);
    for (size_t l = 0; l < cc.model.n_layers; l++)
        fprintf(f, "layer %zu %s\n", cc.model.layers[l].units,
                act_name(cc.model.layers[l].activation));
    size_t np = nn_model_param_count(m);
    const float *p = nn_model_params_const(m);
    fprintf(f, "params %zu\n", np);
    for (size_t i = 0; i < np; i++)
        fprintf(f, "%.9g%c", (double)p[i], i + 1 == np ? '\n' : ' ');
    write_rows(f, "train", sp.train.x, sp.y_train, sp.train.n_rows, cc.model.n_inputs, nout);
    write_rows(f, "val", sp.validation.x, sp.y_validation, sp.validation.n_rows,
               cc.model.n_inputs, nout);
    export_ctx ctx = {f};
    nn_fit_config fc;
    memset(&fc, 0, sizeof fc);
    fc.epochs = CROSSCHECK_EPOCHS;
    fc.batch_size = cc.batch;
    fc.shuffle = 1;
    fc.on_order = write_order;
    fc.user = &ctx;
    nn_fit_result r = nn_fit(m, sp.train.x, sp.y_train, sp.train.n_rows, NULL, NULL, 0, &fc, &rs);
    fprintf(f, "end\n");
    int rc = fclose(f) == 0 && r.status == NN_FIT_DONE ? 0 : -1;
    printf("wrote %s (%zu train rows, %zu validation rows, %d epochs)\n", path,
           sp.train.n_rows, sp.validation.n_rows, CROSSCHECK_EPOCHS);
    nn_model_free(m);
    data_splits_free(&sp);
    data_set_free(&cc.source);
    return rc;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    int rc = export_case(dir, 0);
    rc |= export_case(dir, 1);
    return rc ? 1 : 0;
}
