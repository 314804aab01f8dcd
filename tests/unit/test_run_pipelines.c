/* Unit tests of the trial loop's shared data splits (run_pipelines.c):
 * which trials share one pipeline, how often each is built and evicted for
 * a given bound (counted by hand below), that every trial gets exactly the
 * splits data_pipeline_build gives for its own seed, that a source read by
 * one pipeline becomes that pipeline's memory and that a source read by
 * several is freed once every trial has its splits; then the same under
 * two threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plan_memory.h"
#include "run_internal.h"

/* One pipeline for all six trials: random_state fixes the split, no noise. */
static const char shared_spec[] =
    "name: shared\n"
    "data:\n"
    "  source: digits\n"
    "  scale: standard\n"
    "  split: {test: 0.25, validation: 100, random_state: 0}\n"
    "model:\n"
    "  layers:\n"
    "    - {units: 4, activation: relu}\n"
    "    - {units: classes, activation: softmax}\n"
    "training: {loss: categorical_crossentropy, optimizer: adam, epochs: 1}\n"
    "seeds: 3\n"
    "sweep:\n"
    "  hidden: {path: \"model.layers[0].units\", values: [4, 8]}\n";

/* Noise: each seed its own pipeline, shared by the two points. Plan order
 * (seeds innermost): trial i is point i / 3 with seed i % 3. */
static const char seeded_spec[] =
    "name: seeded\n"
    "data:\n"
    "  source: xor\n"
    "  augment: {repeat: 10, noise: 0.3}\n"
    "  split: {test: 0.25}\n"
    "model:\n"
    "  layers:\n"
    "    - {units: 3, activation: relu}\n"
    "    - {units: 2, activation: softmax}\n"
    "training: {loss: categorical_crossentropy, optimizer: adam, epochs: 1}\n"
    "seeds: 3\n"
    "sweep:\n"
    "  hidden: {path: \"model.layers[0].units\", values: [2, 3]}\n";

#define N_TRIALS 6

typedef struct fixture {
    sweep_plan plan;
    data_set source;       /* a copy of the plan's dataset, for the references */
    data_splits want[N_TRIALS];
    size_t pending[N_TRIALS];
} fixture;

static void fixture_open(fixture *f, const char *text)
{
    memset(f, 0, sizeof *f);
    spec_diagnostics d;
    spec_diagnostics_init(&d);
    spec_document *doc = spec_document_parse(text, strlen(text), "t.yaml", ".", &d);
    if (!doc)
        spec_diagnostics_print(&d, stderr);
    assert_non_null(doc);
    assert_int_equal(sweep_plan_build(doc, &f->plan, &d), 0);
    spec_document_free(doc);
    spec_diagnostics_free(&d);
    assert_int_equal(f->plan.n_trials, N_TRIALS);
    assert_int_equal(run_plan_load_data(&f->plan, stderr), 0);
    assert_int_equal(data_set_copy(&f->source, sweep_plan_dataset(&f->plan, 0)), 0);
    for (size_t i = 0; i < N_TRIALS; i++) {
        const sweep_trial *tr = &f->plan.trials[i];
        const spec_experiment *e = &f->plan.points[tr->point].spec;
        data_error err;
        assert_int_equal(data_pipeline_build(&f->source, &e->data.pipeline, tr->seed, &f->want[i],
                                             &err),
                         0);
        f->pending[i] = i;
    }
}

static void fixture_close(fixture *f)
{
    for (size_t i = 0; i < N_TRIALS; i++)
        data_splits_free(&f->want[i]);
    data_set_free(&f->source);
    sweep_plan_free(&f->plan);
}

static int same_set(const data_set *a, const data_set *b)
{
    if (a->n_rows != b->n_rows || a->n_features != b->n_features)
        return 0;
    size_t n = a->n_rows;
    return n == 0 || (!memcmp(a->x, b->x, n * a->n_features * sizeof *a->x) &&
                      !memcmp(a->y, b->y, n * sizeof *a->y));
}

/* The splits a trial got are the ones it would have built itself. */
static int same_splits(const data_splits *a, const data_splits *b)
{
    size_t k = a->train.n_classes;
    return same_set(&a->train, &b->train) && same_set(&a->validation, &b->validation) &&
           same_set(&a->test, &b->test) &&
           !memcmp(a->y_train, b->y_train, a->train.n_rows * k * sizeof(float)) &&
           !memcmp(a->rows_test, b->rows_test, a->test.n_rows * sizeof(uint32_t));
}

/* Acquires and releases the trials one after the other, in plan order. */
static void run_in_order(fixture *f, run_pipelines *c)
{
    for (size_t i = 0; i < N_TRIALS; i++) {
        run_pipeline_use u;
        run_pipelines_acquire(c, i, &u);
        assert_false(u.failed);
        assert_non_null(u.splits);
        assert_true(same_splits(u.splits, &f->want[i]));
        run_pipelines_release(c, i);
    }
}

static void test_shared_in_place(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f, shared_spec);
    run_pipelines *c = run_pipelines_new(&f.plan, &f.plan, f.pending, N_TRIALS, 2, 0);
    assert_non_null(c);
    run_pipelines_stats st;
    run_pipelines_get_stats(c, &st);
    assert_int_equal(st.slots, 1);
    assert_int_equal(st.sources_held, 1);
    assert_null(sweep_plan_dataset(&f.plan, 0)); /* taken over */
    /* two trials at once share one build */
    run_pipeline_use a, b;
    run_pipelines_acquire(c, 0, &a);
    run_pipelines_acquire(c, 1, &b);
    assert_ptr_equal(a.splits, b.splits);
    assert_true(a.splits->views); /* the dataset's own rows */
    assert_true(same_splits(a.splits, &f.want[0]));
    assert_true(same_splits(a.splits, &f.want[1]));
    assert_int_equal(a.n_classes, 10);
    run_pipelines_get_stats(c, &st);
    assert_int_equal(st.builds, 1);
    assert_int_equal(st.in_place, 1);
    assert_int_equal(st.sources_held, 0); /* it is the splits now */
    assert_int_equal(st.resident, 0);     /* not a copy */
    run_pipelines_release(c, 0);
    run_pipelines_release(c, 1);
    for (size_t i = 2; i < N_TRIALS; i++) {
        run_pipeline_use u;
        run_pipelines_acquire(c, i, &u);
        assert_ptr_equal(u.splits, a.splits);
        run_pipelines_release(c, i);
    }
    run_pipelines_get_stats(c, &st);
    assert_int_equal(st.builds, 1);
    assert_int_equal(st.held, 0); /* freed with the last trial */
    run_pipelines_free(c);
    fixture_close(&f);
}

static void test_shared_read_only(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f, shared_spec);
    /* Without the plan's consent its dataset is only read: one copy. */
    run_pipelines *c = run_pipelines_new(&f.plan, NULL, f.pending, N_TRIALS, 2, 0);
    assert_non_null(c);
    run_in_order(&f, c);
    run_pipelines_stats st;
    run_pipelines_get_stats(c, &st);
    assert_int_equal(st.builds, 1);
    assert_int_equal(st.in_place, 0);
    assert_int_equal(st.most_resident, 1);
    assert_non_null(sweep_plan_dataset(&f.plan, 0));
    run_pipelines_free(c);
    fixture_close(&f);
}

/* Three pipelines (seeds 0, 1, 2), needed in the order 0 1 2 0 1 2.
 *   bound 1: each is evicted by the next: 6 builds, 3 evictions;
 *   bound 2: 0 and 1 held; 2 evicts 1 (needed at position 4, after 0's
 *            at 3); 0 is then done; 1 is rebuilt: 4 builds, 1 eviction;
 *   bound 3: 3 builds, none evicted, 3 held at once. */
static void test_seeded_bounds(void **state)
{
    (void)state;
    const size_t builds[3] = {6, 4, 3}, evicted[3] = {3, 1, 0};
    for (size_t bound = 1; bound <= 3; bound++) {
        fixture f;
        fixture_open(&f, seeded_spec);
        run_pipelines *c = run_pipelines_new(&f.plan, NULL, f.pending, N_TRIALS, bound, 0);
        assert_non_null(c);
        run_in_order(&f, c);
        run_pipelines_stats st;
        run_pipelines_get_stats(c, &st);
        assert_int_equal(st.slots, 3);
        assert_int_equal(st.builds, builds[bound - 1]);
        assert_int_equal(st.evicted, evicted[bound - 1]);
        assert_int_equal(st.most_resident, bound);
        assert_int_equal(st.held, 0);
        run_pipelines_free(c);
        fixture_close(&f);
    }
}

/* The same three pipelines with one copy per worker (max_resident 1) but
 * room for more while they hold at most keep_bytes: each copy counts as
 * plan_memory_pipeline's figure (all three the same size, b). Room for 3 b
 * behaves as bound 3 above, 2 b as bound 2, one byte less as bound 1. */
static void test_seeded_byte_bound(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f, seeded_spec);
    uint64_t b;
    (void)plan_memory_pipeline(&f.plan.points[0].spec, 0, &b);
    assert_true(b > 0);
    const uint64_t keep[3] = {2 * b - 1, 2 * b, 3 * b};
    const size_t builds[3] = {6, 4, 3}, evicted[3] = {3, 1, 0}, most[3] = {1, 2, 3};
    for (int k = 0; k < 3; k++) {
        run_pipelines *c = run_pipelines_new(&f.plan, NULL, f.pending, N_TRIALS, 1, keep[k]);
        assert_non_null(c);
        run_in_order(&f, c);
        run_pipelines_stats st;
        run_pipelines_get_stats(c, &st);
        assert_int_equal(st.builds, builds[k]);
        assert_int_equal(st.evicted, evicted[k]);
        assert_int_equal(st.most_resident, most[k]);
        assert_int_equal(st.held, 0);
        run_pipelines_free(c);
    }
    fixture_close(&f);
}

static void test_seeded_source_freed(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f, seeded_spec);
    run_pipelines *c = run_pipelines_new(&f.plan, &f.plan, f.pending, N_TRIALS, 3, 0);
    assert_non_null(c);
    run_pipelines_stats st;
    run_pipeline_use u;
    for (size_t i = 0; i < N_TRIALS; i++) {
        run_pipelines_acquire(c, i, &u);
        assert_true(same_splits(u.splits, &f.want[i]));
        assert_false(u.splits->views); /* repeated rows: copies */
        run_pipelines_get_stats(c, &st);
        /* the source stays while a trial still needs splits from it */
        assert_int_equal(st.sources_held, i + 1 < N_TRIALS);
        if (i + 1 < N_TRIALS)
            run_pipelines_release(c, i);
    }
    assert_int_equal(st.held, 1); /* the last trial's, in use */
    run_pipelines_release(c, N_TRIALS - 1);
    run_pipelines_get_stats(c, &st);
    assert_int_equal(st.held, 0);
    run_pipelines_free(c);
    fixture_close(&f);
}

/* Two threads taking the trials in order, as the loop's workers do: each
 * trial gets its own seed's splits whoever built them. */
static void test_two_threads(void **state)
{
    (void)state;
    const char *specs[2] = {shared_spec, seeded_spec};
    for (int k = 0; k < 2; k++) {
        fixture f;
        fixture_open(&f, specs[k]);
        run_pipelines *c = run_pipelines_new(&f.plan, &f.plan, f.pending, N_TRIALS, 2, 0);
        assert_non_null(c);
        int bad = 0;
#pragma omp parallel for num_threads(2) schedule(dynamic, 1) reduction(+ : bad)
        for (size_t i = 0; i < N_TRIALS; i++) {
            run_pipeline_use u;
            run_pipelines_acquire(c, i, &u);
            bad += u.failed || !same_splits(u.splits, &f.want[i]);
            run_pipelines_release(c, i);
        }
        assert_int_equal(bad, 0);
        run_pipelines_stats st;
        run_pipelines_get_stats(c, &st);
        assert_int_equal(st.held, 0);
        assert_int_equal(st.sources_held, 0);
        assert_true(st.most_resident <= 2); /* the bound */
        run_pipelines_free(c);
        fixture_close(&f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_in_place),
        cmocka_unit_test(test_shared_read_only),
        cmocka_unit_test(test_seeded_bounds),
        cmocka_unit_test(test_seeded_byte_bound),
        cmocka_unit_test(test_seeded_source_freed),
        cmocka_unit_test(test_two_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
