/* test_metrics: confusion matrices, normalisation, per-class figures, best
 * epoch and decision grids against values computed by hand. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"
#include "nn.h"

/* cmocka 1.1 has no floating-point assertion */
#define assert_near(a, b, tol) \
    check_near((double)(a), (double)(b), (double)(tol), #a, __FILE__, __LINE__)
static void check_near(double a, double b, double tol, const char *what,
                       const char *file, int line)
{
    if (!(fabs(a - b) <= tol) && !(a == b)) {
        print_error("%s = %.17g, expected %.17g (tolerance %g)\n", what, a, b, tol);
        _fail(file, line);
    }
}

/* One-hot-ish probability rows predicting class c among k. */
static void put_pred(float *row, size_t k, size_t c)
{
    for (size_t j = 0; j < k; j++)
        row[j] = j == c ? 0.8f : 0.2f / (float)(k - 1);
}

/* The XOR lab's matrix [[78 9] [4 69]] built from 160 predictions. */
static void lab_predictions(float *prob, int32_t *y)
{
    size_t i = 0;
    for (int n = 0; n < 78; n++, i++)
        y[i] = 0, put_pred(prob + 2 * i, 2, 0);
    for (int n = 0; n < 9; n++, i++)
        y[i] = 0, put_pred(prob + 2 * i, 2, 1);
    for (int n = 0; n < 4; n++, i++)
        y[i] = 1, put_pred(prob + 2 * i, 2, 0);
    for (int n = 0; n < 69; n++, i++)
        y[i] = 1, put_pred(prob + 2 * i, 2, 1);
}

static void test_lab_confusion(void **state)
{
    (void)state;
    float prob[320];
    int32_t y[160];
    uint32_t cm[4];
    lab_predictions(prob, y);
    metrics_confusion(prob, y, 160, 2, cm);
    assert_int_equal(cm[0], 78);
    assert_int_equal(cm[1], 9);
    assert_int_equal(cm[2], 4);
    assert_int_equal(cm[3], 69);
    assert_near(metrics_accuracy(prob, y, 160, 2), 147.0 / 160.0, 1e-12);

    double p[2], r[2], f[2];
    uint32_t s[2];
    metrics_per_class(cm, 2, p, r, f, s);
    /* by hand: precision = TP / column sum, recall = TP / row sum */
    assert_near(p[0], 78.0 / 82.0, 1e-12); /* 0.9512 */
    assert_near(r[0], 78.0 / 87.0, 1e-12); /* 0.8966 */
    assert_near(p[1], 69.0 / 78.0, 1e-12); /* 0.8846 */
    assert_near(r[1], 69.0 / 73.0, 1e-12); /* 0.9452 */
    /* F1 = 2 TP / (2 TP + FP + FN) */
    assert_near(f[0], 156.0 / 169.0, 1e-12);
    assert_near(f[1], 138.0 / 151.0, 1e-12);
    assert_int_equal(s[0], 87);
    assert_int_equal(s[1], 73);

    double nm[4];
    metrics_confusion_normalize(cm, 2, METRICS_NORMALIZE_TRUE, nm);
    assert_near(nm[0], 78.0 / 87.0, 1e-12);
    assert_near(nm[1], 9.0 / 87.0, 1e-12);
    assert_near(nm[2], 4.0 / 73.0, 1e-12);
    assert_near(nm[3], 69.0 / 73.0, 1e-12);
    metrics_confusion_normalize(cm, 2, METRICS_NORMALIZE_PRED, nm);
    assert_near(nm[0], 78.0 / 82.0, 1e-12);
    assert_near(nm[1], 9.0 / 78.0, 1e-12);
    assert_near(nm[2], 4.0 / 82.0, 1e-12);
    assert_near(nm[3], 69.0 / 78.0, 1e-12);
    metrics_confusion_normalize(cm, 2, METRICS_NORMALIZE_ALL, nm);
    assert_near(nm[1], 9.0 / 160.0, 1e-12);
    assert_near(nm[3], 69.0 / 160.0, 1e-12);
}

static void test_zero_division(void **state)
{
    (void)state;
    /* class 2 never occurs and is never predicted: 0/0 -> 0 everywhere */
    const uint32_t cm[9] = {5, 1, 0, 2, 3, 0, 0, 0, 0};
    double nm[9], p[3], r[3], f[3];
    uint32_t s[3];
    metrics_confusion_normalize(cm, 3, METRICS_NORMALIZE_TRUE, nm);
    assert_near(nm[0], 5.0 / 6.0, 1e-12);
    assert_near(nm[8], 0.0, 0.0);
    assert_near(nm[6], 0.0, 0.0);
    metrics_confusion_normalize(cm, 3, METRICS_NORMALIZE_PRED, nm);
    assert_near(nm[3], 2.0 / 7.0, 1e-12);
    assert_near(nm[2], 0.0, 0.0);
    metrics_per_class(cm, 3, p, r, f, s);
    assert_near(p[0], 5.0 / 7.0, 1e-12);
    assert_near(r[1], 3.0 / 5.0, 1e-12);
    assert_near(p[2], 0.0, 0.0);
    assert_near(r[2], 0.0, 0.0);
    assert_near(f[2], 0.0, 0.0);
    assert_int_equal(s[2], 0);
    /* class 1 predicted once, never right: precision 0, recall 0, F1 0 */
    const uint32_t cm2[4] = {3, 1, 2, 0};
    metrics_per_class(cm2, 2, p, r, f, s);
    assert_near(p[1], 0.0, 0.0);
    assert_near(f[1], 0.0, 0.0);
    assert_near(p[0], 3.0 / 5.0, 1e-12);
    assert_near(r[0], 3.0 / 4.0, 1e-12);
    assert_near(f[0], 2.0 * 0.6 * 0.75 / 1.35, 1e-12);
}

static void test_argmax_ties(void **state)
{
    (void)state;
    const float v[4] = {0.25f, 0.5f, 0.5f, 0.1f};
    assert_int_equal(metrics_argmax(v, 4), 1);
    const float w[3] = {0.3f, 0.3f, 0.3f};
    assert_int_equal(metrics_argmax(w, 3), 0);
}

static void test_best_epoch(void **state)
{
    (void)state;
    const double h[6] = {0.5, 0.4, NAN, 0.3, 0.3, 0.35};
    size_t best = 99;
    double gap = 0.0;
    metrics_best_epoch(h, 6, &best, &gap);
    assert_int_equal(best, 4);           /* first of the two minima */
    assert_near(gap, 0.05, 1e-12); /* 0.35 - 0.30 */
    const double all_nan[2] = {NAN, NAN};
    metrics_best_epoch(all_nan, 2, &best, &gap);
    assert_int_equal(best, 0);
    assert_true(isnan(gap));
    const double falling[3] = {3.0, 2.0, 1.0};
    metrics_best_epoch(falling, 3, &best, &gap);
    assert_int_equal(best, 3);
    assert_near(gap, 0.0, 0.0);
}

/* Dense(2, linear) with W = I and b = 0: class 1 exactly where x1 > x0. */
static void test_grid(void **state)
{
    (void)state;
    nn_model_config c;
    memset(&c, 0, sizeof c);
    c.n_inputs = 2;
    c.n_layers = 1;
    c.layers[0].units = 2;
    c.layers[0].activation = NN_ACT_SOFTMAX;
    c.loss = NN_LOSS_CATEGORICAL_CROSSENTROPY;
    nn_optimizer_defaults(&c.optimizer, NN_OPT_ADAM);
    nn_model *m = nn_model_new(&c, 8);
    assert_non_null(m);
    float *w = nn_model_params(m);
    w[0] = 1.0f, w[1] = 0.0f, w[2] = 0.0f, w[3] = 1.0f, w[4] = 0.0f, w[5] = 0.0f;
    const size_t res = 5;
    float scratch[50], prob[50];
    int32_t cls[25], cls2[25];
    /* numpy.linspace(-1.5, 2.5, 5) = [-1.5, -0.5, 0.5, 1.5, 2.5];
     * numpy.linspace(0, 2, 5) = [0, 0.5, 1, 1.5, 2] */
    const double gx[5] = {-1.5, -0.5, 0.5, 1.5, 2.5}, gy[5] = {0, 0.5, 1, 1.5, 2};
    metrics_grid_predict(m, -1.5, 2.5, 0.0, 2.0, res, scratch, cls, prob);
    for (size_t iy = 0; iy < res; iy++)
        for (size_t ix = 0; ix < res; ix++) {
            size_t i = iy * res + ix;
            assert_near(scratch[2 * i], gx[ix], 0.0);
            assert_near(scratch[2 * i + 1], gy[iy], 0.0);
            assert_int_equal(cls[i], gy[iy] > gx[ix] ? 1 : 0);
            /* softmax of (x0, x1): p1 = 1 / (1 + exp(x0 - x1)) */
            assert_near(prob[2 * i + 1], 1.0 / (1.0 + exp(gx[ix] - gy[iy])), 1e-6);
        }
    metrics_grid_predict(m, -1.5, 2.5, 0.0, 2.0, res, scratch, cls2, NULL);
    assert_memory_equal(cls, cls2, sizeof cls);

    /* The same grid through the two halves, with the points shifted in
     * between as a caller scaling its features would (x0 -> x0 - 1): class
     * 1 exactly where x1 > x0 - 1. */
    float pts[50];
    metrics_grid_points(-1.5, 2.5, 0.0, 2.0, res, pts);
    assert_memory_equal(pts, scratch, sizeof pts);
    for (size_t i = 0; i < res * res; i++)
        pts[2 * i] -= 1.0f;
    metrics_predict_classes(m, pts, res * res, cls2, NULL);
    for (size_t iy = 0; iy < res; iy++)
        for (size_t ix = 0; ix < res; ix++)
            assert_int_equal(cls2[iy * res + ix], gy[iy] > gx[ix] - 1.0 ? 1 : 0);
    metrics_predict_classes(m, pts, res * res, cls, prob);
    assert_memory_equal(cls, cls2, sizeof cls);
    nn_model_free(m);
}

/* numpy.linspace: lo + i * ((hi - lo) / (res - 1)) in double, the last
 * point hi itself. linspace(0.1, 0.7, 4) computed that way: step =
 * 0.6 / 3 = 0.19999999999999998, 3 * step + 0.1 = 0.7 only by the rule. */
static void test_grid_points(void **state)
{
    (void)state;
    float xy[32];
    metrics_grid_points(0.1, 0.7, -2.0, 1.0, 4, xy);
    const double step0 = (0.7 - 0.1) / 3.0;
    const double x0[4] = {0.1, step0 + 0.1, 2.0 * step0 + 0.1, 0.7};
    const double x1[4] = {-2.0, -1.0, 0.0, 1.0};
    for (size_t iy = 0; iy < 4; iy++)
        for (size_t ix = 0; ix < 4; ix++) {
            assert_true(xy[(iy * 4 + ix) * 2] == (float)x0[ix]);
            assert_true(xy[(iy * 4 + ix) * 2 + 1] == (float)x1[iy]);
        }
    /* res 1: the single point is (lo, lo). */
    metrics_grid_points(3.0, 9.0, -4.0, 5.0, 1, xy);
    assert_true(xy[0] == 3.0f && xy[1] == -4.0f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lab_confusion), cmocka_unit_test(test_zero_division),
        cmocka_unit_test(test_argmax_ties),   cmocka_unit_test(test_best_epoch),
        cmocka_unit_test(test_grid),          cmocka_unit_test(test_grid_points),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
