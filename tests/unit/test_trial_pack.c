/* Unit tests of trial_pack: a hand-made result (NaN payloads, -0.0, every
 * optional array present or absent) and a real XOR trial survive pack +
 * unpack bit for bit (the real one hashes to its own result hash again);
 * the encoding is little-endian as documented; truncated, extended and
 * corrupted buffers are refused. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sweep.h"
#include "trial.h"
#include "trial_pack.h"

static int same_bits(const void *a, const void *b, size_t n)
{
    return (a == NULL && b == NULL) || (a && b && memcmp(a, b, n) == 0);
}

/* Every field of a and b, compared by their bits. */
static void assert_same_result(const trial_result *a, const trial_result *b)
{
    assert_int_equal(a->status, b->status);
    assert_string_equal(a->error, b->error);
    assert_int_equal(a->n_classes, b->n_classes);
    assert_int_equal(a->n_layers, b->n_layers);
    assert_memory_equal(a->layer_in, b->layer_in, sizeof a->layer_in);
    assert_memory_equal(a->layer_out, b->layer_out, sizeof a->layer_out);
    assert_int_equal(a->n_params, b->n_params);
    assert_true(same_bits(a->params, b->params, a->n_params * sizeof *a->params));
    assert_int_equal(a->epochs_run, b->epochs_run);
    assert_int_equal(a->diverged_epoch, b->diverged_epoch);
    assert_int_equal(a->n_history, b->n_history);
    for (size_t i = 0; i < a->n_history; i++) {
        assert_int_equal(a->history[i].epoch, b->history[i].epoch);
        assert_memory_equal(&a->history[i].loss, &b->history[i].loss, 5 * sizeof(double));
    }
    assert_int_equal(a->best_epoch, b->best_epoch);
    assert_memory_equal(&a->overfit_gap, &b->overfit_gap, sizeof(double));
    assert_memory_equal(a->loss, b->loss, sizeof a->loss);
    assert_memory_equal(a->accuracy, b->accuracy, sizeof a->accuracy);
    size_t K = a->n_classes;
    for (int s = 0; s < 3; s++)
        assert_true(same_bits(a->confusion[s], b->confusion[s], K * K * sizeof(uint32_t)));
    assert_true(same_bits(a->precision, b->precision, K * sizeof(double)));
    assert_true(same_bits(a->recall, b->recall, K * sizeof(double)));
    assert_true(same_bits(a->f1, b->f1, K * sizeof(double)));
    assert_true(same_bits(a->support, b->support, K * sizeof(uint32_t)));
    assert_int_equal(a->grid_res, b->grid_res);
    assert_memory_equal(a->grid_x0, b->grid_x0, sizeof a->grid_x0);
    assert_memory_equal(a->grid_x1, b->grid_x1, sizeof a->grid_x1);
    assert_true(same_bits(a->grid, b->grid, a->grid_res * a->grid_res));
    assert_string_equal(a->hash, b->hash);
    assert_memory_equal(a->layer, b->layer, sizeof a->layer);
    assert_memory_equal(a->layer_params, b->layer_params, sizeof a->layer_params);
    assert_memory_equal(a->layer_trainable, b->layer_trainable, sizeof a->layer_trainable);
    assert_int_equal(a->stopped_epoch, b->stopped_epoch);
    assert_int_equal(a->es_best_epoch, b->es_best_epoch);
    assert_int_equal(a->restored_best, b->restored_best);
    assert_int_equal(a->n_predictions, b->n_predictions);
    size_t np = a->n_predictions;
    assert_true(same_bits(a->pred_rows, b->pred_rows, np * sizeof(uint32_t)));
    assert_true(same_bits(a->pred_source_rows, b->pred_source_rows, np * sizeof(uint32_t)));
    assert_true(same_bits(a->pred_true, b->pred_true, np * sizeof(int32_t)));
    assert_true(same_bits(a->pred_class, b->pred_class, np * sizeof(int32_t)));
    assert_true(same_bits(a->pred_prob, b->pred_prob, np * K * sizeof(float)));
}

/* A result made by hand: 2 classes, one layer 2 -> 2 (6 parameters), 3
 * epochs, a NaN with a payload, -0.0, no validation confusion, no f1. */
static void make_result(trial_result *t)
{
    memset(t, 0, sizeof *t);
    t->status = TRIAL_DONE;
    snprintf(t->error, sizeof t->error, "%s", "");
    t->n_classes = 2;
    t->n_layers = 1;
    t->layer_in[0] = 2;
    t->layer_out[0] = 2;
    t->n_params = 6;
    t->params = calloc(6, sizeof *t->params);
    for (int i = 0; i < 6; i++)
        t->params[i] = (float)i * 0.25f - 0.5f;
    t->params[5] = -0.0f;
    t->epochs_run = 3;
    t->n_history = 3;
    t->history = calloc(3, sizeof *t->history);
    uint64_t payload = 0x7ff8000000001234u;
    double odd_nan;
    memcpy(&odd_nan, &payload, 8);
    for (size_t i = 0; i < 3; i++)
        t->history[i] = (nn_epoch_log){i + 1, 1.0 / (double)(i + 3), 0.5, odd_nan, NAN, 0.001};
    t->best_epoch = 2;
    t->overfit_gap = -0.0;
    double l[3] = {0.1, NAN, 0.3}, a[3] = {0.9, NAN, 0.7};
    memcpy(t->loss, l, sizeof l);
    memcpy(t->accuracy, a, sizeof a);
    t->confusion[0] = calloc(4, sizeof(uint32_t));
    t->confusion[2] = calloc(4, sizeof(uint32_t));
    for (uint32_t i = 0; i < 4; i++) {
        t->confusion[0][i] = 100 + i;
        t->confusion[2][i] = 0xfffffff0u + i;
    }
    t->precision = calloc(2, sizeof(double));
    t->recall = calloc(2, sizeof(double));
    t->support = calloc(2, sizeof(uint32_t));
    t->precision[0] = 1.0 / 3.0;
    t->precision[1] = 2.0 / 3.0;
    t->recall[1] = 1.0;
    t->support[0] = 7;
    t->support[1] = 9;
    t->grid_res = 3;
    t->grid_x0[0] = -1.5;
    t->grid_x0[1] = 1.5;
    t->grid_x1[0] = -2;
    t->grid_x1[1] = 2;
    t->grid = calloc(9, 1);
    for (int i = 0; i < 9; i++)
        t->grid[i] = (uint8_t)(i % 2);
    snprintf(t->hash, sizeof t->hash, "%064x", 0xabcdu);
    /* the layer as built, early stopping, two test rows' predictions */
    t->layer[0].units = 2;
    t->layer[0].activation = NN_ACT_SOFTMAX;
    t->layer[0].kernel_regularizer.l2 = 0.01;
    t->layer_params[0] = 6;
    t->layer_trainable[0] = 6;
    t->stopped_epoch = 3;
    t->es_best_epoch = 1;
    t->restored_best = 1;
    t->n_predictions = 2;
    t->pred_rows = calloc(2, sizeof(uint32_t));
    t->pred_source_rows = calloc(2, sizeof(uint32_t));
    t->pred_true = calloc(2, sizeof(int32_t));
    t->pred_class = calloc(2, sizeof(int32_t));
    t->pred_prob = calloc(4, sizeof(float));
    t->pred_rows[0] = 17;
    t->pred_rows[1] = 4;
    t->pred_source_rows[0] = 1;
    t->pred_true[1] = 1;
    t->pred_class[0] = 1;
    t->pred_prob[0] = 0.25f;
    t->pred_prob[1] = 0.75f;
    t->pred_prob[2] = 1.0f;
}

static void test_roundtrip_by_hand(void **state)
{
    (void)state;
    trial_result t, u;
    make_result(&t);
    uint8_t *buf;
    size_t len;
    assert_int_equal(trial_result_pack(&t, &buf, &len), 0);
    /* Magic, then the format version 2 and the status 0 (done), little-endian. */
    assert_true(len > 12);
    assert_memory_equal(buf, "RXTR\x02\x00\x00\x00\x00\x00\x00\x00", 12);
    assert_int_equal(trial_result_unpack(buf, len, &u), 0);
    assert_same_result(&t, &u);
    assert_null(u.confusion[1]);
    assert_null(u.f1);
    /* Every proper prefix is refused, as is one byte more. */
    for (size_t n = 0; n < len; n++) {
        trial_result v;
        assert_int_equal(trial_result_unpack(buf, n, &v), -1);
        assert_null(v.params);
    }
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, buf, len);
    longer[len] = 0;
    trial_result v;
    assert_int_equal(trial_result_unpack(longer, len + 1, &v), -1);
    /* A wrong magic and a newer format are refused. */
    longer[0] = 'X';
    assert_int_equal(trial_result_unpack(longer, len, &v), -1);
    memcpy(longer, buf, len);
    longer[4] = 3;
    assert_int_equal(trial_result_unpack(longer, len, &v), -1);
    free(longer);
    free(buf);
    trial_result_free(&t);
    trial_result_free(&u);
}

/* A corrupt element count must not make unpack allocate what the buffer
 * cannot hold: the n_params field (after magic, version, status, the
 * empty error string, n_classes, n_layers and 16 layer shapes) set huge. */
static void test_huge_count_refused(void **state)
{
    (void)state;
    trial_result t, u;
    make_result(&t);
    uint8_t *buf;
    size_t len;
    assert_int_equal(trial_result_pack(&t, &buf, &len), 0);
    size_t off = 4 + 4 + 4 + 8 + 8 + 8 + 16 * 16;
    assert_int_equal(buf[off], 6); /* n_params, little-endian */
    memset(buf + off, 0xff, 8);
    assert_int_equal(trial_result_unpack(buf, len, &u), -1);
    free(buf);
    trial_result_free(&t);
}

static void test_failed_result(void **state)
{
    (void)state;
    trial_result t, u;
    memset(&t, 0, sizeof t);
    t.status = TRIAL_FAILED;
    snprintf(t.error, sizeof t.error, "the data has 3 classes, the model 2");
    t.overfit_gap = NAN;
    for (int s = 0; s < 3; s++)
        t.loss[s] = t.accuracy[s] = NAN;
    uint8_t *buf;
    size_t len;
    assert_int_equal(trial_result_pack(&t, &buf, &len), 0);
    assert_int_equal(trial_result_unpack(buf, len, &u), 0);
    assert_same_result(&t, &u);
    assert_null(u.params);
    assert_null(u.history);
    free(buf);
}

/* A real trial: its unpacked copy has the same bits and hashes again to
 * the hash the trial computed. */
static void test_real_trial(void **state)
{
    (void)state;
    static const char spec[] =
        "name: pack_xor\n"
        "data:\n"
        "  source: xor\n"
        "  augment: {repeat: 50, noise: 0.3}\n"
        "  split: {test: 0.2, validation: 20}\n"
        "model:\n"
        "  layers:\n"
        "    - {units: 4, activation: relu}\n"
        "    - {units: classes, activation: softmax}\n"
        "training:\n"
        "  loss: categorical_crossentropy\n"
        "  optimizer: adam\n"
        "  epochs: 5\n"
        "seeds: 1\n";
    spec_diagnostics d;
    spec_diagnostics_init(&d);
    spec_document *doc = spec_document_parse(spec, strlen(spec), "pack.yaml", ".", &d);
    assert_non_null(doc);
    sweep_plan plan;
    assert_int_equal(sweep_plan_build(doc, &plan, &d), 0);
    spec_diagnostics_free(&d);
    data_set src;
    assert_int_equal(data_source_xor(&src), 0);
    trial_result t, u;
    assert_int_equal(trial_run(&plan.points[0].spec, 0, &src, NULL, &t), 0);
    assert_int_equal(t.status, TRIAL_DONE);
    assert_non_null(t.grid);
    uint8_t *buf;
    size_t len;
    assert_int_equal(trial_result_pack(&t, &buf, &len), 0);
    assert_int_equal(trial_result_unpack(buf, len, &u), 0);
    assert_same_result(&t, &u);
    char hex[65];
    trial_result_hash(&u, hex);
    assert_string_equal(hex, t.hash);
    free(buf);
    trial_result_free(&t);
    trial_result_free(&u);
    data_set_free(&src);
    sweep_plan_free(&plan);
    spec_document_free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_by_hand),
        cmocka_unit_test(test_huge_count_refused),
        cmocka_unit_test(test_failed_result),
        cmocka_unit_test(test_real_trial),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
