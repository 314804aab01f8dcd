/* bench_train: median per-trial training time of the three reference
 * workloads, one thread (see issue 2):
 *   W1  XOR lab model, hidden 1..6: 800 rows -> 620 train / 20 val,
 *       Dense(h, relu) -> Dense(2, softmax), Adam, 200 epochs, batch 32
 *   W2  digits perceptron Dense(10, softmax): 1010 train / 337 val,
 *       Adam, 100 epochs, batch 128
 *   W3  digits Dense(64, relu) -> Dense(10, softmax), batch 32, 100 epochs
 * A trial = model init + fit (with validation every epoch), timed with
 * CLOCK_MONOTONIC; data preparation is not timed.
 *
 * usage: bench_train [runs [W1|W1:h|W2|W3]]   (default: 7 runs, every
 * workload; W1:h runs W1 with h hidden units only, for profiling)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "data.h"
#include "nn.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double sink; /* keeps the results alive */

static int on_epoch(void *user, const nn_epoch_log *log)
{
    *(double *)user = log->val_accuracy;
    return 0;
}

static int run(const char *label, const data_set *src, const data_pipeline_config *pc,
               const nn_model_config *mc, size_t epochs, size_t batch, int runs)
{
    data_splits sp;
    data_error err;
    if (data_pipeline_build(src, pc, 1, &sp, &err) != 0) {
        fprintf(stderr, "%s: pipeline: %s\n", label, err.message);
        return -1;
    }
    nn_model *m = nn_model_new(mc, batch);
    double *t = malloc((size_t)runs * sizeof *t);
    if (!m || !t) {
        fprintf(stderr, "%s: out of memory\n", label);
        nn_model_free(m);
        free(t);
        data_splits_free(&sp);
        return -1;
    }
    double last = 0.0;
    nn_fit_config fc = {.epochs = epochs, .batch_size = batch, .shuffle = 1, .on_epoch = on_epoch, .user = &last};
    for (int k = 0; k < runs; k++) {
        rng_state ri, rs;
        rng_stream(&ri, (uint64_t)k + 1, RNG_PURPOSE_INIT);
        rng_stream(&rs, (uint64_t)k + 1, RNG_PURPOSE_SHUFFLE);
        double t0 = now_ms();
        nn_model_init(m, &ri);
        nn_fit_result r = nn_fit(m, sp.train.x, sp.y_train, sp.train.n_rows,
                                 sp.validation.x, sp.y_validation,
                                 sp.validation.n_rows, &fc, &rs);
        t[k] = now_ms() - t0;
        if (r.status != NN_FIT_DONE)
            fprintf(stderr, "%s: fit status %d\n", label, (int)r.status);
        sink += last;
    }
    /* FNV-1a of the last trial's final parameter bits: a change of code
     * that should keep results bit-identical must keep this value */
    uint64_t hash = UINT64_C(0xcbf29ce484222325);
    const float *pp = nn_model_params_const(m);
    for (size_t i = 0; i < nn_model_param_count(m); i++) {
        uint32_t u;
        memcpy(&u, &pp[i], sizeof u);
        hash = (hash ^ u) * UINT64_C(0x100000001b3);
    }
    qsort(t, (size_t)runs, sizeof *t, cmp_double);
    printf("%-12s train %4zu val %3zu  median %8.3f ms  min %8.3f  max %8.3f  (%d runs, last val_acc %.3f, params %016llx)\n",
           label, sp.train.n_rows, sp.validation.n_rows, t[runs / 2], t[0],
           t[runs - 1], runs, last, (unsigned long long)hash);
    free(t);
    nn_model_free(m);
    data_splits_free(&sp);
    return 0;
}

static void dense(nn_model_config *c, size_t units, nn_activation a)
{
    nn_layer_config *l = &c->layers[c->n_layers++];
    l->units = units;
    l->activation = a;
    l->kernel_init = NN_INIT_GLOROT_UNIFORM;
    l->bias_init = NN_INIT_ZEROS;
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 7; /* bench tool: a bad value -> default */
    if (runs < 1)
        runs = 7;
    data_set xor_src, digits;
    data_error err;
    memset(&xor_src, 0, sizeof xor_src);
    memset(&digits, 0, sizeof digits);
    if (data_source_xor(&xor_src) != 0 || data_source_digits(&digits, &err) != 0) {
        fprintf(stderr, "bench_train: cannot load the data sources\n");
        return 1;
    }
    data_pipeline_config px;
    memset(&px, 0, sizeof px);
    px.repeat = 200;
    px.noise = 0.3;
    px.test.test = (data_size){1, 0, 0.2};
    px.test.shuffle = 1;
    px.validation.test = (data_size){1, 1, 20};
    px.validation.shuffle = 1;
    px.scale = DATA_SCALE_NONE;

    data_pipeline_config pd;
    memset(&pd, 0, sizeof pd);
    pd.repeat = 1;
    pd.test.test = (data_size){1, 0, 0.25};
    pd.test.shuffle = 1;
    pd.validation.test = (data_size){1, 0, 0.25};
    pd.validation.shuffle = 1;
    pd.scale = DATA_SCALE_NONE;

    const char *only = argc > 2 ? argv[2] : "";
    size_t h_lo = 1, h_hi = 6;
    int w1 = !*only || !strcmp(only, "W1");
    if (!strncmp(only, "W1:", 3)) {
        h_lo = h_hi = (size_t)atoi(only + 3);
        w1 = 1;
    }
    int rc = 0;
    for (size_t h = h_lo; h >= 1 && h <= h_hi && w1; h++) {
        nn_model_config c;
        memset(&c, 0, sizeof c);
        c.n_inputs = 2;
        dense(&c, h, NN_ACT_RELU);
        dense(&c, 2, NN_ACT_SOFTMAX);
        c.loss = NN_LOSS_CATEGORICAL_CROSSENTROPY;
        nn_optimizer_defaults(&c.optimizer, NN_OPT_ADAM);
        char label[32];
        snprintf(label, sizeof label, "W1 hidden %zu", h);
        rc |= run(label, &xor_src, &px, &c, 200, 32, runs);
    }
    if (!*only || !strcmp(only, "W2")) {
        nn_model_config c;
        memset(&c, 0, sizeof c);
        c.n_inputs = 64;
        dense(&c, 10, NN_ACT_SOFTMAX);
        c.loss = NN_LOSS_CATEGORICAL_CROSSENTROPY;
        nn_optimizer_defaults(&c.optimizer, NN_OPT_ADAM);
        rc |= run("W2", &digits, &pd, &c, 100, 128, runs);
    }
    if (!*only || !strcmp(only, "W3")) {
        nn_model_config c;
        memset(&c, 0, sizeof c);
        c.n_inputs = 64;
        dense(&c, 64, NN_ACT_RELU);
        dense(&c, 10, NN_ACT_SOFTMAX);
        c.loss = NN_LOSS_CATEGORICAL_CROSSENTROPY;
        nn_optimizer_defaults(&c.optimizer, NN_OPT_ADAM);
        rc |= run("W3", &digits, &pd, &c, 100, 32, runs);
    }
    data_set_free(&xor_src);
    data_set_free(&digits);
    return rc ? 1 : (sink < 0.0 ? 2 : 0);
}
