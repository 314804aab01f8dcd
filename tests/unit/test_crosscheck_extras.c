/* test_crosscheck_extras: the Keras training extras against an independent
 * implementation.
 *
 * tests/fixtures/crosscheck_extras_NAME.txt were written by
 * tests/crosscheck/torch_extras.py (PyTorch float32 written to Keras's
 * formulas) from the initial weights, data, batch order and dropout masks
 * that tests/crosscheck/export_extras.c exported from runexp (README.md
 * there). Here each trial of extras.h is trained again through nn_fit, with
 * the trial's dropout stream, and compared epoch by epoch: loss and
 * val_loss within 1e-4 relative, accuracies within one row, the learning
 * rate of each epoch within 1e-6 relative, early stopping's stopped and
 * best epochs equal, and the final (for `es`, restored) weights within 1e-4.
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

#include "../crosscheck/extras.h"

typedef struct fixture {
    size_t stopped, best, epochs;
    nn_epoch_log log[EXTRAS_MAX_EPOCHS];
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
        if (line[0] == '#' || sscanf(line, "stopped %zu best %zu", &fx->stopped, &fx->best) == 2)
            continue;
        if (sscanf(line, "epochs %zu", &fx->epochs) == 1) {
            if (fx->epochs == 0 || fx->epochs > EXTRAS_MAX_EPOCHS)
                break;
            for (size_t e = 0; e < fx->epochs; e++) {
                nn_epoch_log *l = &fx->log[e];
                if (fscanf(f, " epoch %zu %lf %lf %lf %lf %lf", &l->epoch, &l->loss, &l->accuracy,
                           &l->val_loss, &l->val_accuracy, &l->learning_rate) != 6 ||
                    l->epoch != e + 1)
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
    nn_epoch_log log[EXTRAS_MAX_EPOCHS];
} recorder;

static int record(void *user, const nn_epoch_log *log)
{
    recorder *r = user;
    if (r->n < EXTRAS_MAX_EPOCHS)
        r->log[r->n++] = *log;
    return 0;
}

static double rel_err(double a, double b)
{
    return fabs(a - b) / fmax(fabs(b), 1e-12);
}

static void check_case(int which)
{
    extras_case ec;
    data_splits sp;
    data_error err;
    fixture fx;
    char path[1024];
    assert_int_equal(extras_case_make(&ec, which), 0);
    crosscheck_case *cc = &ec.base;
    snprintf(path, sizeof path, "%s/crosscheck_extras_%s.txt", RUNEXP_FIXTURES, ec.name);
    assert_int_equal(read_fixture(path, &fx), 0);
    assert_int_equal(data_pipeline_build(&cc->source, &cc->pipeline, CROSSCHECK_SEED, &sp, &err), 0);
    nn_model *m = nn_model_new(&cc->model, cc->batch);
    assert_non_null(m);
    assert_int_equal(nn_model_param_count(m), fx.n_params);
    rng_state ri, rs, rd;
    crosscheck_streams(CROSSCHECK_SEED, &ri, &rs);
    extras_dropout_stream(&rd);
    nn_model_init(m, &ri);
    recorder rec;
    memset(&rec, 0, sizeof rec);
    nn_fit_config fc;
    memset(&fc, 0, sizeof fc);
    fc.epochs = ec.epochs;
    fc.batch_size = cc->batch;
    fc.shuffle = 1;
    fc.on_epoch = record;
    fc.user = &rec;
    fc.dropout_rng = &rd;
    fc.early_stopping = ec.es;
    nn_fit_result r = nn_fit(m, sp.train.x, sp.y_train, sp.train.n_rows, sp.validation.x,
                             sp.y_validation, sp.validation.n_rows, &fc, &rs);
    assert_int_equal(r.status, NN_FIT_DONE);
    assert_int_equal(rec.n, fx.epochs);
    assert_int_equal(r.stopped_epoch, fx.stopped);
    if (ec.es.enabled) {
        assert_int_equal(r.best_epoch, fx.best);
        assert_int_equal(r.restored, 1);
    }

    double worst_loss = 0.0, worst_val = 0.0, worst_lr = 0.0, worst_w = 0.0;
    int bad = 0;
    for (size_t e = 0; e < fx.epochs; e++) {
        const nn_epoch_log *a = &rec.log[e], *b = &fx.log[e];
        double el = rel_err(a->loss, b->loss), ev = rel_err(a->val_loss, b->val_loss);
        double elr = rel_err(a->learning_rate, b->learning_rate);
        worst_loss = fmax(worst_loss, el);
        worst_val = fmax(worst_val, ev);
        worst_lr = fmax(worst_lr, elr);
        double da = fabs(a->accuracy - b->accuracy) * (double)sp.train.n_rows;
        double dv = fabs(a->val_accuracy - b->val_accuracy) * (double)sp.validation.n_rows;
        if (el > 1e-4 || ev > 1e-4 || elr > 1e-6 || da > 1.0 + 1e-9 || dv > 1.0 + 1e-9) {
            print_error("%s epoch %zu: loss %.9g vs torch %.9g, acc %.6f vs %.6f, val_loss %.9g"
                        " vs %.9g, val_acc %.6f vs %.6f, lr %.9g vs %.9g\n",
                        ec.name, e + 1, a->loss, b->loss, a->accuracy, b->accuracy, a->val_loss,
                        b->val_loss, a->val_accuracy, b->val_accuracy, a->learning_rate,
                        b->learning_rate);
            bad = 1;
        }
    }
    const float *p = nn_model_params_const(m);
    for (size_t i = 0; i < fx.n_params; i++) {
        double d = fabs((double)p[i] - (double)fx.params[i]) / fmax(1.0, fabs((double)fx.params[i]));
        worst_w = fmax(worst_w, d);
    }
    printf("# crosscheck %s: %zu epochs (stopped %zu), max rel. error loss %.2e, val_loss %.2e,"
           " lr %.2e; max weight difference %.2e\n",
           ec.name, fx.epochs, fx.stopped, worst_loss, worst_val, worst_lr, worst_w);
    assert_false(bad);
    assert_true(worst_w <= 1e-4);
    free(fx.params);
    nn_model_free(m);
    data_splits_free(&sp);
    data_set_free(&cc->source);
}

static void test_dropout(void **state)
{
    (void)state;
    check_case(0);
}

static void test_l2(void **state)
{
    (void)state;
    check_case(1);
}

static void test_batchnorm(void **state)
{
    (void)state;
    check_case(2);
}

static void test_early_stopping(void **state)
{
    (void)state;
    check_case(3);
}

static void test_exponential_decay(void **state)
{
    (void)state;
    check_case(4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dropout),
        cmocka_unit_test(test_l2),
        cmocka_unit_test(test_batchnorm),
        cmocka_unit_test(test_early_stopping),
        cmocka_unit_test(test_exponential_decay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
