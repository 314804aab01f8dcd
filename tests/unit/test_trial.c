/* Unit tests of the trial function: the result-hash layout (against a
 * SHA-256 computed independently in Python) and real XOR trials: shapes,
 * determinism, seeds that differ, interruption, a failed trial. */
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "trial.h"
#include "sweep.h"

static void near(double got, double want, double eps, int line)
{
    if (!(fabs(got - want) <= eps)) {
        print_error("line %d: got %.17g, want %.17g (+- %g)\n", line, got, want, eps);
        fail();
    }
}
#define assert_near(a, b, e) near((a), (b), (e), __LINE__)

/* The expected digest comes from Python, packing the layout runner.h
 * documents (regenerate with this snippet):
 *   import struct, hashlib
 *   N = struct.pack('<Q', 0x7ff8000000000000)
 *   d = lambda v: N if v != v else struct.pack('<d', v)
 *   b = struct.pack('<2f', 1.0, -2.0)
 *   for l, a in [(0.5, 0.75), (nan, nan), (0.25, 1.0)]: b += d(l) + d(a)
 *   for p, r, f, s in [(1, .5, .25, 3), (.5, 1, .125, 1)]: b += d(p)+d(r)+d(f)+d(s)
 *   for h in [(.7, .5, nan, nan), (.6, .75, nan, nan)]: b += b''.join(map(d, h))
 *   print(hashlib.sha256(b).hexdigest())
 */
static void test_hash_layout(void **state)
{
    (void)state;
    float params[2] = {1.0f, -2.0f};
    double prec[2] = {1.0, 0.5}, rec[2] = {0.5, 1.0}, f1[2] = {0.25, 0.125};
    uint32_t sup[2] = {3, 1};
    nn_epoch_log hist[2] = {{1, 0.7, 0.5, NAN, NAN, 0.001}, {2, 0.6, 0.75, NAN, NAN, 0.001}};
    trial_result t;
    memset(&t, 0, sizeof t);
    t.n_params = 2;
    t.params = params;
    t.loss[0] = 0.5;
    t.accuracy[0] = 0.75;
    t.loss[1] = t.accuracy[1] = NAN;
    t.loss[2] = 0.25;
    t.accuracy[2] = 1.0;
    t.n_classes = 2;
    t.precision = prec;
    t.recall = rec;
    t.f1 = f1;
    t.support = sup;
    t.n_history = 2;
    t.history = hist;
    char hex[65];
    trial_result_hash(&t, hex);
    assert_string_equal(hex, "d47315aa62e703a413fb710281a35af564209bfe008c086868f58bfc5d7ff56c");
    /* One bit of one weight changes the hash. */
    uint32_t u;
    memcpy(&u, &params[1], 4);
    u ^= 1;
    memcpy(&params[1], &u, 4);
    char hex2[65];
    trial_result_hash(&t, hex2);
    assert_string_not_equal(hex, hex2);
}

/* The lab's XOR network, shortened to 30 epochs. */
static const char xor_spec[] =
    "name: unit_xor\n"
    "data:\n"
    "  source: xor\n"
    "  augment: {repeat: 200, noise: 0.3}\n"
    "  split: {test: 0.2, validation: 20}\n"
    "model:\n"
    "  layers:\n"
    "    - {units: 6, activation: relu}\n"
    "    - {units: classes, activation: softmax}\n"
    "training:\n"
    "  loss: categorical_crossentropy\n"
    "  optimizer: adam\n"
    "  epochs: 30\n"
    "seeds: 2\n";

typedef struct xor_fixture {
    spec_document *doc;
    sweep_plan plan;
    data_set src;
} xor_fixture;

static int xor_setup(void **state)
{
    xor_fixture *f = calloc(1, sizeof *f);
    spec_diagnostics d;
    spec_diagnostics_init(&d);
    f->doc = spec_document_parse(xor_spec, strlen(xor_spec), "unit.yaml", ".", &d);
    if (!f->doc || sweep_plan_build(f->doc, &f->plan, &d)) {
        spec_diagnostics_print(&d, stderr);
        spec_diagnostics_free(&d);
        return -1;
    }
    spec_diagnostics_free(&d);
    if (data_source_xor(&f->src))
        return -1;
    *state = f;
    return 0;
}

static int xor_teardown(void **state)
{
    xor_fixture *f = *state;
    sweep_plan_free(&f->plan);
    spec_document_free(f->doc);
    data_set_free(&f->src);
    free(f);
    return 0;
}

static void test_xor_trial(void **state)
{
    xor_fixture *f = *state;
    assert_int_equal(f->plan.n_trials, 2);
    const spec_experiment *e = &f->plan.points[0].spec;
    trial_result a, b, c;
    assert_int_equal(trial_run(e, 0, &f->src, NULL, &a), 0);
    assert_int_equal(a.status, TRIAL_DONE);
    assert_int_equal(a.n_history, 30);
    assert_int_equal(a.epochs_run, 30);
    assert_int_equal(a.n_params, 32); /* 2*6 + 6 + 6*2 + 2 */
    assert_int_equal(a.n_layers, 2);
    assert_int_equal(a.layer_in[1], 6);
    /* 800 rows -> 160 test, 620 train, 20 validation: the test confusion
     * matrix counts 160 rows and the supports add up to it. */
    assert_non_null(a.confusion[2]);
    uint32_t total = 0;
    for (int i = 0; i < 4; i++)
        total += a.confusion[2][i];
    assert_int_equal(total, 160);
    assert_int_equal(a.support[0] + a.support[1], 160);
    /* Test accuracy equals the confusion diagonal over 160. */
    assert_near(a.accuracy[2], (a.confusion[2][0] + a.confusion[2][3]) / 160.0, 1e-12);
    assert_null(a.confusion[0]); /* train not recorded by default */
    assert_non_null(a.confusion[1]);
    assert_true(a.best_epoch >= 1 && a.best_epoch <= 30);
    assert_true(a.overfit_gap >= 0);
    assert_non_null(a.grid); /* 2-feature data: grid on by default */
    assert_int_equal(a.grid_res, 100);
    assert_int_equal(strlen(a.hash), 64);

    /* Same seed: same bits. Other seed: other bits. */
    assert_int_equal(trial_run(e, 0, &f->src, NULL, &b), 0);
    assert_string_equal(a.hash, b.hash);
    assert_memory_equal(a.params, b.params, a.n_params * sizeof(float));
    assert_int_equal(trial_run(e, 1, &f->src, NULL, &c), 0);
    assert_string_not_equal(a.hash, c.hash);
    trial_result_free(&a);
    trial_result_free(&b);
    trial_result_free(&c);
}

/* The test split's predictions: one per test row, in split order, with the
 * row's provenance; recomputed independently (the pipeline again, the
 * final weights in a fresh model, nn_predict) they are the same bits; their
 * counts are the test confusion matrix; and they are not in the hash. */
static void test_xor_predictions(void **state)
{
    xor_fixture *f = *state;
    spec_experiment e = f->plan.points[0].spec; /* shallow: only record changes */
    trial_result a, b;
    assert_int_equal(trial_run(&e, 0, &f->src, NULL, &a), 0);
    assert_int_equal(a.status, TRIAL_DONE);
    assert_int_equal(a.n_predictions, 160);
    data_splits sp;
    data_error derr;
    assert_int_equal(data_pipeline_build(&f->src, &e.data.pipeline, 0, &sp, &derr), 0);
    nn_model *m = nn_model_new(&e.model, 32);
    assert_non_null(m);
    assert_int_equal(nn_model_param_count(m), a.n_params);
    memcpy(nn_model_params(m), a.params, a.n_params * sizeof(float));
    float prob[160 * 2];
    nn_predict(m, sp.test.x, 160, prob);
    assert_memory_equal(a.pred_prob, prob, sizeof prob);
    uint32_t cm[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < 160; i++) {
        assert_int_equal(a.pred_rows[i], sp.rows_test[i]);
        assert_true(a.pred_rows[i] < 800);
        assert_int_equal(a.pred_source_rows[i], a.pred_rows[i] % 4);
        /* XOR: the label of corner r is (r is 1 or 2) */
        uint32_t r = a.pred_source_rows[i];
        assert_int_equal(a.pred_true[i], r == 1 || r == 2);
        assert_int_equal(a.pred_class[i], prob[2 * i + 1] > prob[2 * i] ? 1 : 0);
        cm[2 * a.pred_true[i] + a.pred_class[i]]++;
    }
    assert_memory_equal(cm, a.confusion[2], sizeof cm);
    nn_model_free(m);
    data_splits_free(&sp);
    /* record.predictions: false keeps none, and the hash stays. */
    e.record.predictions = 0;
    assert_int_equal(trial_run(&e, 0, &f->src, NULL, &b), 0);
    assert_int_equal(b.n_predictions, 0);
    assert_null(b.pred_rows);
    assert_null(b.pred_prob);
    assert_string_equal(a.hash, b.hash);
    trial_result_free(&a);
    trial_result_free(&b);
}

static void test_xor_interrupted(void **state)
{
    xor_fixture *f = *state;
    atomic_int stop = 1; /* as if Ctrl-C came during epoch 1 */
    trial_result t;
    assert_int_equal(trial_run(&f->plan.points[0].spec, 0, &f->src, &stop, &t), 0);
    assert_int_equal(t.status, TRIAL_INTERRUPTED);
    assert_int_equal(t.n_history, 1);
    assert_non_null(strstr(t.error, "interrupted"));
    assert_string_equal(t.hash, "");
    trial_result_free(&t);
}

/* A dataset that does not match its spec (3 classes for 2 output units) is
 * a failed trial with a reason, not an error of trial_run; nothing trained,
 * no hash. */
static void test_xor_mismatch(void **state)
{
    xor_fixture *f = *state;
    data_set three = f->src; /* shallow: the fixture keeps ownership */
    char c0[] = "0", c1[] = "1", c2[] = "2";
    char *names[3] = {c0, c1, c2};
    three.n_classes = 3;
    three.class_names = names;
    trial_result t;
    assert_int_equal(trial_run(&f->plan.points[0].spec, 0, &three, NULL, &t), 0);
    assert_int_equal(t.status, TRIAL_FAILED);
    assert_string_equal(t.error, "the output layer has 2 units but the data has 3 classes");
    assert_int_equal(t.n_history, 0);
    assert_null(t.params);
    assert_string_equal(t.hash, "");
    assert_string_equal(trial_status_name(t.status), "failed");
    trial_result_free(&t);
}

/* The training extras in the trial: one sigmoid unit for XOR's 2 classes
 * (the confusion matrix over the 160 test rows agrees with the accuracy),
 * early stopping with restore (the stopped epoch is the last of the
 * history, best + patience, the validation loss of the restored weights
 * is the best epoch's), a batch normalization's four tensors and the layer
 * table, and a schedule's rate per epoch. */
static const char extras_spec[] =
    "data:\n"
    "  source: xor\n"
    "  augment: {repeat: 200, noise: 0.3}\n"
    "  split: {test: 0.2, validation: 40}\n"
    "model:\n"
    "  layers:\n"
    "    - {units: 6, activation: relu}\n"
    "    - {type: batch_normalization, center: false}\n"
    "    - {type: dropout, rate: 0.2}\n"
    "    - {units: 1, activation: sigmoid}\n"
    "training:\n"
    "  loss: binary_crossentropy\n"
    "  optimizer:\n"
    "    name: sgd\n"
    "    learning_rate: {schedule: piecewise_constant, boundaries: [30], values: [0.2, 0.05]}\n"
    "  class_weight: balanced\n"
    "  early_stopping: {patience: 3, restore_best_weights: true}\n"
    "  epochs: 200\n";

static void test_extras_trial(void **state)
{
    (void)state;
    spec_diagnostics d;
    spec_diagnostics_init(&d);
    spec_document *doc = spec_document_parse(extras_spec, strlen(extras_spec), "x.yaml", ".", &d);
    sweep_plan plan;
    if (!doc || sweep_plan_build(doc, &plan, &d))
        spec_diagnostics_print(&d, stderr);
    assert_non_null(doc);
    spec_diagnostics_free(&d);
    data_set src;
    assert_int_equal(data_source_xor(&src), 0);
    trial_result t;
    assert_int_equal(trial_run(&plan.points[0].spec, 3, &src, NULL, &t), 0);
    assert_string_equal(t.error, "");
    assert_int_equal(t.status, TRIAL_DONE);
    /* early stopping fired and restored */
    assert_true(t.stopped_epoch > 0 && t.stopped_epoch < 200);
    assert_int_equal(t.n_history, t.stopped_epoch);
    assert_int_equal(t.es_best_epoch + 3, t.stopped_epoch);
    assert_int_equal(t.restored_best, 1);
    assert_true(t.loss[1] == t.history[t.es_best_epoch - 1].val_loss);
    /* 800 - 160 - 40 = 600 training rows, batch 32: 19 steps per epoch;
     * the rate of the last update of epoch 1 (step 18 <= 30) is 0.2, of
     * epoch 2 (step 37 > 30) 0.05 */
    assert_true(t.history[0].learning_rate == (double)0.2f);
    assert_true(t.history[1].learning_rate == (double)0.05f);
    /* one sigmoid unit: 2 x 2 confusion of the 160 test rows */
    uint32_t *cm = t.confusion[2];
    assert_non_null(cm);
    assert_int_equal(cm[0] + cm[1] + cm[2] + cm[3], 160);
    assert_true(fabs((double)(cm[0] + cm[3]) / 160.0 - t.accuracy[2]) < 1e-12);
    assert_int_equal(t.support[0] + t.support[1], 160);
    /* batch normalization without center: gamma and the moving statistics */
    trial_tensor tt[4];
    assert_int_equal(trial_layer_tensors(&t, 1, tt), 3);
    assert_string_equal(tt[0].kind, "gamma");
    assert_string_equal(tt[2].kind, "moving_variance");
    assert_int_equal(tt[0].offset, 2 * 6 + 6);
    assert_int_equal(tt[2].offset, 18 + 12);
    assert_int_equal(trial_layer_tensors(&t, 2, tt), 0);
    assert_int_equal(t.layer_params[1], 18);
    assert_int_equal(t.layer_trainable[1], 6);
    char name[48];
    trial_layer_name(&t, 3, name, sizeof name);
    assert_string_equal(name, "dense_1");
    assert_string_equal(trial_layer_type(&t, 2), "Dropout");
    trial_result_free(&t);
    data_set_free(&src);
    sweep_plan_free(&plan);
    spec_document_free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_layout),
        cmocka_unit_test_setup_teardown(test_xor_trial, xor_setup, xor_teardown),
        cmocka_unit_test_setup_teardown(test_xor_predictions, xor_setup, xor_teardown),
        cmocka_unit_test_setup_teardown(test_xor_interrupted, xor_setup, xor_teardown),
        cmocka_unit_test_setup_teardown(test_xor_mismatch, xor_setup, xor_teardown),
        cmocka_unit_test(test_extras_trial),
    };
    return cmocka_run_group_tests_name("trial", tests, NULL, NULL);
}
