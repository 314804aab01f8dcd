/* test_crosscheck: runexp's training against an independent implementation.
 *
 * tests/fixtures/crosscheck_{xor,digits}.txt were written by
 * tests/crosscheck/torch_reference.py (PyTorch float32, hand-written Keras
 * Adam, logits cross-entropy) from the initial weights, data and per-epoch
 * batch order that tests/crosscheck/export.c exported from runexp (see
 * tests/crosscheck/README.md to regenerate). Here the same trials are trained
 * again through the real pipeline and nn_fit and compared epoch by epoch:
 * loss and val_loss within 1e-4 relative, accuracies within one row, final
 * weights within a small tolerance.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../crosscheck/setup.h"

typedef struct fixture {
    size_t epochs;
    nn_epoch_log log[CROSSCHECK_EPOCHS];
    size_t n_params;
    float *params;
} fixture;

static int read_fixture(const char *path, fixture *fx)
{
    FILE *f = fopen(path, "r");
    char line[256];
    memset(fx, 0, sizeof *fx);
    if (!f)
        return -1;
    int rc = -1;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#')
            continue;
        if (sscanf(line, "epochs %zu", &fx->epochs) == 1) {
            if (fx->epochs != CROSSCHECK_EPOCHS)
                break;
            for (size_t e = 0; e < fx->epochs; e++) {
                nn_epoch_log *l = &fx->log[e];
                if (fscanf(f, " epoch %zu %lf %lf %lf %lf", &l->epoch, &l->loss, &l->accuracy,
                           &l->val_loss, &l->val_accuracy) != 5 || l->epoch != e + 1)
                    goto done;
            }
        } else if (sscanf(line, "params %zu", &fx->n_params) == 1) {
            fx->params = malloc(fx->n_params * sizeof *fx->params);
            if (!fx->params)
                break;
            for (size_t i = 0; i < fx->n_params; i++)
                if (fscanf(f, "%f", &fx->params[i]) != 1)
                    goto done;
            rc = fx->epochs ? 0 : -1;
            break;
        }
    }
done:
    fclose(f);
    return rc;
}

typedef struct recorder {
    size_t n;
    nn_epoch_log log[CROSSCHECK_EPOCHS];
} recorder;

static int record(void *user, const nn_epoch_log *log)
{
    recorder *r = user;
    if (r->n < CROSSCHECK_EPOCHS)
        r->log[r->n++] = *log;
    return 0;
}

static double rel_err(double a, double b)
{
    return fabs(a - b) / fmax(fabs(b), 1e-12);
}

static void check_case(int digits)
{
    crosscheck_case cc;
    data_splits sp;
    data_error err;
    fixture fx;
    char path[1024];
    assert_int_equal(crosscheck_case_make(&cc, digits), 0);
    snprintf(path, sizeof path, "%s/crosscheck_%s.txt", RUNEXP_FIXTURES, cc.name);
    assert_int_equal(read_fixture(path, &fx), 0);
    assert_int_equal(data_pipeline_build(&cc.source, &cc.pipeline, CROSSCHECK_SEED, &sp, &err), 0);
    nn_model *m = nn_model_new(&cc.model, cc.batch);
    assert_non_null(m);
    assert_int_equal(nn_model_param_count(m), fx.n_params);
    rng_state ri, rs;
    crosscheck_streams(CROSSCHECK_SEED, &ri, &rs);
    nn_model_init(m, &ri);
    recorder rec;
    memset(&rec, 0, sizeof rec);
    nn_fit_config fc;
    memset(&fc, 0, sizeof fc);
    fc.epochs = CROSSCHECK_EPOCHS;
    fc.batch_size = cc.batch;
    fc.shuffle = 1;
    fc.on_epoch = record;
    fc.user = &rec;
    nn_fit_result r = nn_fit(m, sp.train.x, sp.y_train, sp.train.n_rows, sp.validation.x,
                             sp.y_validation, sp.validation.n_rows, &fc, &rs);
    assert_int_equal(r.status, NN_FIT_DONE);
    assert_int_equal(rec.n, fx.epochs);

    double worst_loss = 0.0, worst_val = 0.0, worst_w = 0.0;
    int bad = 0;
    for (size_t e = 0; e < fx.epochs; e++) {
        const nn_epoch_log *a = &rec.log[e], *b = &fx.log[e];
        double el = rel_err(a->loss, b->loss), ev = rel_err(a->val_loss, b->val_loss);
        worst_loss = fmax(worst_loss, el);
        worst_val = fmax(worst_val, ev);
        /* accuracies: equal, or one row apart when a prediction sits on a
         * float tie between the two implementations */
        double da = fabs(a->accuracy - b->accuracy) * (double)sp.train.n_rows;
        double dv = fabs(a->val_accuracy - b->val_accuracy) * (double)sp.validation.n_rows;
        if (el > 1e-4 || ev > 1e-4 || da > 1.0 + 1e-9 || dv > 1.0 + 1e-9) {
            print_error("%s epoch %zu: loss %.9g vs torch %.9g, acc %.6f vs %.6f, "
                        "val_loss %.9g vs %.9g, val_acc %.6f vs %.6f\n",
                        cc.name, e + 1, a->loss, b->loss, a->accuracy, b->accuracy,
                        a->val_loss, b->val_loss, a->val_accuracy, b->val_accuracy);
            bad = 1;
        }
    }
    const float *p = nn_model_params_const(m);
    for (size_t i = 0; i < fx.n_params; i++) {
        double d = fabs((double)p[i] - (double)fx.params[i]) / fmax(1.0, fabs((double)fx.params[i]));
        worst_w = fmax(worst_w, d);
    }
    printf("# crosscheck %s: %zu epochs, max rel. error loss %.2e, val_loss %.2e; "
           "max weight difference %.2e\n",
           cc.name, fx.epochs, worst_loss, worst_val, worst_w);
    assert_false(bad);
    assert_true(worst_w <= 1e-4);

    free(fx.params);
    nn_model_free(m);
    data_splits_free(&sp);
    data_set_free(&cc.source);
}

static void test_crosscheck_xor(void **state)
{
    (void)state;
    check_case(0);
}

static void test_crosscheck_digits(void **state)
{
    (void)state;
    check_case(1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crosscheck_xor),
        cmocka_unit_test(test_crosscheck_digits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
